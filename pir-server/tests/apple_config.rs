//! `/config` and `/key` against Apple's transcripts (pir-protocol.md §1.4, §1.5): the recorded
//! request gets Apple's response byte for byte, with and without the cached config id, for modern,
//! old and unknown platforms; after `/key`, `/config` carries the key's timestamp exactly as Apple's
//! running service answered.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use axum::body::Body;
use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn config_is_apples_byte_for_byte_for_every_platform() {
    let dir = tempfile::tempdir().unwrap();
    let router = service(state(dir.path()));
    for ua in [
        UA_MODERN,
        "com.apple.ciphermld/1.0 iOS/18.0 (iPhone)",
        "Mozilla/5.0",
    ] {
        let request = post_with("/config", &[("User-Agent", Some(ua))])
            .body(Body::from(api("config-request.binpb")))
            .unwrap();
        let (status, body) = call(&router, request).await;
        assert_eq!(status, StatusCode::OK, "{ua}");
        assert_eq!(body, api("config-response.binpb"), "{ua}");
    }
}

#[tokio::test]
async fn cached_config_id_gets_apples_reuse_response() {
    let dir = tempfile::tempdir().unwrap();
    let router = service(state(dir.path()));
    // The transcript's reuse answer was recorded after the key upload (it carries its timestamp).
    let (status, _) = call(&router, device_post("/key", api("evaluation-keys.binpb"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &router,
        device_post("/config", api("config-request.reuse.binpb")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, api("config-response.reuse.binpb"));
    // Apple's running service gave the same bytes.
    assert_eq!(
        body,
        read(service_vectors().join("responses/config.reuse.binpb"))
    );
}

#[tokio::test]
async fn key_upload_shows_in_config_as_apple_answers() {
    let dir = tempfile::tempdir().unwrap();
    let router = service(state(dir.path()));
    let (status, body) = call(&router, device_post("/key", api("evaluation-keys.binpb"))).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    let (status, body) = call(&router, device_post("/config", api("config-request.binpb"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        read(service_vectors().join("responses/config.after-key.binpb"))
    );
    // Another user has no key: timestamp 0, i.e. the plain response.
    let request = post_with("/config", &[("User-Identifier", Some("someone-else"))])
        .body(Body::from(api("config-request.binpb")))
        .unwrap();
    assert_eq!(call(&router, request).await.1, api("config-response.binpb"));
}

#[tokio::test]
async fn keys_uploaded_before_a_restart_are_there_after() {
    let dir = tempfile::tempdir().unwrap();
    {
        let router = service(state(dir.path()));
        let (status, _) = call(&router, device_post("/key", api("evaluation-keys.binpb"))).await;
        assert_eq!(status, StatusCode::OK);
    }
    // A new process: a new state on the same key-store file.
    let router = service(state(dir.path()));
    let (_, body) = call(&router, device_post("/config", api("config-request.binpb"))).await;
    assert_eq!(
        body,
        read(service_vectors().join("responses/config.after-key.binpb"))
    );
}

#[tokio::test]
async fn gzip_only_above_apples_threshold() {
    let dir = tempfile::tempdir().unwrap();
    // The 224-byte response stays uncompressed, as Apple's service sends it.
    let router = service(state(dir.path()));
    let request = post("/config")
        .header("Accept-Encoding", "gzip")
        .body(Body::from(api("config-request.binpb")))
        .unwrap();
    let (_, response) = send(&router, request).await;
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(body(response).await, api("config-response.binpb"));

    // Eight use cases in one empty request: well above 1 KiB, so gzip'ed, and it inflates to
    // the same bytes as the uncompressed answer.
    let sources = (0..8)
        .map(|i| apple_source(&format!("app{i}.url.filtering"), transcript()))
        .collect();
    let state = pir_server::AppState::new(
        sources,
        embedded_keys(&dir.path().join("many")),
        pir_server::compute_pool::ComputePool::new(1, 1, 1),
    )
    .unwrap();
    let router = service(state);
    let plain = call(&router, device_post("/config", Vec::new())).await.1;
    assert!(plain.len() > 1024, "{}", plain.len());
    let request = post("/config")
        .header("Accept-Encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let (_, response) = send(&router, request).await;
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = body(response).await;
    assert!(compressed.len() < plain.len());
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(compressed.as_slice()),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain);
}
