//! Database processing (`pir::process`): Apple's transcript inputs give Apple's params through
//! the whole pipeline (the detailed params checks live in apple_processing.rs); every keyword
//! decodes back out of the plaintexts with its value and absent keywords do not; blocklists go
//! through bloom-gen's canonical entries; every shard is produced, empty ones included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::Mutex;

use common::{read_json, read_vector};
use he::rng::NistAes128Ctr;
use pir::bucket::HashBucket;
use pir::client::{KeywordPirClient, SecretKey};
use pir::database::ProcessedShard;
use pir::evaluation_key::EvaluationKeyConfig;
use pir::keyword::hash_indices;
use pir::keyword_database::{KeywordValuePair, rows_from_proto};
use pir::packing::{bits_per_coeff, coefficients_to_bytes};
use pir::params_file::{RingShape, from_pir_parameters};
use pir::plaintext_layout::plaintext_position;
use pir::process::{
    NEURLFILTER_VALUE, ProcessedDatabase, Progress, ShardPlaintexts, process, process_plaintexts,
    rows_from_blocklist,
};
use pir::process_config::ProcessConfig;
use pir::processed_file::{shard_from_bytes, write};
use pir::proto::pir as pir_proto;
use pir::server::{PreparedEvaluationKey, ShardServer};
use pir::text_format;
use prost::Message;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn text(relative: &str) -> String {
    String::from_utf8(read_vector(relative)).expect("UTF-8")
}

fn no_progress(_: Progress) {}

/// Finds `keyword` in a processed shard without encryption: candidates → plaintext
/// coefficients → bytes → bucket (the client's path of §3.7/§4.9 minus the HE layer).
fn lookup(shard: &ShardPlaintexts, keyword: &[u8]) -> Option<Vec<u8>> {
    let (index, kw) = from_pir_parameters(&shard.parameters).expect("valid params");
    let tables = kw.expect("keyword params").hash_function_count;
    let ep = shard.parameters.encryption_parameters.as_ref().expect("ep");
    let bits = bits_per_coeff(ep.plaintext_modulus).expect("bits");
    let bpp = RingShape::of(ep).expect("shape").bytes_per_plaintext;
    let per_table = shard.plaintexts.len() / tables;
    assert_eq!(
        per_table,
        index.plaintexts_per_chunk() * index.chunk_count(bpp)
    );
    hash_indices(keyword, index.entry_count, tables)
        .iter()
        .enumerate()
        .find_map(|(table, &bucket)| {
            let coordinates = index.coordinates(bucket, bpp).expect("in range");
            let position = plaintext_position(&index, &coordinates, 0).expect("position");
            let coeffs = shard.plaintexts[table * per_table + position]
                .clone()
                .unwrap_or_default();
            let mut bytes = coefficients_to_bytes(&coeffs, bits).expect("bytes");
            bytes.resize(bpp, 0);
            let start = (bucket % index.entries_per_plaintext(bpp)) * index.entry_size;
            HashBucket::parse(&bytes[start..start + index.entry_size])
                .expect("bucket")
                .find(keyword)
                .map(<[u8]>::to_vec)
        })
}

