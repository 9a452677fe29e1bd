//! Behaviour beyond Apple's vectors: validation, the deviations from the reference we chose
//! (every shard emitted, no row ever lost), and the compact shard configuration.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use pir::PirError;
use pir::cuckoo::{BucketCount, CuckooConfig, CuckooTable, default_max_serialized_bucket_size};
use pir::evaluation_key::KeyCompression;
use pir::index_pir::{IndexPirConfig, IndexPirParameter};
use pir::keyword_database::{KeywordValuePair, shard_rows};
use pir::params_file::to_pir_parameters;
use pir::process_config::{ProcessConfig, SymmetricPirKeySource};
use pir::proto::{api_pir, he};
use pir::sharding::{Sharding, ShardingFunction, ShardingStrategy};
use pir::usecase_config::UsecaseConfig;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rows(n: usize, value_size: usize) -> Vec<KeywordValuePair> {
    (0..n)
        .map(|i| KeywordValuePair::new(format!("host{i}.example"), vec![b'v'; value_size]))
        .collect()
}

fn expanding(max_bucket: usize) -> CuckooConfig {
    CuckooConfig::new(2, 100, max_bucket, BucketCount::default(), 255).expect("valid")
}

#[test]
fn cuckoo_config_rejects_out_of_range_values() {
    let ok = BucketCount::default();
    assert!(CuckooConfig::new(0, 100, 50, ok, 255).is_err());
    assert!(CuckooConfig::new(2, 0, 50, ok, 255).is_err());
    assert!(CuckooConfig::new(2, 100, 10, ok, 255).is_err());
    assert!(CuckooConfig::new(2, 100, 11, ok, 255).is_ok());
    assert!(CuckooConfig::new(2, 100, 50, ok, 0).is_err());
    assert!(CuckooConfig::new(2, 100, 50, ok, 256).is_err());
    let grow = |expansion_factor, target_load_factor| BucketCount::AllowExpansion {
        expansion_factor,
        target_load_factor,
    };
    assert!(CuckooConfig::new(2, 100, 50, grow(1.0, 0.9), 255).is_err());
    assert!(CuckooConfig::new(2, 100, 50, grow(1.1, 1.0), 255).is_err());
    assert!(CuckooConfig::new(2, 100, 50, grow(f64::NAN, 0.9), 255).is_err());
    assert!(
        CuckooConfig::new(2, 100, 50, BucketCount::FixedSize { bucket_count: 0 }, 255).is_err()
    );
}

#[test]
fn cuckoo_tables_keep_every_row_and_are_reproducible() {
    let data = rows(3000, 3);
    let build = |seed| {
        let table = CuckooTable::build(expanding(60), &data, &mut StdRng::seed_from_u64(seed))
            .expect("builds");
        assert_eq!(table.summary().entry_count, data.len());
        for row in &data {
            assert_eq!(table.get(&row.keyword), Some(row.value.as_slice()));
            let (bucket, _) = table.position(&row.keyword).expect("placed");
            assert!(bucket < table.bucket_count());
        }
        assert!(table.max_serialized_bucket_size() <= 60);
        table.serialized_buckets()
    };
    assert_eq!(build(7), build(7), "same RNG, same layout");
}

#[test]
fn cuckoo_respects_slot_counts_and_fixed_sizes() {
    let data = rows(200, 1);
    let one_slot = CuckooConfig::new(2, 100, 1000, BucketCount::default(), 1).expect("valid");
    let table = CuckooTable::build(one_slot, &data, &mut StdRng::seed_from_u64(1)).expect("builds");
    assert!(
        (0..table.bucket_count()).all(|b| table.bucket(b).expect("bucket").entries().len() <= 1)
    );

    let too_small = CuckooConfig::new(2, 20, 1000, BucketCount::FixedSize { bucket_count: 10 }, 1)
        .expect("valid");
    assert!(matches!(
        CuckooTable::build(too_small, &data, &mut StdRng::seed_from_u64(1)),
        Err(PirError::CuckooConstruction(_))
    ));
    let big_value = vec![KeywordValuePair::new("k", vec![0; 100])];
    assert!(CuckooTable::build(expanding(50), &big_value, &mut StdRng::seed_from_u64(1)).is_err());
    let empty =
        CuckooTable::build(expanding(50), &[], &mut StdRng::seed_from_u64(1)).expect("empty table");
    assert_eq!(empty.summary().entry_count, 0);
    assert!(empty.buckets_per_table() >= 1);
}

