//! Cuckoo table construction: placing keyword rows into hash buckets
//! (spec/pir-protocol.md §3.5; Apple's `CuckooTable`).
//!
//! The construction is private to the server (clients only need the bucket index function,
//! [`crate::keyword::hash_indices`]), but it follows Apple's algorithm step for step, including
//! the eviction choice drawn with Swift's `Int.random(in:)` from the caller's RNG, so Apple's
//! layouts and test vectors reproduce. One deliberate difference: where Apple drops the pending
//! row (expansion when no eviction candidate exists), it is inserted again after expanding.
//! After building, every row is looked up; a table that lost a row is an error.

use rand::RngCore;

use crate::PirError;
use crate::bucket::{self, BucketEntry, HashBucket, MAX_SLOT_COUNT, MAX_VALUE_SIZE};
use crate::keyword::{hash_indices_of_hash, hash_indices_with, index_hash, keyword_hash};
use crate::keyword_database::KeywordValuePair;

/// How the number of buckets is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BucketCount {
    /// Start from the database size and grow by `expansion_factor` when insertion fails.
    AllowExpansion {
        /// Growth factor, > 1 (Apple's default 1.1).
        expansion_factor: f64,
        /// Initial fill target, < 1 (Apple's default 0.9).
        target_load_factor: f64,
    },
    /// Exactly this many buckets (rounded up to a multiple of the table count); never grows.
    FixedSize {
        /// Total bucket count over all tables.
        bucket_count: usize,
    },
}

impl Default for BucketCount {
    fn default() -> Self {
        Self::AllowExpansion {
            expansion_factor: 1.1,
            target_load_factor: 0.9,
        }
    }
}

/// Apple's `CuckooTableConfig` (always with one table per hash function, as keyword PIR requires).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuckooConfig {
    hash_function_count: usize,
    max_eviction_count: usize,
    max_serialized_bucket_size: usize,
    bucket_count: BucketCount,
    slot_count: usize,
}

impl CuckooConfig {
    /// A validated configuration.
    ///
    /// # Errors
    /// [`PirError::InvalidCuckooConfig`]: no hash function; no eviction allowed;
    /// `max_serialized_bucket_size` < 11;
    /// `slot_count` outside 1..=255; an expansion factor ≤ 1 or a target load factor ≥ 1 (or not
    /// positive); a fixed size of 0 buckets.
    pub fn new(
        hash_function_count: usize,
        max_eviction_count: usize,
        max_serialized_bucket_size: usize,
        bucket_count: BucketCount,
        slot_count: usize,
    ) -> Result<Self, PirError> {
        if hash_function_count == 0 {
            return Err(PirError::InvalidCuckooConfig(
                "hashFunctionCount must be at least 1",
            ));
        }
        // Apple accepts 0 and then expands forever.
        if max_eviction_count == 0 {
            return Err(PirError::InvalidCuckooConfig(
                "maxEvictionCount must be at least 1",
            ));
        }
        if max_serialized_bucket_size < bucket::serialized_size([0]) {
            return Err(PirError::InvalidCuckooConfig(
                "maxSerializedBucketSize must be at least 11",
            ));
        }
        if slot_count == 0 || slot_count > MAX_SLOT_COUNT {
            return Err(PirError::InvalidCuckooConfig(
                "slotCount must be in 1..=255",
            ));
        }
        match bucket_count {
            BucketCount::AllowExpansion {
                expansion_factor,
                target_load_factor,
            } => {
                // NaN fails both comparisons and is rejected too.
                if !(expansion_factor > 1.0 && expansion_factor.is_finite()) {
                    return Err(PirError::InvalidCuckooConfig("expansionFactor must be > 1"));
                }
                if !(target_load_factor > 0.0 && target_load_factor < 1.0) {
                    return Err(PirError::InvalidCuckooConfig(
                        "targetLoadFactor must be in (0, 1)",
                    ));
                }
            }
            BucketCount::FixedSize { bucket_count } => {
                if bucket_count == 0 {
                    return Err(PirError::InvalidCuckooConfig(
                        "fixed bucketCount must be at least 1",
                    ));
                }
            }
        }
        Ok(Self {
            hash_function_count,
            max_eviction_count,
            max_serialized_bucket_size,
            bucket_count,
            slot_count,
        })
    }

