//! Start-up time (issue #7 operation): from a processed 1M-URL one-shard database on disk to a
//! state ready to serve (`AppState::new`: params read, shard file memory-mapped and checked, key
//! store and pool attached). Target ≤ 1 s. The database is built once in set-up
//! (`common::synthetic_usecase`), outside the measurement; the page cache is warm after the first
//! iteration, so this measures the load path, not the disk.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "bench set-up")]

mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pir_server::AppState;
use pir_server::compute_pool::ComputePool;
use pir_server::key_store::{EmbeddedKeyStore, KeyStore};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let source = common::synthetic_usecase(&dir.path().join("usecase"), 1_000_000);
    let keys = KeyStore::Embedded(
        EmbeddedKeyStore::open(&dir.path().join("k.redb"), Duration::from_secs(3600)).unwrap(),
    );
    let pool = ComputePool::new(1, 8, 1);
    let mut group = c.benchmark_group("pir_server");
    group.sample_size(10);
    group.bench_function("startup/1m", |b| {
        b.iter(|| {
            let state = AppState::new(vec![source.clone()], keys.clone(), pool.clone()).unwrap();
            assert!(state.is_ready());
            state
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
