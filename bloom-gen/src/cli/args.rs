//! The command line: one declaration per flag, which also writes `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Input: one URL or host per line (`-` reads stdin). Blank lines and lines starting with `#` are
skipped. Each line is canonicalized into the strings the device derives (no scheme, userinfo, port
or fragment; Punycoded lowercase host without leading `www.`; path and query kept; no trailing `/`),
plus lowercase and percent-decoded variants; the same strings belong in the PIR database
(`bloom-gen canonicalize`). Lines that can never match are reported with their line numbers.

Exit status:
  0  success (`check`: no sub-URL is Bloom-positive)
  1  `check`: at least one sub-URL is Bloom-positive
  2  invalid command line or parameters (e.g. --seed 0, --bits 0), or rejected lines with --strict
  3  input problem: unreadable input, no usable entries, an unreadable filter file
  4  output problem: the output file could not be written

Examples:
  bloom-gen urls.txt > filter.json
  bloom-gen --fpr 0.0001 -o filter.json urls.txt
  bloom-gen --format raw -o filter.bin urls.txt
  zcat list.gz | bloom-gen --strict -o filter.json -
  bloom-gen canonicalize urls.txt > keywords.txt
  bloom-gen check --filter filter.json https://www.example.com/a/b";

/// Builds the Bloom prefilter an NEURLFilter app extension hands to iOS/macOS
/// (NEURLFilterPrefilter) from a blocklist, byte-compatible with the device.
#[derive(Debug, Parser)]
#[command(name = "bloom-gen", version, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(flatten)]
    pub build: BuildArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the canonical entries of a blocklist, one per line, duplicates removed: the keywords
    /// of the PIR database (value "1"), identical to what goes into the filter.
    Canonicalize(CanonicalizeArgs),
    /// Walk the device's path for each URL: print the sub-URLs it derives and mark the
    /// Bloom-positive ones with `+`. Exit status 1 if any is positive, 0 if none.
    Check(CheckArgs),
}

/// Input options shared by building and `canonicalize`.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Blocklist file, or `-` for stdin.
    #[arg(value_name = "INPUT", required = true)]
    pub input: Option<PathBuf>,

    /// Take lines as they are (no canonicalization, no variants); only the line ending is
    /// removed and blank / `#` lines skipped. The device only ever looks up canonical strings.
    #[arg(long)]
    pub verbatim: bool,

    /// Fail (exit 2, nothing written) if any line is rejected.
    #[arg(long)]
    pub strict: bool,

    /// No progress bar and no summary (rejected lines are still reported).
    #[arg(short, long)]
    pub quiet: bool,

    /// Report at most this many rejected lines individually (the summary counts them all).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_reports: usize,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Write here (atomically: temporary file in the same directory, then rename) instead of
    /// stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output format: `json` ({"bits","hashes","seed","content","tag","count"}), `raw` (the bare
    /// bitmap, for PrefilterData.temporaryFilepath) or `plist` (the keys Apple's sample app reads).
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    pub format: FormatArg,

    /// Target false-positive rate per lookup; sizes the filter with Apple's rule
    /// bits = ceil(-n ln P / (ln 2)^2), hashes = ceil(bits/n ln 2).
    #[arg(long, value_name = "P", default_value_t = 0.001, value_parser = parse_fpr)]
    pub fpr: f64,

    /// Bit count (1..=4294967295), overriding the sizing rule.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u64).range(1..=u64::from(u32::MAX)))]
    pub bits: Option<u64>,

    /// Hash count (1..=1024), overriding the sizing rule.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=u64::from(bloom_gen::MAX_HASHES)))]
    pub hashes: Option<u64>,

    /// murmurSeed (1..=4294967295; 0 is refused because the device rejects it). Default: random.
    #[arg(long, value_name = "SEED", value_parser = parse_seed)]
    pub seed: Option<u32>,

    /// Size budget for the size advice: above it, the summary suggests the --fpr that fits.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_bytes: u64,

    /// Fingerprints kept in memory before spilling to temporary files (8 bytes each).
    #[arg(long, value_name = "N", default_value_t = 1 << 22, hide = true)]
    pub spill_after: usize,

    /// Print the time spent in each phase (for the bench report).
    #[arg(long, hide = true)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct CanonicalizeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Write here (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Keep duplicates (by default each entry is printed once, first occurrence first).
    #[arg(long)]
    pub keep_duplicates: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The filter: filter.json or a plist written by bloom-gen (or Apple's BloomFilterTool).
    #[arg(long, value_name = "FILE")]
    pub filter: PathBuf,

    /// Which device parser to emulate: 26 (NEURLParser, the shipping rules) or 27 (the default
    /// ParsingConfiguration).
    #[arg(long, value_name = "VERSION", default_value = "26", value_parser = ["26", "27"])]
    pub ios: String,

    /// Print only the Bloom-positive sub-URLs.
    #[arg(long)]
    pub positives_only: bool,

    /// URLs as a browser would load them; `https://` is assumed when no scheme is given.
    #[arg(value_name = "URL", required = true)]
    pub urls: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Json,
    Raw,
    Plist,
}

impl From<FormatArg> for bloom_gen::format::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Json => Self::Json,
            FormatArg::Raw => Self::Raw,
            FormatArg::Plist => Self::Plist,
        }
    }
}

fn parse_seed(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .map_err(|e| format!("{e} (expected 1..=4294967295)"))?;
    bloom_gen::Seed::new(v)
        .map(bloom_gen::Seed::get)
        .map_err(|e| e.to_string())
}

fn parse_fpr(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    bloom_gen::check_fpr(v).map_err(|e| e.to_string())
}
