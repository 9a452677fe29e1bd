//! The bench report: reads criterion's saved baselines, relates each result to the machine's
//! roofline (measured in the same run by the `roofline` bench) and to Apple's figures, and renders
//! `BENCHMARKS.md`. Issue: "`benches/` and the bench report".
//!
//! Criterion keeps every baseline it saves under `target/criterion/<id>/<baseline>/` as
//! `benchmark.json` (the id and declared throughput) and `estimates.json` (nanoseconds).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The id of the streaming-read roofline bench.
pub const MEM_STREAM_ID: &str = "machine/mem_read_stream/256MiB";
/// The id of the 32×32→64 multiply-accumulate roofline bench.
pub const MAC_ID: &str = "machine/mac_u32x32_u64/4096";

/// Benches of ours measured side by side with a reference implementation in the same run
/// (ours, theirs, what), reported with the ratio of their medians within each run. Issue "Speed":
/// our NTT within [`TFHE_TARGET`]× of `tfhe-ntt`'s prime32 NTT.
pub const COMPARISONS: [(&str, &str, &str); 2] = [
    (
        "ntt_compare/n4096/ours_forward",
        "ntt_compare/n4096/tfhe_prime32_forward",
        "forward NTT, N=4096, q=268369921",
    ),
    (
        "ntt_compare/n4096/ours_inverse",
        "ntt_compare/n4096/tfhe_prime32_inverse",
        "inverse NTT, N=4096, q=268369921 (tfhe-ntt's unscaled)",
    ),
];
/// The largest ratio of our time to tfhe-ntt's that meets the target.
pub const TFHE_TARGET: f64 = 1.5;

/// What a bench declared it processes per iteration.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub enum Throughput {
    Bytes(u64),
    BytesDecimal(u64),
    Elements(u64),
    Bits(u64),
    ElementsAndBytes { elements: u64, bytes: u64 },
}

#[derive(Debug, Deserialize)]
struct BenchmarkJson {
    full_id: String,
    throughput: Option<Throughput>,
}

#[derive(Debug, Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

#[derive(Debug, Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Debug, Deserialize)]
struct EstimatesJson {
    median: Estimate,
}

/// One bench in one baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub median_ns: f64,
    pub lower_ns: f64,
    pub upper_ns: f64,
    pub throughput: Option<Throughput>,
}

impl Measurement {
    /// Bytes per second, where the bench declared bytes.
    pub fn bytes_per_s(&self) -> Option<f64> {
        let bytes = match self.throughput? {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => b,
            Throughput::ElementsAndBytes { bytes, .. } => bytes,
            Throughput::Elements(_) | Throughput::Bits(_) => return None,
        };
        Some(bytes as f64 / (self.median_ns * 1e-9))
    }

    /// Elements per second, where the bench declared elements.
    pub fn elements_per_s(&self) -> Option<f64> {
        let elements = match self.throughput? {
            Throughput::Elements(e) | Throughput::ElementsAndBytes { elements: e, .. } => e,
            _ => return None,
        };
        Some(elements as f64 / (self.median_ns * 1e-9))
    }
}

/// All benches of one baseline, by full id.
pub type Baseline = BTreeMap<String, Measurement>;

/// Reads every `<id>/<baseline>/` directory under a criterion output directory.
pub fn read_baseline(criterion_dir: &Path, baseline: &str) -> Result<Baseline> {
    let mut found = Baseline::new();
    let mut stack: Vec<PathBuf> = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if dir == criterion_dir => {
                return Err(e).with_context(|| format!("reading {}", dir.display()));
            }
            Err(_) => continue,
        };
        for entry in entries {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == baseline) {
                if let Some((id, m)) = read_one(&path)? {
                    found.insert(id, m);
                }
            } else {
                stack.push(path);
            }
        }
    }
    Ok(found)
}

fn read_one(dir: &Path) -> Result<Option<(String, Measurement)>> {
    let bench_path = dir.join("benchmark.json");
    let est_path = dir.join("estimates.json");
    if !bench_path.exists() || !est_path.exists() {
        return Ok(None);
    }
    let bench: BenchmarkJson = serde_json::from_slice(&std::fs::read(&bench_path)?)
        .with_context(|| format!("parsing {}", bench_path.display()))?;
    let est: EstimatesJson = serde_json::from_slice(&std::fs::read(&est_path)?)
        .with_context(|| format!("parsing {}", est_path.display()))?;
    Ok(Some((
        bench.full_id,
        Measurement {
            median_ns: est.median.point_estimate,
            lower_ns: est.median.confidence_interval.lower_bound,
            upper_ns: est.median.confidence_interval.upper_bound,
            throughput: bench.throughput,
        },
    )))
}

