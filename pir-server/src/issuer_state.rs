//! What the issuer endpoints need (pir-protocol.md §1.8; ohttp-privacy-pass.md §5–§6): the
//! per-tier signing keys, the user-token allow-list, and the `issuer-request-uri` to publish;
//! plus the key directory both roles read: `<tier>.der` (PKCS#8, mode 0600, issuer only) and
//! `<tier>.spki` (public, what a service-only replica verifies tokens with).
//!
//! Keys are created on first start and then kept, so tokens devices hold stay valid across
//! restarts (Apple's example regenerates them on every start).

use std::path::{Path, PathBuf};

use privacy_pass::{HashedUserTokens, Issuer, IssuerKey, PublicKey, SigningKey, Tier};

/// Issuer keys and user tokens.
pub struct IssuerState {
    pub issuer: Issuer,
    pub users: HashedUserTokens,
    pub request_uri: String,
    pub tiers: Vec<Tier>,
}

impl std::fmt::Debug for IssuerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerState")
            .field("request_uri", &self.request_uri)
            .field("tiers", &self.tiers)
            .finish_non_exhaustive()
    }
}

/// Why the issuer's keys could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerKeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Key {
        path: PathBuf,
        source: privacy_pass::Error,
    },
    #[error("issuer: {0}")]
    Issuer(privacy_pass::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IssuerKeyError + '_ {
    move |source| IssuerKeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// How many fresh keys to try before giving up on distinct truncated key ids (a collision is a
/// 1-in-256 event per pair).
const KEY_ATTEMPTS: usize = 64;

/// Loads `<dir>/<tier>.der` for each tier, creating missing keys (with distinct truncated ids) and
/// writing their `.spki` beside them.
///
/// # Errors
/// [`IssuerKeyError`] for unreadable or corrupt key files.
pub fn load_or_create_keys(dir: &Path, tiers: &[Tier]) -> Result<Issuer, IssuerKeyError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut rng = privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng);
    let mut keys: Vec<IssuerKey> = Vec::with_capacity(tiers.len());
    for tier in tiers {
        let path = dir.join(format!("{}.der", tier.0));
        let key = match std::fs::read(&path) {
            Ok(der) => SigningKey::from_der(&der).map_err(|source| IssuerKeyError::Key {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = fresh_key(&mut rng, &keys, &path)?;
                let der = key.to_der().map_err(|source| IssuerKeyError::Key {
                    path: path.clone(),
                    source,
                })?;
                write_private(&path, &der)?;
                key
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let spki_path = dir.join(format!("{}.spki", tier.0));
        std::fs::write(&spki_path, key.public_key().spki()).map_err(io(&spki_path))?;
        keys.push(IssuerKey {
            tier: tier.clone(),
            key,
            not_before: None,
        });
    }
    Issuer::new(keys).map_err(IssuerKeyError::Issuer)
}

fn fresh_key(
    rng: &mut privacy_pass::rand_core::UnwrapErr<privacy_pass::SysRng>,
    existing: &[IssuerKey],
    path: &Path,
) -> Result<SigningKey, IssuerKeyError> {
    let mut last = None;
    for _ in 0..KEY_ATTEMPTS {
        let key = SigningKey::generate(rng).map_err(|source| IssuerKeyError::Key {
            path: path.to_owned(),
            source,
        })?;
        let truncated = key.public_key().key_id().truncated();
        if existing
            .iter()
            .all(|k| k.key.public_key().key_id().truncated() != truncated)
        {
            return Ok(key);
        }
        last = Some(key);
    }
    // Practically unreachable; Issuer::new reports the duplicate.
    last.ok_or(IssuerKeyError::Issuer(privacy_pass::Error::Key(
        "no key generated",
    )))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IssuerKeyError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// The public keys in `<dir>/<tier>.spki`, for verifying tokens.
///
/// # Errors
/// [`IssuerKeyError`] for a missing or corrupt file.
pub fn load_public_keys(
    dir: &Path,
    tiers: &[Tier],
) -> Result<Vec<(PublicKey, Tier)>, IssuerKeyError> {
    tiers
        .iter()
        .map(|tier| {
            let path = dir.join(format!("{}.spki", tier.0));
            let spki = std::fs::read(&path).map_err(io(&path))?;
            let key = PublicKey::from_spki(&spki)
                .map_err(|source| IssuerKeyError::Key { path, source })?;
            Ok((key, tier.clone()))
        })
        .collect()
}
