//! The server's one TOML config file (`pir-server serve --config server.toml`; issue #7): use
//! cases, key store, Privacy Pass, compute pool, limits, listeners. Every field has a default
//! except the use cases; [`ServerConfig::validate`] checks the whole file before anything binds.
//! The operator reference is pir-server/README.md. `--role router` reads the same file: its
//! `[router]` section (replica groups and their shards) instead of `[[usecase]]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::usecase::Layout;
use crate::usecase_loader::UsecaseSource;
use crate::usecase_store::DEFAULT_VERSION_COUNT;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub listen: Listen,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub compute: Compute,
    #[serde(default)]
    pub key_store: KeyStoreConfig,
    #[serde(default)]
    pub auth: Auth,
    pub issuer: Option<IssuerConfig>,
    #[serde(default)]
    pub issuer_keys: IssuerKeysConfig,
    #[serde(default)]
    pub reports: Reports,
    #[serde(default)]
    pub reload: ReloadConfig,
    #[serde(default, rename = "usecase")]
    pub usecases: Vec<UsecaseConfigEntry>,
    /// `--role router` only.
    pub router: Option<RouterConfig>,
}

/// Listener addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listen {
    /// Device-facing PIR service (behind the OHTTP gateway).
    pub service: SocketAddr,
    /// Issuer listener for `--role issuer`; with `--role all` the issuer shares `service`.
    pub issuer: SocketAddr,
    /// Operators only: health, readiness, metrics, reload. Loopback by default.
    pub admin: SocketAddr,
    /// Seconds to let in-flight requests finish after SIGTERM/ctrl-c.
    pub drain_secs: u64,
}

impl Default for Listen {
    fn default() -> Self {
        Self {
            service: SocketAddr::from(([0, 0, 0, 0], 8080)),
            issuer: SocketAddr::from(([0, 0, 0, 0], 8081)),
            admin: SocketAddr::from(([127, 0, 0, 1], 9090)),
            drain_secs: 10,
        }
    }
}

/// Request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body (Apple's service: 10 MiB; some evaluation keys need more than 2 MiB).
    pub max_body_bytes: usize,
    /// Most `Request`s in one `/queries` body.
    pub max_requests_per_body: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = crate::state::Limits::default();
        Self {
            max_body_bytes: d.max_body_bytes,
            max_requests_per_body: d.max_requests_per_body,
        }
    }
}

/// The PIR compute pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Compute {
    /// Concurrent PIR computations; 0 = one per CPU core.
    pub workers: usize,
    /// `/queries` bodies allowed to wait for a worker; beyond that, 503.
    pub queue: usize,
    /// `Retry-After` seconds on a 503.
    pub retry_after_secs: u64,
}

impl Default for Compute {
    fn default() -> Self {
        Self {
            workers: 0,
            queue: 64,
            retry_after_secs: 1,
        }
    }
}

/// Where evaluation keys live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyStoreConfig {
    /// Embedded store file (redb), used when `redis_url` is not set.
    pub path: PathBuf,
    /// Redis/Valkey URL, for several replicas.
    pub redis_url: Option<String>,
    /// Key prefix in Redis.
    pub redis_prefix: String,
    /// Seconds a key lives after upload; devices re-upload when `/config` shows timestamp 0.
    pub ttl_secs: u64,
}

impl Default for KeyStoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/evaluation-keys.redb"),
            redis_url: None,
            redis_prefix: "pir:evaluation-key:".into(),
            ttl_secs: 30 * 24 * 3600,
        }
    }
}

/// Privacy Pass token checks on the PIR endpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// `false` only for local testing: every request is served without a token.
    pub enabled: bool,
    /// Spent-nonce store: unset = in memory (one replica); a Redis URL to share it.
    pub nonce_redis_url: Option<String>,
    /// Seconds a spent nonce is remembered; must cover a key's lifetime.
    pub nonce_ttl_secs: u64,
}

impl Default for Auth {
    fn default() -> Self {
        Self {
            enabled: true,
            nonce_redis_url: None,
            nonce_ttl_secs: 7 * 24 * 3600,
        }
    }
}

/// The Privacy Pass issuer (roles `issuer` and `all`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Published as `issuer-request-uri` (an absolute URL in production).
    #[serde(default = "default_request_uri")]
    pub request_uri: String,
    /// JSON `{"user-tokens":[{"sha256":"<hex>","tier":"tier1"}]}`.
    pub user_tokens: PathBuf,
    /// Tiers to issue for.
    #[serde(default = "default_tiers")]
    pub tiers: Vec<String>,
}

fn default_request_uri() -> String {
    "/issue".into()
}
fn default_tiers() -> Vec<String> {
    vec!["tier1".into()]
}

/// Where the issuer's key set lives; the service reads the same set to verify tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IssuerKeysConfig {
    /// Key-set file (mode 0600), used when `redis_url` is not set.
    pub file: PathBuf,
    /// Redis/Valkey URL, for several replicas.
    pub redis_url: Option<String>,
    /// The Redis key holding the set.
    pub redis_key: String,
}

impl Default for IssuerKeysConfig {
    fn default() -> Self {
        Self {
            file: PathBuf::from("data/issuer-keys.json"),
            redis_url: None,
            redis_key: "pir:issuer-keys".into(),
        }
    }
}

/// Where `/report` bodies go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reports {
    /// One `<random>.txtpb` per report; unset drops reports.
    pub directory: Option<PathBuf>,
}

