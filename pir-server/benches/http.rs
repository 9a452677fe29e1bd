//! End-to-end request latency through the router (extractors, key store, compute pool, PIR
//! computation, encoding), on Apple's 1,011-URL one-shard transcript: `/config` and the recorded
//! `/queries` body (4 keywords).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "bench set-up")]

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use pir_server::compute_pool::ComputePool;
use pir_server::key_store::{EmbeddedKeyStore, KeyStore};
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use pir_server::{AppState, Role};
use tower::ServiceExt as _;

fn api(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vectors/apple/pir/url-1shard/api")
            .join(name),
    )
    .unwrap()
}

fn request(path: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header("User-Identifier", "00000000-0000-4000-8000-000000000001")
        .header("User-Agent", "com.apple.ciphermld/1.0 iOS/18.2")
        .body(Body::from(body))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let keys = KeyStore::Embedded(
        EmbeddedKeyStore::open(&dir.path().join("k.redb"), Duration::from_secs(3600)).unwrap(),
    );
    let source = UsecaseSource {
        name: "com.example.apple-samplecode.SimpleURLFilter.url.filtering".into(),
        directory: Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/apple/pir/url-1shard"),
        layout: Layout::Apple {
            file_stem: "url".into(),
        },
        versions: 2,
    };
    let state = AppState::new(vec![source], keys, ComputePool::new(1, 8, 1)).unwrap();
    let router = pir_server::router(state, Role::Service);
    let (config, key, queries) = (
        api("config-request.binpb"),
        api("evaluation-keys.binpb"),
        api("requests.A.binpb"),
    );
    runtime.block_on(async {
        let r = router.clone().oneshot(request("/key", key)).await.unwrap();
        assert!(r.status().is_success());
    });
    let mut group = c.benchmark_group("pir_server");
    group.sample_size(20);
    group.bench_function("config/n4096_logt5/1k_1shard", |b| {
        b.to_async(&runtime).iter(|| {
            let router = router.clone();
            let body = config.clone();
            async move { router.oneshot(request("/config", body)).await.unwrap() }
        });
    });
    group.bench_function("queries/n4096_logt5/1k_1shard/4_keywords/workers1", |b| {
        b.to_async(&runtime).iter(|| {
            let router = router.clone();
            let body = queries.clone();
            async move {
                let r = router.oneshot(request("/queries", body)).await.unwrap();
                assert!(r.status().is_success());
                r
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
