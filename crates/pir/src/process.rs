//! Database processing, the operator's side of `PIRProcessDatabase`: rows (from a URL blocklist
//! through bloom-gen's canonicalization, or from an Apple `KeywordDatabase`) and a
//! [`ProcessConfig`] become every shard's plaintexts (coefficients mod t, then the Eval-form
//! [`ProcessedShard`]) and params, plus the usecase's union key config and `PIRConfig` (spec/pir-protocol.md §3.2, §3.5, §3.6, §4.4, §5.2, §5.4;
//! Apple's `ProcessKeywordDatabase`, `KeywordDatabase`, `KeywordPirServer.process`).
//!
//! Every shard is produced, empty ones included (§3.2 pitfall). Shards are processed in
//! parallel; each draws its cuckoo evictions from its own RNG seeded from the caller's, so the
//! output is deterministic for a deterministic caller RNG. Progress goes to a caller-given
//! callback; there is no I/O here.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use rayon::prelude::*;

use crate::PirError;
use crate::database::{DatabaseError, ProcessedShard};
use crate::keyword_database::{KeywordShard, KeywordValuePair, shard_rows};
use crate::keyword_pir::{KeywordPirParameter, ShardLayout};
use crate::packing::bits_per_coeff;
use crate::params_file::{RingShape, to_pir_parameters};
use crate::plaintext_layout::table_plaintexts;
use crate::process_config::{ProcessConfig, ResolvedKeywordConfig};
use crate::proto::{he, pir};
use crate::usecase_config::UsecaseConfig;

/// The value Apple's NEURLFilter example stores for every blocked URL (`"1"`): the device only
/// asks whether a keyword is present.
pub const NEURLFILTER_VALUE: &[u8] = b"1";

/// A blocklist line that can never match a device lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedLine {
    /// 1-based line number.
    pub line: usize,
    /// Why bloom-gen refused it.
    pub reason: bloom_gen::Rejection,
}

/// The rows of a blocklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistRows {
    /// One row per distinct canonical entry, in first-seen order.
    pub rows: Vec<KeywordValuePair>,
    /// Lines refused, in order.
    pub rejected: Vec<RejectedLine>,
    /// Canonical entries seen again (dropped: a keyword is stored once).
    pub duplicates: usize,
}

/// The rows of a blocklist (one entry per line, `\n` or `\r\n`, `#` comments): every entry of
/// `bloom_gen::canonicalize` for every line, each with `value`, so that the PIR database holds
/// exactly the strings the Bloom filter holds (DESIGN.md "one canonical form").
pub fn rows_from_blocklist(text: &[u8], value: &[u8]) -> BlocklistRows {
    // Canonicalization (IDNA, variants) is the costly part and independent per line; the merge
    // stays sequential so that rows keep their first-seen order.
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let parsed: Vec<bloom_gen::Line> = lines
        .par_iter()
        .with_min_len(1024)
        .map(|line| bloom_gen::parse_line(line))
        .collect();
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(parsed.len());
    let mut out = BlocklistRows {
        rows: Vec::with_capacity(parsed.len()),
        rejected: Vec::new(),
        duplicates: 0,
    };
    for (i, line) in parsed.iter().enumerate() {
        match line {
            bloom_gen::Line::Skip => {}
            bloom_gen::Line::Rejected(reason) => out.rejected.push(RejectedLine {
                line: i + 1,
                reason: reason.clone(),
            }),
            bloom_gen::Line::Entries(canonical) => {
                for entry in canonical.entries() {
                    if seen.insert(entry.as_bytes()) {
                        out.rows
                            .push(KeywordValuePair::new(entry.as_bytes(), value));
                    } else {
                        out.duplicates += 1;
                    }
                }
            }
        }
    }
    out
}

/// What [`process`] reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The rows were split into shards.
    Sharded {
        /// Rows in the database.
        rows: usize,
        /// Shards (empty ones included).
        shards: usize,
    },
    /// One more shard is done (shards finish in any order).
    ShardDone {
        /// The shard's index.
        shard: usize,
        /// Its rows.
        rows: usize,
        /// Shards done so far, this one included.
        done: usize,
        /// All shards.
        total: usize,
    },
}

/// One processed shard, before the Eval-form conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardPlaintexts {
    /// The shard's index (its id is the decimal string).
    pub index: usize,
    /// Rows it holds.
    pub row_count: usize,
    /// Its params file (§5.2), byte-identical to what Apple's tool writes for the same layout.
    pub parameters: pir::PirParameters,
    /// The database plaintexts in scan order (table, chunk, column-major; §4.4): coefficients
    /// mod t, at most N each; `None` for an all-zero plaintext.
    pub plaintexts: Vec<Option<Vec<u64>>>,
}

impl ShardPlaintexts {
    /// The Eval-form shard the server scans.
    ///
    /// # Errors
    /// As [`ProcessedShard::from_coefficient_plaintexts`].
    pub fn into_processed_shard(self) -> Result<ProcessedShard, DatabaseError> {
        let plaintexts = self
            .plaintexts
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        ProcessedShard::from_coefficient_plaintexts(self.parameters, plaintexts)
    }
}

/// A processed database: every shard and the usecase's configuration.
#[derive(Debug, Clone)]
pub struct ProcessedDatabase<S> {
    /// Every shard, in index order.
    pub shards: Vec<S>,
    /// The usecase's `PIRConfig`, `config_id` and union evaluation-key config (§1.4.1, §5.3).
    pub usecase: UsecaseConfig,
}

