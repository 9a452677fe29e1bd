//! The attester's bearer check (spec §5.1, §6.1.4, §6.3): user token → tier. Tokens are kept as
//! SHA-256 hashes in a JSON config; operators with their own account system implement
//! [`UserAuthenticator`] instead.

use std::future::Future;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Error, Result, Tier};

/// Maps a bearer user token to its tier, or `None` if unknown.
pub trait UserAuthenticator: Send + Sync {
    /// Looks the token up.
    fn authenticate(&self, user_token: &str) -> impl Future<Output = Result<Option<Tier>>> + Send;
}

/// The config file: `{"user-tokens": [{"sha256": "<hex>", "tier": "tier1"}]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct HashedUserTokens {
    #[serde(rename = "user-tokens")]
    entries: Vec<HashedEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct HashedEntry {
    /// Lowercase hex of SHA-256(user token).
    sha256: String,
    tier: Tier,
}

impl HashedUserTokens {
    /// Parses the JSON config.
    pub fn from_json(json: &str) -> Result<HashedUserTokens> {
        let raw: HashedUserTokens =
            serde_json::from_str(json).map_err(|_| Error::Malformed("user token config"))?;
        // Check every hash decodes now, so a typo fails at load rather than silently never matching.
        if raw.entries.iter().any(|e| decode_hash(&e.sha256).is_none()) {
            return Err(Error::Malformed("user token hash"));
        }
        Ok(raw)
    }

    /// The hash to write into the config for a user token.
    pub fn hash(user_token: &str) -> [u8; 32] {
        Sha256::digest(user_token.as_bytes()).into()
    }

    fn lookup(&self, user_token: &str) -> Option<Tier> {
        let h = Self::hash(user_token);
        // Scan every entry without early exit so timing does not reveal which one matched.
        let mut found = None;
        for e in &self.entries {
            let stored = decode_hash(&e.sha256).unwrap_or_default();
            if bool::from(stored.ct_eq(&h)) {
                found = Some(e.tier.clone());
            }
        }
        found
    }
}

impl UserAuthenticator for HashedUserTokens {
    async fn authenticate(&self, user_token: &str) -> Result<Option<Tier>> {
        Ok(self.lookup(user_token))
    }
}

fn decode_hash(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}
