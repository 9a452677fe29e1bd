//! Apple's `PIRProcessDatabase` JSON configuration (spec/pir-protocol.md §5.4; Apple's
//! `Sources/PIRProcessDatabase/main.swift`): parsing, defaults and validation.
//!
//! Keys are Apple's; unknown keys are ignored, as Swift's `JSONDecoder` does. Paths are kept as
//! strings: reading and writing files is the caller's business.

use serde::{Deserialize, Serialize};

use crate::PirError;
use crate::bucket::{self, MAX_SLOT_COUNT};
use crate::cuckoo::{BucketCount, CuckooConfig, default_max_serialized_bucket_size};
use crate::evaluation_key::KeyCompression;
use crate::keyword_pir::KeywordPirConfig;
use crate::sharding::{Sharding, ShardingFunction};

/// The placeholder replaced by the decimal shard index in output paths.
pub const SHARD_ID: &str = "SHARD_ID";

/// The whole JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessConfig {
    /// `KeywordDatabase` or `IndexPirDatabase`, text if `.txtpb`, else binary.
    pub input_database: String,
    /// Output `.bin` path, with [`SHARD_ID`].
    pub output_database: String,
    /// Output params path, with [`SHARD_ID`]; `.txtpb` means text.
    pub output_pir_parameters: String,
    /// A predefined RLWE parameter set, e.g. `n_4096_logq_27_28_28_logt_5`.
    pub rlwe_parameters: String,
    /// `keyword` or `index`; absent (Apple's release/1.1) means keyword.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_type: Option<DatabaseType>,
    /// Where to write the union evaluation-key config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_evaluation_key_config: Option<String>,
    /// Default: one shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding: Option<Sharding>,
    /// Default: sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding_function: Option<ShardingFunction>,
    /// Cuckoo table knobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuckoo_table_arguments: Option<CuckooTableArguments>,
    /// Only `mulPir` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// Default: no compression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_compression: Option<KeyCompression>,
    /// Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_max_serialized_bucket_size: Option<bool>,
    /// Symmetric PIR key files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_pir_arguments: Option<SymmetricPirArguments>,
    /// End-to-end validation queries per shard (0 skips). Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials_per_shard: Option<usize>,
    /// Index databases only. Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_entry_size: Option<bool>,
    /// Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uneven_dimensions: Option<bool>,
}

/// `databaseType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DatabaseType {
    /// `KeywordDatabase` input.
    Keyword,
    /// `IndexPirDatabase` input.
    Index,
}

/// `algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Algorithm {
    /// Parsed, then rejected, as Apple does.
    AclsPir,
    /// The only supported algorithm.
    MulPir,
}

/// `cuckooTableArguments`; every key optional.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CuckooTableArguments {
    /// Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_function_count: Option<usize>,
    /// Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_eviction_count: Option<usize>,
    /// Default: [`default_max_serialized_bucket_size`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_serialized_bucket_size: Option<usize>,
    /// Default: allow expansion (0.9, 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_count: Option<TableSizeOption>,
    /// Default 255.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_count: Option<usize>,
}

/// `bucketCount`: `{"allowExpansion": {...}}` or `{"fixedSize": {"bucketCount": n}}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum TableSizeOption {
    /// Grow as needed.
    AllowExpansion {
        /// Default 0.9.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_load_factor: Option<f64>,
        /// Default 1.1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expansion_factor: Option<f64>,
    },
    /// A fixed total bucket count.
    FixedSize {
        /// Buckets over all tables.
        bucket_count: usize,
    },
}

/// `symmetricPirArguments`: exactly one of the two key paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricPirArguments {
    /// Read the OPRF key (hex) from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_encryption_key_file_path: Option<String>,
    /// Generate a key and write its hex here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_database_encryption_key_file_path: Option<String>,
    /// Default and only value: `OPRF_P384_AES_GCM_192_NONCE_96_TAG_128`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_type: Option<SymmetricPirConfigType>,
}

/// Where the symmetric-PIR key comes from, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymmetricPirKeySource {
    /// Read the hex key from this path.
    Read(String),
    /// Generate a key and write its hex to this path.
    Generate(String),
}

/// `configType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SymmetricPirConfigType {
    /// P-384 VOPRF, AES-192-GCM, 96-bit nonce, 128-bit tag.
    #[serde(rename = "OPRF_P384_AES_GCM_192_NONCE_96_TAG_128")]
    OprfP384AesGcm192Nonce96Tag128,
}

/// A keyword configuration with every default applied and every rule checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedKeywordConfig {
    /// Sharding of the input rows.
    pub sharding: Sharding,
    /// How each shard is processed.
    pub keyword: KeywordPirConfig,
    /// Validation queries per shard.
    pub trials_per_shard: usize,
    /// Symmetric PIR, if configured.
    pub symmetric_pir: Option<(SymmetricPirKeySource, SymmetricPirConfigType)>,
}