/// A figure of Apple's this project compares a bench against, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct AppleFigure {
    pub what: String,
    pub ms: f64,
}

/// Apple's figures keyed by our bench id, from `apple-bench*.json` (per-query server time, the
/// faster run of the two, as the transcripts' README asks) and `apple-ops.json` (per operation,
/// UInt32 engine, fastest of its runs).
pub fn apple_figures(
    benches: &[serde_json::Value],
    ops: Option<&serde_json::Value>,
) -> BTreeMap<String, AppleFigure> {
    let mut out = BTreeMap::new();
    let databases: [(u64, u64, &str); 3] = [
        (100_000, 1, "100k_1shard"),
        (1_000_000, 1, "1m_1shard"),
        (100_000, 2, "50k_shard"),
    ];
    for (rows, shards, name) in databases {
        for threads in ["1", "2"] {
            let field = format!("threads_{threads}");
            let best = benches
                .iter()
                .filter_map(|run| database(run, rows, shards))
                .filter_map(|db| db["query_shard_0"][&field]["median_ms"].as_f64())
                .reduce(f64::min);
            if let Some(ms) = best {
                out.insert(
                    format!("pir_query/n4096_logt5/{name}/threads{threads}"),
                    AppleFigure {
                        what: format!(
                            "computeResponse, {rows} rows / {shards} shard(s), {threads} thread(s)"
                        ),
                        ms,
                    },
                );
            }
        }
    }
    let processing = benches
        .iter()
        .filter_map(|run| database(run, 1_000_000, 1))
        .filter_map(|db| db["processing_ms_sequential"].as_f64())
        .reduce(f64::min);
    if let Some(ms) = processing {
        out.insert(
            "pir_process/n4096_logt5/1m".into(),
            AppleFigure {
                what: "PIRProcessDatabase, 1M rows, 1 shard".into(),
                ms,
            },
        );
    }
    let op_names: [(&str, &[&str]); 7] = [
        ("ntt/n4096/forward", &["ntt_forward_one_ciphertext_poly"]),
        ("ntt/n4096/inverse", &["ntt_inverse_one_ciphertext_poly"]),
        ("ct_pt_mul/n4096", &["ct_eval_times_pt_eval"]),
        ("galois_keyswitch/n4096", &["apply_galois_with_key_switch"]),
        ("ct_ct/n4096", &["ct_times_ct"]),
        ("relin/n4096", &["relinearize"]),
        ("ct_ct_relin/n4096", &["ct_times_ct", "relinearize"]),
    ];
    if let Some(runs) = ops.and_then(|o| o["runs"].as_array()) {
        for (id, parts) in op_names {
            let mut total = 0.0;
            let mut complete = true;
            for part in parts {
                let best = runs
                    .iter()
                    .filter_map(|run| run["operations"].as_array())
                    .flatten()
                    .filter(|op| {
                        op["rlwe_parameters"] == "n_4096_logq_27_28_28_logt_5"
                            && op["scalar"] == "UInt32"
                    })
                    .filter_map(|op| op[*part]["median_ms"].as_f64())
                    .reduce(f64::min);
                match best {
                    Some(ms) => total += ms,
                    None => complete = false,
                }
            }
            if complete {
                out.insert(
                    id.to_string(),
                    AppleFigure {
                        what: format!("{} (UInt32)", parts.join(" + ")),
                        ms: total,
                    },
                );
            }
        }
    }
    out
}

fn database(run: &serde_json::Value, rows: u64, shards: u64) -> Option<&serde_json::Value> {
    run["databases"]
        .as_array()?
        .iter()
        .find(|db| db["rows"].as_u64() == Some(rows) && db["shard_count"].as_u64() == Some(shards))
}

/// The machine the report was made on, as the report states it.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
}