#[test]
fn default_bucket_size_follows_apple() {
    assert_eq!(default_max_serialized_bucket_size(1, 2048), 1024);
    assert_eq!(default_max_serialized_bucket_size(2000, 2048), 2048);
    assert_eq!(default_max_serialized_bucket_size(3000, 2048), 4096);
}

#[test]
fn sharding_emits_every_shard_and_rejects_duplicates() {
    let sharding = Sharding::shard_count(8).expect("valid");
    let shards = shard_rows(rows(3, 1), &sharding, ShardingFunction::Sha256).expect("shards");
    assert_eq!(shards.len(), 8);
    assert_eq!(shards.iter().map(|s| s.rows.len()).sum::<usize>(), 3);
    assert!(shards.iter().enumerate().all(|(i, s)| s.index == i));
    for shard in &shards {
        for row in &shard.rows {
            assert_eq!(
                ShardingFunction::Sha256.shard_index(&row.keyword, 8),
                Ok(shard.index)
            );
        }
    }
    let mut dup = rows(3, 1);
    dup.push(dup[0].clone());
    assert!(matches!(
        shard_rows(dup, &sharding, ShardingFunction::Sha256),
        Err(PirError::DuplicateKeyword { .. })
    ));
    let bad = ShardingFunction::DoubleMod {
        other_shard_count: 0,
    };
    assert!(shard_rows(rows(3, 1), &sharding, bad).is_err());
    assert!(Sharding::new(ShardingStrategy::EntryCountPerShard(10), Some(0), false).is_err());
}

const BASE: &str = r#""inputDatabase": "in.txtpb", "outputDatabase": "db-SHARD_ID.bin",
    "outputPirParameters": "p-SHARD_ID.txtpb", "rlweParameters": "n_4096_logq_27_28_28_logt_5""#;

fn config(extra: &str) -> Result<ProcessConfig, PirError> {
    let sep = if extra.is_empty() { "" } else { "," };
    ProcessConfig::from_json(&format!("{{{BASE}{sep}{extra}}}"))
}

#[test]
fn process_config_defaults_and_rules() {
    let resolved = config(r#""someFutureKey": 1"#)
        .expect("parses")
        .resolve_keyword(1, 2048)
        .expect("resolves");
    assert_eq!(resolved.trials_per_shard, 1);
    assert_eq!(resolved.sharding, Sharding::default());
    assert_eq!(resolved.keyword.cuckoo.hash_function_count(), 2);
    assert_eq!(resolved.keyword.cuckoo.max_serialized_bucket_size(), 1024);
    assert!(resolved.keyword.uneven_dimensions);
    assert_eq!(
        resolved.keyword.key_compression,
        KeyCompression::NoCompression
    );

    let custom = config(
        r#""sharding": {"shardCount": 4}, "shardingFunction": {"doubleMod": 9},
           "cuckooTableArguments": {"hashFunctionCount": 3, "bucketCount": {"fixedSize": {"bucketCount": 30}},
                                    "maxSerializedBucketSize": 100, "slotCount": 4},
           "keyCompression": "hybridCompression", "unevenDimensions": false,
           "symmetricPirArguments": {"databaseEncryptionKeyFilePath": "k.hex"}"#,
    )
    .expect("parses")
    .resolve_keyword(10, 2048)
    .expect("resolves");
    assert_eq!(custom.sharding.shard_count_for(1), 4);
    assert_eq!(
        custom.keyword.sharding_function,
        ShardingFunction::DoubleMod {
            other_shard_count: 9
        }
    );
    assert_eq!(
        custom.keyword.cuckoo.bucket_count(),
        BucketCount::FixedSize { bucket_count: 30 }
    );
    assert_eq!(custom.keyword.cuckoo.slot_count(), 4);
    assert_eq!(
        custom.keyword.key_compression,
        KeyCompression::HybridCompression
    );
    assert!(!custom.keyword.uneven_dimensions);
    assert!(matches!(
        custom.symmetric_pir,
        Some((SymmetricPirKeySource::Read(_), _))
    ));

    let rejects = [
        r#""algorithm": "aclsPir""#,
        r#""databaseType": "index""#,
        r#""cuckooTableArguments": {"maxSerializedBucketSize": 20}"#,
        r#""symmetricPirArguments": {}"#,
        r#""symmetricPirArguments": {"databaseEncryptionKeyFilePath": "a", "outputDatabaseEncryptionKeyFilePath": "b"}"#,
    ];
    for extra in rejects {
        assert!(
            config(extra)
                .and_then(|c| c.resolve_keyword(10, 2048))
                .is_err(),
            "{extra}"
        );
    }
    for extra in [
        r#""sharding": {"shardCount": 2, "entryCountPerShard": 3}"#,
        r#""shardingFunction": {}"#,
        r#""trialsPerShard": -1"#,
    ] {
        assert!(config(extra).is_err(), "{extra}");
    }
    let no_placeholder = ProcessConfig::from_json(
        r#"{"inputDatabase": "i", "outputDatabase": "o.bin", "outputPirParameters": "p.txtpb",
            "rlweParameters": "x", "sharding": {"entryCountPerShard": 10}}"#,
    )
    .expect("parses");
    assert!(no_placeholder.resolve_keyword(1, 2048).is_err());
}

