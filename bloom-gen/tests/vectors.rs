//! Every vector in `vectors/bloom/bloom.json`, against the library.
#![allow(
    clippy::unwrap_used,
    reason = "vector tests fail loudly on malformed vectors"
)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bloom_gen::{BloomBuilder, BloomParams, Fingerprint, Seed, fnv1a_32, murmur3_x86_32};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    fnv1a_32: Vec<HashVector>,
    murmur3_x86_32: Vec<HashVector>,
    probe_indices: Vec<ProbeVector>,
    bloom_bitmaps: Vec<BitmapVector>,
    bloom_bitmaps_negative: Vec<NegativeVector>,
    sizing: Vec<SizingVector>,
}

#[derive(Deserialize)]
struct HashVector {
    id: String,
    input_hex: String,
    #[serde(default)]
    input_utf8: Option<String>,
    #[serde(default)]
    seed: Option<u32>,
    expected: u32,
}

#[derive(Deserialize)]
struct ProbeVector {
    id: String,
    item: String,
    murmur_seed: u32,
    bit_count: u64,
    hash_count: u64,
    expected_indices: Vec<u32>,
}

#[derive(Deserialize)]
struct BitmapVector {
    id: String,
    items: Vec<String>,
    bit_count: u64,
    hash_count: u64,
    murmur_seed: u32,
    expected_bitmap_base64: String,
    expected_bitmap_hex: String,
    expected_byte_count: usize,
}

#[derive(Deserialize)]
struct NegativeVector {
    id: String,
    items: Vec<String>,
    bit_count: u64,
    hash_count: u64,
    murmur_seed: u32,
    must_not_equal_base64: String,
}

#[derive(Deserialize)]
struct SizingVector {
    id: String,
    item_count: u64,
    false_positive_rate: f64,
    bit_count: u32,
    hash_count: u32,
    byte_count: usize,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../vectors/bloom/bloom.json")).unwrap()
}

fn input(v: &HashVector) -> Vec<u8> {
    let bytes = hex::decode(&v.input_hex).unwrap();
    if let Some(s) = &v.input_utf8 {
        assert_eq!(
            s.as_bytes(),
            bytes,
            "{}: input_utf8 and input_hex disagree",
            v.id
        );
    }
    bytes
}

fn build(items: &[String], bits: u64, hashes: u64, seed: u32) -> Vec<u8> {
    let params = BloomParams::new(bits, hashes, Seed::new(seed).unwrap()).unwrap();
    let mut b = BloomBuilder::new(params);
    for item in items {
        b.insert_bytes(item.as_bytes());
    }
    b.finish().into_bitmap()
}

#[test]
fn fnv1a_vectors() {
    let v = vectors();
    assert!(v.fnv1a_32.len() >= 6);
    for t in &v.fnv1a_32 {
        assert_eq!(fnv1a_32(&input(t)), t.expected, "{}", t.id);
    }
}

#[test]
fn murmur3_vectors_and_the_murmur3_crate_agrees() {
    let v = vectors();
    assert!(v.murmur3_x86_32.len() >= 5);
    for t in &v.murmur3_x86_32 {
        let seed = t.seed.unwrap();
        let bytes = input(t);
        assert_eq!(murmur3_x86_32(&bytes, seed), t.expected, "{}", t.id);
        // The `murmur3` crate, checked before it could be trusted: it matches on every vector.
        let theirs = murmur3::murmur3_32(&mut std::io::Cursor::new(&bytes), seed).unwrap();
        assert_eq!(theirs, t.expected, "murmur3 crate on {}", t.id);
    }
}

#[test]
fn probe_index_vectors() {
    for t in vectors().probe_indices {
        let params =
            BloomParams::new(t.bit_count, t.hash_count, Seed::new(t.murmur_seed).unwrap()).unwrap();
        let fp = Fingerprint::of(t.item.as_bytes(), params.seed());
        let got: Vec<u32> = bloom_gen::index::probes(fp, &params).collect();
        assert_eq!(got, t.expected_indices, "{}", t.id);
    }
}

#[test]
fn bitmap_vectors() {
    let v = vectors();
    assert!(
        v.bloom_bitmaps
            .iter()
            .any(|t| t.expected_bitmap_base64 == "JGguOvZzlBEHYkUWJC5vw/eH")
    );
    for t in &v.bloom_bitmaps {
        let got = build(&t.items, t.bit_count, t.hash_count, t.murmur_seed);
        assert_eq!(got.len(), t.expected_byte_count, "{}", t.id);
        assert_eq!(hex::encode(&got), t.expected_bitmap_hex, "{}", t.id);
        assert_eq!(STANDARD.encode(&got), t.expected_bitmap_base64, "{}", t.id);
    }
}

