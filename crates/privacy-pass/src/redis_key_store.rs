//! The shared issuer key store on Redis/Valkey for several replicas (spec §5.6, §6.3): one hash
//! key holding the [`KeySet`] document (`doc`) and its version (`version`); compare-and-swap is a
//! Lua script, which Redis runs atomically. The document holds private keys: use a private,
//! authenticated Redis.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::{Error, KeySet, KeyStore, Result};

/// Writes `ARGV[2]`/`ARGV[3]` as the new version/doc only if the stored version is `ARGV[1]`
/// (a missing key counts as version 0).
const CAS_SCRIPT: &str = r"
local v = redis.call('HGET', KEYS[1], 'version')
if (v or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'doc', ARGV[3])
return 1
";

/// How long one Redis command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Issuer keys in one Redis hash.
#[derive(Clone)]
pub struct RedisKeyStore {
    conn: MultiplexedConnection,
    key: String,
    cas: redis::Script,
}

impl RedisKeyStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`); the key set lives at `key`.
    pub async fn connect(url: &str, key: &str) -> Result<RedisKeyStore> {
        let client = redis::Client::open(url).map_err(store_err)?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(store_err)?;
        // Key-set operations are rare (start-up, rotation) and may follow seconds of RSA key
        // generation on a busy host; the client's 500 ms default would fail them spuriously.
        conn.set_response_timeout(RESPONSE_TIMEOUT);
        Ok(RedisKeyStore {
            conn,
            key: key.to_owned(),
            cas: redis::Script::new(CAS_SCRIPT),
        })
    }
}

fn store_err(e: redis::RedisError) -> Error {
    Error::Store(e.to_string())
}

impl KeyStore for RedisKeyStore {
    async fn load(&self) -> Result<KeySet> {
        let mut conn = self.conn.clone();
        let doc: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(&self.key)
            .arg("doc")
            .query_async(&mut conn)
            .await
            .map_err(store_err)?;
        match doc {
            None => Ok(KeySet::default()),
            Some(bytes) => KeySet::decode(&bytes),
        }
    }

    async fn compare_and_swap(&self, set: &KeySet) -> Result<bool> {
        let next = set.next_version()?;
        let doc = set.encode(next)?;
        let mut conn = self.conn.clone();
        let won: i64 = self
            .cas
            .key(&self.key)
            .arg(set.version())
            .arg(next)
            .arg(doc)
            .invoke_async(&mut conn)
            .await
            .map_err(store_err)?;
        Ok(won == 1)
    }
}
