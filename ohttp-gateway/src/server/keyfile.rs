//! The key file: gateway key seeds persisted as JSON (spec §1.8, §6.2), written atomically with
//! mode 0600, or handed in whole by the operator's secret store (an environment variable or a
//! mounted secret file), so every replica derives the same keys.
//!
//! ```json
//! {"keys": [{"id": 2, "seed": "<64 hex>", "state": "current"},
//!           {"id": 1, "seed": "<64 hex>", "state": "retiring"}]}
//! ```

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::codepoints::KeyId;
use crate::error::GatewayError;
use crate::keys::{KeySeed, KeySpec, KeyState};

/// One persisted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// Key identifier.
    pub id: u8,
    /// Seed, hex.
    pub seed: String,
    /// Published or only accepted.
    pub state: KeyState,
}

/// The file's contents, in published order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Keys, preferred first.
    pub keys: Vec<KeyEntry>,
}

impl KeyFile {
    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Self, GatewayError> {
        serde_json::from_str(text).map_err(|e| GatewayError::Config(format!("key file: {e}")))
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, GatewayError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| GatewayError::Config(format!("reading {}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    /// The key specs, validated.
    pub fn specs(&self) -> Result<Vec<KeySpec>, GatewayError> {
        self.keys
            .iter()
            .map(|k| {
                Ok(KeySpec {
                    id: KeyId(k.id),
                    seed: KeySeed::from_hex(&k.seed)?,
                    state: k.state,
                })
            })
            .collect()
    }

    /// Starts a rotation: the new key becomes the preferred current key and every current key
    /// becomes retiring (still accepted, no longer published). Returns the new id.
    pub fn rotate(&mut self, seed: &KeySeed) -> Result<u8, GatewayError> {
        let id = (0..=u8::MAX)
            .map(|i| {
                self.keys
                    .first()
                    .map_or(1, |k| k.id.wrapping_add(1))
                    .wrapping_add(i)
            })
            .find(|id| self.keys.iter().all(|k| k.id != *id))
            .ok_or_else(|| GatewayError::Config("all 256 key ids in use".into()))?;
        for key in &mut self.keys {
            key.state = KeyState::Retiring;
        }
        self.keys.insert(
            0,
            KeyEntry {
                id,
                seed: seed.to_hex(),
                state: KeyState::Current,
            },
        );
        Ok(id)
    }

    /// Ends a rotation: drops every retiring key. Returns how many were dropped.
    pub fn retire(&mut self) -> usize {
        let before = self.keys.len();
        self.keys.retain(|k| k.state == KeyState::Current);
        before - self.keys.len()
    }

    /// Writes the file atomically (temporary file in the same directory, fsync, rename, fsync of
    /// the directory) with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), GatewayError> {
        let io =
            |e: std::io::Error| GatewayError::Config(format!("writing {}: {e}", path.display()));
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| GatewayError::Internal(format!("key file encode: {e}")))?;
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = Path::new(&tmp_name);
        // A temporary left by a crash may carry other permissions: start from a fresh 0600 file.
        match std::fs::remove_file(tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(tmp)
            .map_err(io)?;
        file.write_all(&json).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(tmp, path).map_err(io)?;
        // The rename itself survives a crash only once the directory is synced.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)
    }
}
