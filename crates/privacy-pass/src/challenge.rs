//! TokenChallenge (RFC 9577 §2.1) and its digest; spec §5.3–§5.4. Apple devices build it
//! themselves with an empty redemption context and empty origin info.

use sha2::{Digest, Sha256};

use crate::{Error, Result, TokenType};

/// A token challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenChallenge {
    /// Token type (0x0002 for everything this crate issues).
    pub token_type: TokenType,
    /// ASCII server name of the issuer.
    pub issuer_name: Vec<u8>,
    /// Empty, or 32 bytes.
    pub redemption_context: Vec<u8>,
    /// Comma-separated origin names; empty for Apple.
    pub origin_info: Vec<u8>,
}

impl TokenChallenge {
    /// The challenge as an Apple device builds it: type 2, issuer name, nothing else.
    pub fn apple(issuer_name: &str) -> TokenChallenge {
        TokenChallenge {
            token_type: TokenType::BLIND_RSA_2048,
            issuer_name: issuer_name.as_bytes().to_vec(),
            redemption_context: Vec::new(),
            origin_info: Vec::new(),
        }
    }

    /// The wire encoding; fails if a field exceeds its length prefix.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let issuer_len = u16::try_from(self.issuer_name.len())
            .ok()
            .filter(|n| *n > 0)
            .ok_or(Error::Malformed("issuer name"))?;
        if !(self.redemption_context.is_empty() || self.redemption_context.len() == 32) {
            return Err(Error::Malformed("redemption context"));
        }
        let origin_len =
            u16::try_from(self.origin_info.len()).map_err(|_| Error::Malformed("origin info"))?;
        let mut out = Vec::with_capacity(7 + self.issuer_name.len() + 32 + self.origin_info.len());
        out.extend_from_slice(&self.token_type.0.to_be_bytes());
        out.extend_from_slice(&issuer_len.to_be_bytes());
        out.extend_from_slice(&self.issuer_name);
        out.push(self.redemption_context.len() as u8);
        out.extend_from_slice(&self.redemption_context);
        out.extend_from_slice(&origin_len.to_be_bytes());
        out.extend_from_slice(&self.origin_info);
        Ok(out)
    }

    /// `challenge_digest = SHA-256(TokenChallenge)`.
    pub fn digest(&self) -> Result<[u8; 32]> {
        Ok(Sha256::digest(self.to_bytes()?).into())
    }
}
