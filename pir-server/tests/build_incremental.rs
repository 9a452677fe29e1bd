//! `pir-server build --previous` as a black box (issue #7 "Operation", incremental updates): after
//! one URL changes, exactly the shards its entries hash to are rebuilt, every other shard's files
//! are byte-identical (SHA-256) to the previous version's, `config_id` stays, and the prefilter is
//! rebuilt with a new tag.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use he::rng::NistAes128Ctr;
use pir::client::{KeywordPirClient, SecretKey};
use pir::evaluation_key::EvaluationKeyConfig;
use pir::process::{NEURLFILTER_VALUE, rows_from_blocklist};
use pir::proto::{api_pir, pir as pir_proto};
use pir::server::{PreparedEvaluationKey, ShardServer};
use pir::sharding::ShardingFunction;
use prost::Message as _;
use sha2::{Digest as _, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_pir-server");
const NAME: &str = "com.example.app.url.filtering";
const SHARDS: usize = 8;

fn blocklist(changed: bool) -> String {
    (0..2000)
        .map(|i| {
            if changed && i == 7 {
                "changed7.example.net/other\n".to_owned()
            } else {
                format!("site{i}.example.com/path{i}\n")
            }
        })
        .collect()
}

fn build(dir: &Path, list: &str, version: &str, extra: &[&str]) -> Output {
    let path = dir.join(format!("{version}.txt"));
    std::fs::write(&path, list).unwrap();
    Command::new(BIN)
        .args(["build", "--quiet", "--usecase", NAME, "--version", version])
        .arg("--urls")
        .arg(&path)
        .arg("--out")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn sha256(path: &Path) -> [u8; 32] {
    Sha256::digest(std::fs::read(path).unwrap()).into()
}

/// Each shard's set of canonical entries, sharded as the build does (§3.2).
fn shard_sets(list: &str) -> Vec<BTreeSet<Vec<u8>>> {
    let mut sets = vec![BTreeSet::new(); SHARDS];
    for row in rows_from_blocklist(list.as_bytes(), NEURLFILTER_VALUE).rows {
        let shard = ShardingFunction::Sha256
            .shard_index(&row.keyword, SHARDS)
            .unwrap();
        sets[shard].insert(row.keyword);
    }
    sets
}

/// What a device learns about `keywords` from the version in `dir`, through its files.
fn lookups(dir: &Path, keywords: &[&str]) -> Vec<Option<Vec<u8>>> {
    let config = api_pir::PirConfig::decode(
        std::fs::read(dir.join("pir-config.binpb"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let params: Vec<pir_proto::PirParameters> = (0..SHARDS)
        .map(|i| {
            let bytes = std::fs::read(dir.join(format!("shard-{i}.params.binpb"))).unwrap();
            pir_proto::PirParameters::decode(bytes.as_slice()).unwrap()
        })
        .collect();
    let ep = config.encryption_parameters.clone().unwrap();
    let secret = SecretKey::generate(&ep, &mut NistAes128Ctr::new(&[1; 32])).unwrap();
    let configs: Vec<EvaluationKeyConfig> = params
        .iter()
        .map(|p| EvaluationKeyConfig::from_proto(p.evaluation_key_config.as_ref().unwrap()))
        .collect();
    let key_config = EvaluationKeyConfig::union(&configs);
    let key = secret
        .evaluation_key(&key_config, &mut NistAes128Ctr::new(&[2; 32]))
        .unwrap();
    let client = KeywordPirClient::from_pir_config(&config, secret).unwrap();
    keywords
        .iter()
        .map(|keyword| {
            let query = client
                .query(keyword.as_bytes(), &mut NistAes128Ctr::new(&[3; 32]))
                .unwrap();
            let path = dir.join(format!("shard-{}.pirdb", query.shard_index));
            let shard =
                pir::processed_file::shard_from_bytes(std::fs::read(path).unwrap()).unwrap();
            let server = ShardServer::new(shard).unwrap();
            let key = PreparedEvaluationKey::from_proto(&server, &key).unwrap();
            let response = server.respond(&query.encrypted, &key).unwrap();
            client.decrypt(keyword.as_bytes(), &response).unwrap()
        })
        .collect()
}

#[test]
fn one_changed_url_rebuilds_only_its_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = (blocklist(false), blocklist(true));
    let first = ok(&build(
        dir.path(),
        &before,
        "v1",
        &["--entries-per-shard", "250"],
    ));
    assert!(
        first.contains(&format!("shards        {SHARDS}")),
        "{first}"
    );
    let second = ok(&build(
        dir.path(),
        &after,
        "v2",
        &["--previous", dir.path().to_str().unwrap()],
    ));

    let (old_sets, new_sets) = (shard_sets(&before), shard_sets(&after));
    let changed: Vec<usize> = (0..SHARDS)
        .filter(|&i| old_sets[i] != new_sets[i])
        .collect();
    // The old URL's and the new URL's entries: at least one shard, not all of them.
    assert!(!changed.is_empty() && changed.len() < SHARDS, "{changed:?}");
    assert!(
        second.contains(&format!("rebuilt {changed:?}")),
        "{changed:?}: {second}"
    );

    let (v1, v2) = (
        dir.path().join(NAME).join("v1"),
        dir.path().join(NAME).join("v2"),
    );
    for i in 0..SHARDS {
        let db = format!("shard-{i}.pirdb");
        let params = format!("shard-{i}.params.binpb");
        if changed.contains(&i) {
            assert_ne!(sha256(&v1.join(&db)), sha256(&v2.join(&db)), "{db}");
        } else {
            assert_eq!(sha256(&v1.join(&db)), sha256(&v2.join(&db)), "{db}");
            assert_eq!(
                sha256(&v1.join(&params)),
                sha256(&v2.join(&params)),
                "{params}"
            );
        }
    }
    // The rebuilt shards keep their layout, so devices keep their config and key.
    assert!(second.contains("shard parameters unchanged"), "{second}");
    assert_eq!(
        sha256(&v1.join("pir-config.binpb")),
        sha256(&v2.join("pir-config.binpb"))
    );
    let config_id = |summary: &str| {
        summary
            .lines()
            .find(|l| l.starts_with("config id"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(config_id(&first), config_id(&second));
    // The prefilter is new: another tag, and it holds the new URL.
    let tag = |summary: &str| summary.rsplit("tag ").next().unwrap().trim().to_owned();
    assert_ne!(tag(&first), tag(&second));
    assert_ne!(
        sha256(&v1.join("prefilter.json")),
        sha256(&v2.join("prefilter.json"))
    );

    // The new version answers: the new URL is in, the old one out, an untouched one still in.
    let found = lookups(
        &v2,
        &[
            "changed7.example.net/other",
            "site7.example.com/path7",
            "site8.example.com/path8",
        ],
    );
    assert_eq!(
        found,
        [
            Some(NEURLFILTER_VALUE.to_vec()),
            None,
            Some(NEURLFILTER_VALUE.to_vec())
        ]
    );

    // Nothing changed since v2: everything is copied.
    let third = ok(&build(
        dir.path(),
        &after,
        "v3",
        &[
            "--previous",
            dir.path().join(NAME).join("v2").to_str().unwrap(),
        ],
    ));
    assert!(third.contains("0 of 8 shards rebuilt []"), "{third}");
    for i in 0..SHARDS {
        let db = format!("shard-{i}.pirdb");
        assert_eq!(
            sha256(&v2.join(&db)),
            sha256(&dir.path().join(NAME).join("v3").join(&db))
        );
    }
}

#[test]
fn previous_without_a_build_record_is_a_build_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(NAME).join("old")).unwrap();
    let output = build(
        dir.path(),
        "example.com\n",
        "v1",
        &["--previous", dir.path().to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("build.json"), "{stderr}");
    // --previous keeps the previous layout: layout flags are refused, not ignored.
    let output = build(
        dir.path(),
        "example.com\n",
        "v2",
        &["--previous", "x", "--entries-per-shard", "3"],
    );
    assert_eq!(output.status.code(), Some(2));
}
