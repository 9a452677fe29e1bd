//! `pir-server issuer-keys` as a black box (ohttp-privacy-pass.md §5.6) on a file key store: show,
//! stage, promote (refused before not-before), retire, with the file kept at mode 0600.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pir-server");

fn keys(config: &Path, args: &[&str]) -> Output {
    let (action, rest) = args.split_first().unwrap();
    Command::new(BIN)
        .args(["issuer-keys", action, "--config"])
        .arg(config)
        .args(rest)
        .output()
        .unwrap()
}

fn ok(config: &Path, args: &[&str]) -> String {
    let out = keys(config, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The listing's lines for `tier`, as (state, not-before) pairs.
fn states(show: &str, tier: &str) -> Vec<(String, u64)> {
    show.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(tier)).then(|| {
                let state = f.next().unwrap().to_owned();
                (state, f.next().unwrap().parse().unwrap())
            })
        })
        .collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn show_stage_promote_retire() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys/issuer-keys.json");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[issuer]\nuser_tokens = \"users.json\"\ntiers = [\"tier1\", \"tier2\"]\n\
             [issuer_keys]\nfile = {:?}\n",
            file.to_str().unwrap()
        ),
    )
    .unwrap();

    let fresh = ok(&config, &["show"]);
    assert!(fresh.contains("no keys stored yet"), "{fresh}");
    assert!(states(&fresh, "tier1").is_empty());

    // tier1: staged a week out, so promotion is refused.
    let staged = ok(&config, &["stage", "--not-before", "+7d"]);
    let week = now() + 7 * 86_400;
    let tier1 = states(&staged, "tier1");
    assert_eq!(tier1.len(), 2, "{staged}");
    assert_eq!(tier1[0].0, "active");
    assert_eq!(tier1[1].0, "staged");
    assert!(tier1[1].1.abs_diff(week) <= 60, "{staged}");
    assert!(!staged.contains("private"), "{staged}");
    assert_eq!(states(&ok(&config, &["show"]), "tier1"), tier1);

    let early = keys(&config, &["promote"]);
    assert_eq!(early.status.code(), Some(1));
    let why = String::from_utf8_lossy(&early.stderr);
    assert!(why.contains("has not passed"), "{why}");
    assert_eq!(states(&ok(&config, &["show"]), "tier1"), tier1);

    // tier2: staged one second out; once that second has passed, promotion succeeds.
    ok(
        &config,
        &["stage", "--tier", "tier2", "--not-before", "+1s"],
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let promoted = ok(&config, &["promote", "--tier", "tier2"]);
    let tier2: Vec<String> = states(&promoted, "tier2")
        .into_iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(tier2, ["retiring", "active"], "{promoted}");
    assert_eq!(states(&promoted, "tier1"), tier1, "other tiers untouched");

    let retired = ok(&config, &["retire", "--tier", "tier2"]);
    let tier2: Vec<String> = states(&retired, "tier2").into_iter().map(|s| s.0).collect();
    assert_eq!(tier2, ["retired", "active"], "{retired}");

    // Nothing left to retire: an error, and the set is unchanged.
    let again = keys(&config, &["retire", "--tier", "tier2"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no retiring key"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}

#[test]
fn bad_input_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[issuer]\nuser_tokens = \"users.json\"\n[issuer_keys]\nfile = {:?}\n",
            dir.path().join("k.json").to_str().unwrap()
        ),
    )
    .unwrap();

    let unknown_tier = keys(&config, &["promote", "--tier", "gold"]);
    assert_eq!(unknown_tier.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&unknown_tier.stderr).contains("not in [issuer] tiers"));

    let missing = keys(&dir.path().join("nope.toml"), &["show"]);
    assert_eq!(missing.status.code(), Some(3));

    let past = keys(&config, &["stage", "--not-before", "1000"]);
    assert_eq!(past.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&past.stderr).contains("must lie after now"));

    let garbage = keys(&config, &["stage", "--not-before", "+7w"]);
    assert_eq!(garbage.status.code(), Some(2), "clap rejects it");

    // No staged key: promote says so.
    let none = keys(&config, &["promote"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no staged key"));
}
