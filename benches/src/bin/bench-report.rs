//! Renders BENCHMARKS.md from criterion's `run1` and `run2` baselines (see `benches/run.sh`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use benches::{Machine, apple_figures, read_baseline, render};
use clap::Parser;

/// Render the bench report from two saved criterion baselines.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// criterion's output directory.
    #[arg(long, default_value = "target/criterion")]
    criterion_dir: PathBuf,
    /// Directory with Apple's figures (apple-bench*.json, apple-ops.json).
    #[arg(long, default_value = "vectors/apple-bench")]
    apple_dir: PathBuf,
    /// Where to write the report; `-` for stdout.
    #[arg(short, long, default_value = "BENCHMARKS.md")]
    output: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let run1 = read_baseline(&args.criterion_dir, "run1")?;
    let run2 = read_baseline(&args.criterion_dir, "run2")?;
    anyhow::ensure!(
        !run1.is_empty(),
        "no `run1` baseline under {}: run benches/run.sh",
        args.criterion_dir.display()
    );
    let mut benches = Vec::new();
    for name in ["apple-bench.json", "apple-bench-run2.json"] {
        let path = args.apple_dir.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        benches.push(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("parsing {}", path.display()))?,
        );
    }
    let ops_path = args.apple_dir.join("apple-ops.json");
    let ops: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&ops_path).with_context(|| format!("reading {}", ops_path.display()))?,
    )
    .with_context(|| format!("parsing {}", ops_path.display()))?;
    let md = render(
        &machine(),
        &run1,
        &run2,
        &apple_figures(&benches, Some(&ops)),
    );
    if args.output.as_os_str() == "-" {
        print!("{md}");
    } else {
        let tmp = args.output.with_extension("md.tmp");
        std::fs::write(&tmp, md).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &args.output)
            .with_context(|| format!("writing {}", args.output.display()))?;
        eprintln!("wrote {}", args.output.display());
    }
    Ok(())
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split(':').nth(1))
        })
        .map_or_else(|| "unknown CPU".to_string(), |s| s.trim().to_string());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / (1024.0 * 1024.0));
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        memory_gib,
    }
}