    /// Apple's keyword-PIR default: 2 hash functions, 100 evictions, expansion (1.1, 0.9), 255 slots.
    ///
    /// # Errors
    /// As [`CuckooConfig::new`].
    pub fn default_keyword_pir(max_serialized_bucket_size: usize) -> Result<Self, PirError> {
        Self::new(
            2,
            100,
            max_serialized_bucket_size,
            BucketCount::default(),
            MAX_SLOT_COUNT,
        )
    }

    /// Number of hash functions, which is also the number of tables.
    pub fn hash_function_count(&self) -> usize {
        self.hash_function_count
    }

    /// Evictions tried before the table expands.
    pub fn max_eviction_count(&self) -> usize {
        self.max_eviction_count
    }

    /// Largest serialized bucket allowed.
    pub fn max_serialized_bucket_size(&self) -> usize {
        self.max_serialized_bucket_size
    }

    /// The sizing rule.
    pub fn bucket_count(&self) -> BucketCount {
        self.bucket_count
    }

    /// Most entries per bucket.
    pub fn slot_count(&self) -> usize {
        self.slot_count
    }
}

/// Apple's `defaultMaxSerializedBucketSize`: a bucket of one largest value, rounded up to a
/// multiple of a plaintext when that is at least half a plaintext, else half a plaintext.
pub fn default_max_serialized_bucket_size(
    max_value_size: usize,
    bytes_per_plaintext: usize,
) -> usize {
    let single = bucket::serialized_size([max_value_size]);
    let half = bytes_per_plaintext / 2;
    if single >= half && bytes_per_plaintext > 0 {
        single.div_ceil(bytes_per_plaintext) * bytes_per_plaintext
    } else {
        half
    }
}

/// Counts describing a built table (Apple's `CuckooTableInformation`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuckooSummary {
    /// Rows stored.
    pub entry_count: usize,
    /// Buckets over all tables.
    pub bucket_count: usize,
    /// Buckets holding no row.
    pub empty_bucket_count: usize,
    /// Serialized size over `bucket_count · max_serialized_bucket_size`.
    pub load_factor: f32,
}

/// One occupied slot: the row's keyword hash (kept for the bucket tag and fast comparisons) and
/// its index in the rows.
#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    row: usize,
}

/// A built cuckoo table over borrowed rows. Table `i` holds the buckets
/// `[i · buckets_per_table, (i + 1) · buckets_per_table)`.
#[derive(Debug, Clone)]
pub struct CuckooTable<'a> {
    config: CuckooConfig,
    rows: &'a [KeywordValuePair],
    /// Per row, its keyword hash.
    hashes: Vec<u64>,
    /// Per row, [`index_hash`] for counters `0..hash_function_count`: the SHA-256 work of its
    /// candidates, whatever the table size.
    raw_indices: Vec<u64>,
    /// Per bucket, its slots in order.
    buckets: Vec<Vec<Slot>>,
    /// Per bucket, its serialized size.
    sizes: Vec<usize>,
}