impl ProcessConfig {
    /// Parses the JSON text.
    ///
    /// # Errors
    /// [`PirError::InvalidProcessConfig`] for malformed JSON or values out of range.
    pub fn from_json(json: &str) -> Result<Self, PirError> {
        serde_json::from_str(json).map_err(|e| PirError::InvalidProcessConfig(e.to_string()))
    }

    /// The database type (keyword when absent).
    pub fn database_type(&self) -> DatabaseType {
        self.database_type.unwrap_or(DatabaseType::Keyword)
    }

    /// Applies Apple's defaults for a keyword database whose largest value has
    /// `max_value_size` bytes, in a ring carrying `bytes_per_plaintext` bytes per plaintext.
    ///
    /// # Errors
    /// [`PirError::InvalidProcessConfig`]: an index database; an algorithm other than mulPir;
    /// output paths without [`SHARD_ID`] when there may be more than one shard; a
    /// `maxSerializedBucketSize` below `11 + max_value_size`; conflicting or missing
    /// symmetric-PIR key paths; an invalid cuckoo configuration.
    pub fn resolve_keyword(
        &self,
        max_value_size: usize,
        bytes_per_plaintext: usize,
    ) -> Result<ResolvedKeywordConfig, PirError> {
        let invalid = |m: String| Err(PirError::InvalidProcessConfig(m));
        if self.database_type() != DatabaseType::Keyword {
            return invalid("databaseType must be 'keyword' for a keyword database".into());
        }
        if let Some(algorithm) = self.algorithm
            && algorithm != Algorithm::MulPir
        {
            return invalid(format!("'algorithm' must be 'mulPir', found {algorithm:?}"));
        }
        let sharding = self.sharding.unwrap_or_default();
        if sharding != Sharding::default() {
            for (key, path) in [
                ("outputPirParameters", &self.output_pir_parameters),
                ("outputDatabase", &self.output_database),
            ] {
                if !path.contains(SHARD_ID) {
                    return invalid(format!("'{key}' must contain '{SHARD_ID}', found {path}"));
                }
            }
        }

        let args = self.cuckoo_table_arguments.unwrap_or_default();
        let required = bucket::serialized_size([max_value_size]);
        let max_bucket = args.max_serialized_bucket_size.unwrap_or_else(|| {
            default_max_serialized_bucket_size(max_value_size, bytes_per_plaintext)
        });
        if max_bucket < required {
            return invalid(format!(
                "'maxSerializedBucketSize' {max_bucket} must be at least {required} \
                 (the largest value, {max_value_size} bytes, plus 11 bytes of bucket overhead)"
            ));
        }
        let bucket_count = match args.bucket_count {
            None => BucketCount::default(),
            Some(TableSizeOption::AllowExpansion {
                target_load_factor,
                expansion_factor,
            }) => BucketCount::AllowExpansion {
                expansion_factor: expansion_factor.unwrap_or(1.1),
                target_load_factor: target_load_factor.unwrap_or(0.9),
            },
            Some(TableSizeOption::FixedSize { bucket_count }) => {
                BucketCount::FixedSize { bucket_count }
            }
        };
        let cuckoo = CuckooConfig::new(
            args.hash_function_count.unwrap_or(2),
            args.max_eviction_count.unwrap_or(100),
            max_bucket,
            bucket_count,
            args.slot_count.unwrap_or(MAX_SLOT_COUNT),
        )
        .map_err(|e| PirError::InvalidProcessConfig(e.to_string()))?;

        let symmetric_pir = match &self.symmetric_pir_arguments {
            None => None,
            Some(spir) => {
                let config_type = spir
                    .config_type
                    .unwrap_or(SymmetricPirConfigType::OprfP384AesGcm192Nonce96Tag128);
                let source = match (
                    &spir.database_encryption_key_file_path,
                    &spir.output_database_encryption_key_file_path,
                ) {
                    (Some(read), None) => SymmetricPirKeySource::Read(read.clone()),
                    (None, Some(write)) => SymmetricPirKeySource::Generate(write.clone()),
                    (Some(_), Some(_)) => {
                        return invalid(
                            "both 'databaseEncryptionKeyFilePath' and \
                             'outputDatabaseEncryptionKeyFilePath' are set; set one"
                                .into(),
                        );
                    }
                    (None, None) => {
                        return invalid(
                            "'symmetricPirArguments' needs 'databaseEncryptionKeyFilePath' or \
                             'outputDatabaseEncryptionKeyFilePath'"
                                .into(),
                        );
                    }
                };
                Some((source, config_type))
            }
        };

        Ok(ResolvedKeywordConfig {
            sharding,
            keyword: KeywordPirConfig {
                dimension_count: 2,
                cuckoo,
                uneven_dimensions: self.uneven_dimensions.unwrap_or(true),
                key_compression: self.key_compression.unwrap_or_default(),
                use_max_serialized_bucket_size: self
                    .use_max_serialized_bucket_size
                    .unwrap_or(false),
                sharding_function: self.sharding_function.unwrap_or_default(),
            },
            trials_per_shard: self.trials_per_shard.unwrap_or(1),
            symmetric_pir,
        })
    }
}
