//! Gateway keys: seeds, their states during rotation, and the key ring that serves the
//! `application/ohttp-keys` list and dispatches Encapsulated Requests by key id
//! (RFC 9458 §3, §6.4; spec §1.3, §1.8, §3.2).
//!
//! A key is persisted only as its seed (IKM); `KeyConfig::derive` reproduces the pair, so every
//! replica given the same seeds serves byte-identical configs.

use std::collections::BTreeMap;

use ohttp::hpke::{Aead, Kdf, Kem};
use ohttp::{KeyConfig, SymmetricSuite};
use serde::{Deserialize, Serialize};

use crate::codepoints::{KemId, KeyId};
use crate::error::GatewayError;
use crate::header::{RequestHeader, X25519_ENC_LEN};
use crate::hpke::ReceiverKey;

/// Shortest seed accepted, in bytes (RFC 9180 §7.1.3 wants at least Nsk = 32 bytes of entropy).
pub const MIN_SEED_LEN: usize = 32;

/// Input keying material for one key. Never logged: `Debug` prints only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySeed(Vec<u8>);

impl KeySeed {
    /// Wraps a seed of at least [`MIN_SEED_LEN`] bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, GatewayError> {
        if bytes.len() < MIN_SEED_LEN {
            return Err(GatewayError::Config(format!(
                "seed has {} bytes; at least {MIN_SEED_LEN} are required",
                bytes.len()
            )));
        }
        Ok(Self(bytes))
    }

    /// Parses a hex seed.
    pub fn from_hex(text: &str) -> Result<Self, GatewayError> {
        let bytes =
            hex::decode(text.trim()).map_err(|_| GatewayError::Config("seed is not hex".into()))?;
        Self::new(bytes)
    }

    /// The seed as hex, for writing the key file.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// The raw seed bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for KeySeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeySeed({} bytes)", self.0.len())
    }
}

/// Where a key is in its life (spec §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in `application/ohttp-keys` and accepted.
    Current,
    /// No longer published, still accepted while clients move to the new key.
    Retiring,
}

/// One key as the operator configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// Key identifier; unique within the ring.
    pub id: KeyId,
    /// The seed the key pair is derived from.
    pub seed: KeySeed,
    /// Published or only accepted.
    pub state: KeyState,
}

/// The symmetric suites offered for every key, preferred first (spec §1.4).
fn offered_suites() -> Vec<SymmetricSuite> {
    vec![
        SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
        SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
    ]
}

/// Derives the X25519 key config with the offered suites from input keying material
/// (RFC 9180 DeriveKeyPair). Seed length policy is [`KeySeed`]'s; this takes any IKM so the
/// crate's 25-byte vector can be checked.
pub fn derive_config(id: KeyId, ikm: &[u8]) -> Result<KeyConfig, GatewayError> {
    KeyConfig::derive(id.0, Kem::X25519Sha256, offered_suites(), ikm)
        .map_err(|e| GatewayError::Config(format!("derive failed: {e}")))
}

/// The decapsulation key for a seed, checked against the published config: the config's public
/// key (after id and KEM id, RFC 9458 §3.1) must be the one [`ReceiverKey::derive`] gives.
fn receiver_key(config: &KeyConfig, ikm: &[u8]) -> Result<ReceiverKey, GatewayError> {
    let key = ReceiverKey::derive(ikm)?;
    let encoded = config
        .encode()
        .map_err(|e| GatewayError::Config(format!("encode failed: {e}")))?;
    // Key id (1 byte) and KEM id (2 bytes) come first.
    let published = encoded.get(3..3 + X25519_ENC_LEN);
    if published != Some(key.public_key().as_slice()) {
        return Err(GatewayError::Config(
            "derived key differs from the published key config".into(),
        ));
    }
    Ok(key)
}

/// The accepted keys, by id, and the published list.
#[derive(Debug)]
pub struct KeyRing {
    servers: BTreeMap<KeyId, ReceiverKey>,
    published: Vec<u8>,
    current: Vec<KeyId>,
}

impl KeyRing {
    /// Builds a ring. At least one key must be current; ids must be unique. The published list
    /// keeps the order given, so the preferred key goes first.
    pub fn new(specs: Vec<KeySpec>) -> Result<Self, GatewayError> {
        let mut servers = BTreeMap::new();
        let mut published_configs = Vec::new();
        let mut current = Vec::new();
        for spec in specs {
            let config = derive_config(spec.id, spec.seed.as_bytes())?;
            if spec.state == KeyState::Current {
                published_configs.push(config.clone());
                current.push(spec.id);
            }
            let server = receiver_key(&config, spec.seed.as_bytes())?;
            if servers.insert(spec.id, server).is_some() {
                return Err(GatewayError::Config(format!(
                    "key id {} appears twice",
                    spec.id.0
                )));
            }
        }
        if current.is_empty() {
            return Err(GatewayError::Config("no current key".into()));
        }
        let published = KeyConfig::encode_list(&published_configs)
            .map_err(|e| GatewayError::Config(format!("encode failed: {e}")))?;
        Ok(Self {
            servers,
            published,
            current,
        })
    }

    /// The `application/ohttp-keys` body: current keys, in configured order.
    #[must_use]
    pub fn encoded_configs(&self) -> Vec<u8> {
        self.published.clone()
    }

    /// Ids of the published keys.
    #[must_use]
    pub fn current_ids(&self) -> &[KeyId] {
        &self.current
    }

    /// Ids of every accepted key.
    pub fn accepted_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.servers.keys().copied()
    }

    /// Picks the key for an Encapsulated Request, checking the suite before any cryptography.
    pub fn key_for(&self, header: &RequestHeader) -> Result<&ReceiverKey, GatewayError> {
        let server = self
            .servers
            .get(&header.key_id)
            .ok_or(GatewayError::UnknownKey(header.key_id.0))?;
        if header.kem != KemId::X25519_SHA256 {
            return Err(GatewayError::UnsupportedSuite);
        }
        let offered = offered_suites()
            .into_iter()
            .any(|s| u16::from(s.kdf()) == header.kdf.0 && u16::from(s.aead()) == header.aead.0);
        if !offered {
            return Err(GatewayError::UnsupportedSuite);
        }
        Ok(server)
    }
}
