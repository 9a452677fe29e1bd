//! End-to-end request latency through the router (extractors, key store, compute pool, PIR
//! computation, encoding), on Apple's 1,011-URL one-shard transcript: `/config` and the recorded
//! `/queries` body (4 keywords). `queries/n4096_logt5/{100k,1m}_1shard/1_keyword`: one keyword
//! on Apple's synthetic bench inputs (`common::synthetic_usecase`), with the key uploaded and the
//! query built from what `/config` answered, as a device does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "bench set-up"
)]

mod common;

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use he::rng::NistAes128Ctr;
use pir::client::{KeywordPirClient, SecretKey};
use pir::evaluation_key::EvaluationKeyConfig;
use pir::proto::{api, api_shared};
use pir_server::compute_pool::ComputePool;
use pir_server::key_store::{EmbeddedKeyStore, KeyStore};
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use pir_server::{AppState, Role};
use prost::Message as _;
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

/// Uploads a fresh key and returns the `/queries` body for one keyword, built from `/config`.
async fn one_keyword_body(router: &axum::Router) -> Vec<u8> {
    let config_request = api::ConfigRequest {
        usecases: vec![common::USECASE.into()],
        existing_config_ids: vec![],
    };
    let r = router
        .clone()
        .oneshot(request("/config", config_request.encode_to_vec()))
        .await
        .unwrap();
    assert!(r.status().is_success());
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 24).await.unwrap();
    let response = api::ConfigResponse::decode(bytes).unwrap();
    let config = &response.configs[common::USECASE];
    let Some(api::config::Config::PirConfig(pir_config)) = &config.config else {
        panic!("no PIR config");
    };
    let secret = SecretKey::generate(
        pir_config.encryption_parameters.as_ref().unwrap(),
        &mut NistAes128Ctr::new(&[1; 32]),
    )
    .unwrap();
    let key_config =
        EvaluationKeyConfig::from_proto(response.key_info[0].key_config.as_ref().unwrap());
    let evaluation_key = secret
        .evaluation_key(&key_config, &mut NistAes128Ctr::new(&[2; 32]))
        .unwrap();
    let metadata = api_shared::EvaluationKeyMetadata {
        timestamp: 1_700_000_000,
        identifier: pir_config.evaluation_key_config_hash.clone(),
    };
    let upload = api_shared::EvaluationKeys {
        keys: vec![api_shared::EvaluationKey {
            metadata: Some(metadata.clone()),
            evaluation_key: Some(evaluation_key),
        }],
    };
    let r = router
        .clone()
        .oneshot(request("/key", upload.encode_to_vec()))
        .await
        .unwrap();
    assert!(r.status().is_success());
    let client = KeywordPirClient::from_pir_config(pir_config, secret).unwrap();
    let query = client
        .query(b"host7.example.org", &mut NistAes128Ctr::new(&[3; 32]))
        .unwrap();
    api::Requests {
        requests: vec![api::Request {
            usecase: common::USECASE.into(),
            request: Some(api::request::Request::PirRequest(
                query.to_pir_request(metadata, &config.config_id).unwrap(),
            )),
        }],
    }
    .encode_to_vec()
}

fn bench_synthetic(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (name, rows) in [("100k_1shard", 100_000), ("1m_1shard", 1_000_000)] {
        let dir = tempfile::tempdir().unwrap();
        let source = common::synthetic_usecase(&dir.path().join("usecase"), rows);
        let keys = KeyStore::Embedded(
            EmbeddedKeyStore::open(&dir.path().join("k.redb"), Duration::from_secs(3600)).unwrap(),
        );
        let state = AppState::new(vec![source], keys, ComputePool::new(1, 8, 1)).unwrap();
        let router = pir_server::router(state, Role::Service);
        let body = runtime.block_on(one_keyword_body(&router));
        let mut group = c.benchmark_group("pir_server");
        group.sample_size(10);
        group.bench_function(format!("queries/n4096_logt5/{name}/1_keyword"), |b| {
            b.to_async(&runtime).iter(|| {
                let router = router.clone();
                let body = body.clone();
                async move {
                    let r = router.oneshot(request("/queries", body)).await.unwrap();
                    assert!(r.status().is_success());
                    r
                }
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench, bench_synthetic);
criterion_main!(benches);
