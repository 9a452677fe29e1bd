//! `pir-server build --previous DIR` (issue #7 "Operation", incremental updates): only the shards
//! whose rows changed are processed again; the others' files are copied byte for byte, and
//! `config_id` stays what it was when no shard's parameters changed, so devices keep their cached
//! config and evaluation key.
//!
//! Every build records in `build.json` the process config it used and a digest of each shard's
//! rows. Rows are sharded by keyword hash (pir-protocol.md §3.2) over the previous shard count, so a
//! changed row touches one shard. A changed shard is first processed pinned to its previous
//! parameters (fixed bucket count and entry size, hence the same dimensions and Galois keys);
//! only if its rows no longer fit that layout does it get fresh parameters, and a new `config_id`.
//! Cuckoo placement is random, so an unchanged shard is never processed again: it is copied.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use pir::keyword_database::{KeywordValuePair, shard_rows};
use pir::params_file::{RingShape, from_pir_parameters};
use pir::process::{Progress, ShardPlaintexts, encryption_parameters, process_plaintexts};
use pir::process_config::{ProcessConfig, TableSizeOption};
use pir::proto::pir as pir_proto;
use pir::sharding::Sharding;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The record file in a version directory.
pub const MANIFEST: &str = "build.json";

/// What a build records about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The config every shard was processed with, its sharding pinned to the shard count.
    pub process_config: ProcessConfig,
    /// Per shard, in index order.
    pub shards: Vec<ShardRecord>,
}

/// One shard's rows, as a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardRecord {
    pub rows: usize,
    /// SHA-256 over the rows sorted by keyword (order in the input does not matter).
    pub rows_sha256: String,
}

impl ShardRecord {
    pub fn of(rows: &[KeywordValuePair]) -> Self {
        let mut sorted: Vec<&KeywordValuePair> = rows.iter().collect();
        sorted.sort_by(|a, b| (&a.keyword, &a.value).cmp(&(&b.keyword, &b.value)));
        let mut hash = Sha256::new();
        for row in sorted {
            // Length-prefixed, so that no two row lists share a byte stream.
            for part in [&row.keyword, &row.value] {
                hash.update((part.len() as u64).to_le_bytes());
                hash.update(part);
            }
        }
        Self {
            rows: rows.len(),
            rows_sha256: hex::encode(hash.finalize()),
        }
    }
}

impl Manifest {
    /// The manifest of a finished build: `config` with its sharding pinned to the shard count.
    pub fn new(
        config: &ProcessConfig,
        shard_rows: &[Vec<KeywordValuePair>],
    ) -> anyhow::Result<Self> {
        let mut process_config = config.clone();
        process_config.sharding = Some(Sharding::shard_count(shard_rows.len().max(1))?);
        Ok(Self {
            process_config,
            shards: shard_rows.iter().map(|r| ShardRecord::of(r)).collect(),
        })
    }

    pub fn read(version: &Path) -> anyhow::Result<Self> {
        let path = version.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (versions built before incremental builds have none: build without \
                 --previous once)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn to_json(&self) -> anyhow::Result<Vec<u8>> {
        Ok(serde_json::to_vec_pretty(self)?)
    }
}

/// The rows of each shard under `config` (the sharding of `PIRProcessDatabase`).
pub fn split(
    rows: Vec<KeywordValuePair>,
    config: &ProcessConfig,
) -> anyhow::Result<Vec<Vec<KeywordValuePair>>> {
    let shape = RingShape::of(&encryption_parameters(&config.rlwe_parameters)?)?;
    let max_value = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
    let resolved = config.resolve_keyword(max_value, shape.bytes_per_plaintext)?;
    Ok(
        shard_rows(rows, &resolved.sharding, resolved.keyword.sharding_function)?
            .into_iter()
            .map(|s| s.rows)
            .collect(),
    )
}

/// The version directory `--previous` names: a version itself (it holds [`MANIFEST`]), or the
/// newest version of `usecase` under a data directory, or the newest under a use-case directory.
pub fn previous_version(dir: &Path, usecase: &str) -> anyhow::Result<PathBuf> {
    if dir.join(MANIFEST).is_file() {
        return Ok(dir.to_path_buf());
    }
    let parent = if dir.join(usecase).is_dir() {
        dir.join(usecase)
    } else {
        dir.to_path_buf()
    };
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&parent)
        .with_context(|| format!("reading {}", parent.display()))?
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST).is_file())
        .collect();
    // Version names sort by age (the default is the UTC time).
    versions.sort();
    match versions.pop() {
        Some(newest) => Ok(newest),
        None => bail!(
            "no version with a {MANIFEST} under {} (build without --previous once)",
            parent.display()
        ),
    }
}

