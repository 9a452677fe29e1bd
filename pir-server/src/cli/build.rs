//! `pir-server build`: a blocklist (or an Apple `KeywordDatabase`) becomes a new version directory
//! of a use case: every shard's processed database and params (through `pir::process`), and the
//! Bloom prefilter from the same canonical entries. Written to a hidden directory and renamed when
//! complete, so a server reloading meanwhile never sees half a version.
//!
//! Files: `shard-<i>.pirdb` (`pir::processed_file`, memory-mapped by the server),
//! `shard-<i>.params.binpb`, `pir-config.binpb` and `prefilter.json` (the server's native layout),
//! and `build.json`, the record `--previous` reads. Parameters are chosen to fit the relay's size
//! limits in [`plan`]; incremental builds are [`incremental`]; the summary's sizes are
//! `pir_server::wire_sizes` (issue #7 "Operation").

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use bloom_gen::{BloomBuilder, BloomParams, Seed, sizing_for};
use indicatif::{ProgressBar, ProgressStyle};
use pir::database::ProcessedShard;
use pir::keyword_database::{KeywordValuePair, rows_from_proto};
use pir::process::{NEURLFILTER_VALUE, Progress, ShardPlaintexts, rows_from_blocklist};
use pir::process_config::ProcessConfig;
use pir::proto::pir as pir_proto;
use pir::usecase_config::UsecaseConfig;
use pir_server::wire_sizes::WireSizes;
use prost::Message as _;

use super::{Exit, Failure};

mod incremental;
mod plan;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Blocklist, one URL or host per line (bloom-gen's canonical forms are the keywords).
    #[arg(
        long,
        conflicts_with = "keyword_database",
        required_unless_present = "keyword_database"
    )]
    pub urls: Option<PathBuf>,
    /// Apple `KeywordDatabase` instead of a blocklist (`.txtpb` text, otherwise binary).
    #[arg(long)]
    pub keyword_database: Option<PathBuf>,
    /// The use-case name devices send, e.g. `<app bundle id>.url.filtering`.
    #[arg(long)]
    pub usecase: String,
    /// Data directory: the version is written to `<out>/<usecase>/<version>/`.
    #[arg(long)]
    pub out: PathBuf,
    /// Version directory name (default: the UTC time, `YYYYMMDDTHHMMSSZ`, which sorts by age).
    #[arg(long)]
    pub version: Option<String>,
    /// Apple `PIRProcessDatabase` JSON config; its input and output paths are ignored.
    #[arg(long)]
    pub process_config: Option<PathBuf>,
    /// Predefined RLWE parameter set (without --process-config).
    #[arg(long, default_value = "n_4096_logq_27_28_28_logt_5")]
    pub rlwe_parameters: String,
    /// Rows per shard (without --process-config); default: one shard.
    #[arg(long)]
    pub entries_per_shard: Option<usize>,
    /// Prefilter false-positive rate per lookup.
    #[arg(long, default_value_t = 0.001)]
    pub fpr: f64,
    /// Largest `/key` body the relay accepts (declared at onboarding): parameters are chosen to
    /// fit, or the build fails (exit code 2) with the smallest achievable figures.
    #[arg(long)]
    pub max_key_bytes: Option<usize>,
    /// Largest `/queries` answer per keyword the relay accepts; as --max-key-bytes.
    #[arg(long)]
    pub max_response_bytes: Option<usize>,
    /// Rebuild only the shards whose entries changed since the newest version under this data
    /// directory (or this use-case or version directory), copying the others byte for byte, with
    /// that version's process config.
    #[arg(
        long,
        conflicts_with_all = ["process_config", "rlwe_parameters", "entries_per_shard", "max_key_bytes", "max_response_bytes"]
    )]
    pub previous: Option<PathBuf>,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
}

pub fn build(args: &BuildArgs) -> Result<(), Failure> {
    run(args).map_err(|error| Failure {
        code: if error
            .downcast_ref::<plan::PlanError>()
            .is_some_and(|e| matches!(e, plan::PlanError::NoFit { .. }))
        {
            Exit::SizeLimits
        } else {
            Exit::Build
        },
        error,
    })
}

fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let spinner = progress_spinner(args.quiet, "reading and canonicalizing");
    let (rows, rejected, duplicates) = read_rows(args)?;
    spinner.finish_and_clear();
    if rows.is_empty() {
        bail!("no usable entries in the input");
    }

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} shards, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("processing");
    let prefilter = prefilter_json(&rows, args.fpr)?;
    let entries = rows.len();
    let built = match &args.previous {
        Some(previous) => incremental(args, previous, rows, &bar)?,
        None => full(args, rows, &bar)?,
    };
    bar.set_message("encoding");
    let (copied, rebuilt): (Vec<_>, Vec<_>) = built
        .shards
        .into_iter()
        .enumerate()
        .partition(|(_, s)| matches!(s, incremental::Shard::Copied(_)));
    let (rebuilt_indices, plaintexts): (Vec<usize>, Vec<ShardPlaintexts>) = rebuilt
        .into_iter()
        .filter_map(|(i, s)| match s {
            incremental::Shard::Rebuilt(p) => Some((i, p)),
            incremental::Shard::Copied(_) => None,
        })
        .unzip();
    let encoded = to_eval_form(plaintexts).context("processing the database")?;
    bar.finish_and_clear();

    let mut params: Vec<Option<pir_proto::PirParameters>> =
        vec![None; copied.len() + encoded.len()];
    for (i, shard) in &copied {
        if let (incremental::Shard::Copied(p), Some(slot)) = (shard, params.get_mut(*i)) {
            *slot = Some(p.clone());
        }
    }
    for (&i, shard) in rebuilt_indices.iter().zip(&encoded) {
        if let Some(slot) = params.get_mut(i) {
            *slot = Some(shard.parameters().clone());
        }
    }
    let params: Vec<pir_proto::PirParameters> = params.into_iter().flatten().collect();
    let usecase = UsecaseConfig::from_shards(&params).context("the use-case config")?;
    let sizes = WireSizes::of(&args.usecase, &params).context("computing wire sizes")?;

    let version = args.version.clone().unwrap_or_else(utc_version);
    let usecase_dir = args.out.join(&args.usecase);
    let final_dir = usecase_dir.join(&version);
    if final_dir.exists() {
        bail!("{} already exists", final_dir.display());
    }
    let work_dir = usecase_dir.join(format!(".{version}.partial"));
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;
    let write_bar = progress_spinner(args.quiet, "writing");
    if let Some(previous) = &built.previous {
        // Byte for byte: devices' cached configs and the server's mapped files stay valid.
        for (i, _) in &copied {
            for name in [
                format!("shard-{i}.pirdb"),
                format!("shard-{i}.params.binpb"),
            ] {
                std::fs::copy(previous.join(&name), work_dir.join(&name))
                    .with_context(|| format!("copying {}", previous.join(&name).display()))?;
            }
        }
    }
    for (&i, shard) in rebuilt_indices.iter().zip(&encoded) {
        let path = work_dir.join(format!("shard-{i}.pirdb"));
        let file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut sink = std::io::BufWriter::new(file);
        pir::processed_file::write_to(shard, &mut sink)
            .with_context(|| format!("writing {}", path.display()))?;
        sink.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        write(
            &work_dir.join(format!("shard-{i}.params.binpb")),
            &shard.parameters().encode_to_vec(),
        )?;
    }
    write(
        &work_dir.join("pir-config.binpb"),
        &usecase.pir_config.encode_to_vec(),
    )?;
    write(&work_dir.join("prefilter.json"), &prefilter.json)?;
    write(
        &work_dir.join(incremental::MANIFEST),
        &built.manifest.to_json()?,
    )?;
    std::fs::rename(&work_dir, &final_dir)
        .with_context(|| format!("renaming into {}", final_dir.display()))?;
    write_bar.finish_and_clear();

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "use case      {}", args.usecase);
    let _ = writeln!(out, "version       {}", final_dir.display());
    let _ = writeln!(
        out,
        "entries       {entries} ({} input lines rejected, {duplicates} duplicates)",
        rejected
    );
    let _ = writeln!(out, "shards        {}", params.len());
    let _ = writeln!(out, "parameters    {}", built.parameters);
    if let Some(previous) = &built.previous {
        let _ = writeln!(
            out,
            "incremental   {} of {} shards rebuilt {:?}, {} copied from {}; {}",
            rebuilt_indices.len(),
            params.len(),
            rebuilt_indices,
            copied.len(),
            previous.display(),
            if built.reparameterized.is_empty() {
                "shard parameters unchanged".to_owned()
            } else {
                format!("new parameters for shards {:?}", built.reparameterized)
            }
        );
    }
    let _ = writeln!(out, "config id     {}", hex::encode(usecase.config_id));
    let _ = writeln!(
        out,
        "device sends  evaluation key {} bytes (/key, once per key rotation), query {} bytes per keyword (/queries)",
        sizes.evaluation_key, sizes.query
    );
    let _ = writeln!(
        out,
        "device gets   response {} bytes per keyword (HTTP body sizes, as the relay counts them)",
        sizes.response
    );
    let _ = writeln!(
        out,
        "prefilter     {} bytes bitmap, {} hashes, expected false-positive rate {:.2e}, tag {}",
        prefilter.bitmap_bytes, prefilter.hashes, prefilter.expected_fpr, prefilter.tag
    );
    Ok(())
}

