//! Loading the project's vectors (`vectors/` at the repository root).

use std::path::PathBuf;

/// `vectors/<relative>` in the repository.
pub fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../vectors")
        .join(relative)
}

/// The bytes of `vectors/<relative>`.
pub fn read_vector(relative: &str) -> Vec<u8> {
    let path = vector_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `vectors/<relative>` parsed as JSON.
pub fn read_json(relative: &str) -> serde_json::Value {
    serde_json::from_slice(&read_vector(relative)).expect("valid JSON")
}