/// `[reload]`: reload on file change, besides SIGHUP and `POST /admin/reload`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReloadConfig {
    /// Seconds between listings of the use-case directories; a new complete version directory
    /// is then loaded. 0 (the default) = off.
    pub watch_secs: u64,
}

/// The on-disk layout of a use case's versions.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LayoutName {
    /// `pir-server build` output.
    #[default]
    Native,
    /// Apple's `PIRProcessDatabase` output (`<stem>-<i>.bin` + params).
    Apple,
}

/// One `[[usecase]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsecaseConfigEntry {
    /// The use-case string devices send, e.g. `<app bundle id>.url.filtering`.
    pub name: String,
    /// A version directory, or a directory of version directories.
    pub directory: PathBuf,
    /// Versions kept (default 2): devices with the previous config keep working.
    #[serde(default = "default_versions")]
    pub versions: usize,
    #[serde(default)]
    pub layout: LayoutName,
    /// File stem of Apple's files (`url` for `url-0.bin`).
    #[serde(default = "default_stem")]
    pub file_stem: String,
}

/// `[router]`: the shard fan-out front of `--role router` (issue #10 "Beyond one node").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Milliseconds one attempt at a group may take (connect and whole answer); then the group's
    /// next replica is tried once.
    #[serde(default = "default_group_timeout_ms")]
    pub group_timeout_ms: u64,
    /// The groups share one evaluation-key store (Redis): `/key` goes to one group, not to all.
    #[serde(default)]
    pub shared_key_store: bool,
    /// HTTP/2 without TLS (prior knowledge) to the replicas; `false` = pooled HTTP/1.1.
    #[serde(default)]
    pub http2: bool,
    /// `Retry-After` seconds when a group is still down after its retry.
    #[serde(default = "default_router_retry_after")]
    pub retry_after_secs: u64,
    #[serde(rename = "group")]
    pub groups: Vec<GroupConfig>,
}

fn default_group_timeout_ms() -> u64 {
    10_000
}
fn default_router_retry_after() -> u64 {
    1
}

/// One `[[router.group]]`: replicas that each serve the same shards.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// For logs and errors.
    pub name: String,
    /// Base URLs, `http://host:port` (no path).
    pub replicas: Vec<String>,
    /// Use case → the shard indices this group answers, e.g. `"0-3,8"`.
    pub shards: BTreeMap<String, String>,
}

fn default_versions() -> usize {
    DEFAULT_VERSION_COUNT
}
fn default_stem() -> String {
    "url".into()
}

/// A config that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl ServerConfig {
    /// Reads and validates `path`.
    ///
    /// # Errors
    /// [`ConfigError`] for unreadable, malformed or inconsistent files.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let config = Self::read_file(path)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads `path` without [`validate`](Self::validate), for callers that add use cases first
    /// (`--apple-service-config`).
    ///
    /// # Errors
    /// [`ConfigError::Read`] / [`ConfigError::Parse`].
    pub fn read_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Checks what serde cannot: at least one use case, unique names, non-zero limits.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if let Some(router) = &self.router {
            crate::fanout::Topology::from_config(router)
                .map_err(|e| ConfigError::Invalid(format!("[router]: {e}")))?;
        } else if self.usecases.is_empty() {
            return bad("no [[usecase]] configured".into());
        }
        for (i, u) in self.usecases.iter().enumerate() {
            if u.name.is_empty() {
                return bad(format!("usecase #{i}: empty name"));
            }
            if u.versions == 0 {
                return bad(format!("usecase {}: versions must be ≥ 1", u.name));
            }
            if self.usecases[..i].iter().any(|o| o.name == u.name) {
                return bad(format!("usecase {} is configured twice", u.name));
            }
        }
        if self.limits.max_body_bytes == 0 || self.limits.max_requests_per_body == 0 {
            return bad("limits must be ≥ 1".into());
        }
        if self.key_store.ttl_secs == 0 {
            return bad("key_store.ttl_secs must be ≥ 1".into());
        }
        if let Some(issuer) = &self.issuer
            && issuer.tiers.is_empty()
        {
            return bad("issuer.tiers is empty".into());
        }
        Ok(())
    }

    /// The use cases as the loader takes them.
    pub fn sources(&self) -> Vec<UsecaseSource> {
        self.usecases
            .iter()
            .map(|u| UsecaseSource {
                name: u.name.clone(),
                directory: u.directory.clone(),
                layout: match u.layout {
                    LayoutName::Native => Layout::Native,
                    LayoutName::Apple => Layout::Apple {
                        file_stem: u.file_stem.clone(),
                    },
                },
                versions: u.versions,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file_gets_defaults_and_bad_files_are_refused() {
        let config: ServerConfig =
            toml::from_str("[[usecase]]\nname = \"app.url.filtering\"\ndirectory = \"data/app\"\n")
                .unwrap();
        config.validate().unwrap();
        assert_eq!(config.listen.admin.ip().to_string(), "127.0.0.1");
        assert_eq!(config.limits.max_body_bytes, 10 << 20);
        assert_eq!(config.usecases[0].versions, 2);
        assert!(config.auth.enabled);

        let empty: ServerConfig = toml::from_str("").unwrap();
        assert!(empty.validate().is_err());
        let twice: ServerConfig = toml::from_str(
            "[[usecase]]\nname = \"a\"\ndirectory = \"x\"\n[[usecase]]\nname = \"a\"\ndirectory = \"y\"\n",
        )
        .unwrap();
        assert!(twice.validate().is_err());
        assert!(toml::from_str::<ServerConfig>("[listen]\nservise = \"1.2.3.4:5\"\n").is_err());
    }
}
