//! Our processed-shard file (`pir::processed_file`): Apple's `.bin` survives a trip through it
//! byte for byte; the layout is what the module documents (aligned residues, checksum); every
//! malformed input is a typed error; parse never panics on arbitrary, truncated or bit-flipped
//! bytes; random databases round-trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::LazyLock;

use common::{read_json, read_vector};
use pir::database::ProcessedShard;
use pir::keyword_database::KeywordValuePair;
use pir::process::{Progress, process};
use pir::process_config::ProcessConfig;
use pir::processed_file::{
    FORMAT_VERSION, MAGIC, ProcessedFileError, RESIDUE_ALIGNMENT, parse, shard_from_bytes, write,
    write_to,
};
use pir::proto::pir as pir_proto;
use proptest::prelude::*;
use prost::Message;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

fn apple_shard(variant: &str) -> (ProcessedShard, Vec<u8>) {
    let dir = format!("apple/pir/{variant}");
    let params = pir_proto::PirParameters::decode(
        read_vector(&format!("{dir}/url-0.params.binpb")).as_slice(),
    )
    .unwrap();
    let bin = read_vector(&format!("{dir}/url-0.bin"));
    (ProcessedShard::from_apple_bin(params, &bin).unwrap(), bin)
}

fn no_progress(_: Progress) {}

fn config() -> ProcessConfig {
    ProcessConfig::from_json(
        r#"{"inputDatabase":"i","outputDatabase":"o.bin","outputPirParameters":"p.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","databaseType":"keyword"}"#,
    )
    .unwrap()
}

/// A small shard (one bucket per table) for the byte-level properties.
static SMALL: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let rows = vec![
        KeywordValuePair::new("example.com", "1"),
        KeywordValuePair::new("example.org/path", "1"),
    ];
    let db = process(rows, &config(), &mut StdRng::seed_from_u64(1), &no_progress).unwrap();
    write(&db.shards[0]).unwrap()
});

/// Replaces the checksum so that a deliberate edit reaches the checks behind it.
fn rehash(mut file: Vec<u8>) -> Vec<u8> {
    let body = file.len() - 32;
    let digest = Sha256::digest(&file[..body]);
    file[body..].copy_from_slice(&digest);
    file
}

#[test]
fn apples_bin_round_trips_through_our_file_byte_for_byte() {
    let manifest = read_json("apple/pir/manifest.json");
    for variant in manifest["pir"].as_array().unwrap() {
        let name = variant["directory"]
            .as_str()
            .unwrap()
            .trim_start_matches("pir/");
        let (shard, bin) = apple_shard(name);
        let file = write(&shard).unwrap();
        let mut streamed = Vec::new();
        write_to(&shard, &mut streamed).unwrap();
        assert!(streamed == file, "streaming writer gives the same bytes");

        let parsed = parse(&file).unwrap();
        assert_eq!(parsed.parameters, *shard.parameters());
        assert!(parsed.to_shard().unwrap().to_apple_bin().unwrap() == bin);
        let mapped = shard_from_bytes(file.clone()).unwrap();
        assert!(mapped.to_apple_bin().unwrap() == bin);
        assert!(mapped.residues() == shard.residues());
        assert!(write(&mapped).unwrap() == file);
    }
}

#[test]
fn layout_is_the_documented_one() {
    let (shard, _) = apple_shard("url-1shard");
    let file = write(&shard).unwrap();
    let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
    assert_eq!(file[..8], MAGIC);
    assert_eq!(u32_at(8), FORMAT_VERSION);
    assert_eq!(u32_at(24) as usize, shard.degree());
    assert_eq!(u32_at(28) as usize, shard.moduli().len());
    assert_eq!(u64_at(32) as usize, shard.plaintext_count());
    assert_eq!(u64_at(40) as usize, shard.present_count());
    let offset = u64_at(48) as usize;
    assert_eq!(offset % RESIDUE_ALIGNMENT, 0);
    assert_eq!(u64_at(56) as usize, shard.residues().len() * 8);
    assert_eq!(file.len(), offset + shard.residues().len() * 8 + 32);
    assert_eq!(u64_at(offset), shard.residues()[0]);
    assert_eq!(
        file[file.len() - 32..],
        Sha256::digest(&file[..file.len() - 32])[..]
    );
}

