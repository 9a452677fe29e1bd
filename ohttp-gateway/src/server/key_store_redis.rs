//! A [`KeyStore`] on Redis/Valkey shared by every replica (spec §1.8, §6.2): one hash holding the
//! key file's JSON (`doc`) and a version counter (`version`); compare-and-swap is a Lua script,
//! which Redis runs atomically. The seeds are secrets: use a private, authenticated Redis.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::key_store::{KeyStore, KeyStoreError, Revision, Snapshot};
use super::keyfile::KeyFile;
use crate::error::GatewayError;

/// Replaces the hash's `doc` and bumps `version` only if `version` is still `ARGV[1]` (a missing
/// key counts as version 0).
const CAS_SCRIPT: &str = r"
local v = redis.call('HGET', KEYS[1], 'version')
if (v or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', tostring(tonumber(ARGV[1]) + 1), 'doc', ARGV[2])
return 1
";

/// How long one command may take: start-up and rotation are rare, and must not fail on a
/// briefly busy host (the client's default is 500 ms).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Gateway keys in one Redis hash.
#[derive(Clone)]
pub struct RedisKeyStore {
    conn: MultiplexedConnection,
    key: String,
    cas: redis::Script,
}

impl std::fmt::Debug for RedisKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisKeyStore({})", self.key)
    }
}

impl RedisKeyStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`); the keys live in the hash `key`.
    pub async fn connect(url: &str, key: &str) -> Result<Self, KeyStoreError> {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        conn.set_response_timeout(RESPONSE_TIMEOUT);
        Ok(Self {
            conn,
            key: key.to_owned(),
            cas: redis::Script::new(CAS_SCRIPT),
        })
    }
}

impl KeyStore for RedisKeyStore {
    async fn load(&self) -> Result<Option<Snapshot>, KeyStoreError> {
        let mut conn = self.conn.clone();
        let (version, doc): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(&self.key)
            .arg("version")
            .arg("doc")
            .query_async(&mut conn)
            .await?;
        match (version, doc) {
            (None, None) => Ok(None),
            (Some(version), Some(doc)) => Ok(Some(Snapshot {
                keys: KeyFile::from_json(&doc)?,
                revision: Revision(version.into_bytes()),
            })),
            _ => Err(KeyStoreError::Invalid(GatewayError::Config(format!(
                "redis hash {} lacks its version or doc field",
                self.key
            )))),
        }
    }

    async fn compare_and_swap(
        &self,
        expected: Option<&Revision>,
        keys: &KeyFile,
    ) -> Result<bool, KeyStoreError> {
        let expected = expected.map_or_else(|| b"0".to_vec(), |r| r.0.clone());
        let doc = serde_json::to_string(keys)
            .map_err(|e| GatewayError::Internal(format!("key file encode: {e}")))?;
        let mut conn = self.conn.clone();
        let won: i64 = self
            .cas
            .key(&self.key)
            .arg(expected)
            .arg(doc)
            .invoke_async(&mut conn)
            .await?;
        Ok(won == 1)
    }
}
