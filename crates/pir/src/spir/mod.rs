//! Symmetric PIR (SPIR), Apple's config type `OPRF_P384_AES_GCM_192_NONCE_96_TAG_128`
//! (spec/pir-protocol.md §3.8, §5.4, §7 `symmetricPirRequest`; Apple's `SymmetricPirDatabase`,
//! `SymmetricPirProtocol`): a client learns the value of a keyword it asks for and nothing about
//! the other rows.
//!
//! Offline, every row's keyword goes through the server's VOPRF (RFC 9497, P384-SHA384,
//! verifiable mode): the 48-byte output gives the *oblivious keyword* the database is keyed on
//! and the AES-192-GCM key and nonce its value is sealed with ([`entry`], [`process`]). Online,
//! the client blinds its keyword, the server evaluates the blinded element and proves it used
//! its key ([`oprf`]), and the client unblinds, runs keyword PIR on the oblivious keyword and
//! opens the value. Keys: [`key`].
//!
//! ```
//! use pir::spir::{OprfClient, ServerSecretKey};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let key = ServerSecretKey::generate(&mut rng);
//! // Offline: the row "example.com" → "1" as stored in the database.
//! let stored = key.evaluate(b"example.com")?;
//! let sealed = stored.seal(b"1")?;
//! // Online: the client only ever sees its own keyword's output.
//! let client = OprfClient::from_client_config(&key.client_config())?;
//! let (blinded, request) = client.blind(b"example.com", &mut rng)?;
//! let response = key.blind_evaluate(&request, &mut rng)?;
//! let output = client.finalize(blinded, &response)?;
//! assert_eq!(output.oblivious_keyword(), stored.oblivious_keyword());
//! assert_eq!(output.open(&sealed)?, b"1");
//! # Ok::<(), pir::spir::SpirError>(())
//! ```

pub mod entry;
pub mod key;
pub mod oprf;
pub mod process;

pub use entry::{OprfOutput, encrypt_rows};
pub use key::{ServerPublicKey, ServerSecretKey};
pub use oprf::{BlindedKeyword, OprfClient};
pub use process::{process_symmetric, process_symmetric_plaintexts};

use thiserror::Error;

use crate::PirError;
use crate::database::DatabaseError;

/// The VOPRF ciphersuite (RFC 9497 §4.4, P384-SHA384).
pub(crate) type Suite = p384::NistP384;

/// Bytes of the OPRF secret key: a big-endian P-384 scalar.
pub const SECRET_KEY_SIZE: usize = 48;
/// Bytes of a group element: a compressed SEC1 P-384 point.
pub const ELEMENT_SIZE: usize = 49;
/// Bytes of a DLEQ proof: `c ‖ s`, two big-endian scalars.
pub const PROOF_SIZE: usize = 96;
/// Bytes of the OPRF output (SHA-384).
pub const OUTPUT_SIZE: usize = 48;
/// Bytes of the oblivious keyword: the output's first bytes.
pub const OBLIVIOUS_KEYWORD_SIZE: usize = 16;
/// Bytes of the AES-GCM nonce: the output's first bytes (they overlap the keyword).
pub const NONCE_SIZE: usize = 12;
/// Bytes of the AES-192 key: the output's last bytes.
pub const ENTRY_KEY_SIZE: usize = 24;
/// Bytes of the AES-GCM tag appended to every sealed value.
pub const TAG_SIZE: usize = 16;

/// Everything that can go wrong in symmetric PIR. Messages state the allowed range.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpirError {
    /// A secret key of the wrong length.
    #[error("OPRF secret key of {len} bytes; exactly 48 (96 hex digits) required")]
    KeyLength {
        /// Bytes given.
        len: usize,
    },
    /// A key file that is not hex.
    #[error("OPRF key file is not hex (96 digits 0-9a-f, surrounding whitespace allowed): {0}")]
    KeyHex(String),
    /// A 48-byte key that is zero or not below the group order.
    #[error("OPRF secret key must be a scalar in [1, n-1] of P-384")]
    KeyOutOfRange,
    /// A wire field of the wrong length.
    #[error("{what} of {len} bytes; exactly {expected} required")]
    Length {
        /// The field.
        what: &'static str,
        /// Bytes given.
        len: usize,
        /// Bytes required.
        expected: usize,
    },
    /// Bytes of the right length that are not a compressed P-384 point (or are the identity).
    #[error("{what} is not a compressed P-384 point other than the identity")]
    InvalidElement {
        /// The field.
        what: &'static str,
    },
    /// A proof whose scalars are zero or not below the group order.
    #[error("proof must be two scalars in [1, n-1] of P-384")]
    InvalidProof,
    /// The DLEQ proof does not verify: the server did not use the key it published.
    #[error("OPRF proof does not verify against the server public key")]
    ProofVerification,
    /// A keyword the OPRF cannot take.
    #[error("keyword of {len} bytes; 1 to 65535 allowed")]
    InvalidKeyword {
        /// Bytes given.
        len: usize,
    },
    /// A `SymmetricPirConfigType` other than the one Apple defines.
    #[error("symmetric PIR config type {0}; only OPRF_P384_AES_GCM_192_NONCE_96_TAG_128 (1)")]
    UnsupportedConfigType(i32),
    /// A sealed value too short to hold its tag.
    #[error("encrypted entry of {len} bytes; at least the 16-byte tag required")]
    EntryTooShort {
        /// Bytes given.
        len: usize,
    },
    /// A value too long for AES-GCM.
    #[error("value of {len} bytes; AES-GCM seals at most 2^36 - 32")]
    EntryTooLong {
        /// Bytes given.
        len: usize,
    },
    /// The sealed value does not open: another keyword's entry, another key, or tampering.
    #[error("encrypted entry does not open under this keyword's key")]
    Decryption,
    /// Any other VOPRF failure (e.g. a degenerate evaluation).
    #[error("VOPRF: {0}")]
    Protocol(String),
    /// Processing or parameter errors.
    #[error(transparent)]
    Pir(#[from] PirError),
    /// Building an Eval-form shard failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The error for a VOPRF failure on input the caller gave.
pub(crate) fn voprf_error(error: voprf::Error, keyword_len: usize) -> SpirError {
    match error {
        voprf::Error::ProofVerification => SpirError::ProofVerification,
        voprf::Error::Input => SpirError::InvalidKeyword { len: keyword_len },
        other => SpirError::Protocol(other.to_string()),
    }
}