/// Renders `BENCHMARKS.md` from two baselines of the same benches (the spread between them is
/// quoted, since these machines are noisy) and Apple's figures.
pub fn render(
    machine: &Machine,
    run1: &Baseline,
    run2: &Baseline,
    apple: &BTreeMap<String, AppleFigure>,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Generated by `bash benches/run.sh` (two full criterion runs, baselines `run1` and `run2`, \
         then `cargo run -p benches --bin bench-report`). Do not edit by hand.\n"
    );
    let _ = writeln!(
        md,
        "Machine: {}, {} cores, {:.1} GiB.\n",
        machine.cpu, machine.cores, machine.memory_gib
    );
    let mem = run1.get(MEM_STREAM_ID).and_then(Measurement::bytes_per_s);
    let mac = run1.get(MAC_ID).and_then(Measurement::elements_per_s);
    let _ = writeln!(md, "## Roofline (measured in run 1)\n");
    let _ = writeln!(
        md,
        "- streaming read: {}\n- 32×32→64 multiply-accumulate: {}\n",
        mem.map_or("not measured".into(), |b| format!("{:.2} GB/s", b / 1e9)),
        mac.map_or("not measured".into(), |e| format!("{:.2} G MAC/s", e / 1e9)),
    );
    let _ = writeln!(md, "## All benches\n");
    let _ = writeln!(
        md,
        "| id | run 1 median | run 2 median | spread | throughput (run 1) | of roofline |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (id, m1) in run1 {
        let m2 = run2.get(id);
        let spread = m2.map_or("–".into(), |m2| {
            let (lo, hi) = (
                m1.median_ns.min(m2.median_ns),
                m1.median_ns.max(m2.median_ns),
            );
            format!("{:.0}%", (hi / lo - 1.0) * 100.0)
        });
        let (tput, roof) = throughput_cells(id, m1, mem, mac);
        let _ = writeln!(
            md,
            "| `{id}` | {} | {} | {spread} | {tput} | {roof} |",
            duration(m1.median_ns),
            m2.map_or("–".into(), |m| duration(m.median_ns)),
        );
    }
    let _ = writeln!(md, "\n## Against tfhe-ntt\n");
    let _ = writeln!(
        md,
        "Both in the same bench run (`ntt_compare`); ratio = our median / tfhe-ntt's in that run; \
         target ≤ {TFHE_TARGET}×.\n"
    );
    let _ = writeln!(
        md,
        "| comparison | ours (run 1) | tfhe-ntt (run 1) | ratio run 1 | ratio run 2 | target |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (ours, theirs, what) in COMPARISONS {
        let ratio = |run: &Baseline| Some(run.get(ours)?.median_ns / run.get(theirs)?.median_ns);
        let ratios = [ratio(run1), ratio(run2)];
        let cell = |r: Option<f64>| r.map_or("–".into(), |r| format!("{r:.2}×"));
        let met = match ratios.iter().flatten().copied().reduce(f64::max) {
            Some(worst) if worst <= TFHE_TARGET => "met",
            Some(_) => "missed",
            None => "not measured",
        };
        let time = |id: &str| run1.get(id).map_or("–".into(), |m| duration(m.median_ns));
        let _ = writeln!(
            md,
            "| {what} | {} | {} | {} | {} | {met} |",
            time(ours),
            time(theirs),
            cell(ratios[0]),
            cell(ratios[1]),
        );
    }
    let _ = writeln!(md, "\n## Against Apple\n");
    let _ = writeln!(
        md,
        "Apple's figures: `vectors/apple-bench/` (Apple's server on a machine of the same kind). \
         Speed-up = Apple's time / our faster median.\n"
    );
    let _ = writeln!(md, "| id | Apple | ours | speed-up | Apple's operation |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for (id, fig) in apple {
        let ours = [run1.get(id), run2.get(id)]
            .into_iter()
            .flatten()
            .map(|m| m.median_ns)
            .reduce(f64::min);
        let (ours_cell, ratio) = match ours {
            Some(ns) => (duration(ns), format!("{:.2}×", fig.ms * 1e6 / ns)),
            None => ("not measured".into(), "–".into()),
        };
        let _ = writeln!(
            md,
            "| `{id}` | {} | {ours_cell} | {ratio} | {} |",
            duration(fig.ms * 1e6),
            fig.what
        );
    }
    md
}

fn throughput_cells(
    id: &str,
    m: &Measurement,
    mem: Option<f64>,
    mac: Option<f64>,
) -> (String, String) {
    if let Some(bps) = m.bytes_per_s() {
        let roof = mem.map_or("–".into(), |r| {
            format!("{:.0}% of read bandwidth", bps / r * 100.0)
        });
        return (format!("{:.2} GB/s", bps / 1e9), roof);
    }
    if let Some(eps) = m.elements_per_s() {
        let roof = match mac {
            Some(r) if id.contains("mac") => format!("{:.0}% of MAC rate", eps / r * 100.0),
            _ => "–".into(),
        };
        return (format!("{:.3} G elem/s", eps / 1e9), roof);
    }
    ("–".into(), "–".into())
}