fn encryption_parameters(t: u64) -> he::EncryptionParameters {
    he::EncryptionParameters {
        polynomial_degree: 4096,
        plaintext_modulus: t,
        coefficient_moduli: vec![134_176_769, 268_369_921, 268_361_729],
        error_std_dev: 0,
        security_level: 1,
        he_scheme: 1,
    }
}

fn shard_params(entries: usize, t: u64) -> pir::proto::pir::PirParameters {
    let index = IndexPirParameter::generate(
        &IndexPirConfig {
            entry_count: entries,
            entry_size: 1024,
            dimension_count: 2,
            batch_size: 2,
            uneven_dimensions: true,
            key_compression: KeyCompression::NoCompression,
            encoding_entry_size: false,
        },
        4096,
        2048,
    )
    .expect("valid");
    let keyword = pir::keyword_pir::KeywordPirParameter {
        hash_function_count: 2,
        sharding_function: ShardingFunction::Sha256,
    };
    to_pir_parameters(&encryption_parameters(t), &index, Some(&keyword))
}

#[test]
fn identical_shards_collapse_into_a_repeated_shard_config() {
    let same = UsecaseConfig::from_shards(&[
        shard_params(300, 17),
        shard_params(300, 17),
        shard_params(300, 17),
    ])
    .expect("config");
    assert!(same.pir_config.shard_configs.is_empty());
    let Some(api_pir::PirShardConfigs {
        shard_configs: Some(api_pir::pir_shard_configs::ShardConfigs::RepeatedShardConfig(fixed)),
    }) = &same.pir_config.pir_shard_configs
    else {
        panic!("expected a repeated shard config");
    };
    assert_eq!(fixed.shard_count, 3);
    assert_eq!(
        fixed
            .shard_config
            .as_ref()
            .and_then(|c| c.shard_id.as_deref()),
        Some("")
    );

    let mixed =
        UsecaseConfig::from_shards(&[shard_params(300, 17), shard_params(7, 17)]).expect("config");
    assert_eq!(mixed.pir_config.shard_configs.len(), 2);
    assert!(mixed.pir_config.pir_shard_configs.is_none());
    // The union holds the elements of both shards.
    let union = &mixed.evaluation_key_config.galois_elements;
    assert!(union.windows(2).all(|w| w[0] < w[1]));
    assert_ne!(same.config_id, mixed.config_id);

    assert!(UsecaseConfig::from_shards(&[shard_params(7, 17), shard_params(7, 11)]).is_err());
    assert!(UsecaseConfig::from_shards(&[]).is_err());
}

#[test]
fn index_parameters_for_large_entries_and_one_dimension() {
    let generate = |entry_size, dimension_count, encoding_entry_size| {
        IndexPirParameter::generate(
            &IndexPirConfig {
                entry_count: 100,
                entry_size,
                dimension_count,
                batch_size: 1,
                uneven_dimensions: false,
                key_compression: KeyCompression::NoCompression,
                encoding_entry_size,
            },
            16,
            20,
        )
    };
    let one_d = generate(20, 1, false).expect("valid");
    assert_eq!(one_d.dimensions, [100]);
    let big = generate(45, 2, false).expect("valid");
    assert_eq!(big.chunk_count(20), 3);
    assert_eq!(big.entries_per_plaintext(20), 1);
    let encoded = generate(300, 2, true).expect("valid");
    assert_eq!(encoded.entry_size_encoding_width(), 2);
    assert_eq!(encoded.encoded_entry_size(), 302);
    assert!(generate(20, 3, false).is_err());
    assert!(generate(0, 2, false).is_err());
}

