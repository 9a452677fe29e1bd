//! The evaluation-key store (pir-protocol.md §1.5): `/key` writes a device's evaluation key,
//! `/queries` reads it, `/config` reports its timestamp.
//!
//! Apple's example keeps keys in memory, so every restart makes every device fail its next query.
//! Here keys survive restarts (embedded: one redb file) and are shared between replicas (Redis), and
//! both expire after a TTL: a device whose key expired sees timestamp 0 in `/config` and re-uploads.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use redb::{ReadableDatabase as _, ReadableTableMetadata as _, TableDefinition};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A stored evaluation key: the whole `EvaluationKey` message as uploaded, and its metadata
/// timestamp (kept beside it so `/config` need not decode megabytes to answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub timestamp: u64,
    pub message: Vec<u8>,
}

/// What can go wrong talking to a key store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    #[error("embedded key store: {0}")]
    Embedded(#[from] redb::Error),
    #[error("redis key store: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored key record is corrupt ({len} bytes; at least {min} expected)")]
    Corrupt { len: usize, min: usize },
    #[error("key store worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

/// The name a key is stored under: `<User-Identifier>/<base64(identifier)>`, as Apple's service
/// forms it, so `/config` and `/queries` find what `/key` wrote.
pub fn key_name(user_identifier: &str, key_identifier: &[u8]) -> String {
    format!("{user_identifier}/{}", STANDARD.encode(key_identifier))
}

/// Seconds since the Unix epoch; a parameter so expiry can be tested without sleeping.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// A key store backend.
#[derive(Clone)]
pub enum KeyStore {
    Embedded(EmbeddedKeyStore),
    Redis(RedisKeyStore),
}

impl KeyStore {
    /// Stores (or replaces) the key under `name`.
    pub async fn put(&self, name: &str, key: &StoredKey) -> Result<(), KeyStoreError> {
        match self {
            KeyStore::Embedded(s) => s.put(name, key).await,
            KeyStore::Redis(s) => s.put(name, key).await,
        }
    }

    /// The key under `name`, unless absent or expired.
    pub async fn get(&self, name: &str) -> Result<Option<StoredKey>, KeyStoreError> {
        match self {
            KeyStore::Embedded(s) => s.get(name).await,
            KeyStore::Redis(s) => s.get(name).await,
        }
    }
}

const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("evaluation_keys");
/// Embedded record: expiry (u64 BE) || timestamp (u64 BE) || message.
const EMBEDDED_HEADER: usize = 16;

/// Keys in one redb file: durable across restarts, for a single replica.
#[derive(Clone)]
pub struct EmbeddedKeyStore {
    db: Arc<redb::Database>,
    ttl: Duration,
    clock: Clock,
}

impl EmbeddedKeyStore {
    /// Opens (or creates) the store at `path`; keys expire `ttl` after their upload.
    pub fn open(path: &Path, ttl: Duration) -> Result<Self, KeyStoreError> {
        Self::open_with_clock(path, ttl, system_clock())
    }

    /// As [`open`](Self::open), with the given clock.
    pub fn open_with_clock(
        path: &Path,
        ttl: Duration,
        clock: Clock,
    ) -> Result<Self, KeyStoreError> {
        let db = redb::Database::create(path).map_err(redb::Error::from)?;
        let txn = db.begin_write().map_err(redb::Error::from)?;
        txn.open_table(KEYS).map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(Self {
            db: Arc::new(db),
            ttl,
            clock,
        })
    }

    async fn put(&self, name: &str, key: &StoredKey) -> Result<(), KeyStoreError> {
        let expires = (self.clock)().saturating_add(self.ttl.as_secs());
        let mut record = Vec::with_capacity(EMBEDDED_HEADER + key.message.len());
        record.extend_from_slice(&expires.to_be_bytes());
        record.extend_from_slice(&key.timestamp.to_be_bytes());
        record.extend_from_slice(&key.message);
        let db = Arc::clone(&self.db);
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || -> Result<(), KeyStoreError> {
            let txn = db.begin_write().map_err(redb::Error::from)?;
            {
                let mut table = txn.open_table(KEYS).map_err(redb::Error::from)?;
                table
                    .insert(name.as_str(), record.as_slice())
                    .map_err(redb::Error::from)?;
            }
            txn.commit().map_err(redb::Error::from)?;
            Ok(())
        })
        .await?
    }

    async fn get(&self, name: &str) -> Result<Option<StoredKey>, KeyStoreError> {
        let db = Arc::clone(&self.db);
        let name = name.to_owned();
        let now = (self.clock)();
        tokio::task::spawn_blocking(move || -> Result<Option<StoredKey>, KeyStoreError> {
            let txn = db.begin_read().map_err(redb::Error::from)?;
            let table = txn.open_table(KEYS).map_err(redb::Error::from)?;
            let Some(guard) = table.get(name.as_str()).map_err(redb::Error::from)? else {
                return Ok(None);
            };
            let record = guard.value();
            let (expires, key) = decode_embedded(record)?;
            Ok((expires > now).then_some(key))
        })
        .await?
    }

    /// Removes expired keys; returns how many. The server calls this periodically so the file does
    /// not grow with devices that never come back.
    pub async fn purge_expired(&self) -> Result<usize, KeyStoreError> {
        let db = Arc::clone(&self.db);
        let now = (self.clock)();
        tokio::task::spawn_blocking(move || -> Result<usize, KeyStoreError> {
            let txn = db.begin_write().map_err(redb::Error::from)?;
            let removed = {
                let mut table = txn.open_table(KEYS).map_err(redb::Error::from)?;
                let before = table.len().map_err(redb::Error::from)?;
                // A corrupt record is purged too: nothing could ever read it.
                table
                    .retain(|_, record| decode_embedded(record).is_ok_and(|(exp, _)| exp > now))
                    .map_err(redb::Error::from)?;
                before - table.len().map_err(redb::Error::from)?
            };
            txn.commit().map_err(redb::Error::from)?;
            Ok(usize::try_from(removed).unwrap_or(usize::MAX))
        })
        .await?
    }
}