#[test]
fn malformed_files_are_typed_errors() {
    let good = SMALL.clone();
    assert!(parse(&good).is_ok());

    assert!(matches!(
        parse(&good[..good.len() - 1]),
        Err(ProcessedFileError::Truncated { .. })
    ));
    assert!(matches!(
        parse(&good[..40]),
        Err(ProcessedFileError::Truncated { .. })
    ));

    let mut magic = good.clone();
    magic[0] ^= 1;
    assert!(matches!(
        parse(&magic),
        Err(ProcessedFileError::BadMagic(_))
    ));

    let mut version = good.clone();
    version[8] = 2;
    assert!(matches!(
        parse(&version),
        Err(ProcessedFileError::UnsupportedVersion(2))
    ));

    let mut layout = good.clone();
    layout[12] = 9;
    assert!(matches!(
        parse(&layout),
        Err(ProcessedFileError::UnsupportedLayout(9))
    ));

    let mut flipped = good.clone();
    let last_residue = flipped.len() - 33;
    flipped[last_residue] ^= 0x10;
    assert!(matches!(
        parse(&flipped),
        Err(ProcessedFileError::ChecksumMismatch)
    ));

    let mut extra = good.clone();
    extra.insert(good.len() - 32, 0);
    assert!(matches!(
        parse(&rehash(extra)),
        Err(ProcessedFileError::SizeMismatch { .. })
    ));

    // A residue at its modulus passes the checksum but not the shard's range check.
    let parsed = parse(&good).unwrap();
    let q0 = parsed
        .parameters
        .encryption_parameters
        .as_ref()
        .unwrap()
        .coefficient_moduli[0];
    let offset = parsed.residues_offset;
    let mut residue = good.clone();
    residue[offset..offset + 8].copy_from_slice(&q0.to_le_bytes());
    let residue = rehash(residue);
    assert!(parse(&residue).is_ok());
    assert!(matches!(
        shard_from_bytes(residue),
        Err(ProcessedFileError::Database(_))
    ));

    // A header modulus that is not the params' is refused.
    let mut modulus = good.clone();
    modulus[64] ^= 2;
    assert!(matches!(
        parse(&rehash(modulus)),
        Err(ProcessedFileError::HeaderMismatch { what: "moduli" })
    ));

    // Padding between the bitmap and the residues must be zero.
    let mut padding = good.clone();
    padding[offset - 1] = 1;
    assert!(matches!(
        parse(&rehash(padding)),
        Err(ProcessedFileError::NonZeroPadding | ProcessedFileError::SizeMismatch { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
        let _ = shard_from_bytes(bytes);
    }

    #[test]
    fn every_truncation_is_refused(len in 0usize..1_000_000) {
        let len = len % SMALL.len();
        prop_assert!(parse(&SMALL[..len]).is_err());
    }

    #[test]
    fn every_bit_flip_is_refused(at in 0usize..1_000_000, bit in 0u8..8) {
        let mut file = SMALL.clone();
        let at = at % file.len();
        file[at] ^= 1 << bit;
        prop_assert!(parse(&file).is_err());
    }

    #[test]
    fn params_garbage_with_a_valid_checksum_never_panics(
        at in 0usize..1_000_000, byte in any::<u8>()
    ) {
        let mut file = SMALL.clone();
        let moduli = u32::from_le_bytes(file[28..32].try_into().unwrap()) as usize;
        let params_len = u64::from_le_bytes(file[16..24].try_into().unwrap()) as usize;
        let start = 64 + 8 * moduli;
        file[start + at % params_len] = byte;
        let file = rehash(file);
        if let Ok(parsed) = parse(&file) {
            let _ = parsed.to_shard();
            let _ = shard_from_bytes(file);
        }
    }

    #[test]
    fn header_garbage_with_a_valid_checksum_never_panics(
        at in 0usize..64, byte in any::<u8>()
    ) {
        let mut file = SMALL.clone();
        file[at] = byte;
        let file = rehash(file);
        if let Ok(parsed) = parse(&file) {
            let _ = parsed.to_shard();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn random_databases_round_trip(
        keywords in proptest::collection::btree_set("[a-z]{1,12}\\.[a-z]{2,3}", 1..60),
        value_len in 1usize..40,
    ) {
        let rows: Vec<_> = keywords
            .iter()
            .map(|k| KeywordValuePair::new(k.as_bytes(), vec![7u8; value_len]))
            .collect();
        let db = process(rows, &config(), &mut StdRng::seed_from_u64(2), &no_progress).unwrap();
        let shard = &db.shards[0];
        let file = write(shard).unwrap();
        let back = shard_from_bytes(file.clone()).unwrap();
        prop_assert_eq!(back.parameters(), shard.parameters());
        prop_assert!(back.residues() == shard.residues());
        for i in 0..shard.plaintext_count() {
            prop_assert_eq!(back.plaintext(i).is_some(), shard.plaintext(i).is_some());
        }
        prop_assert!(write(&back).unwrap() == file);
    }
}