#[test]
fn transcript_inputs_give_apples_params_and_every_keyword_decodes_back() {
    let manifest = read_json("apple/pir/manifest.json");
    for variant in manifest["pir"].as_array().expect("pir") {
        let dir = format!("apple/{}", variant["directory"].as_str().expect("dir"));
        let config = ProcessConfig::from_json(&text(&format!("{dir}/url-config.json"))).unwrap();
        let database: pir_proto::KeywordDatabase =
            text_format::parse(&text(&format!("{dir}/{}", config.input_database))).unwrap();
        let rows = rows_from_proto(database);

        let events = Mutex::new(Vec::new());
        let record = |p: Progress| events.lock().unwrap().push(p);
        let processed = process_plaintexts(
            rows.clone(),
            &config,
            &mut StdRng::seed_from_u64(1),
            &record,
        )
        .unwrap();
        let events = events.into_inner().unwrap();
        assert_eq!(
            events.first(),
            Some(&Progress::Sharded {
                rows: rows.len(),
                shards: processed.shards.len()
            })
        );
        assert_eq!(events.len(), 1 + processed.shards.len());

        for shard in &processed.shards {
            let apple = read_vector(&format!("{dir}/url-{}.params.binpb", shard.index));
            assert!(shard.parameters.encode_to_vec() == apple, "{dir}: params");
        }
        assert!(
            processed.usecase.pir_config.encode_to_vec()
                == read_vector(&format!("{dir}/api/pir-config.binpb"))
        );

        let shard_of = |kw: &[u8]| {
            pir::sharding::ShardingFunction::Sha256
                .shard_index(kw, processed.shards.len())
                .unwrap()
        };
        for row in &rows {
            let shard = &processed.shards[shard_of(&row.keyword)];
            assert_eq!(lookup(shard, &row.keyword), Some(row.value.clone()));
        }
        let mut absent = 0;
        for group in variant["query_groups"].as_array().expect("groups") {
            for query in group["queries"].as_array().expect("queries") {
                let kw = query["keyword"].as_str().unwrap().as_bytes();
                let expected = query["expected_value_hex"]
                    .as_str()
                    .map(|h| hex::decode(h).unwrap());
                absent += usize::from(expected.is_none());
                assert_eq!(lookup(&processed.shards[shard_of(kw)], kw), expected);
            }
        }
        assert!(absent >= 1, "the transcripts query absent keywords");
    }
}

#[test]
fn processing_is_deterministic_for_a_seeded_rng_and_eval_shards_keep_the_layout() {
    let dir = "apple/pir/url-1shard";
    let config = ProcessConfig::from_json(&text(&format!("{dir}/url-config.json"))).unwrap();
    let rows = rows_from_proto(text_format::parse(&text(&format!("{dir}/input.txtpb"))).unwrap());
    let a = process_plaintexts(
        rows.clone(),
        &config,
        &mut StdRng::seed_from_u64(7),
        &no_progress,
    )
    .unwrap();
    let b = process_plaintexts(
        rows.clone(),
        &config,
        &mut StdRng::seed_from_u64(7),
        &no_progress,
    )
    .unwrap();
    assert_eq!(a.shards, b.shards);

    let eval = process(rows, &config, &mut StdRng::seed_from_u64(7), &no_progress).unwrap();
    assert_eq!(eval.usecase, a.usecase);
    for (shard, plain) in eval.shards.iter().zip(&a.shards) {
        assert_eq!(shard.parameters(), &plain.parameters);
        assert_eq!(shard.plaintext_count(), plain.plaintexts.len());
        for (i, p) in plain.plaintexts.iter().enumerate() {
            assert_eq!(shard.plaintext(i).is_some(), p.is_some(), "plaintext {i}");
        }
    }
}

const BLOCKLIST: &str = "\
# comment, then a blank line

https://www.Example.com/
example.com
example.org/Path%41/?q=1
*.wildcard.example
host1.test\r
";

#[test]
fn blocklist_rows_are_every_canonical_entry_once_with_apples_value() {
    let parsed = rows_from_blocklist(BLOCKLIST.as_bytes(), NEURLFILTER_VALUE);
    let mut expected: Vec<Vec<u8>> = Vec::new();
    for line in [
        "https://www.Example.com/",
        "example.org/Path%41/?q=1",
        "host1.test",
    ] {
        for entry in bloom_gen::canonicalize(line).unwrap().entries() {
            if !expected.contains(&entry.as_bytes().to_vec()) {
                expected.push(entry.as_bytes().to_vec());
            }
        }
    }
    assert!(expected.len() >= 5, "variants are included: {expected:?}");
    let keywords: Vec<Vec<u8>> = parsed.rows.iter().map(|r| r.keyword.clone()).collect();
    assert_eq!(keywords, expected);
    assert!(parsed.rows.iter().all(|r| r.value == b"1"));
    assert_eq!(parsed.duplicates, 1, "example.com twice");
    assert_eq!(parsed.rejected.len(), 1);
    assert_eq!(parsed.rejected[0].line, 6);
}

