//! What the issuer endpoints need (pir-protocol.md §1.8; ohttp-privacy-pass.md §5–§6): the
//! issuer built from the persistent key set, the user-token allow-list, and the
//! `issuer-request-uri` to publish; plus the key-set backends both roles open (a 0600 file for
//! one host, Redis for replicas), so the service verifies tokens with exactly the keys the issuer
//! signs and lists.
//!
//! Keys are created on first start and then kept, so tokens devices hold stay valid across
//! restarts (Apple's example regenerates them on every start).

use std::path::PathBuf;

use privacy_pass::{
    FileKeyStore, HashedUserTokens, Issuer, KeySet, KeyStore as _, PublicKey, RedisKeyStore, Tier,
};

/// Issuer keys and user tokens.
pub struct IssuerState {
    pub issuer: Issuer,
    pub users: HashedUserTokens,
    pub request_uri: String,
}

impl std::fmt::Debug for IssuerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerState")
            .field("request_uri", &self.request_uri)
            .finish_non_exhaustive()
    }
}

/// Where the issuer's key set lives.
pub enum IssuerKeys {
    /// One file (mode 0600, atomic replace, locked): a single host.
    File(FileKeyStore),
    /// Shared by every replica.
    Redis(RedisKeyStore),
}

/// Why the key set could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerKeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("issuer key set: {0}")]
    Keys(#[from] privacy_pass::Error),
}

impl IssuerKeys {
    /// The file store at `path` (its directory is created).
    ///
    /// # Errors
    /// [`IssuerKeyError::Io`] when the directory cannot be created.
    pub fn file(path: PathBuf) -> Result<Self, IssuerKeyError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| IssuerKeyError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        Ok(Self::File(FileKeyStore::new(path)))
    }

    /// The stored set, first creating an active key for each tier that has none (the issuer's
    /// start-up).
    ///
    /// # Errors
    /// Store failures and corrupt sets.
    pub async fn open_or_create(&self, tiers: &[Tier], now: u64) -> Result<KeySet, IssuerKeyError> {
        let mut rng = privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng);
        Ok(match self {
            Self::File(s) => privacy_pass::key_store::open_or_create(s, &mut rng, tiers, now).await,
            Self::Redis(s) => {
                privacy_pass::key_store::open_or_create(s, &mut rng, tiers, now).await
            }
        }?)
    }

    /// The keys tokens may be signed with (active and retiring), for a verifier.
    ///
    /// # Errors
    /// Store failures and corrupt sets.
    pub async fn verifier_keys(&self) -> Result<Vec<(PublicKey, Tier)>, IssuerKeyError> {
        let set = match self {
            Self::File(s) => s.load().await,
            Self::Redis(s) => s.load().await,
        }?;
        Ok(set.verifier_keys())
    }
}

/// The issuer for a key set: active keys sign, staged and retiring ones are listed.
///
/// # Errors
/// [`IssuerKeyError::Keys`] for a set the issuer cannot use (e.g. duplicate truncated ids).
pub fn issuer_from(set: &KeySet) -> Result<Issuer, IssuerKeyError> {
    Ok(Issuer::from_records(set.records())?)
}
