//! Migration from Apple's example service (issue #7): a `service-config.json` pointing at the files
//! `PIRProcessDatabase` wrote is served as Apple serves it (`/config` byte for byte, pir-protocol.md
//! §1.4), and `serve --apple-service-config` refuses a bad file with exit code 3.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use std::process::Command;

use axum::http::StatusCode;
use common::*;
use pir_server::AppState;
use pir_server::apple_service_config::AppleServiceConfig;
use pir_server::compute_pool::ComputePool;
use pir_server::server_config::ServerConfig;

const BIN: &str = env!("CARGO_BIN_EXE_pir-server");

fn write_service_config(dir: &std::path::Path, shard_count: usize) -> std::path::PathBuf {
    let json = serde_json::json!({
        "users": [{"tier": "tier1", "tokens": ["AAAA"]}],
        "usecases": [{
            "name": USECASE,
            "fileStem": transcript().join("url"),
            "shardCount": shard_count,
        }],
        "reportDirectory": dir.join("reports"),
    });
    let path = dir.join("service-config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn apples_service_config_serves_apples_config_response() {
    let dir = tempfile::tempdir().unwrap();
    let apple = AppleServiceConfig::from_file(&write_service_config(dir.path(), 1)).unwrap();
    let mut config: ServerConfig = toml::from_str("").unwrap();
    config.usecases = apple.usecase_entries().unwrap();
    config.validate().unwrap();
    assert_eq!(apple.report_directory, Some(dir.path().join("reports")));

    let state = AppState::new(
        config.sources(),
        embedded_keys(&dir.path().join("keys")),
        ComputePool::new(1, 4, 1),
    )
    .unwrap();
    let (status, body) = call(
        &service(state),
        device_post("/config", api("config-request.binpb")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, api("config-response.binpb"));
}

#[test]
fn wrong_shard_count_is_refused_naming_the_usecase() {
    let dir = tempfile::tempdir().unwrap();
    for count in [0, 2] {
        let apple =
            AppleServiceConfig::from_file(&write_service_config(dir.path(), count)).unwrap();
        let err = apple.usecase_entries().unwrap_err().to_string();
        assert!(err.contains(USECASE) && err.contains("shardCount"), "{err}");
    }
}

#[test]
fn serve_exits_3_on_a_bad_apple_service_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, "{\"usecases\": [ {\"name\": \"x\"").unwrap();
    let missing_key = dir.path().join("no-usecases.json");
    std::fs::write(&missing_key, "{\"users\": []}").unwrap();
    let two_shards = write_service_config(dir.path(), 2);
    for path in [bad_json, missing_key, two_shards] {
        let output = Command::new(BIN)
            .arg("serve")
            .arg("--apple-service-config")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{}: {stderr}",
            path.display()
        );
        assert!(stderr.contains(&*path.to_string_lossy()), "{stderr}");
    }
}