impl<'a> CuckooTable<'a> {
    /// Builds the table, inserting `rows` in order, then checks every row can be found.
    ///
    /// `rng` draws the eviction victims; with a deterministic RNG the layout is reproducible.
    ///
    /// # Errors
    /// [`PirError::ValueTooLarge`] or [`PirError::CuckooConstruction`] when a value cannot fit a
    /// bucket, a fixed-size table overflows, or (never expected) validation finds a row missing.
    pub fn build(
        config: CuckooConfig,
        rows: &'a [KeywordValuePair],
        rng: &mut impl RngCore,
    ) -> Result<Self, PirError> {
        let tables = config.hash_function_count;
        let bucket_count = match config.bucket_count {
            BucketCount::AllowExpansion {
                target_load_factor, ..
            } => {
                let min_size = bucket::serialized_size(rows.iter().map(|r| r.value.len()));
                let min_buckets = min_size.div_ceil(config.max_serialized_bucket_size);
                next_multiple(
                    ceil_to_usize(min_buckets as f64 / target_load_factor)?,
                    tables,
                )
            }
            BucketCount::FixedSize { bucket_count } => next_multiple(bucket_count, tables),
        };
        let hashes: Vec<u64> = rows.iter().map(|r| keyword_hash(&r.keyword)).collect();
        let counters = u8::try_from(tables).unwrap_or(u8::MAX);
        let raw_indices = hashes
            .iter()
            .flat_map(|&h| (0..counters).map(move |c| index_hash(h, c)))
            .collect();
        let mut table = Self {
            config,
            rows,
            hashes,
            raw_indices,
            buckets: vec![Vec::new(); bucket_count],
            sizes: vec![bucket::serialized_size([]); bucket_count],
        };
        let mut candidates = Vec::with_capacity(tables);
        for row in 0..rows.len() {
            table.insert(row, rng, &mut candidates)?;
        }
        table.validate()?;
        Ok(table)
    }

    /// The configuration.
    pub fn config(&self) -> &CuckooConfig {
        &self.config
    }

    /// Number of tables (= hash functions).
    pub fn table_count(&self) -> usize {
        self.config.hash_function_count
    }

    /// Buckets in each table: the index-PIR entry count.
    pub fn buckets_per_table(&self) -> usize {
        self.buckets.len() / self.table_count()
    }

