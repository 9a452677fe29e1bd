//! Processing a symmetric-PIR database, `PIRProcessDatabase` with `symmetricPirArguments`
//! (spec/pir-protocol.md §3.8, §5.4; Apple's `processKeywordDatabase`, `KeywordDatabase.init(
//! rows:sharding:shardingFunction:symmetricPirConfig:)`), on top of [`crate::process`].
//!
//! As Apple's tool does: the cuckoo `maxSerializedBucketSize` default is resolved from the
//! *plaintext* values, the rows are then encrypted ([`encrypt_rows`]) and sharded and hashed on
//! their oblivious keywords, and every shard's `keyword_pir_params` carries the
//! `symmetric_pir_client_config` (so the usecase's `PIRConfig` does too). Reading or writing the
//! key file is the caller's part ([`ServerSecretKey::from_hex`], [`ServerSecretKey::to_hex`]).

use rand::RngCore;
use rayon::prelude::*;

use super::SpirError;
use super::entry::encrypt_rows;
use super::key::ServerSecretKey;
use crate::database::ProcessedShard;
use crate::keyword_database::KeywordValuePair;
use crate::params_file::RingShape;
use crate::process::{
    ProcessedDatabase, Progress, ShardPlaintexts, encryption_parameters, process_plaintexts,
};
use crate::process_config::{CuckooTableArguments, ProcessConfig};
use crate::usecase_config::UsecaseConfig;

/// Processes `rows` as `PIRProcessDatabase` does with `symmetricPirArguments` and the OPRF key
/// `key`, up to every shard's coefficient plaintexts. `config.symmetric_pir_arguments` only
/// names the key file and is not needed here. `rng` seeds the cuckoo RNGs as in
/// [`process_plaintexts`].
///
/// # Errors
/// As [`process_plaintexts`] (a bucket size too small for the encrypted values, 16 bytes longer
/// than the plaintext ones, included), and as [`encrypt_rows`].
pub fn process_symmetric_plaintexts(
    rows: &[KeywordValuePair],
    config: &ProcessConfig,
    key: &ServerSecretKey,
    rng: &mut impl RngCore,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ProcessedDatabase<ShardPlaintexts>, SpirError> {
    let shape = RingShape::of(&encryption_parameters(&config.rlwe_parameters)?)?;
    let plain_max = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
    let resolved = config.resolve_keyword(plain_max, shape.bytes_per_plaintext)?;
    // Pin the bucket size Apple derives from the plaintext values; the plain pipeline would
    // derive it from the encrypted ones.
    let mut plain = config.clone();
    plain.symmetric_pir_arguments = None;
    plain.cuckoo_table_arguments = Some(CuckooTableArguments {
        max_serialized_bucket_size: Some(resolved.keyword.cuckoo.max_serialized_bucket_size()),
        ..config.cuckoo_table_arguments.unwrap_or_default()
    });

    let encrypted = encrypt_rows(rows, key)?;
    let mut db = process_plaintexts(encrypted, &plain, rng, progress)?;
    let client_config = key.client_config();
    for shard in &mut db.shards {
        shard
            .parameters
            .keyword_pir_params
            .get_or_insert_default()
            .symmetric_pir_client_config = Some(client_config.clone());
    }
    let params: Vec<_> = db.shards.iter().map(|s| s.parameters.clone()).collect();
    db.usecase = UsecaseConfig::from_shards(&params)?;
    Ok(db)
}

/// Processes `rows` as [`process_symmetric_plaintexts`] does, then builds every shard's Eval
/// form for the server.
///
/// # Errors
/// As [`process_symmetric_plaintexts`], and [`SpirError::Database`] from the Eval-form
/// conversion.
pub fn process_symmetric(
    rows: &[KeywordValuePair],
    config: &ProcessConfig,
    key: &ServerSecretKey,
    rng: &mut impl RngCore,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ProcessedDatabase<ProcessedShard>, SpirError> {
    let db = process_symmetric_plaintexts(rows, config, key, rng, progress)?;
    let shards = db
        .shards
        .into_par_iter()
        .map(ShardPlaintexts::into_processed_shard)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProcessedDatabase {
        shards,
        usecase: db.usecase,
    })
}
