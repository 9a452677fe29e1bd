//! Reload on file change (issue #7; pir-protocol.md §1.10): with the watcher running, a new
//! version directory written by `pir-server build` (pir::process) is served without SIGHUP, and
//! the previous version stays served next to it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use pir::proto::api;
use pir_server::compute_pool::ComputePool;
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use prost::Message as _;

const BIN: &str = env!("CARGO_BIN_EXE_pir-server");
const NAME: &str = "com.example.app.url.filtering";

fn build(out: &std::path::Path, blocklist: &str, version: &str, extra: &[&str]) {
    let list = out.join(format!("blocklist-{version}.txt"));
    std::fs::write(&list, blocklist).unwrap();
    let output = Command::new(BIN)
        .args(["build", "--quiet", "--usecase", NAME, "--version", version])
        .args(extra)
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
}

async fn served_config_id(router: &axum::Router) -> Vec<u8> {
    let request = api::ConfigRequest {
        usecases: vec![NAME.into()],
        existing_config_ids: vec![],
    };
    let (status, bytes) = call(router, device_post("/config", request.encode_to_vec())).await;
    assert_eq!(status, StatusCode::OK);
    let response = api::ConfigResponse::decode(bytes.as_slice()).unwrap();
    response.configs[NAME].config_id.clone()
}

#[tokio::test]
async fn a_new_version_directory_is_served_without_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), "example.com\n", "v1", &[]);
    let source = UsecaseSource {
        name: NAME.into(),
        directory: dir.path().join(NAME),
        layout: Layout::Native,
        versions: 2,
    };
    let state = pir_server::AppState::new(
        vec![source],
        embedded_keys(&dir.path().join("keys")),
        ComputePool::new(1, 1, 1),
    )
    .unwrap();
    let router = service(state.clone());
    let first = served_config_id(&router).await;
    let watcher = tokio::spawn(pir_server::reload_watch::watch(
        state.clone(),
        Duration::from_millis(20),
    ));

    // Three shards instead of one: different parameters, a new config id.
    let urls: String = (0..300).map(|i| format!("blocked{i}.example\n")).collect();
    build(dir.path(), &urls, "v2", &["--entries-per-shard", "100"]);
    let mut served = first.clone();
    for _ in 0..500 {
        served = served_config_id(&router).await;
        if served != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watcher.abort();
    assert_ne!(served, first, "v2 was not picked up");
    // Both versions are served: v2 is newest, v1's config id is still known (not 410).
    let store = state.usecases.load();
    assert_eq!(store.version_count(NAME), 2);
    let (latest_id, latest) = store.latest(NAME).unwrap();
    assert_eq!(
        (latest_id.as_slice(), latest.shards.len()),
        (served.as_slice(), 3)
    );
    assert_eq!(latest.source, dir.path().join(NAME).join("v2"));
}
