//! Sharding: which shard a keyword goes to, and how many shards a database gets
//! (spec/pir-protocol.md §3.2; Apple's `ShardingFunction`, `Sharding`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::PirError;
use crate::keyword::keyword_hash;

/// The function from keyword to shard index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ShardingFunction {
    /// `keyword_hash % shard_count`.
    #[default]
    Sha256,
    /// `(keyword_hash % other_shard_count) % shard_count`: aligns two usecases that share
    /// keywords, so that seeing both shard indices leaks nothing extra.
    DoubleMod {
        /// Shard count of the other usecase.
        other_shard_count: u32,
    },
}

impl ShardingFunction {
    /// The shard of `keyword` among `shard_count` shards.
    ///
    /// # Errors
    /// [`PirError::InvalidSharding`] if `shard_count` (or `other_shard_count`) is 0.
    pub fn shard_index(self, keyword: &[u8], shard_count: usize) -> Result<usize, PirError> {
        if shard_count == 0 {
            return Err(PirError::InvalidSharding(
                "shard count must be at least 1".into(),
            ));
        }
        let hash = keyword_hash(keyword);
        let index = match self {
            Self::Sha256 => hash % shard_count as u64,
            Self::DoubleMod { other_shard_count } => {
                if other_shard_count == 0 {
                    return Err(PirError::InvalidSharding(
                        "doubleMod otherShardCount must be at least 1".into(),
                    ));
                }
                (hash % u64::from(other_shard_count)) % shard_count as u64
            }
        };
        // Below `shard_count`, so it fits.
        Ok(index as usize)
    }
}

/// Apple's JSON form: `{"sha256": null}` or `{"doubleMod": n}`, exactly one key.
impl<'de> Deserialize<'de> for ShardingFunction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let mut entries = map.into_iter();
        let (Some((key, value)), None) = (entries.next(), entries.next()) else {
            return Err(serde::de::Error::custom(
                "shardingFunction: expected exactly one of 'sha256', 'doubleMod'",
            ));
        };
        match key.as_str() {
            "sha256" => Ok(Self::Sha256),
            "doubleMod" => {
                let other_shard_count =
                    u32::deserialize(value).map_err(serde::de::Error::custom)?;
                Ok(Self::DoubleMod { other_shard_count })
            }
            other => Err(serde::de::Error::custom(format!(
                "shardingFunction: unknown key '{other}'; expected 'sha256' or 'doubleMod'"
            ))),
        }
    }
}

impl Serialize for ShardingFunction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Self::Sha256 => map.serialize_entry("sha256", &())?,
            Self::DoubleMod { other_shard_count } => {
                map.serialize_entry("doubleMod", other_shard_count)?;
            }
        }
        map.end()
    }
}

/// How the shard count is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShardingStrategy {
    /// Exactly this many shards.
    ShardCount(usize),
    /// `max(rows / n, 1)` shards (floor division, so every shard has at least `n` rows on
    /// average).
    EntryCountPerShard(usize),
}

/// Apple's `Sharding`: a strategy plus optional caps. Validated on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sharding {
    strategy: ShardingStrategy,
    max_shard_count: Option<usize>,
    require_power_of_two: bool,
}

impl Sharding {
    /// A validated sharding.
    ///
    /// # Errors
    /// [`PirError::InvalidSharding`]: a shard count below 1, above `max_shard_count`, or not a
    /// power of two when one is required; an entry count per shard or a `max_shard_count`
    /// below 1.
    pub fn new(
        strategy: ShardingStrategy,
        max_shard_count: Option<usize>,
        require_power_of_two: bool,
    ) -> Result<Self, PirError> {
        if max_shard_count == Some(0) {
            return Err(PirError::InvalidSharding(
                "maxShardCount 0 must be at least 1".into(),
            ));
        }
        match strategy {
            ShardingStrategy::ShardCount(count) => {
                if count < 1 {
                    return Err(PirError::InvalidSharding(format!(
                        "shardCount {count} must be at least 1"
                    )));
                }
                if let Some(max) = max_shard_count
                    && count > max
                {
                    return Err(PirError::InvalidSharding(format!(
                        "shardCount {count} exceeds maxShardCount {max}"
                    )));
                }
                if require_power_of_two && !count.is_power_of_two() {
                    return Err(PirError::InvalidSharding(format!(
                        "shardCount {count} is not a power of two"
                    )));
                }
            }
            ShardingStrategy::EntryCountPerShard(per_shard) => {
                if per_shard < 1 {
                    return Err(PirError::InvalidSharding(format!(
                        "entryCountPerShard {per_shard} must be at least 1"
                    )));
                }
            }
        }
        Ok(Self {
            strategy,
            max_shard_count,
            require_power_of_two,
        })
    }

    /// Exactly `count` shards.
    ///
    /// # Errors
    /// As [`Sharding::new`].
    pub fn shard_count(count: usize) -> Result<Self, PirError> {
        Self::new(ShardingStrategy::ShardCount(count), None, false)
    }

    /// The strategy.
    pub fn strategy(&self) -> ShardingStrategy {
        self.strategy
    }

    /// The number of shards for a database of `row_count` rows (always ≥ 1).
    pub fn shard_count_for(&self, row_count: usize) -> usize {
        match self.strategy {
            ShardingStrategy::ShardCount(count) => count,
            ShardingStrategy::EntryCountPerShard(per_shard) => {
                let mut count = (row_count / per_shard).max(1);
                if let Some(max) = self.max_shard_count {
                    count = count.min(max);
                }
                if self.require_power_of_two {
                    count = previous_power_of_two(count);
                }
                count
            }
        }
    }
}

impl Default for Sharding {
    /// One shard, Apple's default.
    fn default() -> Self {
        Self {
            strategy: ShardingStrategy::ShardCount(1),
            max_shard_count: None,
            require_power_of_two: false,
        }
    }
}

/// The largest power of two ≤ `n` (`n` ≥ 1).
fn previous_power_of_two(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// Apple's JSON form: exactly one of `shardCount` / `entryCountPerShard`, optional
/// `maxShardCount` and `requirePowerOfTwoShardCount`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ShardingJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard_count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry_count_per_shard: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_shard_count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    require_power_of_two_shard_count: Option<bool>,
}

impl<'de> Deserialize<'de> for Sharding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = ShardingJson::deserialize(deserializer)?;
        let strategy = match (json.shard_count, json.entry_count_per_shard) {
            (Some(count), None) => ShardingStrategy::ShardCount(count),
            (None, Some(per_shard)) => ShardingStrategy::EntryCountPerShard(per_shard),
            _ => {
                return Err(serde::de::Error::custom(
                    "sharding: exactly one of 'shardCount' or 'entryCountPerShard' must be set",
                ));
            }
        };
        Self::new(
            strategy,
            json.max_shard_count,
            json.require_power_of_two_shard_count.unwrap_or(false),
        )
        .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Sharding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (shard_count, entry_count_per_shard) = match self.strategy {
            ShardingStrategy::ShardCount(n) => (Some(n), None),
            ShardingStrategy::EntryCountPerShard(n) => (None, Some(n)),
        };
        ShardingJson {
            shard_count,
            entry_count_per_shard,
            max_shard_count: self.max_shard_count,
            require_power_of_two_shard_count: self.require_power_of_two.then_some(true),
        }
        .serialize(serializer)
    }
}