#[test]
fn every_shard_is_produced_even_empty_ones_and_holds_its_keywords() {
    let rows = rows_from_blocklist(BLOCKLIST.as_bytes(), NEURLFILTER_VALUE).rows;
    let config = ProcessConfig::from_json(
        r#"{"inputDatabase":"blocklist.txt","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{"shardCount":16},
            "databaseType":"keyword"}"#,
    )
    .unwrap();
    let processed = process_plaintexts(
        rows.clone(),
        &config,
        &mut StdRng::seed_from_u64(3),
        &no_progress,
    )
    .unwrap();
    assert_eq!(processed.shards.len(), 16);
    let empty: Vec<&ShardPlaintexts> = processed
        .shards
        .iter()
        .filter(|s| s.row_count == 0)
        .collect();
    assert!(empty.len() >= 16 - rows.len());
    for shard in &empty {
        let (index, _) = from_pir_parameters(&shard.parameters).unwrap();
        assert_eq!(index.entry_count, 1);
        assert!(shard.plaintexts.iter().all(Option::is_none));
    }
    assert_eq!(
        processed.usecase.pir_config.shard_configs.len(),
        16,
        "one shard config per shard"
    );
    for (i, shard) in processed.shards.iter().enumerate() {
        assert_eq!(shard.index, i);
    }
    for row in &rows {
        let s = pir::sharding::ShardingFunction::Sha256
            .shard_index(&row.keyword, 16)
            .unwrap();
        assert_eq!(
            lookup(&processed.shards[s], &row.keyword),
            Some(b"1".to_vec())
        );
        for other in processed.shards.iter().filter(|o| o.index != s) {
            assert_eq!(lookup(other, &row.keyword), None);
        }
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let base = |extra: &str| {
        ProcessConfig::from_json(&format!(
            r#"{{"inputDatabase":"i","outputDatabase":"o-SHARD_ID","outputPirParameters":"p-SHARD_ID",
                "databaseType":"keyword"{extra}}}"#
        ))
        .unwrap()
    };
    let rows = vec![
        KeywordValuePair::new("a", "1"),
        KeywordValuePair::new("b", "1"),
    ];
    let run = |config: &ProcessConfig, rows: Vec<KeywordValuePair>| {
        process_plaintexts(rows, config, &mut StdRng::seed_from_u64(0), &no_progress)
    };
    assert!(matches!(
        run(&base(r#","rlweParameters":"n_4096_nope""#), rows.clone()),
        Err(pir::PirError::InvalidProcessConfig(_))
    ));
    let ok = r#","rlweParameters":"n_4096_logq_27_28_28_logt_5""#;
    let spir =
        format!(r#"{ok},"symmetricPirArguments":{{"databaseEncryptionKeyFilePath":"k.hex"}}"#);
    assert!(matches!(
        run(&base(&spir), rows.clone()),
        Err(pir::PirError::InvalidProcessConfig(_))
    ));
    let duplicate = vec![
        KeywordValuePair::new("a", "1"),
        KeywordValuePair::new("a", "2"),
    ];
    assert!(matches!(
        run(&base(ok), duplicate),
        Err(pir::PirError::DuplicateKeyword { .. })
    ));
    assert!(run(&base(ok), rows).is_ok());
}

/// A client and one server per shard over a processed database, all in memory.
struct Deployment {
    client: pir::client::KeywordPirClient,
    servers: Vec<ShardServer>,
    keys: Vec<PreparedEvaluationKey>,
}

impl Deployment {
    fn new(db: ProcessedDatabase<ProcessedShard>) -> Self {
        let ep = db.usecase.pir_config.encryption_parameters.clone().unwrap();
        let secret = SecretKey::generate(&ep, &mut NistAes128Ctr::new(&[9; 32])).unwrap();
        let key = secret
            .evaluation_key(
                &EvaluationKeyConfig::from_proto(&db.usecase.evaluation_key_config),
                &mut NistAes128Ctr::new(&[10; 32]),
            )
            .unwrap();
        let client = KeywordPirClient::from_pir_config(&db.usecase.pir_config, secret).unwrap();
        // Through our processed file, as the service loads shards.
        let servers: Vec<ShardServer> = db
            .shards
            .iter()
            .map(|s| ShardServer::new(shard_from_bytes(write(s).unwrap()).unwrap()).unwrap())
            .collect();
        let keys = servers
            .iter()
            .map(|s| PreparedEvaluationKey::from_proto(s, &key).unwrap())
            .collect();
        Self {
            client,
            servers,
            keys,
        }
    }

    fn lookup(&self, keyword: &[u8], seed: u8) -> Option<Vec<u8>> {
        let query = self
            .client
            .query(keyword, &mut NistAes128Ctr::new(&[seed; 32]))
            .unwrap();
        let s = query.shard_index;
        let response = self.servers[s]
            .respond(&query.encrypted, &self.keys[s])
            .unwrap();
        self.client.decrypt(keyword, &response).unwrap()
    }
}

#[test]
fn encrypted_queries_against_our_processed_transcript_database_find_every_sampled_keyword() {
    let manifest = read_json("apple/pir/manifest.json");
    for variant in manifest["pir"].as_array().expect("pir") {
        let dir = format!("apple/{}", variant["directory"].as_str().expect("dir"));
        let config = ProcessConfig::from_json(&text(&format!("{dir}/url-config.json"))).unwrap();
        let rows =
            rows_from_proto(text_format::parse(&text(&format!("{dir}/input.txtpb"))).unwrap());
        let db = process(
            rows.clone(),
            &config,
            &mut StdRng::seed_from_u64(4),
            &no_progress,
        )
        .unwrap();
        let deployment = Deployment::new(db);
        // A spread of rows (every query costs a full expansion and scan), then the manifest's.
        for (i, row) in rows.iter().enumerate().step_by(97) {
            assert_eq!(
                deployment.lookup(&row.keyword, i as u8),
                Some(row.value.clone()),
                "row {i}"
            );
        }
        for group in variant["query_groups"].as_array().expect("groups") {
            for query in group["queries"].as_array().expect("queries") {
                let kw = query["keyword"].as_str().unwrap().as_bytes();
                let expected = query["expected_value_hex"]
                    .as_str()
                    .map(|h| hex::decode(h).unwrap());
                assert_eq!(deployment.lookup(kw, 200), expected);
            }
        }
    }
}

#[test]
fn encrypted_queries_reach_every_shard_of_a_sharded_blocklist_empty_ones_included() {
    let rows = rows_from_blocklist(BLOCKLIST.as_bytes(), NEURLFILTER_VALUE).rows;
    let config = ProcessConfig::from_json(
        r#"{"inputDatabase":"blocklist.txt","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{"shardCount":16},
            "databaseType":"keyword"}"#,
    )
    .unwrap();
    let db = process(
        rows.clone(),
        &config,
        &mut StdRng::seed_from_u64(5),
        &no_progress,
    )
    .unwrap();
    assert!(
        db.shards.iter().any(|s| s.present_count() == 0),
        "an empty shard"
    );
    let deployment = Deployment::new(db);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            deployment.lookup(&row.keyword, i as u8),
            Some(b"1".to_vec())
        );
    }
    // Absent keywords until every shard, the empty ones too, has answered one.
    let mut answered = [false; 16];
    for i in 0..5000u32 {
        let kw = format!("absent{i}.example");
        let shard = deployment.client.shard_index(kw.as_bytes()).unwrap();
        if !answered[shard] {
            assert_eq!(deployment.lookup(kw.as_bytes(), 1), None, "{kw}");
            answered[shard] = true;
        }
        if answered.iter().all(|&a| a) {
            break;
        }
    }
    assert!(answered.iter().all(|&a| a));
}

#[test]
fn fixed_size_shards_collapse_into_a_repeated_shard_config_that_the_client_follows() {
    let rows = rows_from_blocklist(BLOCKLIST.as_bytes(), NEURLFILTER_VALUE).rows;
    let config = ProcessConfig::from_json(
        r#"{"inputDatabase":"blocklist.txt","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{"shardCount":3},
            "cuckooTableArguments":{"bucketCount":{"fixedSize":{"bucketCount":8}}},
            "databaseType":"keyword"}"#,
    )
    .unwrap();
    let db = process(
        rows.clone(),
        &config,
        &mut StdRng::seed_from_u64(6),
        &no_progress,
    )
    .unwrap();
    let pir_config = &db.usecase.pir_config;
    assert!(pir_config.shard_configs.is_empty());
    assert!(pir_config.pir_shard_configs.is_some());
    let deployment = Deployment::new(db);
    assert_eq!(deployment.client.shard_count(), 3);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            deployment.lookup(&row.keyword, i as u8),
            Some(b"1".to_vec())
        );
    }
    assert_eq!(deployment.lookup(b"absent.example", 1), None);
}