/// The shards of a new version, before encoding and writing.
struct Built {
    shards: Vec<incremental::Shard>,
    manifest: incremental::Manifest,
    /// For the summary.
    parameters: String,
    /// The version copied shards come from.
    previous: Option<PathBuf>,
    reparameterized: Vec<usize>,
}

/// Every shard processed, with parameters fitting the size limits.
fn full(args: &BuildArgs, rows: Vec<KeywordValuePair>, bar: &ProgressBar) -> anyhow::Result<Built> {
    let config = process_config(args)?;
    let limits = plan::Limits {
        max_key_bytes: args.max_key_bytes,
        max_response_bytes: args.max_response_bytes,
    };
    let report = |candidate: usize, total: usize, p: Progress| match p {
        Progress::Sharded { shards, .. } => {
            if total > 1 {
                bar.set_message(format!("fit {}/{total}", candidate + 1));
            }
            bar.set_position(0);
            bar.set_length(shards as u64);
        }
        Progress::ShardDone { done, .. } => bar.set_position(done as u64),
    };
    let candidates =
        plan::candidates(&config, &rows, &limits).context("preparing the process config")?;
    let chosen = plan::choose(
        &args.usecase,
        &rows,
        candidates,
        &limits,
        &mut rand::rngs::OsRng,
        &report,
    )
    .context("processing the database")?;
    let shard_rows = incremental::split(rows, &chosen.candidate.config)?;
    let manifest = incremental::Manifest::new(&chosen.candidate.config, &shard_rows)?;
    Ok(Built {
        shards: chosen
            .database
            .shards
            .into_iter()
            .map(incremental::Shard::Rebuilt)
            .collect(),
        manifest,
        parameters: format!(
            "{}, {}",
            chosen.candidate.config.rlwe_parameters,
            chosen.candidate.describe()
        ),
        previous: None,
        reparameterized: Vec::new(),
    })
}

/// Only the shards whose rows changed since the newest version under `previous`.
fn incremental(
    args: &BuildArgs,
    previous: &Path,
    rows: Vec<KeywordValuePair>,
    bar: &ProgressBar,
) -> anyhow::Result<Built> {
    let previous = incremental::previous_version(previous, &args.usecase)?;
    bar.set_message("rebuilding");
    let report = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let plan = incremental::rebuild(&previous, rows, &mut rand::rngs::OsRng, &report)?;
    let parameters = format!(
        "{}, as {}",
        plan.manifest.process_config.rlwe_parameters,
        previous.display()
    );
    Ok(Built {
        shards: plan.shards,
        manifest: plan.manifest,
        parameters,
        previous: Some(previous),
        reparameterized: plan.reparameterized,
    })
}

