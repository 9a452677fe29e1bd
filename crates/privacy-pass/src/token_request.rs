//! TokenRequest for token type 0x0002 (RFC 9578 §6.1; spec §5.3): 259 bytes.

use crate::token_type::NK;
use crate::{Error, Result, TokenType};

/// Encoded length of a TokenRequest.
pub const TOKEN_REQUEST_LEN: usize = 2 + 1 + NK;

/// A client's request for one blind signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Last byte of the key id the client blinded for.
    pub truncated_token_key_id: u8,
    /// The blinded message.
    pub blinded_msg: [u8; NK],
}

impl TokenRequest {
    /// Decodes, checking the type first (422) and then the blinded-message length (422).
    pub fn decode(bytes: &[u8]) -> Result<TokenRequest> {
        let (ty, rest) = bytes.split_first_chunk::<2>().ok_or(Error::Length {
            what: "token request",
            expected: TOKEN_REQUEST_LEN,
            got: bytes.len(),
        })?;
        TokenType::expect_blind_rsa(*ty)?;
        let (&truncated_token_key_id, msg) = rest.split_first().ok_or(Error::Length {
            what: "token request",
            expected: TOKEN_REQUEST_LEN,
            got: bytes.len(),
        })?;
        let blinded_msg = <[u8; NK]>::try_from(msg).map_err(|_| Error::Length {
            what: "blinded message",
            expected: NK,
            got: msg.len(),
        })?;
        Ok(TokenRequest {
            truncated_token_key_id,
            blinded_msg,
        })
    }

    /// The 259-byte encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TOKEN_REQUEST_LEN);
        out.extend_from_slice(&TokenType::BLIND_RSA_2048.0.to_be_bytes());
        out.push(self.truncated_token_key_id);
        out.extend_from_slice(&self.blinded_msg);
        out
    }
}
