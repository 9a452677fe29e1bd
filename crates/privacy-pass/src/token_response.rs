//! TokenResponse for token type 0x0002 (RFC 9578 §6.2; spec §5.3): the 256-byte blind signature.

use crate::token_type::NK;

/// The issuer's answer: a blind signature, served as `application/private-token-response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The blind signature, big-endian, exactly Nk bytes.
    pub blind_sig: [u8; NK],
}

impl TokenResponse {
    /// The wire encoding (the bytes themselves).
    pub fn encode(&self) -> Vec<u8> {
        self.blind_sig.to_vec()
    }
}