/// The Eval form of every shard (the NTTs), shards dealt round-robin to one thread per core.
fn to_eval_form(shards: Vec<ShardPlaintexts>) -> anyhow::Result<Vec<ProcessedShard>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(shards.len())
        .max(1);
    let count = shards.len();
    let mut groups: Vec<Vec<(usize, ShardPlaintexts)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, shard) in shards.into_iter().enumerate() {
        if let Some(group) = groups.get_mut(i % threads) {
            group.push((i, shard));
        }
    }
    let encoded = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                scope.spawn(move || {
                    group
                        .into_iter()
                        .map(|(i, shard)| (i, shard.into_processed_shard()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("an encoding thread panicked"))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let mut out: Vec<(usize, ProcessedShard)> = Vec::with_capacity(count);
    for (i, result) in encoded.into_iter().flatten() {
        out.push((i, result.with_context(|| format!("shard {i}"))?));
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, shard)| shard).collect())
}

fn progress_spinner(quiet: bool, message: &'static str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_message(message);
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Rows, rejected line count, duplicate count.
fn read_rows(args: &BuildArgs) -> anyhow::Result<(Vec<KeywordValuePair>, usize, usize)> {
    if let Some(path) = &args.urls {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let rows = rows_from_blocklist(&text, NEURLFILTER_VALUE);
        return Ok((rows.rows, rows.rejected.len(), rows.duplicates));
    }
    let Some(path) = &args.keyword_database else {
        bail!("give --urls or --keyword-database");
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let database: pir_proto::KeywordDatabase = if path.extension().is_some_and(|e| e == "txtpb") {
        let text = std::str::from_utf8(&bytes).context("the text database is not UTF-8")?;
        pir::text_format::parse(text).context("parsing the keyword database")?
    } else {
        pir_proto::KeywordDatabase::decode(bytes.as_slice())
            .context("decoding the keyword database")?
    };
    Ok((rows_from_proto(database), 0, 0))
}

fn process_config(args: &BuildArgs) -> anyhow::Result<ProcessConfig> {
    if let Some(path) = &args.process_config {
        let json =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return ProcessConfig::from_json(&json).context("parsing the process config");
    }
    let mut json = serde_json::json!({
        "inputDatabase": "",
        "outputDatabase": "url-SHARD_ID.bin",
        "outputPirParameters": "url-SHARD_ID.params.txtpb",
        "rlweParameters": args.rlwe_parameters,
        "databaseType": "keyword",
    });
    if let (Some(n), Some(object)) = (args.entries_per_shard, json.as_object_mut()) {
        object.insert(
            "sharding".into(),
            serde_json::json!({ "entryCountPerShard": n }),
        );
    }
    ProcessConfig::from_json(&json.to_string()).context("building the process config")
}

struct BuiltPrefilter {
    json: Vec<u8>,
    tag: String,
    bitmap_bytes: usize,
    hashes: u32,
    expected_fpr: f64,
}

/// The Bloom filter over exactly the PIR keywords.
fn prefilter_json(rows: &[KeywordValuePair], fpr: f64) -> anyhow::Result<BuiltPrefilter> {
    let n = rows.len() as u64;
    let (bits, hashes) = sizing_for(n, fpr).context("sizing the prefilter")?;
    // Any non-zero seed works; a fresh one per build keeps filters of different builds unrelated.
    let seed = loop {
        if let Ok(seed) = Seed::new(rand::random::<u32>()) {
            break seed;
        }
    };
    let params = BloomParams::new(bits.into(), hashes.into(), seed).context("prefilter params")?;
    let mut builder = BloomBuilder::new(params);
    for row in rows {
        builder.insert_bytes(&row.keyword);
    }
    let filter = builder.finish();
    let mut json = Vec::new();
    bloom_gen::format::write_json(
        &filter,
        bloom_gen::format::Meta { count: n, fpr },
        &mut json,
    )
    .context("encoding the prefilter")?;
    Ok(BuiltPrefilter {
        tag: filter.tag_hex(),
        bitmap_bytes: filter.bitmap().len(),
        hashes,
        expected_fpr: params.expected_fpr(n),
        json,
    })
}

/// `YYYYMMDDTHHMMSSZ` for now.
fn utc_version() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
