//! `pir-server build --max-key-bytes / --max-response-bytes` as a black box (issue #7
//! "Operation"): the build picks parameters whose `/key` and response bodies fit, prints the sizes
//! of what it wrote, and exits 2 with the smallest achievable figures when nothing fits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::Path;
use std::process::{Command, Output};

use pir::proto::pir as pir_proto;
use pir_server::wire_sizes::WireSizes;
use prost::Message as _;

const BIN: &str = env!("CARGO_BIN_EXE_pir-server");
const NAME: &str = "com.example.app.url.filtering";

fn blocklist(dir: &Path, lines: usize) -> std::path::PathBuf {
    let path = dir.join(format!("blocklist-{lines}.txt"));
    let text: String = (0..lines)
        .map(|i| format!("site{i}.example.com/path{i}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn build(dir: &Path, list: &Path, version: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["build", "--quiet", "--usecase", NAME, "--version", version])
        .arg("--urls")
        .arg(list)
        .arg("--out")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

/// The number printed before " bytes" after `label` in the summary.
fn figure(summary: &str, label: &str) -> usize {
    let rest = &summary[summary
        .find(label)
        .unwrap_or_else(|| panic!("{label}: {summary}"))
        + label.len()..];
    rest.trim_start()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The sizes of the version as written: every shard's params file.
fn sizes_on_disk(version: &Path) -> WireSizes {
    let mut params = Vec::new();
    for i in 0.. {
        let Ok(bytes) = std::fs::read(version.join(format!("shard-{i}.params.binpb"))) else {
            break;
        };
        params.push(pir_proto::PirParameters::decode(bytes.as_slice()).unwrap());
    }
    WireSizes::of(NAME, &params).unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn a_key_limit_picks_key_compression_and_the_figures_are_those_written() {
    let dir = tempfile::tempdir().unwrap();
    let list = blocklist(dir.path(), 60);
    let plain = ok(&build(dir.path(), &list, "plain", &[]));
    let key = figure(&plain, "evaluation key");
    let written = sizes_on_disk(&dir.path().join(NAME).join("plain"));
    assert_eq!(written.evaluation_key, key);
    assert_eq!(written.query, figure(&plain, "query"));
    assert_eq!(written.response, figure(&plain, "response"));
    assert!(plain.contains("keyCompression NoCompression"), "{plain}");

    let limit = key - 1;
    let fitted = ok(&build(
        dir.path(),
        &list,
        "fitted",
        &["--max-key-bytes", &limit.to_string()],
    ));
    let fitted_key = figure(&fitted, "evaluation key");
    assert!(fitted_key <= limit, "{fitted}");
    assert!(!fitted.contains("keyCompression NoCompression"), "{fitted}");
    assert_eq!(
        sizes_on_disk(&dir.path().join(NAME).join("fitted")).evaluation_key,
        fitted_key
    );
    // A limit the base already meets changes nothing.
    let roomy = ok(&build(
        dir.path(),
        &list,
        "roomy",
        &["--max-key-bytes", &key.to_string()],
    ));
    assert!(roomy.contains("keyCompression NoCompression"), "{roomy}");
    assert_eq!(figure(&roomy, "evaluation key"), key);
}

#[test]
fn limits_nothing_meets_exit_2_with_the_smallest_figures() {
    let dir = tempfile::tempdir().unwrap();
    let list = blocklist(dir.path(), 60);
    let output = build(
        dir.path(),
        &list,
        "v1",
        &["--max-key-bytes", "1000", "--max-response-bytes", "100"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // One Galois key and the relinearization key, 2 digits of 3 moduli each (maxCompression);
    // two one-chunk replies: Apple's url-maxcomp figures.
    assert!(
        stderr.contains("evaluation key 170249 bytes (keyCompression MaxCompression"),
        "{stderr}"
    );
    assert!(stderr.contains("response 24624 bytes"), "{stderr}");
    assert!(!dir.path().join(NAME).join("v1").exists());
}

#[test]
fn a_response_limit_picks_a_smaller_bucket_size() {
    let dir = tempfile::tempdir().unwrap();
    let list = blocklist(dir.path(), 2000);
    // Buckets of up to three plaintexts: replies of several chunks.
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"inputDatabase": "", "outputDatabase": "url-SHARD_ID.bin",
            "outputPirParameters": "url-SHARD_ID.params.txtpb",
            "rlweParameters": "n_4096_logq_27_28_28_logt_5",
            "cuckooTableArguments": {"maxSerializedBucketSize": 6144}}"#,
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let wide = ok(&build(
        dir.path(),
        &list,
        "wide",
        &["--process-config", config],
    ));
    assert!(figure(&wide, "response") > 24_624, "{wide}");
    let narrow = ok(&build(
        dir.path(),
        &list,
        "narrow",
        &["--process-config", config, "--max-response-bytes", "24624"],
    ));
    assert_eq!(figure(&narrow, "response"), 24_624, "{narrow}");
    assert!(narrow.contains("maxSerializedBucketSize 2048"), "{narrow}");
    assert_eq!(
        sizes_on_disk(&dir.path().join(NAME).join("narrow")).response,
        24_624
    );
}
