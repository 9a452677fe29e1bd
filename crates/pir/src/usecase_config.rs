//! A usecase's `PIRConfig`, its `config_id` and its union evaluation-key config, built from the
//! shards' params files (spec/pir-protocol.md §1.4.1; apple/pir-service-example `PirUsecase
//! .config()`).
//!
//! Byte-exact with the reference: `shard_id` is present and empty in every shard config, shard
//! 0's keyword parameters are used, and when there is more than one shard and all shards share
//! their index-PIR parameters the compact `pir_shard_configs` replaces `shard_configs`.

use crate::PirError;
use crate::canonical::{config_id, evaluation_key_config_hash};
use crate::evaluation_key::EvaluationKeyConfig;
use crate::params_file::from_pir_parameters;
use crate::proto::{api, api_pir, he, pir};

/// The pieces `/config` serves for one usecase.
#[derive(Debug, Clone, PartialEq)]
pub struct UsecaseConfig {
    /// The full, newest `PIRConfig`.
    pub pir_config: api_pir::PirConfig,
    /// SHA-256 of `pir_config`.
    pub config_id: [u8; 32],
    /// The union over shards, with the encryption parameters (`KeyStatus.key_config`).
    pub evaluation_key_config: he::EvaluationKeyConfig,
}

impl UsecaseConfig {
    /// Builds the configuration from the shards' params, in shard order.
    ///
    /// # Errors
    /// [`PirError::InvalidParameters`]: no shards, invalid params, or shards whose encryption
    /// parameters differ.
    pub fn from_shards(shards: &[pir::PirParameters]) -> Result<Self, PirError> {
        let first = shards
            .first()
            .ok_or_else(|| PirError::InvalidParameters("no shards".into()))?;
        let encryption_parameters = first
            .encryption_parameters
            .clone()
            .ok_or_else(|| PirError::InvalidParameters("encryption_parameters missing".into()))?;
        let mut shard_configs = Vec::with_capacity(shards.len());
        let mut key_configs = Vec::with_capacity(shards.len());
        for (i, shard) in shards.iter().enumerate() {
            if shard.encryption_parameters.as_ref() != Some(&encryption_parameters) {
                return Err(PirError::InvalidParameters(format!(
                    "shard {i} has other encryption parameters than shard 0"
                )));
            }
            let (index, _) = from_pir_parameters(shard)?;
            key_configs.push(index.evaluation_key_config);
            shard_configs.push((
                api_pir::PirShardConfig {
                    num_entries: shard.num_entries,
                    entry_size: shard.entry_size,
                    dimensions: shard.dimensions.clone(),
                    shard_id: Some(String::new()),
                    compress_vectorized_pir_response: None,
                    vectorized_pir_internal_batching_size: None,
                },
                (
                    shard.batch_size,
                    shard.evaluation_key_config.clone(),
                    shard.encoding_entry_size,
                ),
            ));
        }
        let union = EvaluationKeyConfig::union(&key_configs).to_proto(&encryption_parameters);

        // Apple compares whole IndexPirParameters: shape, batch size, key config, encoding.
        let all_equal = shard_configs.windows(2).all(|w| w[0] == w[1]);
        let (shard_configs, pir_shard_configs) = match shard_configs.first() {
            Some((config, _)) if shards.len() > 1 && all_equal => (
                Vec::new(),
                Some(api_pir::PirShardConfigs {
                    shard_configs: Some(
                        api_pir::pir_shard_configs::ShardConfigs::RepeatedShardConfig(
                            api_pir::PirFixedShardConfig {
                                shard_config: Some(config.clone()),
                                shard_count: u32::try_from(shards.len()).map_err(|_| {
                                    PirError::InvalidParameters(format!("{} shards", shards.len()))
                                })?,
                            },
                        ),
                    ),
                }),
            ),
            _ => (shard_configs.into_iter().map(|(c, _)| c).collect(), None),
        };

        let pir_config = api_pir::PirConfig {
            encryption_parameters: Some(encryption_parameters),
            shard_configs,
            keyword_pir_params: first.keyword_pir_params.clone(),
            algorithm: pir::PirAlgorithm::MulPir as i32,
            batch_size: first.batch_size,
            evaluation_key_config_hash: evaluation_key_config_hash(&union).to_vec(),
            pir_shard_configs,
            encoding_entry_size: None,
            custom_config: None,
        };
        Ok(Self {
            config_id: config_id(&pir_config),
            pir_config,
            evaluation_key_config: union,
        })
    }

    /// The `Config` message of `/config` (full form).
    pub fn to_config(&self) -> api::Config {
        api::Config {
            config: Some(api::config::Config::PirConfig(self.pir_config.clone())),
            config_id: self.config_id.to_vec(),
            reuse_existing_config: false,
        }
    }
}
