//! The embedded persistent nonce store (RFC 9577 §2.2.2; spec §5.5) for single-node deployments:
//! spent `(token_key_id, nonce)` pairs in one redb file, so a restart does not reopen them for a
//! second spend. Each reserve is one serialised write transaction committed durably before it
//! answers, and also drops a few expired pairs, so the file stops growing once the rate of new
//! pairs and of expiring ones meet.

use std::path::Path;
use std::sync::Arc;

use redb::{
    ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _, TableDefinition,
};

use crate::{Error, NonceStore, Result, TokenKeyId};

/// `token_key_id ‖ nonce` → expiry (UNIX seconds).
const NONCES: TableDefinition<&[u8], u64> = TableDefinition::new("nonces");
/// `(expiry, token_key_id ‖ nonce)`: the pairs in expiry order, for purging.
const BY_EXPIRY: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("nonces_by_expiry");
/// Expired pairs dropped by each reserve.
const PURGE_PER_RESERVE: usize = 16;

/// Nonces in a local redb file; one process at a time (redb locks the file).
#[derive(Clone)]
pub struct FileNonceStore {
    db: Arc<redb::Database>,
}

impl std::fmt::Debug for FileNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileNonceStore")
    }
}

fn db_err(e: impl Into<redb::Error>) -> Error {
    match e.into() {
        redb::Error::Corrupted(m) => Error::CorruptStore(format!("nonce database: {m}")),
        other => Error::Store(format!("nonce database: {other}")),
    }
}

fn pair(key_id: &TokenKeyId, nonce: &[u8; 32]) -> [u8; 64] {
    let mut p = [0u8; 64];
    let (id, n) = p.split_at_mut(32);
    id.copy_from_slice(&key_id.0);
    n.copy_from_slice(nonce);
    p
}

impl FileNonceStore {
    /// Opens the database at `path`, creating it if absent.
    pub fn open(path: &Path) -> Result<FileNonceStore> {
        let db = redb::Database::create(path).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(NONCES).map_err(db_err)?;
        txn.open_table(BY_EXPIRY).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(FileNonceStore { db: Arc::new(db) })
    }

    /// Number of pairs held (expired ones included until purged).
    pub fn count(&self) -> Result<usize> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let n = txn
            .open_table(NONCES)
            .map_err(db_err)?
            .len()
            .map_err(db_err)?;
        usize::try_from(n).map_err(|_| Error::Store("nonce count overflows usize".into()))
    }

    /// Drops up to `limit` pairs expired at `now`; returns how many were dropped.
    pub fn purge_expired(&self, now: u64, limit: usize) -> Result<usize> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let n = purge(&txn, now, limit)?;
        txn.commit().map_err(db_err)?;
        Ok(n)
    }

    fn reserve_blocking(&self, pair: [u8; 64], now: u64, expires_at: u64) -> Result<bool> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut nonces = txn.open_table(NONCES).map_err(db_err)?;
            let old = nonces
                .get(pair.as_slice())
                .map_err(db_err)?
                .map(|v| v.value());
            match old {
                Some(exp) if exp > now => return Ok(false),
                Some(exp) => {
                    txn.open_table(BY_EXPIRY)
                        .map_err(db_err)?
                        .remove((exp, pair.as_slice()))
                        .map_err(db_err)?;
                }
                None => {}
            }
            nonces.insert(pair.as_slice(), expires_at).map_err(db_err)?;
            txn.open_table(BY_EXPIRY)
                .map_err(db_err)?
                .insert((expires_at, pair.as_slice()), ())
                .map_err(db_err)?;
        }
        purge(&txn, now, PURGE_PER_RESERVE)?;
        txn.commit().map_err(db_err)?;
        Ok(true)
    }
}

/// Drops up to `limit` of the earliest-expiring pairs whose expiry is at or before `now`.
fn purge(txn: &redb::WriteTransaction, now: u64, limit: usize) -> Result<usize> {
    let mut by_expiry = txn.open_table(BY_EXPIRY).map_err(db_err)?;
    let mut nonces = txn.open_table(NONCES).map_err(db_err)?;
    let mut expired = Vec::new();
    for entry in by_expiry
        .range::<(u64, &[u8])>(..)
        .map_err(db_err)?
        .take(limit)
    {
        let (key, _) = entry.map_err(db_err)?;
        let (exp, pair) = key.value();
        if exp > now {
            break;
        }
        expired.push((exp, pair.to_vec()));
    }
    for (exp, pair) in &expired {
        by_expiry.remove((*exp, pair.as_slice())).map_err(db_err)?;
        nonces.remove(pair.as_slice()).map_err(db_err)?;
    }
    Ok(expired.len())
}

impl NonceStore for FileNonceStore {
    async fn reserve(
        &self,
        key_id: &TokenKeyId,
        nonce: &[u8; 32],
        now: u64,
        expires_at: u64,
    ) -> Result<bool> {
        let store = self.clone();
        let pair = pair(key_id, nonce);
        // A durable commit waits for fsync: off the async workers.
        tokio::task::spawn_blocking(move || store.reserve_blocking(pair, now, expires_at))
            .await
            .map_err(|e| Error::Store(format!("nonce store worker: {e}")))?
    }
}
