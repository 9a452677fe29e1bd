//! Runs the `apple` suite on the repository's copy of the transcripts: nothing may fail.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::Path;

use vectors::report::Outcome;

#[test]
fn apple_transcripts_have_no_failures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("apple");
    let report = vectors::apple::run(&dir).unwrap();
    let failures: Vec<String> = report
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    // Every he/ check runs on this copy: none may be skipped.
    let skipped_he: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.name.contains(" he/") && matches!(c.outcome, Outcome::Skip(_)))
        .map(ToString::to_string)
        .collect();
    assert!(skipped_he.is_empty(), "{skipped_he:#?}");
    let he_passed = report
        .checks
        .iter()
        .filter(|c| c.name.contains(" he/") && c.outcome == Outcome::Pass)
        .count();
    assert!(he_passed > 300, "only {he_passed} he/ checks passed");
}

#[test]
fn corrupted_file_fails() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("apple");
    let tmp = std::env::temp_dir().join(format!("vectors-corrupt-{}", std::process::id()));
    let rel = "he/n_4096_logq_27_28_28_logt_5/u32/evaluation_key_config.binpb";
    std::fs::create_dir_all(tmp.join(rel).parent().unwrap()).unwrap();
    std::fs::copy(src.join("manifest.json"), tmp.join("manifest.json")).unwrap();
    let mut bytes = std::fs::read(src.join(rel)).unwrap();
    bytes[0] ^= 1;
    std::fs::write(tmp.join(rel), bytes).unwrap();
    let report = vectors::apple::run(&tmp).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    let (_, failed, _) = report.counts();
    assert!(failed >= 1, "{}", report.summary());
}
