//! Old-OS compatibility rewrites of a `Config` (pir-protocol.md §1.4.2): clients before iOS 18.2 /
//! macOS 15.2 do not understand the compact `pir_shard_configs` or sharding functions other than
//! SHA-256.

use pir::proto::{api, api_pir, pir as pir_proto};

use crate::api_error::ApiError;
use crate::platform::Platform;

/// Rewrites `config` for `platform`; a reuse stub carries no `PIRConfig` and is left alone.
///
/// # Errors
/// [`ApiError::UnsupportedSharding`] when the platform cannot use the configured sharding.
pub fn make_compatible(config: &mut api::Config, platform: &Platform) -> Result<(), ApiError> {
    let Some(api::config::Config::PirConfig(pir_config)) = config.config.as_mut() else {
        return Ok(());
    };
    if !platform.supports_fixed_shard_config()
        && let Some(api_pir::PirShardConfigs {
            shard_configs:
                Some(api_pir::pir_shard_configs::ShardConfigs::RepeatedShardConfig(repeated)),
        }) = pir_config.pir_shard_configs.take()
    {
        let shard = repeated.shard_config.unwrap_or_default();
        pir_config.shard_configs = (0..repeated.shard_count).map(|_| shard.clone()).collect();
    }
    if !platform.supports_non_sha256_sharding() {
        let function = pir_config
            .keyword_pir_params
            .as_ref()
            .and_then(|k| k.sharding_function.as_ref())
            .and_then(|f| f.function.as_ref());
        if matches!(
            function,
            Some(pir_proto::pir_sharding_function::Function::DoubleMod(_))
        ) {
            return Err(ApiError::UnsupportedSharding {
                platform: platform.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Os;

    fn ios(major: u32, minor: u32) -> Platform {
        Platform {
            os: Os::Ios,
            major,
            minor,
            patch: 0,
        }
    }

    fn repeated_config(sharding: pir_proto::pir_sharding_function::Function) -> api::Config {
        let shard = api_pir::PirShardConfig {
            num_entries: 10,
            entry_size: 100,
            dimensions: vec![5, 2],
            shard_id: Some(String::new()),
            ..Default::default()
        };
        api::Config {
            config: Some(api::config::Config::PirConfig(api_pir::PirConfig {
                pir_shard_configs: Some(api_pir::PirShardConfigs {
                    shard_configs: Some(
                        api_pir::pir_shard_configs::ShardConfigs::RepeatedShardConfig(
                            api_pir::PirFixedShardConfig {
                                shard_config: Some(shard),
                                shard_count: 5,
                            },
                        ),
                    ),
                }),
                keyword_pir_params: Some(pir_proto::KeywordPirParameters {
                    num_hash_functions: 2,
                    symmetric_pir_client_config: None,
                    sharding_function: Some(pir_proto::PirShardingFunction {
                        function: Some(sharding),
                    }),
                }),
                ..Default::default()
            })),
            config_id: vec![1; 32],
            reuse_existing_config: false,
        }
    }

    fn pir_config(config: &api::Config) -> &api_pir::PirConfig {
        match config.config.as_ref() {
            Some(api::config::Config::PirConfig(c)) => c,
            _ => panic!("no PIRConfig"),
        }
    }

    #[test]
    fn old_clients_get_the_repeated_shard_config_expanded() {
        let sha = pir_proto::pir_sharding_function::Function::Sha256(
            pir_proto::PirShardingFunctionSha256 {},
        );
        let mut old = repeated_config(sha);
        make_compatible(&mut old, &ios(18, 0)).unwrap();
        let c = pir_config(&old);
        assert_eq!(c.shard_configs.len(), 5);
        assert!(c.pir_shard_configs.is_none());
        assert_eq!(c.shard_configs[4].dimensions, [5, 2]);

        let mut new = repeated_config(sha);
        let before = new.clone();
        make_compatible(&mut new, &ios(18, 2)).unwrap();
        assert_eq!(new, before);
    }

    #[test]
    fn double_mod_is_refused_for_old_clients_only() {
        let dm = pir_proto::pir_sharding_function::Function::DoubleMod(
            pir_proto::PirShardingFunctionDoubleMod {
                other_shard_count: 3,
            },
        );
        let mut old = repeated_config(dm);
        let err = make_compatible(&mut old, &ios(18, 1)).unwrap_err();
        assert_eq!(err.status().as_u16(), 500);
        assert_eq!(
            err.to_string(),
            "Platform iOS 18.1.0 does not support sharding functions other than SHA256."
        );
        let mut new = repeated_config(dm);
        make_compatible(&mut new, &ios(26, 0)).unwrap();
    }

    #[test]
    fn reuse_stubs_are_untouched() {
        let mut stub = api::Config {
            reuse_existing_config: true,
            ..Default::default()
        };
        make_compatible(&mut stub, &ios(17, 0)).unwrap();
        assert_eq!(
            stub,
            api::Config {
                reuse_existing_config: true,
                ..Default::default()
            }
        );
    }
}
