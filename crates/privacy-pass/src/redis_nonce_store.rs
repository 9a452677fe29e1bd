//! Shared nonce store on Redis/Valkey for several replicas (spec §5.5): `SET key 1 NX EXAT t`,
//! keyed by `(token_key_id, nonce)` so a retired key's partition can be dropped by prefix.

use redis::aio::MultiplexedConnection;

use crate::{Error, NonceStore, Result, TokenKeyId};

/// Nonces in Redis; expiry uses the Redis server's clock.
#[derive(Clone)]
pub struct RedisNonceStore {
    conn: MultiplexedConnection,
    prefix: String,
}

impl RedisNonceStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`); keys start with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisNonceStore> {
        let client = redis::Client::open(url).map_err(store_err)?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(store_err)?;
        Ok(RedisNonceStore {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, key_id: &TokenKeyId, nonce: &[u8; 32]) -> String {
        format!(
            "{}:nonce:{}:{}",
            self.prefix,
            hex::encode(key_id.0),
            hex::encode(nonce)
        )
    }

    /// Seconds left before the pair expires (None if absent): lets tests see the TTL was set.
    pub async fn ttl(&self, key_id: &TokenKeyId, nonce: &[u8; 32]) -> Result<Option<i64>> {
        let mut conn = self.conn.clone();
        let ttl: i64 = redis::cmd("TTL")
            .arg(self.key(key_id, nonce))
            .query_async(&mut conn)
            .await
            .map_err(store_err)?;
        Ok((ttl >= 0).then_some(ttl))
    }
}

fn store_err(e: redis::RedisError) -> Error {
    Error::Store(e.to_string())
}

impl NonceStore for RedisNonceStore {
    async fn reserve(
        &self,
        key_id: &TokenKeyId,
        nonce: &[u8; 32],
        _now: u64,
        expires_at: u64,
    ) -> Result<bool> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key_id, nonce))
            .arg(1u8)
            .arg("NX")
            .arg("EXAT")
            // EXAT 0 is an error; an already-past time expires the key at once.
            .arg(expires_at.max(1))
            .query_async(&mut conn)
            .await
            .map_err(store_err)?;
        Ok(set.is_some())
    }
}
