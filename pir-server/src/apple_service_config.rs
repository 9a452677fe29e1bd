//! Migration from Apple's example `PIRService`: its `service-config.json` (issue #7 "Also reads
//! Apple's service-config.json for migration"; the use cases of pir-protocol.md §1.10), read as
//! `[[usecase]]` entries in Apple's layout so the files `PIRProcessDatabase` wrote are served as
//! they are.
//!
//! Apple's file: `{"users":[{"tier":…,"tokens":[…]}], "usecases":[{"name":…, "fileStem":…,
//! "shardCount":…, "versionCount":…, "symmetricPirArguments":…}], "issuerRequestUri":…,
//! "reportDirectory":…}`. Apple's service opens `<fileStem>-<i>.params.txtpb` and `<fileStem>-<i>.bin`
//! relative to its working directory; so does this import. Unknown keys are ignored, as Apple's
//! `JSONDecoder` does. Plain user tokens are not imported: the issuer here keeps only their hashes
//! (`[issuer] user_tokens`), so a migration hashes them once, outside the server.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::server_config::{LayoutName, UsecaseConfigEntry};

/// The parts of Apple's file this server uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppleServiceConfig {
    /// Apple's decoder requires the key; its contents are not imported (module doc).
    pub users: Vec<serde_json::Value>,
    pub usecases: Vec<AppleUsecase>,
    pub issuer_request_uri: Option<String>,
    pub report_directory: Option<PathBuf>,
}

/// One entry of `usecases`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppleUsecase {
    pub name: String,
    /// Path prefix of the shard files, e.g. `url` or `data/url`.
    pub file_stem: String,
    pub shard_count: usize,
    /// Apple's default is 2, as ours.
    pub version_count: Option<usize>,
    /// Symmetric PIR is not served here; its presence is refused rather than served wrongly.
    pub symmetric_pir_arguments: Option<serde_json::Value>,
}

/// Why the file cannot be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppleConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an Apple service config: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("usecase {name}: {reason}")]
    Usecase { name: String, reason: String },
}

impl AppleServiceConfig {
    /// Reads and parses `path`.
    ///
    /// # Errors
    /// [`AppleConfigError::Read`] / [`AppleConfigError::Parse`].
    pub fn from_file(path: &Path) -> Result<Self, AppleConfigError> {
        let text = std::fs::read(path).map_err(|source| AppleConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| AppleConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The use cases as `[[usecase]]` entries (Apple layout). Checks what Apple's service would
    /// fail on at load, and that exactly `shardCount` shards are on disk (the loader takes shards
    /// 0, 1, … until the first absent one, Apple takes `shardCount` of them).
    ///
    /// # Errors
    /// [`AppleConfigError::Usecase`] naming the use case and the problem.
    pub fn usecase_entries(&self) -> Result<Vec<UsecaseConfigEntry>, AppleConfigError> {
        self.usecases.iter().map(AppleUsecase::entry).collect()
    }
}

impl AppleUsecase {
    fn entry(&self) -> Result<UsecaseConfigEntry, AppleConfigError> {
        let bad = |reason: String| AppleConfigError::Usecase {
            name: self.name.clone(),
            reason,
        };
        if self.symmetric_pir_arguments.is_some() {
            return Err(bad("symmetric PIR is not supported".into()));
        }
        let versions = self
            .version_count
            .unwrap_or(crate::usecase_store::DEFAULT_VERSION_COUNT);
        if versions == 0 {
            // Apple's service removes the use case then; here it is simply not configured.
            return Err(bad("versionCount 0: remove the use case instead".into()));
        }
        let stem = Path::new(&self.file_stem);
        let file_stem = stem
            .file_name()
            .and_then(|s| s.to_str())
            .ok_or_else(|| bad(format!("fileStem {:?} names no file", self.file_stem)))?
            .to_owned();
        let directory = match stem.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let has_shard = |i: usize| {
            ["txtpb", "binpb"].iter().any(|ext| {
                directory
                    .join(format!("{file_stem}-{i}.params.{ext}"))
                    .is_file()
            })
        };
        if self.shard_count == 0 || !(0..self.shard_count).all(has_shard) {
            return Err(bad(format!(
                "shardCount {} but {}-<i>.params.txtpb missing in {}",
                self.shard_count,
                file_stem,
                directory.display()
            )));
        }
        if has_shard(self.shard_count) {
            return Err(bad(format!(
                "shardCount {} but {} holds more shards",
                self.shard_count,
                directory.display()
            )));
        }
        Ok(UsecaseConfigEntry {
            name: self.name.clone(),
            directory,
            versions,
            layout: LayoutName::Apple,
            file_stem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apples_example_parses_and_symmetric_pir_is_refused() {
        let json = r#"{"users":[{"tier":"tier1","tokens":["AAAA"]}],
            "usecases":[{"fileStem":"url","shardCount":1,"name":"a.url.filtering",
            "symmetricPirArguments":{"databaseEncryptionKeyFilePath":"k.txt"}}],
            "issuerRequestUri":"https://issuer.example/issue"}"#;
        let config: AppleServiceConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.usecases[0].file_stem, "url");
        assert_eq!(config.usecases[0].version_count, None);
        let err = config.usecase_entries().unwrap_err().to_string();
        assert!(err.contains("symmetric"), "{err}");
        assert!(serde_json::from_str::<AppleServiceConfig>(r#"{"usecases":[]}"#).is_err());
    }
}