    /// Buckets over all tables.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// The value of `keyword`, looked up in its candidate buckets.
    pub fn get(&self, keyword: &[u8]) -> Option<&'a [u8]> {
        let (b, s) = self.position(keyword)?;
        let slot = self.buckets.get(b)?.get(s)?;
        self.rows.get(slot.row).map(|r| r.value.as_slice())
    }

    /// The global bucket index (table-major) and slot holding `keyword`, if present.
    pub fn position(&self, keyword: &[u8]) -> Option<(usize, usize)> {
        let hash = keyword_hash(keyword);
        let mut candidates = Vec::with_capacity(self.table_count());
        self.candidates(hash, &mut candidates);
        candidates.into_iter().find_map(|b| {
            let slot = self.buckets.get(b)?.iter().position(|slot| {
                slot.hash == hash
                    && self
                        .rows
                        .get(slot.row)
                        .is_some_and(|r| r.keyword == keyword)
            })?;
            Some((b, slot))
        })
    }

    /// The bucket at a global index as a [`HashBucket`].
    pub fn bucket(&self, index: usize) -> Option<HashBucket> {
        let entries = self
            .buckets
            .get(index)?
            .iter()
            .filter_map(|slot| {
                let row = self.rows.get(slot.row)?;
                Some(BucketEntry {
                    keyword_hash: slot.hash,
                    value: row.value.clone(),
                })
            })
            .collect();
        // Slot counts and value sizes were checked on insertion.
        HashBucket::new(entries).ok()
    }

    /// Every bucket serialized (no padding), table 0 first.
    pub fn serialized_buckets(&self) -> Vec<Vec<u8>> {
        self.buckets
            .iter()
            .zip(&self.sizes)
            .map(|(slots, &size)| {
                let mut out = Vec::with_capacity(size);
                // At most 255 slots and 65535-byte values, checked on insertion.
                out.push(slots.len() as u8);
                for slot in slots {
                    let value = self
                        .rows
                        .get(slot.row)
                        .map_or(&[][..], |r| r.value.as_slice());
                    out.extend_from_slice(&slot.hash.to_le_bytes());
                    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
                    out.extend_from_slice(value);
                }
                out
            })
            .collect()
    }

    /// The largest serialized bucket (Apple's keyword-PIR entry size with expansion).
    pub fn max_serialized_bucket_size(&self) -> usize {
        self.sizes.iter().copied().max().unwrap_or(0)
    }

    /// Apple's `summarize`.
    pub fn summary(&self) -> CuckooSummary {
        let total_size: usize = self.sizes.iter().sum();
        let capacity = self.buckets.len() * self.config.max_serialized_bucket_size;
        CuckooSummary {
            entry_count: self.buckets.iter().map(Vec::len).sum(),
            bucket_count: self.buckets.len(),
            empty_bucket_count: self.buckets.iter().filter(|b| b.is_empty()).count(),
            load_factor: if capacity == 0 {
                0.0
            } else {
                total_size as f32 / capacity as f32
            },
        }
    }

    /// Global bucket indices of a keyword's candidates: candidate `i` in table `i`.
    fn candidates(&self, hash: u64, out: &mut Vec<usize>) {
        let per_table = self.buckets_per_table();
        hash_indices_of_hash(hash, per_table, self.config.hash_function_count, out);
        for (table, index) in out.iter_mut().enumerate() {
            *index += table * per_table;
        }
    }

    /// [`CuckooTable::candidates`] of a row, from its cached SHA-256 outputs.
    fn row_candidates(&self, row: usize, out: &mut Vec<usize>) {
        let k = self.config.hash_function_count;
        let per_table = self.buckets_per_table();
        let hash = self.hashes.get(row).copied().unwrap_or(0);
        let cached = self.raw_indices.get(row * k..(row + 1) * k).unwrap_or(&[]);
        hash_indices_with(
            |c| {
                cached
                    .get(usize::from(c))
                    .copied()
                    .unwrap_or_else(|| index_hash(hash, c))
            },
            per_table,
            k,
            out,
        );
        for (table, index) in out.iter_mut().enumerate() {
            *index += table * per_table;
        }
    }

    /// Serialized size a row adds to a bucket.
    fn entry_size(&self, row: usize) -> usize {
        bucket::ENTRY_OVERHEAD + self.rows.get(row).map_or(0, |r| r.value.len())
    }

    fn insert(
        &mut self,
        row: usize,
        rng: &mut impl RngCore,
        candidates: &mut Vec<usize>,
    ) -> Result<(), PirError> {
        let size = self.rows.get(row).map_or(0, |r| r.value.len());
        if size > MAX_VALUE_SIZE {
            return Err(PirError::ValueTooLarge { size });
        }
        let max = self.config.max_serialized_bucket_size;
        if bucket::serialized_size([size]) > max {
            return Err(PirError::CuckooConstruction(format!(
                "a {size}-byte value does not fit a bucket of at most {max} bytes"
            )));
        }
        let mut pending = Slot {
            hash: self.hashes.get(row).copied().unwrap_or(0),
            row,
        };
        let mut remaining = self.config.max_eviction_count;
        loop {
            if remaining == 0 {
                // Apple expands and re-inserts; the pending row then finds itself present.
                self.expand(rng)?;
                remaining = self.config.max_eviction_count;
                continue;
            }
            self.row_candidates(pending.row, candidates);
            let pending_keyword = self.rows.get(pending.row).map(|r| r.keyword.as_slice());
            let present = candidates.iter().any(|&b| {
                self.buckets.get(b).is_some_and(|slots| {
                    slots.iter().any(|slot| {
                        slot.hash == pending.hash
                            && self.rows.get(slot.row).map(|r| r.keyword.as_slice())
                                == pending_keyword
                    })
                })
            });
            if present {
                return Ok(());
            }
            let pending_size = self.entry_size(pending.row);
            let free = candidates.iter().copied().find(|&b| {
                self.buckets
                    .get(b)
                    .is_some_and(|slots| slots.len() < self.config.slot_count)
                    && self.sizes.get(b).is_some_and(|&s| s + pending_size <= max)
            });
            if let Some(b) = free
                && let (Some(slots), Some(bucket_size)) =
                    (self.buckets.get_mut(b), self.sizes.get_mut(b))
            {
                slots.push(pending);
                *bucket_size += pending_size;
                return Ok(());
            }
            let mut evictable: Vec<(usize, usize)> = Vec::new();
            for &b in candidates.iter() {
                let (Some(slots), Some(&bucket_size)) = (self.buckets.get(b), self.sizes.get(b))
                else {
                    continue;
                };
                for (s, slot) in slots.iter().enumerate() {
                    if bucket_size - self.entry_size(slot.row) + pending_size <= max {
                        evictable.push((b, s));
                    }
                }
            }
            if evictable.is_empty() {
                // Apple drops the pending row here; we keep it and retry in the larger table.
                self.expand(rng)?;
                remaining = self.config.max_eviction_count;
                continue;
            }
            let pick = swift_random_below(rng, evictable.len());
            let Some(&(b, s)) = evictable.get(pick) else {
                return Err(PirError::CuckooConstruction(
                    "eviction choice out of range".into(),
                ));
            };
            let Some(slot) = self.buckets.get_mut(b).and_then(|slots| slots.get_mut(s)) else {
                return Err(PirError::CuckooConstruction(
                    "eviction slot out of range".into(),
                ));
            };
            let evicted = std::mem::replace(slot, pending);
            let evicted_size =
                bucket::ENTRY_OVERHEAD + self.rows.get(evicted.row).map_or(0, |r| r.value.len());
            if let Some(bucket_size) = self.sizes.get_mut(b) {
                *bucket_size = *bucket_size - evicted_size + pending_size;
            }
            pending = evicted;
            remaining -= 1;
        }
    }

    fn expand(&mut self, rng: &mut impl RngCore) -> Result<(), PirError> {
        let BucketCount::AllowExpansion {
            expansion_factor, ..
        } = self.config.bucket_count
        else {
            return Err(PirError::CuckooConstruction(format!(
                "a fixed-size table of {} buckets cannot hold the database; \
                 increase bucketCount or allow expansion",
                self.buckets.len()
            )));
        };
        let grown = ceil_to_usize(self.buckets.len() as f64 * expansion_factor)?;
        let new_count = next_multiple(grown.max(self.buckets.len() + 1), self.table_count());
        // Rows whose 64-bit hashes collide keep the same candidates at every size; stop
        // instead of growing without bound.
        let limit = 8 * (self.rows.len() + 1) * self.table_count() + 1024;
        if new_count > limit {
            return Err(PirError::CuckooConstruction(format!(
                "table grew past {limit} buckets for {} rows",
                self.rows.len()
            )));
        }
        let old = std::mem::replace(&mut self.buckets, vec![Vec::new(); new_count]);
        self.sizes = vec![bucket::serialized_size([]); new_count];
        let mut candidates = Vec::with_capacity(self.table_count());
        for slot in old.into_iter().flatten() {
            self.insert(slot.row, rng, &mut candidates)?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), PirError> {
        let mut candidates = Vec::with_capacity(self.table_count());
        for (r, row) in self.rows.iter().enumerate() {
            self.row_candidates(r, &mut candidates);
            let hash = self.hashes.get(r).copied();
            let found = candidates.iter().find_map(|&b| {
                self.buckets.get(b)?.iter().find_map(|slot| {
                    let stored = self.rows.get(slot.row)?;
                    (Some(slot.hash) == hash && stored.keyword == row.keyword).then_some(stored)
                })
            });
            if found.map(|stored| &stored.value) != Some(&row.value) {
                return Err(PirError::CuckooConstruction(
                    "validation failed: a row is not in its candidate buckets".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Swift's `Int.random(in: 0..<n, using:)`: Lemire's nearly-divisionless method on `next_u64`.
fn swift_random_below(rng: &mut impl RngCore, n: usize) -> usize {
    let bound = n as u64;
    if bound == 0 {
        return 0;
    }
    let mut m = u128::from(rng.next_u64()) * u128::from(bound);
    if (m as u64) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(bound);
        }
    }
    // The high half is below `bound`.
    (m >> 64) as usize
}

/// Smallest multiple of `m` ≥ `x` (`m` ≥ 1).
fn next_multiple(x: usize, m: usize) -> usize {
    x.div_ceil(m) * m
}

fn ceil_to_usize(x: f64) -> Result<usize, PirError> {
    let c = x.ceil();
    if c.is_finite() && c >= 0.0 && c < usize::MAX as f64 {
        Ok(c as usize)
    } else {
        Err(PirError::CuckooConstruction(format!(
            "bucket count {x} out of range"
        )))
    }
}
