//! The crate's one error type, and the HTTP status each variant means on the wire
//! (spec/ohttp-privacy-pass.md §5.2 issuer statuses, §5.4 verifier statuses).

/// Everything that can go wrong in issuing or redeeming a token.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A structure had the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// Which structure.
        what: &'static str,
        /// The only allowed length.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// A token type other than 0x0002 (Blind RSA 2048).
    #[error("token type must be 0x0002, got {0:#06x}")]
    TokenType(u16),
    /// A malformed structure (bad length prefix, trailing bytes, bad base64url, bad SPKI).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// No issuing or verifying key has this (truncated) key id, or the full id differs.
    #[error("unknown token key id")]
    UnknownKey,
    /// The blinded message is not below the modulus, or signing failed its self-check.
    #[error("blinded message rejected")]
    BlindedMessage,
    /// The token's signature does not verify.
    #[error("token signature does not verify")]
    BadSignature,
    /// The token's challenge digest is not one the verifier accepts.
    #[error("token challenge does not match")]
    Challenge,
    /// The token's nonce was already redeemed.
    #[error("token already redeemed")]
    DoubleSpend,
    /// The bearer user token is missing or unknown.
    #[error("user token is not authorized")]
    Unauthorized,
    /// A key could not be generated or decoded.
    #[error("key error: {0}")]
    Key(&'static str),
    /// A store backend failed (I/O, Redis).
    #[error("store: {0}")]
    Store(String),
    /// A stored key set or nonce database could not be decoded or breaks the key-set rules.
    #[error("corrupt store: {0}")]
    CorruptStore(String),
    /// A key file is readable or writable by group or others; it holds private keys.
    #[error("{path} has mode {mode:03o}; it holds private keys and must be 0600 (chmod 600)")]
    InsecurePermissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// A rotation step that the key's current state does not allow.
    #[error("rotation: {0}")]
    Rotation(String),
    /// Other writers kept changing the store; the update gave up after its bounded retries.
    #[error("store contention: gave up after {0} attempts")]
    Contention(u32),
}

impl Error {
    /// The HTTP status for this error: 422 for RFC 9578 issuance validation failures, 401 for
    /// redemption and bearer failures, 400 for other parse errors, 500 for internal ones.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::TokenType(_) | Error::UnknownKey | Error::BlindedMessage => 422,
            Error::Length { what, .. } if *what == "blinded message" => 422,
            Error::Length { .. } | Error::Malformed(_) => 400,
            Error::BadSignature | Error::Challenge | Error::DoubleSpend | Error::Unauthorized => {
                401
            }
            Error::Key(_)
            | Error::Store(_)
            | Error::CorruptStore(_)
            | Error::InsecurePermissions { .. }
            | Error::Rotation(_)
            | Error::Contention(_) => 500,
        }
    }
}

/// Shorthand for this crate's results.
pub type Result<T> = std::result::Result<T, Error>;
