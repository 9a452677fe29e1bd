//! The embedded persistent nonce store (RFC 9577 §2.2.2; spec §5.5) for single-node deployments:
//! spent `(token_key_id, nonce)` pairs in one redb file, so a restart does not reopen them for a
//! second spend. A writer thread owns the write path and commits group-wise: the reserves that
//! queue while one durable commit (an fsync) runs are answered together by the next, each only
//! after it is on disk. Every commit also drops a few expired pairs per reserve, so the file stops
//! growing once the rate of new pairs and of expiring ones meet.

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use redb::{
    ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _, TableDefinition,
};
use tokio::sync::oneshot;

use crate::{Error, NonceStore, Result, TokenKeyId};

/// `token_key_id ‖ nonce` → expiry (UNIX seconds).
const NONCES: TableDefinition<&[u8], u64> = TableDefinition::new("nonces");
/// `(expiry, token_key_id ‖ nonce)`: the pairs in expiry order, for purging.
const BY_EXPIRY: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("nonces_by_expiry");
/// Expired pairs dropped per reserve.
const PURGE_PER_RESERVE: usize = 16;
/// Most reserves answered by one commit.
const MAX_BATCH: usize = 256;

/// One queued reserve.
struct Reserve {
    pair: [u8; 64],
    now: u64,
    expires_at: u64,
    reply: oneshot::Sender<Result<bool>>,
}

/// Nonces in a local redb file; one process at a time (redb locks the file). Clones share the
/// database and its writer thread, which stops when the last clone is dropped.
#[derive(Clone)]
pub struct FileNonceStore {
    shared: Arc<Shared>,
}

struct Shared {
    db: Arc<redb::Database>,
    queue: Mutex<Option<mpsc::Sender<Reserve>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the queue stops the writer; joining it releases the database file, so the
        // store can be reopened at once.
        if let Ok(mut q) = self.queue.lock() {
            q.take();
        }
        if let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = handle.join();
        }
    }
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
    /// Opens the database at `path`, creating it if absent, and starts its writer thread.
    pub fn open(path: &Path) -> Result<FileNonceStore> {
        let db = redb::Database::create(path).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(NONCES).map_err(db_err)?;
        txn.open_table(BY_EXPIRY).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        let db = Arc::new(db);
        let (tx, rx) = mpsc::channel();
        let writer_db = Arc::clone(&db);
        let writer = std::thread::Builder::new()
            .name("nonce-store-writer".into())
            .spawn(move || write_loop(&writer_db, &rx))
            .map_err(|e| Error::Store(format!("nonce store writer thread: {e}")))?;
        Ok(FileNonceStore {
            shared: Arc::new(Shared {
                db,
                queue: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer)),
            }),
        })
    }

    /// Number of pairs held (expired ones included until purged).
    pub fn count(&self) -> Result<usize> {
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        let n = txn
            .open_table(NONCES)
            .map_err(db_err)?
            .len()
            .map_err(db_err)?;
        usize::try_from(n).map_err(|_| Error::Store("nonce count overflows usize".into()))
    }

    /// Drops up to `limit` pairs expired at `now`; returns how many were dropped.
    pub fn purge_expired(&self, now: u64, limit: usize) -> Result<usize> {
        let txn = self.shared.db.begin_write().map_err(db_err)?;
        let n = purge(&txn, now, limit)?;
        txn.commit().map_err(db_err)?;
        Ok(n)
    }
}

/// The writer thread: takes the first queued reserve, then whatever else is queued (up to
/// [`MAX_BATCH`]), decides them in order in one transaction, commits, answers. Ends when the
/// queue closes.
fn write_loop(db: &redb::Database, queue: &mpsc::Receiver<Reserve>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        match commit_batch(db, &batch) {
            Ok(answers) => {
                for (r, won) in batch.into_iter().zip(answers) {
                    let _ = r.reply.send(Ok(won));
                }
            }
            Err(e) => {
                for r in batch {
                    let _ = r.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Decides each reserve in order (a pair twice in one batch: the first wins) and commits
/// durably; nothing is answered unless the commit succeeded.
fn commit_batch(db: &redb::Database, batch: &[Reserve]) -> Result<Vec<bool>> {
    let txn = db.begin_write().map_err(db_err)?;
    let mut answers = Vec::with_capacity(batch.len());
    {
        let mut nonces = txn.open_table(NONCES).map_err(db_err)?;
        let mut by_expiry = txn.open_table(BY_EXPIRY).map_err(db_err)?;
        for r in batch {
            let key = r.pair.as_slice();
            let old = nonces.get(key).map_err(db_err)?.map(|v| v.value());
            let won = match old {
                Some(exp) if exp > r.now => false,
                Some(exp) => {
                    by_expiry.remove((exp, key)).map_err(db_err)?;
                    true
                }
                None => true,
            };
            if won {
                nonces.insert(key, r.expires_at).map_err(db_err)?;
                by_expiry.insert((r.expires_at, key), ()).map_err(db_err)?;
            }
            answers.push(won);
        }
    }
    let now = batch.iter().map(|r| r.now).max().unwrap_or(0);
    purge(&txn, now, PURGE_PER_RESERVE.saturating_mul(batch.len()))?;
    txn.commit().map_err(db_err)?;
    Ok(answers)
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
        let (reply, answer) = oneshot::channel();
        let request = Reserve {
            pair: pair(key_id, nonce),
            now,
            expires_at,
            reply,
        };
        let closed = || Error::Store("nonce store writer stopped".into());
        self.shared
            .queue
            .lock()
            .map_err(|_| closed())?
            .as_ref()
            .ok_or_else(closed)?
            .send(request)
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}
