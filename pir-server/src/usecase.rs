//! One loaded version of a use case (pir-protocol.md §1.4.1, §1.10): its `PIRConfig` and
//! `config_id`, its shards, and its prefilter, read from a version directory.
//!
//! Two directory layouts are read:
//! - [`Layout::Native`], what `pir-server build` writes: `shard-<i>.params.binpb`,
//!   `shard-<i>.pirdb` (our memory-mapped format) and `prefilter.json`;
//! - [`Layout::Apple`], what Apple's `PIRProcessDatabase` writes (migration):
//!   `<stem>-<i>.params.txtpb` (or `.binpb`) and `<stem>-<i>.bin`.
//!
//! Shards are numbered from 0 until the first missing params file.

use std::path::{Path, PathBuf};

use pir::proto::pir as pir_proto;
use pir::usecase_config::UsecaseConfig;
use prost::Message as _;

use crate::prefilter::Prefilter;
use crate::shard::Shard;
use crate::shard_loader;

/// Which files a version directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// `pir-server build` output.
    Native,
    /// Apple's processed `.bin` + params files with this file stem.
    Apple { file_stem: String },
}

/// Why a version could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no shard params file ({expected})")]
    NoShards { path: PathBuf, expected: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl LoadError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl ToString) -> Self {
        Self::Invalid {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }
}

/// A use-case version as served.
#[derive(Debug)]
pub struct Usecase {
    /// The directory it was loaded from.
    pub source: PathBuf,
    pub config: UsecaseConfig,
    pub shards: Vec<Shard>,
    pub prefilter: Option<Prefilter>,
}

impl Usecase {
    /// Loads the version in `dir`.
    ///
    /// # Errors
    /// [`LoadError`] naming the file at fault.
    pub fn load(dir: &Path, layout: &Layout) -> Result<Self, LoadError> {
        let params = load_params(dir, layout)?;
        let config = UsecaseConfig::from_shards(&params).map_err(|e| LoadError::invalid(dir, e))?;
        let mut shards = Vec::with_capacity(params.len());
        for (i, params) in params.into_iter().enumerate() {
            let (data_path, format) = match layout {
                Layout::Native => (
                    dir.join(format!("shard-{i}.pirdb")),
                    shard_loader::DataFormat::Native,
                ),
                Layout::Apple { file_stem } => (
                    dir.join(format!("{file_stem}-{i}.bin")),
                    shard_loader::DataFormat::AppleBin,
                ),
            };
            let responder = shard_loader::load(&data_path, format, &params)?;
            shards.push(Shard { params, responder });
        }
        let prefilter_path = dir.join("prefilter.json");
        let prefilter = match std::fs::read(&prefilter_path) {
            Ok(json) => Some(
                Prefilter::from_json(json).map_err(|e| LoadError::invalid(&prefilter_path, e))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(LoadError::io(&prefilter_path, e)),
        };
        Ok(Self {
            source: dir.to_owned(),
            config,
            shards,
            prefilter,
        })
    }

    /// Reads only the shards' params and the config id: enough to tell whether a directory holds
    /// a version that is already loaded, without mapping its databases again.
    ///
    /// # Errors
    /// As [`load`](Self::load), for the params files.
    pub fn peek_config_id(dir: &Path, layout: &Layout) -> Result<[u8; 32], LoadError> {
        let params = load_params(dir, layout)?;
        UsecaseConfig::from_shards(&params)
            .map(|c| c.config_id)
            .map_err(|e| LoadError::invalid(dir, e))
    }
}

/// The params files of shards 0, 1, … until the first absent one.
fn load_params(dir: &Path, layout: &Layout) -> Result<Vec<pir_proto::PirParameters>, LoadError> {
    let mut shards = Vec::new();
    loop {
        let i = shards.len();
        let candidates = match layout {
            Layout::Native => vec![dir.join(format!("shard-{i}.params.binpb"))],
            Layout::Apple { file_stem } => vec![
                dir.join(format!("{file_stem}-{i}.params.txtpb")),
                dir.join(format!("{file_stem}-{i}.params.binpb")),
            ],
        };
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            break;
        };
        shards.push(read_params(path)?);
    }
    if shards.is_empty() {
        let expected = match layout {
            Layout::Native => "shard-0.params.binpb".to_owned(),
            Layout::Apple { file_stem } => format!("{file_stem}-0.params.txtpb"),
        };
        return Err(LoadError::NoShards {
            path: dir.to_owned(),
            expected,
        });
    }
    Ok(shards)
}

/// A params file, text or binary by its extension (as Apple's tools decide).
pub fn read_params(path: &Path) -> Result<pir_proto::PirParameters, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
    if path.extension().is_some_and(|e| e == "txtpb") {
        let text = std::str::from_utf8(&bytes).map_err(|e| LoadError::invalid(path, e))?;
        pir::text_format::parse(text).map_err(|e| LoadError::invalid(path, e))
    } else {
        pir_proto::PirParameters::decode(bytes.as_slice()).map_err(|e| LoadError::invalid(path, e))
    }
}
