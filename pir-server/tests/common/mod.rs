//! Shared set-up for the HTTP tests: Apple's one-shard transcript served from the repo's vectors,
//! an embedded key store in a temporary directory, and request helpers.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers; each test file uses part of them"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use pir_server::compute_pool::ComputePool;
use pir_server::key_store::{EmbeddedKeyStore, KeyStore};
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use pir_server::{AppState, Role};
use tower::ServiceExt as _;

pub const USECASE: &str = "com.example.apple-samplecode.SimpleURLFilter.url.filtering";
pub const USER: &str = "00000000-0000-4000-8000-000000000001";
pub const UA_MODERN: &str = "com.apple.ciphermld/1.0 iOS/18.2 (iPhone)";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn transcript() -> PathBuf {
    repo().join("vectors/apple/pir/url-1shard")
}

pub fn service_vectors() -> PathBuf {
    repo().join("vectors/apple/service/url-1shard")
}

pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn api(name: &str) -> Vec<u8> {
    read(transcript().join("api").join(name))
}

pub fn apple_source(name: &str, directory: PathBuf) -> UsecaseSource {
    UsecaseSource {
        name: name.to_owned(),
        directory,
        layout: Layout::Apple {
            file_stem: "url".into(),
        },
        versions: 2,
    }
}

pub fn embedded_keys(dir: &Path) -> KeyStore {
    std::fs::create_dir_all(dir).unwrap();
    KeyStore::Embedded(
        EmbeddedKeyStore::open(&dir.join("keys.redb"), Duration::from_secs(3600)).unwrap(),
    )
}

/// Apple's url-1shard use case, no auth, keys under `dir`.
pub fn state(dir: &Path) -> AppState {
    AppState::new(
        vec![apple_source(USECASE, transcript())],
        embedded_keys(dir),
        ComputePool::new(2, 8, 1),
    )
    .unwrap()
}

pub fn service(state: AppState) -> Router {
    pir_server::router(state, Role::All)
}

/// A POST with the device's usual headers, each replaced by the one in `headers` of the same
/// name (a `None` value drops it).
pub fn post_with(path: &str, headers: &[(&str, Option<&str>)]) -> axum::http::request::Builder {
    let defaults = [
        ("User-Identifier", USER),
        ("User-Agent", UA_MODERN),
        ("Content-Type", "application/octet-stream"),
    ];
    let mut builder = Request::post(path);
    for (name, value) in defaults {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            builder = builder.header(name, value);
        }
    }
    for (name, value) in headers {
        if let Some(value) = value {
            builder = builder.header(*name, *value);
        }
    }
    builder
}

/// A POST with the device's usual headers.
pub fn post(path: &str) -> axum::http::request::Builder {
    post_with(path, &[])
}

pub fn device_post(path: &str, body: Vec<u8>) -> Request<Body> {
    post(path).body(Body::from(body)).unwrap()
}

pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Response<Body>) {
    let response = router.clone().oneshot(request).await.unwrap();
    (response.status(), response)
}

pub async fn body(response: Response<Body>) -> Vec<u8> {
    axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap()
        .to_vec()
}

/// Status and body of one request.
pub async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let (status, response) = send(router, request).await;
    (status, body(response).await)
}
