//! A keyword's OPRF output and the entry encryption it keys (spec/pir-protocol.md §3.8
//! "Database encryption"; Apple's `KeywordDatabase.symmetricPIRProcess`,
//! `OprfClient.ParsedOprfOutput`, `OprfClient.decrypt`).
//!
//! From the 48-byte output: the oblivious keyword is bytes 0..16, the AES-GCM nonce bytes
//! 0..12 (it overlaps the keyword, as in Apple's code), the AES-192 key bytes 24..48. A value is
//! stored as `AES-192-GCM(key, nonce, value, aad = empty)` followed by its 16-byte tag.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{AesGcm, Key, Nonce};
use rayon::prelude::*;

use super::key::ServerSecretKey;
use super::{ENTRY_KEY_SIZE, NONCE_SIZE, OBLIVIOUS_KEYWORD_SIZE, OUTPUT_SIZE, SpirError, TAG_SIZE};
use crate::keyword_database::KeywordValuePair;

/// AES-192-GCM with a 96-bit nonce and a 128-bit tag.
type Aes192Gcm = AesGcm<Aes192, U12>;

/// The VOPRF output for one keyword: what the server stored the row under, and what opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct OprfOutput([u8; OUTPUT_SIZE]);

impl std::fmt::Debug for OprfOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key bytes stay out of logs; the keyword is what the database shows anyway.
        f.debug_struct("OprfOutput")
            .field("oblivious_keyword", &hex::encode(self.oblivious_keyword()))
            .finish_non_exhaustive()
    }
}

impl OprfOutput {
    /// The output from its 48 bytes.
    pub fn from_bytes(bytes: [u8; OUTPUT_SIZE]) -> Self {
        Self(bytes)
    }

    /// The 48 bytes (RFC 9497's `Output`).
    pub fn as_bytes(&self) -> &[u8; OUTPUT_SIZE] {
        &self.0
    }

    /// The keyword the row is stored under (16 bytes): sharding and cuckoo hashing run on it.
    pub fn oblivious_keyword(&self) -> &[u8] {
        &self.0[..OBLIVIOUS_KEYWORD_SIZE]
    }

    fn cipher_and_nonce(&self) -> (Aes192Gcm, Nonce<U12>) {
        let mut key = [0u8; ENTRY_KEY_SIZE];
        key.copy_from_slice(&self.0[OUTPUT_SIZE - ENTRY_KEY_SIZE..]);
        let mut nonce = [0u8; NONCE_SIZE];
        nonce.copy_from_slice(&self.0[..NONCE_SIZE]);
        (
            Aes192Gcm::new(&Key::<Aes192Gcm>::from(key)),
            Nonce::from(nonce),
        )
    }

    /// The stored form of `value`: ciphertext ‖ tag, `value.len() + 16` bytes.
    ///
    /// # Errors
    /// [`SpirError::EntryTooLong`] beyond AES-GCM's 2³⁶-byte limit.
    pub fn seal(&self, value: &[u8]) -> Result<Vec<u8>, SpirError> {
        let (cipher, nonce) = self.cipher_and_nonce();
        cipher
            .encrypt(&nonce, value)
            .map_err(|_| SpirError::EntryTooLong { len: value.len() })
    }

    /// The value of a stored entry.
    ///
    /// # Errors
    /// [`SpirError::EntryTooShort`] for fewer than 16 bytes; [`SpirError::Decryption`] when the
    /// tag does not verify (another keyword's entry, another server key, or tampering).
    pub fn open(&self, entry: &[u8]) -> Result<Vec<u8>, SpirError> {
        if entry.len() < TAG_SIZE {
            return Err(SpirError::EntryTooShort { len: entry.len() });
        }
        let (cipher, nonce) = self.cipher_and_nonce();
        cipher
            .decrypt(&nonce, entry)
            .map_err(|_| SpirError::Decryption)
    }
}

/// The rows of a symmetric-PIR database, in input order: each keyword replaced by its oblivious
/// keyword and each value sealed under the keyword's output (Apple's `symmetricPIRProcess`).
/// Rows are evaluated in parallel.
///
/// # Errors
/// [`SpirError::InvalidKeyword`] for a keyword longer than 65535 bytes;
/// [`SpirError::EntryTooLong`] as [`OprfOutput::seal`].
pub fn encrypt_rows(
    rows: &[KeywordValuePair],
    key: &ServerSecretKey,
) -> Result<Vec<KeywordValuePair>, SpirError> {
    rows.par_iter()
        .with_min_len(64)
        .map(|row| {
            let output = key.evaluate(&row.keyword)?;
            Ok(KeywordValuePair::new(
                output.oblivious_keyword(),
                output.seal(&row.value)?,
            ))
        })
        .collect()
}
