//! The issuer's persistent key set (spec §5.6, §6.3 "persistent keys"): one record per issuing
//! key with its tier, rotation state and `not-before`, and the versioned JSON document the key
//! store backends hold. The private key is kept as base64 PKCS#8 DER.
//!
//! ```json
//! {"format": 1, "version": 3, "keys": [
//!   {"tier": "tier1", "state": "active", "not_before": 1767225600, "private_key": "MIIE..."}]}
//! ```

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::{Error, PublicKey, Result, SigningKey, Tier};

/// The document format this crate writes and reads.
const FORMAT: u32 = 1;

/// Where a key is in its life (spec §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Listed in the directory with a future `not-before`; not yet issued under.
    Staged,
    /// The tier's key: returned by `token-key-for-user-token`, signs `/issue`, verifies.
    Active,
    /// Replaced, still listed and still verifying while cached tokens drain.
    Retiring,
    /// Neither listed nor accepted; kept only as history.
    Retired,
}

/// One issuing key.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// The tier the key signs for.
    pub tier: Tier,
    /// The key pair.
    pub key: SigningKey,
    /// Its rotation state.
    pub state: KeyState,
    /// UNIX seconds from which clients may use it; published for staged keys.
    pub not_before: u64,
}

/// Every issuing key of every tier, with the store version it was read at (0: nothing stored).
/// Compare-and-swap writes succeed only against the version they were read at.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    version: u64,
    records: Vec<KeyRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: u32,
    version: u64,
    keys: Vec<RecordDoc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordDoc {
    tier: Tier,
    state: KeyState,
    not_before: u64,
    private_key: String,
}

impl KeySet {
    /// A key set read at `version`; checks the key-set rules (see [`KeySet::validate`]).
    pub fn new(version: u64, records: Vec<KeyRecord>) -> Result<KeySet> {
        let set = KeySet { version, records };
        set.validate()?;
        Ok(set)
    }

    /// The store version this set was read at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The version a successful compare-and-swap of this set writes.
    pub fn next_version(&self) -> Result<u64> {
        self.version
            .checked_add(1)
            .ok_or_else(|| Error::CorruptStore("key set version overflows".into()))
    }

    /// All records, retired ones included, in stored order.
    pub fn records(&self) -> &[KeyRecord] {
        &self.records
    }

    pub(crate) fn records_mut(&mut self) -> &mut Vec<KeyRecord> {
        &mut self.records
    }

    /// The tier's active key.
    pub fn active(&self, tier: &Tier) -> Option<&KeyRecord> {
        self.in_state(tier, KeyState::Active)
    }

    pub(crate) fn in_state(&self, tier: &Tier, state: KeyState) -> Option<&KeyRecord> {
        self.records
            .iter()
            .find(|r| &r.tier == tier && r.state == state)
    }

    /// The keys a verifier accepts: active and retiring, never staged or retired.
    pub fn verifier_keys(&self) -> Vec<(PublicKey, Tier)> {
        self.records
            .iter()
            .filter(|r| matches!(r.state, KeyState::Active | KeyState::Retiring))
            .map(|r| (r.key.public_key().clone(), r.tier.clone()))
            .collect()
    }

    /// The rules every stored set keeps: per tier at most one active and one staged key, and
    /// distinct truncated key ids among all keys not retired (devices name keys by them).
    pub fn validate(&self) -> Result<()> {
        let live: Vec<&KeyRecord> = self
            .records
            .iter()
            .filter(|r| r.state != KeyState::Retired)
            .collect();
        for (i, a) in live.iter().enumerate() {
            for b in live.iter().skip(i + 1) {
                if a.key.public_key().key_id().truncated()
                    == b.key.public_key().key_id().truncated()
                {
                    return Err(Error::CorruptStore(
                        "two live keys share a truncated key id".into(),
                    ));
                }
                if a.tier == b.tier
                    && a.state == b.state
                    && matches!(a.state, KeyState::Active | KeyState::Staged)
                {
                    return Err(Error::CorruptStore(format!(
                        "tier {:?} has two {:?} keys",
                        a.tier.0, a.state
                    )));
                }
            }
        }
        Ok(())
    }

    /// The document as `version` would store it.
    pub(crate) fn encode(&self, version: u64) -> Result<Vec<u8>> {
        let keys = self
            .records
            .iter()
            .map(|r| {
                Ok(RecordDoc {
                    tier: r.tier.clone(),
                    state: r.state,
                    not_before: r.not_before,
                    private_key: base64::engine::general_purpose::STANDARD.encode(r.key.to_der()?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        serde_json::to_vec_pretty(&Document {
            format: FORMAT,
            version,
            keys,
        })
        .map_err(|e| Error::Store(format!("encoding key set: {e}")))
    }

    /// Decodes a stored document, checking its format, every private key and the key-set rules.
    pub(crate) fn decode(bytes: &[u8]) -> Result<KeySet> {
        let doc: Document = serde_json::from_slice(bytes)
            .map_err(|e| Error::CorruptStore(format!("key set JSON: {e}")))?;
        if doc.format != FORMAT {
            return Err(Error::CorruptStore(format!(
                "key set format {} (this build reads {FORMAT})",
                doc.format
            )));
        }
        let records = doc
            .keys
            .into_iter()
            .map(|r| {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(&r.private_key)
                    .map_err(|_| Error::CorruptStore("private key is not base64".into()))?;
                let key = SigningKey::from_der(&der).map_err(|e| {
                    Error::CorruptStore(format!("private key of tier {:?}: {e}", r.tier.0))
                })?;
                Ok(KeyRecord {
                    tier: r.tier,
                    key,
                    state: r.state,
                    not_before: r.not_before,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        KeySet::new(doc.version, records)
    }
}
