//! Building the served [`UsecaseStore`] from the configured use-case directories, at start-up and
//! on every reload (pir-protocol.md §1.10; issue #7 "hot reload … atomic swap").
//!
//! A use-case directory either is one version (it holds shard 0's params itself) or holds one
//! version per subdirectory; subdirectory names sort oldest first (e.g. `20261203T1930Z`, as
//! `pir-server build` names them) and the newest `versions` are served. A version already served
//! from the same directory with the same config id is kept as is, so a reload re-maps only what
//! changed and requests in flight finish on the version they started with.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::usecase::{Layout, LoadError, Usecase};
use crate::usecase_store::UsecaseStore;

/// One configured use case.
#[derive(Debug, Clone)]
pub struct UsecaseSource {
    /// The use-case string devices send (`<app bundle id>.url.filtering`).
    pub name: String,
    pub directory: PathBuf,
    pub layout: Layout,
    /// Versions kept (≥ 1).
    pub versions: usize,
}

/// The version directories of `source`, oldest first, at most `versions` of them.
///
/// # Errors
/// [`LoadError`] when the directory cannot be listed or holds no version.
pub fn version_dirs(source: &UsecaseSource) -> Result<Vec<PathBuf>, LoadError> {
    if holds_shard_zero(&source.directory, &source.layout) {
        return Ok(vec![source.directory.clone()]);
    }
    let entries =
        std::fs::read_dir(&source.directory).map_err(|e| LoadError::io(&source.directory, e))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| LoadError::io(&source.directory, e))?;
        let path = entry.path();
        // Names starting with '.' are work in progress (`pir-server build` writes into a hidden
        // directory and renames it when complete).
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden && holds_shard_zero(&path, &source.layout) {
            dirs.push(path);
        }
    }
    dirs.sort();
    if dirs.is_empty() {
        return Err(LoadError::NoShards {
            path: source.directory.clone(),
            expected: "a version directory".into(),
        });
    }
    let skip = dirs.len().saturating_sub(source.versions.max(1));
    Ok(dirs.split_off(skip))
}

fn holds_shard_zero(dir: &Path, layout: &Layout) -> bool {
    match layout {
        Layout::Native => dir.join("shard-0.params.binpb").is_file(),
        Layout::Apple { file_stem } => {
            dir.join(format!("{file_stem}-0.params.txtpb")).is_file()
                || dir.join(format!("{file_stem}-0.params.binpb")).is_file()
        }
    }
}

/// Loads every source's versions, reusing what `previous` already serves. Blocking (file I/O).
///
/// # Errors
/// The first [`LoadError`]; nothing is swapped in then.
pub fn load_store(
    sources: &[UsecaseSource],
    previous: &UsecaseStore<Usecase>,
) -> Result<UsecaseStore<Usecase>, LoadError> {
    let mut store = UsecaseStore::default();
    for source in sources {
        for dir in version_dirs(source)? {
            let config_id = Usecase::peek_config_id(&dir, &source.layout)?;
            let reused = match previous.get(&source.name, &config_id) {
                crate::usecase_store::Lookup::Found(u) if u.source == dir => Some(Arc::clone(u)),
                _ => None,
            };
            let usecase = match reused {
                Some(u) => u,
                None => Arc::new(Usecase::load(&dir, &source.layout)?),
            };
            store.insert(&source.name, config_id, usecase, source.versions.max(1));
        }
    }
    Ok(store)
}
