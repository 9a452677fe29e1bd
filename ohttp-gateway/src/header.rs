//! The Encapsulated Request header (RFC 9458 §4.1, spec §1.3): `key_id(1) kem_id(2) kdf_id(2)
//! aead_id(2)`, read before any cryptography so the gateway can pick the key by id.

use crate::codepoints::{AeadId, KdfId, KemId, KeyId};
use crate::error::GatewayError;

/// Length of the header in bytes.
pub const HEADER_LEN: usize = 7;
/// Length of an X25519 `enc`.
pub const X25519_ENC_LEN: usize = 32;
/// Length of an AEAD tag for every suite we offer.
pub const AEAD_TAG_LEN: usize = 16;
/// Shortest Encapsulated Request that can possibly decrypt (spec §6.2: 7 + 32 + 16).
pub const MIN_REQUEST_LEN: usize = HEADER_LEN + X25519_ENC_LEN + AEAD_TAG_LEN;

/// The parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader {
    /// Key identifier.
    pub key_id: KeyId,
    /// KEM the client used.
    pub kem: KemId,
    /// KDF the client chose.
    pub kdf: KdfId,
    /// AEAD the client chose.
    pub aead: AeadId,
}

impl RequestHeader {
    /// Reads the header from the front of an Encapsulated Request.
    pub fn parse(bytes: &[u8]) -> Result<Self, GatewayError> {
        let Some(&[k, m0, m1, d0, d1, a0, a1]) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(GatewayError::Malformed);
        };
        Ok(Self {
            key_id: KeyId(k),
            kem: KemId(u16::from_be_bytes([m0, m1])),
            kdf: KdfId(u16::from_be_bytes([d0, d1])),
            aead: AeadId(u16::from_be_bytes([a0, a1])),
        })
    }
}
