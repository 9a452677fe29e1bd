//! The server configs shipped under deploy/ parse and validate with the schema this build reads, so a
//! schema change cannot silently break the compose and Kubernetes topologies (issue #10).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::Path;

use pir_server::server_config::ServerConfig;

#[test]
fn the_kubernetes_and_compose_server_toml_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/k8s/server.toml");
    let config =
        ServerConfig::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Every piece of shared state is in Valkey, so replicas are interchangeable.
    let valkey = Some("redis://valkey:6379/");
    assert_eq!(config.key_store.redis_url.as_deref(), valkey);
    assert_eq!(config.auth.nonce_redis_url.as_deref(), valkey);
    assert_eq!(config.issuer_keys.redis_url.as_deref(), valkey);
    assert!(config.auth.enabled);
    assert_eq!(config.sources().len(), 1);
}
