//! Where the gateway's key seeds live so that restarts and replicas serve the same keys
//! (spec §1.8, §6.2 "byte-identical on every replica"): the [`KeyStore`] trait (load, and
//! compare-and-swap of the whole [`KeyFile`]), the update loop rotation goes through, and the
//! backends the binary selects with `--key-store`: the local key file
//! ([`FileKeyStore`](super::key_store_file::FileKeyStore)) or one Redis hash shared by replicas
//! ([`RedisKeyStore`](super::key_store_redis::RedisKeyStore)).
//!
//! Keys are never created implicitly at start-up: [`create`] (the `keys init` command) writes the
//! first key only into an empty store, so replicas initialising at once end with one key set.

use std::future::Future;

use super::key_store_file::FileKeyStore;
use super::key_store_redis::RedisKeyStore;
use super::keyfile::KeyFile;
use crate::error::GatewayError;
use crate::keys::KeyRing;

/// Load-modify-write rounds before [`update`] gives up.
const MAX_ATTEMPTS: u32 = 32;

/// What can go wrong with a key store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// Reading, writing or locking the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file is readable or writable by group or others.
    #[error("key file {path} has mode {mode:03o}; it holds secrets and must be 0600 (chmod 600)")]
    InsecurePermissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Redis refused or failed a command.
    #[error("redis key store: {0}")]
    Redis(#[from] redis::RedisError),
    /// The stored keys do not decode, or do not make a valid key ring.
    #[error("stored keys are invalid: {0}")]
    Invalid(#[from] GatewayError),
    /// The store holds no keys yet (run `keys init`).
    #[error("the key store is empty; create keys with `ohttp-gateway keys init`")]
    Empty,
    /// Other writers kept changing the store.
    #[error("key store contention: gave up after {0} attempts")]
    Contention(u32),
    /// The `--key-store` value names no backend.
    #[error("unsupported key store {0:?}: use redis://HOST[:PORT][/DB] or file:PATH")]
    UnsupportedUrl(String),
}

/// The backend's token for the stored version a snapshot was read at; compare-and-swap
/// succeeds only against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision(pub Vec<u8>);

/// Stored keys as read, with their revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The keys, preferred first.
    pub keys: KeyFile,
    /// The stored version they were read at.
    pub revision: Revision,
}

/// A durable, possibly shared, home for the gateway's key seeds.
pub trait KeyStore: Send + Sync {
    /// The stored keys, or `None` if the store is empty.
    fn load(&self) -> impl Future<Output = Result<Option<Snapshot>, KeyStoreError>> + Send;

    /// Stores `keys` if, and only if, the store is still at `expected` (`None`: still empty).
    /// Returns `false` when another writer got there first.
    fn compare_and_swap(
        &self,
        expected: Option<&Revision>,
        keys: &KeyFile,
    ) -> impl Future<Output = Result<bool, KeyStoreError>> + Send;
}

/// The stored keys as a key ring, failing if the store is empty.
pub async fn load_ring<S: KeyStore + ?Sized>(
    store: &S,
) -> Result<(KeyRing, Revision), KeyStoreError> {
    let snapshot = store.load().await?.ok_or(KeyStoreError::Empty)?;
    Ok((KeyRing::new(snapshot.keys.specs()?)?, snapshot.revision))
}

/// Writes `keys` into an empty store. Returns whether this call created them; either way the
/// keys now stored are returned, so concurrent initialisers all end with the winner's keys.
pub async fn create<S: KeyStore + ?Sized>(
    store: &S,
    keys: &KeyFile,
) -> Result<(bool, KeyFile), KeyStoreError> {
    KeyRing::new(keys.specs()?)?;
    if store.load().await?.is_none() && store.compare_and_swap(None, keys).await? {
        return Ok((true, keys.clone()));
    }
    let stored = store.load().await?.ok_or(KeyStoreError::Empty)?;
    Ok((false, stored.keys))
}

/// Applies `change` to the stored keys until the write wins (load, change, check the result is
/// a valid key ring, compare-and-swap; on a lost race reload and change again, at most 32
/// rounds). Returns the keys now stored and what `change` returned on the winning round.
pub async fn update<S, F, T>(store: &S, mut change: F) -> Result<(KeyFile, T), KeyStoreError>
where
    S: KeyStore + ?Sized,
    F: FnMut(&mut KeyFile) -> Result<T, GatewayError>,
{
    for _ in 0..MAX_ATTEMPTS {
        let snapshot = store.load().await?.ok_or(KeyStoreError::Empty)?;
        let mut keys = snapshot.keys;
        let out = change(&mut keys)?;
        KeyRing::new(keys.specs()?)?;
        if store
            .compare_and_swap(Some(&snapshot.revision), &keys)
            .await?
        {
            return Ok((keys, out));
        }
    }
    Err(KeyStoreError::Contention(MAX_ATTEMPTS))
}

/// The backend named by a `--key-store` value.
#[derive(Debug, Clone)]
pub enum AnyKeyStore {
    /// `file:PATH` (or `--keys-file PATH`).
    File(FileKeyStore),
    /// `redis://...`.
    Redis(RedisKeyStore),
}

impl AnyKeyStore {
    /// Opens the store `url` names; `redis_key` is the Redis key holding the key set.
    pub async fn open(url: &str, redis_key: &str) -> Result<AnyKeyStore, KeyStoreError> {
        if url.starts_with("redis://") {
            Ok(AnyKeyStore::Redis(
                RedisKeyStore::connect(url, redis_key).await?,
            ))
        } else if let Some(path) = url.strip_prefix("file:") {
            Ok(AnyKeyStore::File(FileKeyStore::new(path)))
        } else {
            Err(KeyStoreError::UnsupportedUrl(url.to_owned()))
        }
    }
}

impl KeyStore for AnyKeyStore {
    async fn load(&self) -> Result<Option<Snapshot>, KeyStoreError> {
        match self {
            AnyKeyStore::File(s) => s.load().await,
            AnyKeyStore::Redis(s) => s.load().await,
        }
    }

    async fn compare_and_swap(
        &self,
        expected: Option<&Revision>,
        keys: &KeyFile,
    ) -> Result<bool, KeyStoreError> {
        match self {
            AnyKeyStore::File(s) => s.compare_and_swap(expected, keys).await,
            AnyKeyStore::Redis(s) => s.compare_and_swap(expected, keys).await,
        }
    }
}
