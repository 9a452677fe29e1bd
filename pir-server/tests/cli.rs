//! The binary as a black box (DESIGN.md practice 12): `build` writes a version directory the
//! service loads and serves (config, prefilter with ETag/304), and `serve` fails with its
//! documented exit codes before binding anything.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use pir::proto::{api, api_pir};
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use prost::Message as _;

const BIN: &str = env!("CARGO_BIN_EXE_pir-server");
const NAME: &str = "com.example.app.url.filtering";

fn build(out: &std::path::Path, blocklist: &str, version: &str) -> String {
    let list = out.join(format!("blocklist-{version}.txt"));
    std::fs::write(&list, blocklist).unwrap();
    let output = Command::new(BIN)
        .args(["build", "--quiet", "--usecase", NAME, "--version", version])
        .arg("--urls")
        .arg(&list)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn build_then_serve_config_and_prefilter() {
    let dir = tempfile::tempdir().unwrap();
    let summary = build(
        dir.path(),
        "# blocked\nexample.com\nhttps://www.Example.org/ads\nexample10.com/resource?query=bugs\n",
        "v1",
    );
    assert!(summary.contains("shards        1"), "{summary}");
    assert!(summary.contains("evaluation key"), "{summary}");
    let version = dir.path().join(NAME).join("v1");
    for file in [
        "shard-0.pirdb",
        "shard-0.params.binpb",
        "pir-config.binpb",
        "prefilter.json",
    ] {
        assert!(version.join(file).is_file(), "{file}");
    }

    let source = UsecaseSource {
        name: NAME.into(),
        directory: dir.path().join(NAME),
        layout: Layout::Native,
        versions: 2,
    };
    let state = pir_server::AppState::new(
        vec![source],
        embedded_keys(&dir.path().join("keys")),
        pir_server::compute_pool::ComputePool::new(1, 1, 1),
    )
    .unwrap();
    let router = service(state.clone());

    // /config serves the PIRConfig the build wrote, under its SHA-256.
    let request = api::ConfigRequest {
        usecases: vec![NAME.into()],
        existing_config_ids: vec![],
    };
    let (status, bytes) = call(&router, device_post("/config", request.encode_to_vec())).await;
    assert_eq!(status, StatusCode::OK);
    let response = api::ConfigResponse::decode(bytes.as_slice()).unwrap();
    let config = &response.configs[NAME];
    let written =
        api_pir::PirConfig::decode(read(version.join("pir-config.binpb")).as_slice()).unwrap();
    assert_eq!(
        config.config,
        Some(api::config::Config::PirConfig(written.clone()))
    );
    assert_eq!(
        config.config_id,
        pir::canonical::config_id(&written).to_vec()
    );

    // The prefilter holds the blocklist's canonical entries; ETag is its tag; 304 on a match.
    let get = |uri: &str, etag: Option<&str>| {
        let mut b = Request::get(uri);
        if let Some(etag) = etag {
            b = b.header("If-None-Match", etag);
        }
        b.body(Body::empty()).unwrap()
    };
    let (status, response) = send(&router, get("/prefilter", None)).await;
    assert_eq!(status, StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let json = body(response).await;
    assert_eq!(json, read(version.join("prefilter.json")));
    let parsed = bloom_gen::format::parse(&json).unwrap();
    assert_eq!(etag, format!("\"{}\"", parsed.filter.tag_hex()));
    assert!(parsed.filter.contains(b"example.com"));
    assert!(parsed.filter.contains(b"example10.com/resource?query=bugs"));
    let (status, raw) = call(&router, get("/prefilter?format=raw", None)).await;
    assert_eq!(
        (status, raw.as_slice()),
        (StatusCode::OK, parsed.filter.bitmap())
    );
    let (status, response) = send(&router, get("/prefilter", Some(&etag))).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(body(response).await.is_empty());
    let (status, _) = send(&router, get("/prefilter", Some("\"0000\""))).await;
    assert_eq!(status, StatusCode::OK);

    // A second build is a new version; reload serves it, keeps the first for old configs, and
    // the prefilter changes with it.
    build(dir.path(), "example.com\nexample.net\n", "v2");
    let admin = pir_server::admin_router(state.clone());
    let (status, _) = call(
        &admin,
        Request::post("/admin/reload").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state.usecases.load().version_count(NAME), 2);
    let (status, _) = send(&router, get("/prefilter", Some(&etag))).await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn serve_exit_codes_name_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let run = |config: &str| {
        let path = dir.path().join("server.toml");
        std::fs::write(&path, config).unwrap();
        Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&path)
            .output()
            .unwrap()
    };
    // Invalid config: 3, before anything is loaded or bound.
    let out = run("[listen]\nservice = \"not an address\"\n");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = run("");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // A use case whose directory holds nothing: 4.
    let missing = dir.path().join("nothing-here");
    let keys = dir.path().join("keys.redb");
    let out = run(&format!(
        "[key_store]\npath = {keys:?}\n[auth]\nenabled = false\n[[usecase]]\nname = \"a\"\ndirectory = {missing:?}\n"
    ));
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing-here"));
}