/// A shard of the new version: copied from the previous one, or processed again.
pub enum Shard {
    Copied(pir_proto::PirParameters),
    Rebuilt(ShardPlaintexts),
}

/// The incremental plan's outcome.
pub struct Incremental {
    pub manifest: Manifest,
    pub shards: Vec<Shard>,
    /// Rebuilt shards whose parameters changed (the config id changes with them).
    pub reparameterized: Vec<usize>,
}

/// Compares `rows` with the previous version's record and processes the changed shards.
pub fn rebuild(
    previous: &Path,
    rows: Vec<KeywordValuePair>,
    rng: &mut impl rand::RngCore,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<Incremental> {
    let old = Manifest::read(previous)?;
    let config = old.process_config.clone();
    let by_shard = split(rows, &config).context("sharding the rows")?;
    if by_shard.len() != old.shards.len() {
        bail!(
            "{} records {} shards but its config gives {}",
            previous.display(),
            old.shards.len(),
            by_shard.len()
        );
    }
    let manifest = Manifest::new(&config, &by_shard)?;
    let changed: Vec<usize> = (0..by_shard.len())
        .filter(|&i| manifest.shards.get(i) != old.shards.get(i))
        .collect();
    let mut shards = Vec::with_capacity(by_shard.len());
    let mut reparameterized = Vec::new();
    let mut done = 0;
    for (i, rows) in by_shard.into_iter().enumerate() {
        let path = previous.join(format!("shard-{i}.params.binpb"));
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let old_params = pir_proto::PirParameters::decode(bytes.as_slice())
            .with_context(|| format!("decoding {}", path.display()))?;
        if !changed.contains(&i) {
            shards.push(Shard::Copied(old_params));
            continue;
        }
        let plaintexts = process_like(rows, &config, &old_params, rng)
            .with_context(|| format!("processing shard {i}"))?;
        if plaintexts.parameters != old_params {
            reparameterized.push(i);
        }
        shards.push(Shard::Rebuilt(plaintexts));
        done += 1;
        progress(done, changed.len());
    }
    Ok(Incremental {
        manifest,
        shards,
        reparameterized,
    })
}

/// One shard's rows processed as a one-shard database (processing a shard depends only on its
/// rows and the config), pinned to `old`'s layout when the rows still fit it.
fn process_like(
    rows: Vec<KeywordValuePair>,
    config: &ProcessConfig,
    old: &pir_proto::PirParameters,
    rng: &mut impl rand::RngCore,
) -> anyhow::Result<ShardPlaintexts> {
    let mut single = config.clone();
    single.sharding = None;
    let (index, _) = from_pir_parameters(old)?;
    let mut pinned = single.clone();
    let mut args = pinned.cuckoo_table_arguments.unwrap_or_default();
    // Fixed bucket count: the entry size is the bucket limit, the buckets per table the old ones.
    args.bucket_count = Some(TableSizeOption::FixedSize {
        bucket_count: index.entry_count * index.batch_size,
    });
    args.max_serialized_bucket_size = Some(index.entry_size);
    pinned.cuckoo_table_arguments = Some(args);
    let quiet = |_: Progress| {};
    if let Ok(mut db) = process_plaintexts(rows.clone(), &pinned, rng, &quiet)
        && let Some(shard) = db.shards.pop()
        && shard.parameters == *old
    {
        return Ok(shard);
    }
    let mut db = process_plaintexts(rows, &single, rng, &quiet)?;
    db.shards.pop().context("processing gave no shard")
}
