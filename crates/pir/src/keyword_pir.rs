//! Keyword PIR over cuckoo-hashed buckets: the configuration, the client-visible parameters,
//! and the non-HE half of shard processing (spec/pir-protocol.md §3.6; Apple's
//! `KeywordPirConfig`, `KeywordPirParameter`, `KeywordPirServer.process`).
//!
//! [`ShardLayout::build`] places a shard's rows into a cuckoo table, serializes the buckets
//! (table 0 first) and derives the index-PIR parameters all tables share. Turning the bucket
//! bytes into Eval-form plaintexts is the HE layer's part.

use rand::RngCore;

use crate::PirError;
use crate::cuckoo::{BucketCount, CuckooConfig, CuckooTable};
use crate::evaluation_key::KeyCompression;
use crate::index_pir::{IndexPirConfig, IndexPirParameter};
use crate::keyword_database::KeywordValuePair;
use crate::sharding::ShardingFunction;

/// How a keyword shard is processed (Apple's `KeywordPirConfig`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeywordPirConfig {
    /// 1 or 2 (the processing tool always uses 2).
    pub dimension_count: usize,
    /// Cuckoo table construction.
    pub cuckoo: CuckooConfig,
    /// See [`IndexPirConfig::uneven_dimensions`].
    pub uneven_dimensions: bool,
    /// Galois key compression.
    pub key_compression: KeyCompression,
    /// Use `max_serialized_bucket_size` as the entry size instead of the largest bucket.
    pub use_max_serialized_bucket_size: bool,
    /// Keyword → shard.
    pub sharding_function: ShardingFunction,
}

/// What a client needs besides the index-PIR parameters (`KeywordPirParameters` on the wire,
/// without the symmetric-PIR part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordPirParameter {
    /// Hash functions = tables = indices per query.
    pub hash_function_count: usize,
    /// Keyword → shard.
    pub sharding_function: ShardingFunction,
}

/// A shard's cuckoo table, its serialized buckets and its index-PIR parameters.
#[derive(Debug, Clone)]
pub struct ShardLayout<'a> {
    /// The table the buckets come from.
    pub table: CuckooTable<'a>,
    /// Serialized buckets without padding; table `i` is
    /// `buckets[i · num_entries .. (i + 1) · num_entries]`.
    pub buckets: Vec<Vec<u8>>,
    /// Shared by all tables; `entry_count` is the buckets per table.
    pub index_parameter: IndexPirParameter,
    /// The keyword parameters.
    pub keyword_parameter: KeywordPirParameter,
}

impl<'a> ShardLayout<'a> {
    /// Builds the layout of one shard for a ring of `degree` coefficients carrying
    /// `bytes_per_plaintext` bytes. `rng` draws cuckoo evictions.
    ///
    /// # Errors
    /// Cuckoo construction errors; [`PirError::InvalidParameters`] from parameter generation.
    pub fn build(
        rows: &'a [KeywordValuePair],
        config: &KeywordPirConfig,
        degree: usize,
        bytes_per_plaintext: usize,
        rng: &mut impl RngCore,
    ) -> Result<Self, PirError> {
        let table = CuckooTable::build(config.cuckoo, rows, rng)?;
        let buckets = table.serialized_buckets();
        let entry_size = match config.cuckoo.bucket_count() {
            _ if config.use_max_serialized_bucket_size => {
                config.cuckoo.max_serialized_bucket_size()
            }
            BucketCount::FixedSize { .. } => config.cuckoo.max_serialized_bucket_size(),
            BucketCount::AllowExpansion { .. } => buckets.iter().map(Vec::len).max().unwrap_or(1),
        };
        let hash_function_count = config.cuckoo.hash_function_count();
        let index_parameter = IndexPirParameter::generate(
            &IndexPirConfig {
                entry_count: table.buckets_per_table(),
                entry_size,
                dimension_count: config.dimension_count,
                batch_size: hash_function_count,
                uneven_dimensions: config.uneven_dimensions,
                key_compression: config.key_compression,
                encoding_entry_size: false,
            },
            degree,
            bytes_per_plaintext,
        )?;
        Ok(Self {
            table,
            buckets,
            index_parameter,
            keyword_parameter: KeywordPirParameter {
                hash_function_count,
                sharding_function: config.sharding_function,
            },
        })
    }
}
