//! The server's OPRF key pair (spec/pir-protocol.md §3.8, §5.4 `symmetricPirArguments`; Apple's
//! `SymmetricPirConfig`, `SymmetricPirClientConfig`): the secret key is a 48-byte big-endian
//! P-384 scalar, kept in key files as hex; the public key, which clients get in
//! `KeywordPirParameters.symmetric_pir_client_config`, is the compressed point of `skS·G`.

use p384::elliptic_curve::sec1::ToEncodedPoint;
use rand::{CryptoRng, RngCore};
use voprf::VoprfServer;

use super::{ELEMENT_SIZE, SECRET_KEY_SIZE, SpirError, Suite};
use crate::proto::pir;

/// The OPRF secret key of a symmetric-PIR database.
#[derive(Clone)]
pub struct ServerSecretKey {
    /// The scalar, for serialization (zeroized on drop by `p384`).
    pub(super) scalar: p384::SecretKey,
    pub(super) server: VoprfServer<Suite>,
}

impl std::fmt::Debug for ServerSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material; the public key identifies it.
        f.debug_struct("ServerSecretKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl ServerSecretKey {
    /// The key whose big-endian scalar is `bytes` (Apple's `rawRepresentation`).
    ///
    /// # Errors
    /// [`SpirError::KeyLength`] unless exactly 48 bytes; [`SpirError::KeyOutOfRange`] for zero
    /// or a value not below the group order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SpirError> {
        if bytes.len() != SECRET_KEY_SIZE {
            return Err(SpirError::KeyLength { len: bytes.len() });
        }
        // `from_slice` alone would zero-pad shorter input; the length is checked above.
        let scalar = p384::SecretKey::from_slice(bytes).map_err(|_| SpirError::KeyOutOfRange)?;
        let server = VoprfServer::new_with_key(bytes).map_err(|_| SpirError::KeyOutOfRange)?;
        Ok(Self { scalar, server })
    }

    /// The key in a key file's text: 96 hex digits, surrounding whitespace ignored (Apple's tool
    /// writes lowercase hex with no newline; editors add one).
    ///
    /// # Errors
    /// [`SpirError::KeyHex`] for text that is not hex; then as [`ServerSecretKey::from_bytes`].
    pub fn from_hex(text: &str) -> Result<Self, SpirError> {
        let bytes = hex::decode(text.trim()).map_err(|e| SpirError::KeyHex(e.to_string()))?;
        Self::from_bytes(&bytes)
    }

    /// A fresh key, uniform over `[1, n-1]` (what `outputDatabaseEncryptionKeyFilePath` asks for):
    /// 48 random bytes, drawn again in the ~2⁻¹⁹⁰ case that they are not a valid scalar.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        loop {
            let mut bytes = [0u8; SECRET_KEY_SIZE];
            rng.fill_bytes(&mut bytes);
            if let Ok(key) = Self::from_bytes(&bytes) {
                return key;
            }
        }
    }

    /// The big-endian scalar (48 bytes).
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_SIZE] {
        self.scalar.to_bytes().into()
    }

    /// The key file text: 96 lowercase hex digits, as Apple's tool writes it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// The public key `skS·G`.
    pub fn public_key(&self) -> ServerPublicKey {
        ServerPublicKey {
            key: self.scalar.public_key(),
        }
    }

    /// What clients get in `KeywordPirParameters.symmetric_pir_client_config`.
    pub fn client_config(&self) -> pir::SymmetricPirClientConfig {
        self.public_key().client_config()
    }
}

/// The OPRF public key clients verify the server's proofs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPublicKey {
    pub(super) key: p384::PublicKey,
}

impl ServerPublicKey {
    /// The key from its 49-byte compressed SEC1 encoding (Apple's `compressedRepresentation`).
    ///
    /// # Errors
    /// [`SpirError::Length`] unless 49 bytes; [`SpirError::InvalidElement`] for bytes that are
    /// not a point of P-384.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SpirError> {
        const WHAT: &str = "server public key";
        if bytes.len() != ELEMENT_SIZE {
            return Err(SpirError::Length {
                what: WHAT,
                len: bytes.len(),
                expected: ELEMENT_SIZE,
            });
        }
        let key = p384::PublicKey::from_sec1_bytes(bytes)
            .map_err(|_| SpirError::InvalidElement { what: WHAT })?;
        Ok(Self { key })
    }

    /// The key a `SymmetricPirClientConfig` carries.
    ///
    /// # Errors
    /// [`SpirError::UnsupportedConfigType`] for a config type other than
    /// `OPRF_P384_AES_GCM_192_NONCE_96_TAG_128` (unspecified included, as Apple's conversion
    /// refuses it); then as [`ServerPublicKey::from_bytes`].
    pub fn from_client_config(config: &pir::SymmetricPirClientConfig) -> Result<Self, SpirError> {
        if config.config_type != pir::SymmetricPirConfigType::OprfP384AesGcm192Nonce96Tag128 as i32
        {
            return Err(SpirError::UnsupportedConfigType(config.config_type));
        }
        Self::from_bytes(&config.server_public_key)
    }

    /// The 49-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; ELEMENT_SIZE] {
        let point = self.key.as_affine().to_encoded_point(true);
        let mut out = [0u8; ELEMENT_SIZE];
        // A compressed P-384 point is always 49 bytes; `zip` keeps this free of panics.
        for (o, b) in out.iter_mut().zip(point.as_bytes()) {
            *o = *b;
        }
        out
    }

    /// The `SymmetricPirClientConfig` for this key.
    pub fn client_config(&self) -> pir::SymmetricPirClientConfig {
        pir::SymmetricPirClientConfig {
            server_public_key: self.to_bytes().to_vec(),
            config_type: pir::SymmetricPirConfigType::OprfP384AesGcm192Nonce96Tag128 as i32,
        }
    }
}