/// The encryption parameters of Apple's predefined set `name` (`rlweParameters`).
///
/// # Errors
/// [`PirError::InvalidProcessConfig`] for a name that is not one of Apple's sets.
pub fn encryption_parameters(name: &str) -> Result<he::EncryptionParameters, PirError> {
    ::he::params::PredefinedParameters::from_name(name)
        .map(|set| set.parameters().to_proto())
        .map_err(|e| PirError::InvalidProcessConfig(format!("rlweParameters: {e}")))
}

/// Processes a keyword database as `PIRProcessDatabase` would with `config`, up to the
/// coefficient plaintexts of every shard. `rng` seeds the per-shard cuckoo RNGs.
///
/// # Errors
/// [`PirError::InvalidProcessConfig`] for an invalid config, an unknown `rlweParameters` or
/// one asking for symmetric PIR (not supported yet); [`PirError::DuplicateKeyword`];
/// sharding, cuckoo and parameter errors.
pub fn process_plaintexts(
    rows: Vec<KeywordValuePair>,
    config: &ProcessConfig,
    rng: &mut impl RngCore,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ProcessedDatabase<ShardPlaintexts>, PirError> {
    run(rows, config, rng, progress, &Ok)
}

/// Processes a keyword database as `PIRProcessDatabase` would with `config`: every shard in
/// the Eval form the server scans, plus the usecase configuration. `rng` seeds the per-shard
/// cuckoo RNGs.
///
/// # Errors
/// As [`process_plaintexts`], and [`DatabaseError`] from the Eval-form conversion.
pub fn process(
    rows: Vec<KeywordValuePair>,
    config: &ProcessConfig,
    rng: &mut impl RngCore,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ProcessedDatabase<ProcessedShard>, DatabaseError> {
    run(
        rows,
        config,
        rng,
        progress,
        &ShardPlaintexts::into_processed_shard,
    )
}

/// Shards `rows`, then processes each shard in parallel and hands it to `finish`.
fn run<S: Send, E: From<PirError> + Send>(
    rows: Vec<KeywordValuePair>,
    config: &ProcessConfig,
    rng: &mut impl RngCore,
    progress: &(dyn Fn(Progress) + Sync),
    finish: &(dyn Fn(ShardPlaintexts) -> Result<S, E> + Sync),
) -> Result<ProcessedDatabase<S>, E> {
    let encryption_parameters = encryption_parameters(&config.rlwe_parameters)?;
    let shape = RingShape::of(&encryption_parameters)?;
    let max_value = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
    let resolved = config.resolve_keyword(max_value, shape.bytes_per_plaintext)?;
    if resolved.symmetric_pir.is_some() {
        return Err(PirError::InvalidProcessConfig(
            "symmetricPirArguments: symmetric PIR is not supported yet".into(),
        )
        .into());
    }
    let row_count = rows.len();
    let shards = shard_rows(rows, &resolved.sharding, resolved.keyword.sharding_function)?;
    let total = shards.len();
    progress(Progress::Sharded {
        rows: row_count,
        shards: total,
    });
    let seeded: Vec<(KeywordShard, [u8; 32])> = shards
        .into_iter()
        .map(|shard| {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            (shard, seed)
        })
        .collect();
    let done = AtomicUsize::new(0);
    let processed = seeded
        .into_par_iter()
        .map(|(shard, seed)| {
            let plaintexts = process_shard(
                &shard,
                &resolved,
                &encryption_parameters,
                shape,
                &mut StdRng::from_seed(seed),
            )?;
            let params = plaintexts.parameters.clone();
            let out = finish(plaintexts)?;
            progress(Progress::ShardDone {
                shard: shard.index,
                rows: shard.rows.len(),
                done: done.fetch_add(1, Ordering::Relaxed) + 1,
                total,
            });
            Ok((params, out))
        })
        .collect::<Result<Vec<_>, E>>()?;
    let (params, shards): (Vec<pir::PirParameters>, Vec<S>) = processed.into_iter().unzip();
    Ok(ProcessedDatabase {
        usecase: UsecaseConfig::from_shards(&params)?,
        shards,
    })
}

/// One shard: cuckoo table, buckets, parameters, plaintexts of every table.
fn process_shard(
    shard: &KeywordShard,
    resolved: &ResolvedKeywordConfig,
    encryption_parameters: &he::EncryptionParameters,
    shape: RingShape,
    rng: &mut StdRng,
) -> Result<ShardPlaintexts, PirError> {
    let layout = ShardLayout::build(
        &shard.rows,
        &resolved.keyword,
        shape.degree,
        shape.bytes_per_plaintext,
        rng,
    )?;
    let index = &layout.index_parameter;
    let bits = bits_per_coeff(encryption_parameters.plaintext_modulus)?;
    let mut plaintexts = Vec::new();
    for table in layout.buckets.chunks(index.entry_count.max(1)) {
        plaintexts.extend(table_plaintexts(
            table,
            index,
            bits,
            shape.bytes_per_plaintext,
        )?);
    }
    let keyword: &KeywordPirParameter = &layout.keyword_parameter;
    Ok(ShardPlaintexts {
        index: shard.index,
        row_count: shard.rows.len(),
        parameters: to_pir_parameters(encryption_parameters, index, Some(keyword)),
        plaintexts,
    })
}