#[test]
fn split_entries_and_length_prefixes_lay_out_like_apple() {
    use pir::packing::coefficients_to_bytes;
    use pir::plaintext_layout::{plaintext_position, table_plaintexts};
    // Test context N = 16, t = 1153: 10 bits, 20 bytes per plaintext; entries up to 45 bytes
    // with a 1-byte length prefix span 3 plaintexts.
    let entries: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i + 1; usize::from(i) * 5]).collect();
    let index = IndexPirParameter::generate(
        &IndexPirConfig {
            entry_count: entries.len(),
            entry_size: 45,
            dimension_count: 2,
            batch_size: 1,
            uneven_dimensions: false,
            key_compression: KeyCompression::NoCompression,
            encoding_entry_size: true,
        },
        16,
        20,
    )
    .expect("valid");
    assert_eq!(index.chunk_count(20), 3);
    let layout = table_plaintexts(&entries, &index, 10, 20).expect("layout");
    assert_eq!(layout.len(), 3 * index.plaintexts_per_chunk());
    for (i, entry) in entries.iter().enumerate() {
        let coordinates = index.coordinates(i, 20).expect("in range");
        let mut bytes = Vec::new();
        for chunk in 0..3 {
            let position = plaintext_position(&index, &coordinates, chunk).expect("position");
            let mut part = layout[position]
                .as_ref()
                .map_or_else(Vec::new, |c| coefficients_to_bytes(c, 10).expect("bytes"));
            part.resize(20, 0);
            bytes.extend(part);
        }
        assert_eq!(usize::from(bytes[0]), entry.len(), "length prefix");
        assert_eq!(&bytes[1..=entry.len()], entry.as_slice());
    }
    // Entry 0 is empty: its length prefix is 0, so all its plaintexts are zero.
    let first = index.coordinates(0, 20).expect("in range");
    assert!((0..3).all(|c| layout[plaintext_position(&index, &first, c).expect("pos")].is_none()));

    let too_big = vec![vec![0u8; 46]; 10];
    assert!(table_plaintexts(&too_big, &index, 10, 20).is_err());
    assert!(table_plaintexts(&entries[..9], &index, 10, 20).is_err());
}

#[test]
fn query_plaintexts_scale_each_block_by_its_own_count() {
    // N = 16, t = 1153, dims [5, 3] (8 inputs per index), 3 indices: 24 inputs in blocks of 16
    // and 8, scaled by 2^-4 and 2^-3.
    let index = IndexPirParameter {
        entry_count: 15,
        entry_size: 20,
        dimensions: vec![5, 3],
        batch_size: 3,
        evaluation_key_config: pir::evaluation_key::EvaluationKeyConfig::default(),
        encoding_entry_size: false,
    };
    let indices = [0, 7, 14];
    assert_eq!(index.query_ciphertext_count(3, 16), 2);
    let plaintexts = index
        .query_plaintexts(&indices, 20, 16, 1153)
        .expect("plaintexts");
    let ones = index.query_one_positions(&indices, 20).expect("positions");
    assert_eq!(ones, [0, 5, 10, 14, 20, 23]);
    let (inv16, inv8) = (1081, 1009);
    assert_eq!((inv16 * 16) % 1153, 1);
    assert_eq!((inv8 * 8) % 1153, 1);
    for (b, plaintext) in plaintexts.iter().enumerate() {
        assert_eq!(plaintext.len(), 16);
        for (j, &c) in plaintext.iter().enumerate() {
            let scale = if b == 0 { inv16 } else { inv8 };
            assert_eq!(
                c,
                if ones.contains(&(b * 16 + j)) {
                    scale
                } else {
                    0
                }
            );
        }
    }
    assert!(index.query_plaintexts(&[15], 20, 16, 1153).is_err());
    assert!(index.query_plaintexts(&indices, 20, 16, 1024).is_err());
}
