//! `pir answer` (issue #5's offline command), black box: Apple's recorded `/queries` body on Apple's
//! url-1shard database gives Apple's recorded response bytes, and bad input is a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::path::PathBuf;
use std::process::Command;

fn vector(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../vectors/apple/pir/url-1shard")
        .join(rel)
}

fn answer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pir"))
        .arg("answer")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn answers_apples_recorded_queries_byte_for_byte() {
    for (params, threads) in [("url-0.params.txtpb", "1"), ("url-0.params.binpb", "2")] {
        let out = answer(&[
            "--params",
            vector(params).to_str().unwrap(),
            "--database",
            vector("url-0.bin").to_str().unwrap(),
            "--keys",
            vector("api/evaluation-keys.binpb").to_str().unwrap(),
            "--requests",
            vector("api/requests.A.binpb").to_str().unwrap(),
            "--threads",
            threads,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == std::fs::read(vector("api/responses.A.binpb")).unwrap(),
            "responses differ from Apple's ({params})"
        );
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let db = vector("url-0.bin");
    let keys = vector("api/evaluation-keys.binpb");
    let requests = vector("api/requests.A.binpb");
    let params = vector("url-0.params.txtpb");
    let cases: [(Vec<&str>, &str); 3] = [
        (
            vec![
                "--database",
                db.to_str().unwrap(),
                "--keys",
                keys.to_str().unwrap(),
                "--requests",
                requests.to_str().unwrap(),
            ],
            "needs its --params",
        ),
        (
            vec![
                "--params",
                params.to_str().unwrap(),
                "--database",
                db.to_str().unwrap(),
                "--keys",
                requests.to_str().unwrap(),
                "--requests",
                requests.to_str().unwrap(),
            ],
            "not an EvaluationKeys message",
        ),
        (
            vec![
                "--params",
                params.to_str().unwrap(),
                "--database",
                db.to_str().unwrap(),
                "--keys",
                keys.to_str().unwrap(),
                "--requests",
                requests.to_str().unwrap(),
                "--shard-index",
                "3",
            ],
            "shard 0 was not given",
        ),
    ];
    for (args, want) in cases {
        let out = answer(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}
