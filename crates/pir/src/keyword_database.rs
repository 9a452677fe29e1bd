//! Keyword databases and their split into shards (spec/pir-protocol.md §3.2, §5.5; Apple's
//! `KeywordDatabase`).
//!
//! Unlike Apple's tool, every shard is produced, including empty ones, so that the service sees
//! exactly the shard count clients compute with; rows keep their input order inside a shard (Apple
//! uses a dictionary), so processing is deterministic.

use std::collections::HashSet;

use crate::PirError;
use crate::proto::pir;
use crate::sharding::{Sharding, ShardingFunction};

/// One row: a keyword (arbitrary bytes) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeywordValuePair {
    /// The keyword.
    pub keyword: Vec<u8>,
    /// The value (at most 65535 bytes to fit a bucket).
    pub value: Vec<u8>,
}

impl KeywordValuePair {
    /// A row.
    pub fn new(keyword: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            keyword: keyword.into(),
            value: value.into(),
        }
    }
}

/// The rows of one shard, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordShard {
    /// Index of the shard; its id in file names and logs is the decimal string.
    pub index: usize,
    /// The rows.
    pub rows: Vec<KeywordValuePair>,
}

/// Splits `rows` into `sharding.shard_count_for(rows.len())` shards with `function`.
///
/// # Errors
/// [`PirError::DuplicateKeyword`] when a keyword occurs twice; [`PirError::InvalidSharding`]
/// for a `doubleMod` with `other_shard_count` 0.
pub fn shard_rows(
    rows: Vec<KeywordValuePair>,
    sharding: &Sharding,
    function: ShardingFunction,
) -> Result<Vec<KeywordShard>, PirError> {
    let shard_count = sharding.shard_count_for(rows.len());
    let mut shards: Vec<KeywordShard> = (0..shard_count)
        .map(|index| KeywordShard {
            index,
            rows: Vec::new(),
        })
        .collect();
    let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(rows.len());
    for row in rows {
        // A keyword always maps to the same shard, so a global check equals a per-shard one.
        if !seen.insert(row.keyword.clone()) {
            return Err(PirError::DuplicateKeyword {
                keyword_hex: hex_string(&row.keyword),
            });
        }
        let index = function.shard_index(&row.keyword, shard_count)?;
        if let Some(shard) = shards.get_mut(index) {
            shard.rows.push(row);
        }
    }
    Ok(shards)
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The rows of a `KeywordDatabase` message, in order.
pub fn rows_from_proto(database: pir::KeywordDatabase) -> Vec<KeywordValuePair> {
    database
        .rows
        .into_iter()
        .map(|row| KeywordValuePair {
            keyword: row.keyword,
            value: row.value,
        })
        .collect()
}

/// A `KeywordDatabase` message holding `rows`, in order.
pub fn rows_to_proto(rows: &[KeywordValuePair]) -> pir::KeywordDatabase {
    pir::KeywordDatabase {
        rows: rows
            .iter()
            .map(|row| pir::KeywordDatabaseRow {
                keyword: row.keyword.clone(),
                value: row.value.clone(),
            })
            .collect(),
    }
}
