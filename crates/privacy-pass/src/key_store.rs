//! Where issuer keys survive restarts and are shared by replicas (spec §5.6, §6.1.1, §6.3): the
//! [`KeyStore`] trait (load, compare-and-swap of the whole [`KeySet`]) and the update loop every
//! change goes through, so that replicas starting at once against an empty store end with one
//! key per tier. Backends: [`FileKeyStore`](crate::FileKeyStore) (one 0600 file, single host)
//! and [`RedisKeyStore`](crate::RedisKeyStore) (replicas).
//!
//! Open or create the keys, then build the issuer and the verifier from them:
//!
//! ```
//! use privacy_pass::{
//!     ChallengePolicy, FileKeyStore, Issuer, MemoryNonceStore, Tier, Verifier, key_store,
//! };
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), privacy_pass::Error> {
//! # let dir = std::env::temp_dir().join(format!("pp-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).map_err(|e| privacy_pass::Error::Store(e.to_string()))?;
//! let mut rng = privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng);
//! let now = 1_767_225_600; // the caller's clock, UNIX seconds
//! let store = FileKeyStore::new(dir.join("issuer-keys.json"));
//! let tiers = [Tier::from("tier1")];
//! let keys = key_store::open_or_create(&store, &mut rng, &tiers, now).await?;
//!
//! let issuer = Issuer::from_records(keys.records())?;
//! let verifier = Verifier::new(
//!     keys.verifier_keys(),
//!     ChallengePolicy::Any,
//!     MemoryNonceStore::new(),
//!     30 * 86_400,
//! );
//! assert_eq!(issuer.token_key(&tiers[0])?.spki().len(), 342);
//!
//! // A restart reads the same key back.
//! let again = key_store::open_or_create(&store, &mut rng, &tiers, now + 60).await?;
//! assert_eq!(
//!     Issuer::from_records(again.records())?.token_key(&tiers[0])?.spki(),
//!     issuer.token_key(&tiers[0])?.spki(),
//! );
//! # drop(verifier);
//! # std::fs::remove_dir_all(&dir).map_err(|e| privacy_pass::Error::Store(e.to_string()))?;
//! # Ok(()) }
//! ```
//!
//! Rotation goes through [`update`] too, e.g.
//! `key_store::update(&store, |set| set.stage(&mut rng, &tier, now + 2 * 86_400, now).map(|_| true))`.

use std::future::Future;

use rand_core::CryptoRng;

use crate::{Error, KeySet, Result, Tier};

/// Load-modify-write rounds before [`update`] reports [`Error::Contention`].
const MAX_ATTEMPTS: u32 = 32;

/// A durable home for the issuer's [`KeySet`].
pub trait KeyStore: Send + Sync {
    /// Reads the stored set; an empty store gives an empty set at version 0.
    fn load(&self) -> impl Future<Output = Result<KeySet>> + Send;

    /// Stores `set`'s records as version `set.version() + 1` if, and only if, the store is still
    /// at `set.version()`. Returns `false` when another writer got there first.
    fn compare_and_swap(&self, set: &KeySet) -> impl Future<Output = Result<bool>> + Send;
}

/// Applies `change` to the stored set until the write wins: load, change, compare-and-swap,
/// and on a lost race reload and change again (at most 32 rounds). `change` returns whether it
/// changed anything; if not, nothing is written. Returns the set now stored.
pub async fn update<S, F>(store: &S, mut change: F) -> Result<KeySet>
where
    S: KeyStore + ?Sized,
    F: FnMut(&mut KeySet) -> Result<bool>,
{
    for _ in 0..MAX_ATTEMPTS {
        let current = store.load().await?;
        let mut next = current.clone();
        if !change(&mut next)? {
            return Ok(current);
        }
        next.validate()?;
        if store.compare_and_swap(&next).await? {
            return KeySet::new(next.next_version()?, next.records().to_vec());
        }
    }
    Err(Error::Contention(MAX_ATTEMPTS))
}

/// Reads the key set, first generating an active key (usable from `now`) for each tier that has
/// none. Concurrent callers against one store converge on the same keys.
pub async fn open_or_create<S, R>(
    store: &S,
    rng: &mut R,
    tiers: &[Tier],
    now: u64,
) -> Result<KeySet>
where
    S: KeyStore + ?Sized,
    R: CryptoRng + ?Sized,
{
    update(store, |set| {
        let mut changed = false;
        for tier in tiers {
            changed |= set.ensure_active(rng, tier, now)?;
        }
        Ok(changed)
    })
    .await
}
