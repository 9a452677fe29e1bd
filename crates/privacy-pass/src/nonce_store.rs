//! Single-use nonces (RFC 9577 §2.2.2, spec §5.5): the store trait with an atomic reserve, and
//! the embedded in-process implementation with TTL.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::{Error, Result, TokenKeyId};

/// Remembers redeemed `(token_key_id, nonce)` pairs until they expire.
pub trait NonceStore: Send + Sync {
    /// Atomically records the pair if absent (or expired at `now`), keeping it until
    /// `expires_at` (UNIX seconds). Returns `true` if this call reserved it, `false` if it was
    /// already spent. Two concurrent calls for one pair never both return `true`.
    fn reserve(
        &self,
        key_id: &TokenKeyId,
        nonce: &[u8; 32],
        now: u64,
        expires_at: u64,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// A shared store (e.g. one embedded store behind several verifiers, or kept while a verifier is
/// rebuilt after a key rotation).
impl<N: NonceStore + ?Sized> NonceStore for Arc<N> {
    fn reserve(
        &self,
        key_id: &TokenKeyId,
        nonce: &[u8; 32],
        now: u64,
        expires_at: u64,
    ) -> impl Future<Output = Result<bool>> + Send {
        (**self).reserve(key_id, nonce, now, expires_at)
    }
}

/// `(token_key_id, nonce)`.
type Pair = ([u8; 32], [u8; 32]);

/// In-process nonce store: a mutex-guarded map with expiry, purged as it grows.
/// One process only, and lost on restart: use Redis for replicas.
#[derive(Debug, Default)]
pub struct MemoryNonceStore {
    entries: Mutex<HashMap<Pair, u64>>,
}

impl MemoryNonceStore {
    /// An empty store.
    pub fn new() -> MemoryNonceStore {
        MemoryNonceStore::default()
    }

    /// Number of entries currently held (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry expired at `now`.
    pub fn purge_expired(&self, now: u64) {
        if let Ok(mut m) = self.entries.lock() {
            m.retain(|_, exp| *exp > now);
        }
    }
}

impl NonceStore for MemoryNonceStore {
    async fn reserve(
        &self,
        key_id: &TokenKeyId,
        nonce: &[u8; 32],
        now: u64,
        expires_at: u64,
    ) -> Result<bool> {
        let mut m = self
            .entries
            .lock()
            .map_err(|_| Error::Store("nonce store poisoned".into()))?;
        // Purge when the map doubles so the set cannot grow without bound.
        if m.len() >= 1024 && m.len().is_power_of_two() {
            m.retain(|_, exp| *exp > now);
        }
        match m.get(&(key_id.0, *nonce)) {
            Some(exp) if *exp > now => Ok(false),
            _ => {
                m.insert((key_id.0, *nonce), expires_at);
                Ok(true)
            }
        }
    }
}
