//! Apple's known-answer tests from `vectors/pir/pir.json` (spec/pir-protocol.md §6).
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "vector tests fail loudly on malformed vectors"
)]

mod common;

use common::read_json;
use pir::bucket::HashBucket;
use pir::cuckoo::{BucketCount, CuckooConfig, CuckooTable};
use pir::evaluation_key::{EvaluationKeyConfig, KeyCompression};
use pir::index_pir::{IndexPirConfig, IndexPirParameter};
use pir::keyword::hash_indices;
use pir::keyword_database::KeywordValuePair;
use pir::packing::{
    bits_per_coeff, bytes_per_plaintext, bytes_to_coefficients, coefficients_to_bytes,
};
use pir::sharding::{Sharding, ShardingFunction, ShardingStrategy};
use rand::RngCore;
use serde_json::Value;

fn vectors() -> Value {
    read_json("pir/pir.json")
}

fn usize_of(v: &Value) -> usize {
    usize::try_from(v.as_u64().expect("integer")).expect("fits")
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(usize_of).collect()
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer"))
        .collect()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

#[test]
fn hash_indices_match_apple() {
    let cases = &vectors()["hash_indices"]["vectors"];
    let mut count = 0;
    for case in cases.as_array().expect("array") {
        let got = hash_indices(
            &bytes(&case["keyword_hex"]),
            usize_of(&case["bucket_count"]),
            usize_of(&case["hash_function_count"]),
        );
        assert_eq!(got, usizes(&case["expected"]));
        count += 1;
    }
    assert_eq!(count, 2);
}

#[test]
fn hash_bucket_parses_and_finds() {
    let v = &vectors()["hash_bucket_parse"];
    let raw = bytes(&v["bucket_hex"]);
    let bucket = HashBucket::parse(&raw).expect("parses");
    assert_eq!(bucket.entries().len(), usize_of(&v["expected_entry_count"]));
    assert_eq!(bucket.serialize(), raw, "re-serializes to the same bytes");
    for lookup in v["lookups"].as_array().expect("array") {
        let keyword = lookup["keyword_utf8"].as_str().expect("str").as_bytes();
        let prefix = bytes(&lookup["keyword_hash_prefix_hex"]);
        assert_eq!(
            pir::keyword::keyword_hash(keyword).to_le_bytes().as_slice(),
            prefix
        );
        let value = lookup["expected_value_utf8"]
            .as_str()
            .expect("str")
            .as_bytes();
        assert_eq!(bucket.find(keyword), Some(value));
    }
    assert_eq!(bucket.find(b"absent"), None);
}

#[test]
fn sharding_matches_apple() {
    let cases = &vectors()["sharding"]["vectors"];
    for case in cases.as_array().expect("array") {
        let keyword = bytes(&case["keyword_hex"]);
        let shards = usize_of(&case["shard_count"]);
        assert_eq!(
            ShardingFunction::Sha256.shard_index(&keyword, shards),
            Ok(usize_of(&case["sha256"]))
        );
        let double_mod = ShardingFunction::DoubleMod {
            other_shard_count: 2000,
        };
        assert_eq!(
            double_mod.shard_index(&keyword, shards),
            Ok(usize_of(&case["double_mod_2000"]))
        );
    }
}

fn sharding_from(case: &Value, strategy: ShardingStrategy) -> Result<Sharding, pir::PirError> {
    Sharding::new(
        strategy,
        case.get("max_shard_count").map(usize_of),
        case.get("require_power_of_two")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    )
}

#[test]
fn shard_counts_match_apple() {
    let v = &vectors()["shard_count"];
    for case in v["valid"].as_array().expect("array") {
        let per_shard = usize_of(&case["entry_count_per_shard"]);
        let sharding =
            sharding_from(case, ShardingStrategy::EntryCountPerShard(per_shard)).expect("valid");
        assert_eq!(
            sharding.shard_count_for(usize_of(&case["rows"])),
            usize_of(&case["expected"]),
            "{case}"
        );
    }
    let invalid = v["invalid"].as_array().expect("array");
    for case in invalid {
        let strategy = match (case.get("shard_count"), case.get("entry_count_per_shard")) {
            (Some(n), None) => ShardingStrategy::ShardCount(usize_of(n)),
            (None, Some(n)) => ShardingStrategy::EntryCountPerShard(usize_of(n)),
            _ => panic!("bad vector {case}"),
        };
        assert!(
            sharding_from(case, strategy).is_err(),
            "{case} must be rejected"
        );
    }
    assert_eq!(invalid.len(), 4);
}

/// Apple's `TestRng`: `next()` returns the counter, then increments it.
struct TestRng(u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let value = self.0;
        self.0 = self.0.wrapping_add(1);
        value
    }
    /// 8 bytes at a time as the little-endian counter; a tail takes the first bytes of one more.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[test]
fn cuckoo_summary_matches_apple() {
    let v = &vectors()["cuckoo_table_summary"];
    let setup = &v["setup"];
    let mut rng = TestRng(1);
    let mut rows: Vec<KeywordValuePair> = Vec::new();
    while rows.len() < 100 {
        let mut keyword = vec![0u8; 30];
        rng.fill_bytes(&mut keyword);
        if rows.iter().any(|r| r.keyword == keyword) {
            continue;
        }
        let mut value = vec![0u8; 10];
        rng.fill_bytes(&mut value);
        rows.push(KeywordValuePair::new(keyword, value));
    }
    assert_eq!(rows[0].keyword, bytes(&setup["row0_keyword_hex"]));
    assert_eq!(rows[0].value, bytes(&setup["row0_value_hex"]));
    assert_eq!(
        rng.0,
        setup["rng_counter_after_database"].as_u64().expect("u64")
    );

    let c = &setup["config"];
    let expansion = &c["bucket_count"]["allow_expansion"];
    let config = CuckooConfig::new(
        usize_of(&c["hash_function_count"]),
        usize_of(&c["max_eviction_count"]),
        usize_of(&c["max_serialized_bucket_size"]),
        BucketCount::AllowExpansion {
            expansion_factor: expansion["expansion_factor"].as_f64().expect("f64"),
            target_load_factor: expansion["target_load_factor"].as_f64().expect("f64"),
        },
        usize_of(&c["slot_count"]),
    )
    .expect("valid config");
    let table = CuckooTable::build(config, &rows, &mut rng).expect("builds");
    let summary = table.summary();
    let expected = &v["expected"];
    assert_eq!(summary.entry_count, usize_of(&expected["entry_count"]));
    assert_eq!(summary.bucket_count, usize_of(&expected["bucket_count"]));
    assert_eq!(
        summary.empty_bucket_count,
        usize_of(&expected["empty_bucket_count"])
    );
    let load = expected["load_factor"].as_f64().expect("f64") as f32;
    assert!(
        (summary.load_factor - load).abs() < 1e-6,
        "{} vs {load}",
        summary.load_factor
    );
    for row in &rows {
        assert_eq!(table.get(&row.keyword), Some(row.value.as_slice()));
    }
}

/// The test context of `dimensions`: N = 16, t = 1153.
fn small_context(v: &Value) -> (usize, usize) {
    let ctx = &v["context"];
    let n = usize_of(&ctx["N"]);
    let t = ctx["plaintext_modulus"].as_u64().expect("u64");
    let bpp = bytes_per_plaintext(n, t).expect("valid");
    assert_eq!(
        bits_per_coeff(t),
        Ok(ctx["bits_per_coeff"].as_u64().expect("u64") as u32)
    );
    assert_eq!(bpp, usize_of(&ctx["bytes_per_plaintext"]));
    (n, bpp)
}

fn dims(
    n: usize,
    bpp: usize,
    entries: usize,
    size: usize,
    batch: usize,
    uneven: bool,
) -> Vec<usize> {
    let config = IndexPirConfig {
        entry_count: entries,
        entry_size: size,
        dimension_count: 2,
        batch_size: batch,
        uneven_dimensions: uneven,
        key_compression: KeyCompression::NoCompression,
        encoding_entry_size: false,
    };
    IndexPirParameter::generate(&config, n, bpp)
        .expect("valid")
        .dimensions
}

#[test]
fn dimensions_match_apple() {
    let v = &vectors()["dimensions"];
    let (n, bpp) = small_context(v);
    let mut count = 0;
    for case in v["entry_size_equals_bpp"].as_array().expect("array") {
        let got = dims(
            n,
            bpp,
            usize_of(&case["entry_count"]),
            bpp,
            usize_of(&case["batch_size"]),
            case["uneven"].as_bool().expect("bool"),
        );
        assert_eq!(got, usizes(&case["expected"]), "{case}");
        count += 1;
    }
    for case in v["entry_size_21"].as_array().expect("array") {
        let (entries, batch) = (
            usize_of(&case["entry_count"]),
            usize_of(&case["batch_size"]),
        );
        assert_eq!(
            dims(n, bpp, entries, 21, batch, false),
            usizes(&case["even"]),
            "{case}"
        );
        assert_eq!(
            dims(n, bpp, entries, 21, batch, true),
            usizes(&case["uneven"]),
            "{case}"
        );
        count += 2;
    }
    assert_eq!(count, 15);
}

#[test]
fn coordinates_match_apple() {
    let v = &vectors()["dimensions"];
    let (_, bpp) = small_context(v);
    let mut count = 0;
    for case in v["coordinates"].as_array().expect("array") {
        let dimensions = usizes(&case["dimensions"]);
        let parameter = IndexPirParameter {
            entry_count: case
                .get("entry_count")
                .map_or(dimensions.iter().product(), usize_of),
            // Apple's test uses entry size 16 < bpp = 20 with [5,3,2], and bpp-sized entries
            // with [10,10]; both give one entry per plaintext.
            entry_size: case.get("entry_size").map_or(bpp, usize_of),
            dimensions,
            batch_size: 1,
            evaluation_key_config: EvaluationKeyConfig::default(),
            encoding_entry_size: false,
        };
        assert_eq!(parameter.entries_per_plaintext(bpp), 1);
        for (index, expected) in case["cases"].as_object().expect("object") {
            let index: usize = index.parse().expect("decimal index");
            assert_eq!(
                parameter.coordinates(index, bpp).expect("in range"),
                usizes(expected)
            );
            count += 1;
        }
        assert!(parameter.coordinates(parameter.entry_count, bpp).is_err());
    }
    assert_eq!(count, 17);
}

#[test]
fn galois_elements_match_apple() {
    let v = &vectors()["galois_elements"];
    let strategies = [
        ("no_compression", KeyCompression::NoCompression),
        ("hybrid_compression", KeyCompression::HybridCompression),
        ("max_compression", KeyCompression::MaxCompression),
    ];
    let mut count = 0;
    for case in v["cases"].as_array().expect("array") {
        for (key, compression) in strategies {
            let config = EvaluationKeyConfig::for_mul_pir(
                usize_of(&case["q"]),
                usize_of(&case["N"]),
                compression,
            )
            .expect("valid");
            let expected: Vec<u32> = u64s(&case[key]).into_iter().map(|e| e as u32).collect();
            assert_eq!(config.galois_elements, expected, "{key} {case}");
            assert!(config.has_relin_key);
            count += 1;
        }
    }
    assert_eq!(count, 18);

    // The small context: parameter generation end to end.
    let small = &v["small_context"];
    let n = usize_of(&small["N"]);
    let bpp =
        bytes_per_plaintext(n, small["plaintext_modulus"].as_u64().expect("u64")).expect("valid");
    for (key, compression) in strategies {
        let config = IndexPirConfig {
            entry_count: usize_of(&small["entry_count"]),
            entry_size: bpp,
            dimension_count: 2,
            batch_size: usize_of(&small["batch_size"]),
            uneven_dimensions: small["uneven"].as_bool().expect("bool"),
            key_compression: compression,
            encoding_entry_size: false,
        };
        let parameter = IndexPirParameter::generate(&config, n, bpp).expect("valid");
        assert_eq!(parameter.dimensions, usizes(&small["expected_dimensions"]));
        assert_eq!(
            parameter.expanded_query_count() * parameter.batch_size,
            usize_of(&small["q"])
        );
        let expected: Vec<u32> = u64s(&small[key]).into_iter().map(|e| e as u32).collect();
        assert_eq!(
            parameter.evaluation_key_config.galois_elements, expected,
            "{key}"
        );
    }
}

#[test]
fn coefficient_packing_matches_apple() {
    let v = &vectors()["coefficient_packing"];
    let mut count = 0;
    for case in v["vectors"].as_array().expect("array") {
        // Skipped-LSB packing is the HE layer's ciphertext serialization.
        if case["skip_lsbs"].as_u64() != Some(0) {
            continue;
        }
        let bits = case["bits"].as_u64().expect("u64") as u32;
        let coeffs = u64s(&case["coefficients"]);
        let raw = case.get("bytes_hex").map(bytes);
        match case["direction"].as_str().expect("str") {
            "bytes_to_coeffs" => {
                let raw = raw.expect("bytes_hex");
                assert_eq!(bytes_to_coefficients(&raw, bits).expect("valid"), coeffs);
                // "and back"
                assert_eq!(coefficients_to_bytes(&coeffs, bits).expect("valid"), raw);
            }
            "coeffs_to_bytes" => {
                assert_eq!(
                    coefficients_to_bytes(&coeffs, bits).expect("valid"),
                    raw.expect("bytes_hex")
                );
            }
            other => panic!("unknown direction {other}"),
        }
        count += 1;
    }
    assert_eq!(count, 2);
}