#[test]
fn bitmap_vectors_via_canonical_entries_and_parallel_insert() {
    // The Apple sample items are already canonical; going through canonicalize and the parallel
    // path must give the same bytes.
    for t in vectors().bloom_bitmaps {
        let params =
            BloomParams::new(t.bit_count, t.hash_count, Seed::new(t.murmur_seed).unwrap()).unwrap();
        let mut fps = Vec::new();
        for item in &t.items {
            let c = bloom_gen::canonicalize(item).unwrap();
            assert_eq!(c.entries().len(), 1, "{item}");
            assert_eq!(c.primary().as_str(), item);
            fps.push(Fingerprint::of(c.primary().as_bytes(), params.seed()).to_u64());
        }
        // Repeat so the parallel path (>= 16k fingerprints) is taken; duplicates are no-ops.
        let many: Vec<u64> = fps.iter().copied().cycle().take(40_000).collect();
        let mut b = BloomBuilder::new(params);
        b.insert_fingerprints_par(&many);
        assert_eq!(
            STANDARD.encode(b.finish().bitmap()),
            t.expected_bitmap_base64,
            "{}",
            t.id
        );
    }
}

#[test]
fn negative_vectors_are_not_produced() {
    let v = vectors();
    assert!(
        v.bloom_bitmaps_negative
            .iter()
            .any(|t| t.id == "legacy-wwdc25-fnv1")
    );
    for t in &v.bloom_bitmaps_negative {
        let got = build(&t.items, t.bit_count, t.hash_count, t.murmur_seed);
        assert_ne!(STANDARD.encode(&got), t.must_not_equal_base64, "{}", t.id);
    }
}

#[test]
fn sizing_vectors() {
    for t in vectors().sizing {
        let (bits, hashes) = bloom_gen::sizing_for(t.item_count, t.false_positive_rate).unwrap();
        assert_eq!((bits, hashes), (t.bit_count, t.hash_count), "{}", t.id);
        assert_eq!(bloom_gen::byte_len(bits), t.byte_count, "{}", t.id);
    }
}

#[test]
fn onboarding_entry_survives_canonicalization() {
    // Apple's mandatory test keyword; it must reach the filter and PIR exactly as written.
    let c = bloom_gen::canonicalize("www.apple.com/url-filter-test").unwrap();
    // www. is stripped for the primary (iOS 27 strips it; iOS 26 derives both forms), and the
    // exact keyword Apple's onboarding validation fetches is kept beside it.
    let all: Vec<&str> = c.entries().iter().map(|e| e.as_str()).collect();
    assert_eq!(
        all,
        ["apple.com/url-filter-test", "www.apple.com/url-filter-test"]
    );
    assert_eq!(bloom_gen::canonical::ONBOARDING_KEYWORD, all[1]);
}

#[derive(Deserialize)]
struct LargeSet {
    item_count: u64,
    false_positive_rate: f64,
    bit_count: u32,
    hash_count: u32,
    murmur_seed: u32,
    expected_bitmap_sha256: String,
}

#[test]
fn large_set_matches_the_reference_implementation() {
    use sha2::{Digest, Sha256};
    let t: LargeSet =
        serde_json::from_str(include_str!("../../vectors/bloom/large-set.json")).unwrap();
    let (bits, hashes) = bloom_gen::sizing_for(t.item_count, t.false_positive_rate).unwrap();
    assert_eq!((bits, hashes), (t.bit_count, t.hash_count));
    let params = BloomParams::new(
        bits.into(),
        hashes.into(),
        Seed::new(t.murmur_seed).unwrap(),
    )
    .unwrap();
    let fps: Vec<u64> = (0..t.item_count)
        .map(|i| Fingerprint::of(format!("host{i}.example.org").as_bytes(), params.seed()).to_u64())
        .collect();
    // The cache-blocked parallel fill (the bitmap is over the direct-fill size) ...
    let mut par = BloomBuilder::new(params);
    par.insert_fingerprints_par(&fps);
    let par = par.finish();
    assert_eq!(
        hex::encode(Sha256::digest(par.bitmap())),
        t.expected_bitmap_sha256
    );
    // ... and one-by-one insertion agree with the reference.
    let mut seq = BloomBuilder::new(params);
    for &fp in &fps {
        seq.insert_fingerprint(Fingerprint::from_u64(fp));
    }
    assert!(seq.finish().bitmap() == par.bitmap());
}
