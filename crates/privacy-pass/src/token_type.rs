//! The token type code point (RFC 9578 §8.2 registry; spec §5.3): only 0x0002 is supported.

/// A Privacy Pass token type as it appears on the wire (big-endian u16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenType(pub u16);

impl TokenType {
    /// Blind RSA (2048-bit), RSABSSA-SHA384-PSS-Deterministic: what Apple devices use.
    pub const BLIND_RSA_2048: TokenType = TokenType(0x0002);

    /// Decodes the first two bytes, rejecting any type but 0x0002.
    pub(crate) fn expect_blind_rsa(bytes: [u8; 2]) -> crate::Result<TokenType> {
        let t = u16::from_be_bytes(bytes);
        if t == Self::BLIND_RSA_2048.0 {
            Ok(Self::BLIND_RSA_2048)
        } else {
            Err(crate::Error::TokenType(t))
        }
    }
}

/// Modulus length in bytes (Nk).
pub const NK: usize = 256;
/// Key id length in bytes (Nid).
pub const NID: usize = 32;
