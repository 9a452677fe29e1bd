//! Token key ids (RFC 9578 §6.5): SHA-256 of the SPKI, and its last byte as the truncated id.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `token_key_id = SHA-256(SPKI DER)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKeyId(pub [u8; 32]);

impl TokenKeyId {
    /// The key id of an encoded SPKI.
    pub fn of_spki(spki: &[u8]) -> TokenKeyId {
        TokenKeyId(Sha256::digest(spki).into())
    }

    /// The truncated id carried in a TokenRequest: the last byte.
    pub fn truncated(&self) -> u8 {
        self.0[31]
    }

    /// Constant-time equality (the full id check in verification).
    pub fn ct_eq(&self, other: &TokenKeyId) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
