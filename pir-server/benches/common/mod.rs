//! Shared bench set-up: a synthetic one-shard use case on disk in the native layout (what
//! `pir-server build` writes), processed by `pir::process` from Apple's bench inputs
//! (vectors/apple/README.md: `host<i>.example.org` keywords, 1-byte values, `PIRProcessDatabase`
//! defaults on `n_4096_logq_27_28_28_logt_5`), as crates/pir/benches/response.rs builds them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench set-up: a failed unwrap aborts the bench"
)]

use std::path::Path;

use pir::keyword_database::KeywordValuePair;
use pir::process::{Progress, process};
use pir::process_config::ProcessConfig;
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use prost::Message as _;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

pub const USECASE: &str = "com.example.bench.url.filtering";

fn no_progress(_: Progress) {}

/// Processes `rows` synthetic keywords into one shard and writes it as a version directory
/// under `dir`; returns the source serving it.
pub fn synthetic_usecase(dir: &Path, rows: usize) -> UsecaseSource {
    let input = (0..rows)
        .map(|i| KeywordValuePair::new(format!("host{i}.example.org"), "1"))
        .collect();
    let config = ProcessConfig::from_json(
        r#"{"inputDatabase":"input.txtpb","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{"shardCount":1},
            "databaseType":"keyword"}"#,
    )
    .unwrap();
    let db = process(input, &config, &mut StdRng::seed_from_u64(1), &no_progress).unwrap();
    let version = dir.join("v1");
    std::fs::create_dir_all(&version).unwrap();
    for (i, shard) in db.shards.iter().enumerate() {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(version.join(format!("shard-{i}.pirdb"))).unwrap(),
        );
        pir::processed_file::write_to(shard, &mut file).unwrap();
        drop(file.into_inner().unwrap());
        std::fs::write(
            version.join(format!("shard-{i}.params.binpb")),
            shard.parameters().encode_to_vec(),
        )
        .unwrap();
    }
    std::fs::write(
        version.join("pir-config.binpb"),
        db.usecase.pir_config.encode_to_vec(),
    )
    .unwrap();
    UsecaseSource {
        name: USECASE.into(),
        directory: dir.to_owned(),
        layout: Layout::Native,
        versions: 2,
    }
}