fn duration(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_bench(root: &Path, dir: &str, baseline: &str, id: &str, tput: &str, median: f64) {
        let d = root.join(dir).join(baseline);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("benchmark.json"),
            format!(r#"{{"group_id":"g","function_id":null,"value_str":null,"throughput":{tput},"full_id":"{id}","directory_name":"{dir}","title":"{id}"}}"#),
        )
        .unwrap();
        std::fs::write(
            d.join("estimates.json"),
            format!(r#"{{"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{median},"standard_error":1.0}}}}"#, median * 0.9, median * 1.1),
        )
        .unwrap();
    }

    #[test]
    fn reads_baselines_and_relates_to_roofline_and_apple() {
        let tmp = std::env::temp_dir().join(format!("bench-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        // 1 GiB in 0.5 s = 2.147 GB/s; 4096 MACs in 1 µs = 4.096 G MAC/s.
        write_bench(
            &tmp,
            "machine/mem",
            "run1",
            MEM_STREAM_ID,
            r#"{"Bytes":1073741824}"#,
            5e8,
        );
        write_bench(
            &tmp,
            "machine/mac",
            "run1",
            MAC_ID,
            r#"{"Elements":4096}"#,
            1e3,
        );
        write_bench(
            &tmp,
            "ntt/fwd",
            "run1",
            "ntt/n4096/forward",
            "null",
            20_000.0,
        );
        write_bench(
            &tmp,
            "ntt/fwd",
            "run2",
            "ntt/n4096/forward",
            "null",
            25_000.0,
        );
        let run1 = read_baseline(&tmp, "run1").unwrap();
        let run2 = read_baseline(&tmp, "run2").unwrap();
        assert_eq!(run1.len(), 3);
        assert_eq!(run2.len(), 1);
        let bw = run1[MEM_STREAM_ID].bytes_per_s().unwrap();
        assert!((bw / 1e9 - 2.147).abs() < 0.01, "{bw}");

        let ops = serde_json::json!({"runs": [
            {"operations": [{"rlwe_parameters": "n_4096_logq_27_28_28_logt_5", "scalar": "UInt32",
              "ntt_forward_one_ciphertext_poly": {"median_ms": 0.06}}]},
            {"operations": [{"rlwe_parameters": "n_4096_logq_27_28_28_logt_5", "scalar": "UInt32",
              "ntt_forward_one_ciphertext_poly": {"median_ms": 0.04}}]}]});
        let apple = apple_figures(&[], Some(&ops));
        assert_eq!(apple["ntt/n4096/forward"].ms, 0.04);
        assert!(!apple.contains_key("relin/n4096"));

        let md = render(&Machine::default(), &run1, &run2, &apple);
        assert!(md.contains("2.15 GB/s"), "{md}");
        assert!(md.contains("4.10 G MAC/s"), "{md}");
        // 40 µs over our faster 20 µs.
        assert!(
            md.contains("| `ntt/n4096/forward` | 40.0 µs | 20.0 µs | 2.00× |"),
            "{md}"
        );
        assert!(md.contains("| 25%"), "spread between 20 and 25 µs: {md}");
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn tfhe_comparison_is_the_ratio_within_each_run() {
        let tmp = std::env::temp_dir().join(format!("bench-report-tfhe-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let (ours, theirs, _) = COMPARISONS[0];
        // Run 1: 30 µs / 20 µs = 1.50× (met); run 2: 32 µs / 20 µs = 1.60× (missed).
        for (run, ns) in [("run1", 30_000.0), ("run2", 32_000.0)] {
            write_bench(&tmp, "ours", run, ours, "null", ns);
            write_bench(&tmp, "theirs", run, theirs, "null", 20_000.0);
        }
        let run1 = read_baseline(&tmp, "run1").unwrap();
        let run2 = read_baseline(&tmp, "run2").unwrap();
        let md = render(&Machine::default(), &run1, &run2, &BTreeMap::new());
        assert!(
            md.contains("| 30.0 µs | 20.0 µs | 1.50× | 1.60× | missed |"),
            "{md}"
        );
        let md = render(
            &Machine::default(),
            &run1,
            &Baseline::new(),
            &BTreeMap::new(),
        );
        assert!(md.contains("| 1.50× | – | met |"), "{md}");
        // The inverse pair was not measured.
        assert!(md.contains("| – | – | – | – | not measured |"), "{md}");
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error() {
        assert!(read_baseline(Path::new("/nonexistent/criterion"), "run1").is_err());
    }
}
