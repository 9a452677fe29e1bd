//! The redeemed Token for type 0x0002 (RFC 9577 §2.2, RFC 9578 §6.3; spec §5.3): 354 bytes.

use crate::token_type::{NID, NK};
use crate::{Error, Result, TokenKeyId, TokenType};

/// Encoded length of a Token.
pub const TOKEN_LEN: usize = 2 + 32 + 32 + NID + NK;

/// A token as a device presents it. Redeem it with [`crate::Verifier::redeem`], which consumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Client-chosen nonce; the single-use key.
    pub nonce: [u8; 32],
    /// SHA-256 of the TokenChallenge.
    pub challenge_digest: [u8; 32],
    /// SHA-256 of the issuer key's SPKI.
    pub token_key_id: TokenKeyId,
    /// RSASSA-PSS signature over [`Token::token_input`].
    pub authenticator: [u8; NK],
}

impl Token {
    /// Decodes exactly 354 bytes (400 on a wrong length, 401-class type error otherwise).
    pub fn decode(bytes: &[u8]) -> Result<Token> {
        let b: &[u8; TOKEN_LEN] = bytes.try_into().map_err(|_| Error::Length {
            what: "token",
            expected: TOKEN_LEN,
            got: bytes.len(),
        })?;
        let (ty, rest) = b
            .split_first_chunk::<2>()
            .ok_or(Error::Malformed("token"))?;
        TokenType::expect_blind_rsa(*ty)?;
        let (nonce, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(Error::Malformed("token"))?;
        let (digest, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(Error::Malformed("token"))?;
        let (id, rest) = rest
            .split_first_chunk::<NID>()
            .ok_or(Error::Malformed("token"))?;
        let authenticator = <[u8; NK]>::try_from(rest).map_err(|_| Error::Malformed("token"))?;
        Ok(Token {
            nonce: *nonce,
            challenge_digest: *digest,
            token_key_id: TokenKeyId(*id),
            authenticator,
        })
    }

    /// The 354-byte encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.token_input();
        out.extend_from_slice(&self.authenticator);
        out
    }

    /// `token_type ‖ nonce ‖ challenge_digest ‖ token_key_id`: the 98 signed bytes.
    pub fn token_input(&self) -> Vec<u8> {
        token_input(&self.nonce, &self.challenge_digest, &self.token_key_id)
    }
}

/// The 98 bytes a token's authenticator signs.
pub fn token_input(nonce: &[u8; 32], challenge_digest: &[u8; 32], id: &TokenKeyId) -> Vec<u8> {
    let mut out = Vec::with_capacity(TOKEN_LEN);
    out.extend_from_slice(&TokenType::BLIND_RSA_2048.0.to_be_bytes());
    out.extend_from_slice(nonce);
    out.extend_from_slice(challenge_digest);
    out.extend_from_slice(&id.0);
    out
}
