//! Database processing speed (`pir::process::process`): synthetic keywords with 1-byte values,
//! `PIRProcessDatabase` defaults (`n_4096_logq_27_28_28_logt_5`, one shard, 2 hash functions,
//! allowExpansion(1.1, 0.9), maxSerializedBucketSize = bpp/2), from rows to the Eval-form
//! shards and the usecase config, as Apple's tool does before writing files (vectors/apple/
//! README.md: Apple needs 16.5 s for 1M URLs in one shard, 10.6 s in 20 shards on this machine
//! kind). Also a blocklist's canonicalization into rows, and the processed-file write and load
//! of the result.

#![allow(
    clippy::unwrap_used,
    reason = "bench setup: a failed unwrap aborts the bench"
)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pir::keyword_database::KeywordValuePair;
use pir::process::{NEURLFILTER_VALUE, Progress, process, rows_from_blocklist};
use pir::process_config::ProcessConfig;
use pir::processed_file::{shard_from_bytes, write};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rows(count: usize) -> Vec<KeywordValuePair> {
    (0..count)
        .map(|i| KeywordValuePair::new(format!("host{i}.example.org"), "1"))
        .collect()
}

fn config(sharding: &str) -> ProcessConfig {
    ProcessConfig::from_json(&format!(
        r#"{{"inputDatabase":"input.txtpb","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{sharding},
            "databaseType":"keyword"}}"#
    ))
    .unwrap()
}

fn no_progress(_: Progress) {}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("pir_process/n4096_logt5");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (id, count, sharding) in [
        ("1m", 1_000_000, r#"{"shardCount":1}"#),
        ("1m_20shards", 1_000_000, r#"{"entryCountPerShard":50000}"#),
    ] {
        let input = rows(count);
        let config = config(sharding);
        group.bench_function(id, |b| {
            b.iter_batched(
                || input.clone(),
                |rows| process(rows, &config, &mut StdRng::seed_from_u64(1), &no_progress).unwrap(),
                BatchSize::PerIteration,
            );
        });
    }

    // A 1M-line blocklist to rows through bloom-gen's canonicalization.
    let blocklist: String = (0..1_000_000)
        .map(|i| format!("https://www.host{i}.example.org/path/{i}?q=1\n"))
        .collect();
    group.bench_function("blocklist_rows/1m", |b| {
        b.iter(|| rows_from_blocklist(blocklist.as_bytes(), NEURLFILTER_VALUE));
    });
    group.finish();

    // The processed file of the 1M-row shard: writing it, and loading it (validation, checksum,
    // range check of every residue) from bytes as a memory map would hand them over.
    let db = process(
        rows(1_000_000),
        &config(r#"{"shardCount":1}"#),
        &mut StdRng::seed_from_u64(1),
        &no_progress,
    )
    .unwrap();
    let shard = &db.shards[0];
    let file = write(shard).unwrap();
    let mut group = c.benchmark_group("pir_processed_file/n4096_logt5");
    group.sample_size(10);
    group.bench_function("write/1m", |b| b.iter(|| write(shard).unwrap()));
    group.bench_function("load/1m", |b| {
        b.iter_batched(
            || file.clone(),
            |bytes| shard_from_bytes(bytes).unwrap(),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(process_benches, benches);
criterion_main!(process_benches);
