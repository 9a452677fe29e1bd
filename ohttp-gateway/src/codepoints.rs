//! Wire code points as integer newtypes: HPKE identifiers (RFC 9180 §7, as used by RFC 9458 §3.1)
//! and the key identifier, plus the media types of RFC 9458 §9 (spec §1.3, §1.4).

/// An OHTTP key identifier (RFC 9458 §3.1), the first byte of an Encapsulated Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u8);

/// An HPKE KEM identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KemId(pub u16);

impl KemId {
    /// DHKEM(X25519, HKDF-SHA256): the only KEM Apple's client accepts (spec §1.4).
    pub const X25519_SHA256: Self = Self(0x0020);
}

/// An HPKE KDF identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KdfId(pub u16);

impl KdfId {
    /// HKDF-SHA256.
    pub const HKDF_SHA256: Self = Self(0x0001);
}

/// An HPKE AEAD identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AeadId(pub u16);

impl AeadId {
    /// AES-128-GCM: offered first (spec §1.4).
    pub const AES_128_GCM: Self = Self(0x0001);
    /// ChaCha20-Poly1305: also offered.
    pub const CHACHA20_POLY1305: Self = Self(0x0003);
}

/// Media type of an Encapsulated Request.
pub const MEDIA_OHTTP_REQ: &str = "message/ohttp-req";
/// Media type of an Encapsulated Response.
pub const MEDIA_OHTTP_RES: &str = "message/ohttp-res";
/// Media type of the key configuration list (RFC 9458 §3.2).
pub const MEDIA_OHTTP_KEYS: &str = "application/ohttp-keys";
/// Problem type for key errors (RFC 9458 §5.3).
pub const PROBLEM_OHTTP_KEY: &str = "https://iana.org/assignments/http-problem-types#ohttp-key";