fn decode_embedded(record: &[u8]) -> Result<(u64, StoredKey), KeyStoreError> {
    let corrupt = || KeyStoreError::Corrupt {
        len: record.len(),
        min: EMBEDDED_HEADER,
    };
    let (expires, rest) = record.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let (timestamp, message) = rest.split_first_chunk::<8>().ok_or_else(corrupt)?;
    Ok((
        u64::from_be_bytes(*expires),
        StoredKey {
            timestamp: u64::from_be_bytes(*timestamp),
            message: message.to_vec(),
        },
    ))
}

/// Keys in Redis/Valkey, shared by every replica; Redis enforces the TTL.
#[derive(Clone)]
pub struct RedisKeyStore {
    conn: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

impl RedisKeyStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`); keys are stored under `prefix`.
    pub async fn connect(url: &str, prefix: &str, ttl: Duration) -> Result<Self, KeyStoreError> {
        let client = redis::Client::open(url)?;
        // Few, quick retries: a replica that cannot reach its store should say so at start-up, not
        // after a minute of back-off; later reconnects are the manager's job.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            ttl,
        })
    }

    async fn put(&self, name: &str, key: &StoredKey) -> Result<(), KeyStoreError> {
        let mut record = Vec::with_capacity(8 + key.message.len());
        record.extend_from_slice(&key.timestamp.to_be_bytes());
        record.extend_from_slice(&key.message);
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(format!("{}{name}", self.prefix))
            .arg(record)
            .arg("EX")
            .arg(self.ttl.as_secs().max(1))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn get(&self, name: &str) -> Result<Option<StoredKey>, KeyStoreError> {
        let mut conn = self.conn.clone();
        let record: Option<Vec<u8>> = redis::cmd("GET")
            .arg(format!("{}{name}", self.prefix))
            .query_async(&mut conn)
            .await?;
        let Some(record) = record else {
            return Ok(None);
        };
        let (timestamp, message) =
            record
                .split_first_chunk::<8>()
                .ok_or(KeyStoreError::Corrupt {
                    len: record.len(),
                    min: 8,
                })?;
        Ok(Some(StoredKey {
            timestamp: u64::from_be_bytes(*timestamp),
            message: message.to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_name_is_apples() {
        assert_eq!(
            key_name("00000000-0000-4000-8000-000000000001", &[0xfb, 0xff]),
            "00000000-0000-4000-8000-000000000001/+/8="
        );
    }

    #[test]
    fn short_records_are_corrupt_not_panics() {
        for len in 0..EMBEDDED_HEADER {
            assert!(matches!(
                decode_embedded(&vec![0; len]),
                Err(KeyStoreError::Corrupt { .. })
            ));
        }
        let (exp, key) =
            decode_embedded(&[0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 7, 42]).unwrap();
        assert_eq!((exp, key.timestamp, key.message), (9, 7, vec![42]));
    }
}
