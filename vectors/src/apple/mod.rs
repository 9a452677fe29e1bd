//! The `apple` conformance suite: walks a transcript directory's `manifest.json` and checks every
//! file it lists (integrity, then the kind-specific checks), then the `he` section's derivations.
//! PIR checks belong in their own module beside `files` and `he`.

mod files;
mod he;
mod pir;
mod recompute;

use std::path::Path;

use serde_json::Value;

use crate::report::{Outcome, Report};

/// Why a transcript directory could not be walked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// `manifest.json` could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The manifest's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `manifest.json` is not JSON.
    #[error("parsing manifest.json: {0}")]
    Parse(#[from] serde_json::Error),
    /// A section the runner needs is missing or of the wrong type.
    #[error("manifest.json: {0}")]
    Shape(&'static str),
}

/// Runs every check of `dir/manifest.json`.
pub fn run(dir: &Path) -> Result<Report, ManifestError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let manifest: Value = serde_json::from_str(&text)?;
    let mut report = Report::default();
    let entries = manifest
        .get("files")
        .and_then(Value::as_array)
        .ok_or(ManifestError::Shape("`files` is not a list"))?;
    for entry in entries {
        files::check(dir, entry, &mut report);
    }
    if let Some(sets) = manifest.get("he").and_then(Value::as_array) {
        for set in sets {
            he::check(dir, set, &mut report);
        }
    }
    if let Some(variants) = manifest.get("pir").and_then(Value::as_array) {
        for variant in variants {
            pir::check(dir, variant, &mut report);
        }
    }
    Ok(report)
}

/// Reads a listed file, or says why it cannot be checked.
fn read(dir: &Path, rel: &str) -> Result<Vec<u8>, Outcome> {
    let path = dir.join(rel);
    if !path.exists() {
        return Err(Outcome::Skip("file absent from this copy".into()));
    }
    std::fs::read(&path).map_err(|e| Outcome::Fail(format!("reading: {e}")))
}
