//! The `bloom-gen` binary as a black box.
#![allow(clippy::unwrap_used, reason = "black-box tests fail loudly")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

const APPLE_ITEMS: &str = "example.com\nexample2.com\nexample3.com\nexample4.com\nexample5.com\n\
example6.com\nexample7.com\nexample8.com\nexample9.com\nexample10.com/resource?query=bugs\n";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bloom-gen"))
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = bin();
    cmd.args(args).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        let mut s = child.stdin.take().unwrap();
        // The child may exit early (e.g. a usage error); a broken pipe is fine.
        let _ = s.write_all(input);
    }
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(code(o), 0, "stderr: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn bitmap_of(v: &serde_json::Value) -> Vec<u8> {
    STANDARD.decode(v["content"].as_str().unwrap()).unwrap()
}

#[test]
fn help_documents_exit_codes_and_formats() {
    let o = run(&["--help"], None);
    assert_eq!(code(&o), 0);
    let help = String::from_utf8_lossy(&o.stdout);
    for s in [
        "Exit status",
        "--strict",
        "--fpr",
        "--seed",
        "--format",
        "canonicalize",
        "check",
        "-o",
    ] {
        assert!(help.contains(s), "--help lacks {s}");
    }
    assert_eq!(code(&run(&["--version"], None)), 0);
}

#[derive(serde::Deserialize)]
struct Vectors {
    bloom_bitmaps: Vec<Bitmap>,
    bloom_bitmaps_negative: Vec<Negative>,
}

#[derive(serde::Deserialize)]
struct Bitmap {
    id: String,
    items: Vec<String>,
    bit_count: u32,
    hash_count: u32,
    murmur_seed: u32,
    expected_bitmap_base64: String,
}

#[derive(serde::Deserialize)]
struct Negative {
    items: Vec<String>,
    bit_count: u32,
    hash_count: u32,
    murmur_seed: u32,
    must_not_equal_base64: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../vectors/bloom/bloom.json")).unwrap()
}

#[test]
fn binary_reproduces_every_bitmap_vector_in_all_formats() {
    let dir = tmpdir();
    for t in vectors().bloom_bitmaps {
        let input = t.items.join("\n") + "\n";
        let (b, k, s) = (
            t.bit_count.to_string(),
            t.hash_count.to_string(),
            t.murmur_seed.to_string(),
        );
        let common = ["--verbatim", "--bits", &b, "--hashes", &k, "--seed", &s];
        let v = json(&run(
            &[&common[..], &["-"]].concat(),
            Some(input.as_bytes()),
        ));
        assert_eq!(v["content"], t.expected_bitmap_base64, "{}", t.id);
        assert_eq!(v["bits"], t.bit_count);
        assert_eq!(v["hashes"], t.hash_count);
        assert_eq!(v["seed"], t.murmur_seed);
        assert_eq!(v["count"], t.items.len());
        let bitmap = bitmap_of(&v);
        assert_eq!(v["tag"], hex::encode(Sha256::digest(&bitmap)));
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 6, "{keys:?}");

        // Canonical (non-verbatim) input gives the same bytes for these already-canonical items.
        let canon = json(&run(
            &["--bits", &b, "--hashes", &k, "--seed", &s, "-"],
            Some(input.as_bytes()),
        ));
        assert_eq!(
            canon["content"], t.expected_bitmap_base64,
            "{} canonical",
            t.id
        );

        let raw_path = dir.path().join(format!("{}.bin", t.id));
        let o = run(
            &[
                &common[..],
                &["--format", "raw", "-o", raw_path.to_str().unwrap(), "-"],
            ]
            .concat(),
            Some(input.as_bytes()),
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(std::fs::read(&raw_path).unwrap(), bitmap);

        let o = run(
            &[&common[..], &["--format", "plist", "-"]].concat(),
            Some(input.as_bytes()),
        );
        assert_eq!(code(&o), 0);
        let p: plist::Value = plist::from_bytes(&o.stdout).unwrap();
        let d = p.as_dictionary().unwrap();
        assert_eq!(d.get("data").unwrap().as_data().unwrap(), &bitmap[..]);
        assert_eq!(
            d.get("bitCount").unwrap().as_unsigned_integer(),
            Some(u64::from(t.bit_count))
        );
        assert_eq!(
            d.get("byteCount").unwrap().as_unsigned_integer(),
            Some(bitmap.len() as u64)
        );
        assert_eq!(
            d.get("hashCount").unwrap().as_unsigned_integer(),
            Some(u64::from(t.hash_count))
        );
        assert_eq!(
            d.get("murmurSeed").unwrap().as_unsigned_integer(),
            Some(u64::from(t.murmur_seed))
        );
        assert_eq!(
            d.get("itemCount").unwrap().as_unsigned_integer(),
            Some(t.items.len() as u64)
        );
        assert!(d.get("falsePositiveTolerance").unwrap().as_real().is_some());
    }
    for t in vectors().bloom_bitmaps_negative {
        let input = t.items.join("\n") + "\n";
        let (b, k, s) = (
            t.bit_count.to_string(),
            t.hash_count.to_string(),
            t.murmur_seed.to_string(),
        );
        let v = json(&run(
            &[
                "--verbatim",
                "--bits",
                &b,
                "--hashes",
                &k,
                "--seed",
                &s,
                "-",
            ],
            Some(input.as_bytes()),
        ));
        assert_ne!(v["content"], t.must_not_equal_base64);
    }
}

#[test]
fn sizing_rule_and_random_seed() {
    // Apple's unit test: n = 10, p = 0.001 -> 144 bits, 10 hashes; the seed is random, never 0.
    let a = json(&run(&["-"], Some(APPLE_ITEMS.as_bytes())));
    let b = json(&run(&["-"], Some(APPLE_ITEMS.as_bytes())));
    assert_eq!(
        (a["bits"].as_u64(), a["hashes"].as_u64()),
        (Some(144), Some(10))
    );
    assert_ne!(a["seed"], 0);
    assert_ne!(a["seed"], b["seed"], "two runs drew the same random seed");
    let c = json(&run(
        &["--fpr", "0.0001", "-"],
        Some(APPLE_ITEMS.as_bytes()),
    ));
    assert!(c["bits"].as_u64().unwrap() > 144);
}

#[test]
fn file_input_and_stdin_agree() {
    let dir = tmpdir();
    let p = write(dir.path(), "urls.txt", APPLE_ITEMS.as_bytes());
    let a = json(&run(&["--seed", "5", p.to_str().unwrap()], None));
    let b = json(&run(&["--seed", "5", "-"], Some(APPLE_ITEMS.as_bytes())));
    assert_eq!(a, b);
}

#[test]
fn bad_parameters_exit_2_with_a_clear_message() {
    for (args, needle) in [
        (&["--seed", "0", "-"][..], "seed 0"),
        (&["--bits", "0", "-"][..], "--bits"),
        (&["--bits", "4294967296", "-"][..], "4294967296"),
        (&["--hashes", "0", "-"][..], "--hashes"),
        (&["--fpr", "0", "-"][..], "false-positive rate"),
        (&["--fpr", "1", "-"][..], "false-positive rate"),
        (&["--fpr", "nan", "-"][..], "false-positive rate"),
        (&["--format", "xml", "-"][..], "--format"),
        (&[][..], "INPUT"),
    ] {
        let o = run(args, Some(b"example.com\n"));
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn bad_lines_are_reported_with_line_numbers_and_counted() {
    let dir = tmpdir();
    let input = b"# comment\nexample.com\n*.wild.com\n\n0.0.0.0 hosts.example\nbad\xffutf8.com\nhttps://\nok.org/path\n";
    let p = write(dir.path(), "urls.txt", input);
    let o = run(&["--seed", "9", p.to_str().unwrap()], None);
    let v = json(&o);
    let err = stderr(&o);
    let name = p.display().to_string();
    for needle in [
        format!("{name}:3: rejected: wildcards"),
        format!("{name}:5: rejected: whitespace"),
        format!("{name}:6: rejected: not valid UTF-8"),
        format!("{name}:7: rejected: no host"),
    ] {
        assert!(err.contains(&needle), "missing {needle:?} in:\n{err}");
    }
    assert!(
        err.contains("read 8 lines: 2 kept, 2 skipped (blank or comment), 4 rejected"),
        "{err}"
    );
    assert_eq!(v["count"], 2);
}

#[test]
fn strict_fails_with_exit_2_and_writes_nothing() {
    let dir = tmpdir();
    let p = write(dir.path(), "urls.txt", b"example.com\n*.bad.com\n");
    let out = dir.path().join("filter.json");
    std::fs::write(&out, b"previous").unwrap();
    let o = run(
        &["--strict", "-o", out.to_str().unwrap(), p.to_str().unwrap()],
        None,
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(":2: rejected"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"previous",
        "--strict must not touch the output"
    );
    let o = run(&["canonicalize", "--strict", p.to_str().unwrap()], None);
    assert_eq!(code(&o), 2);
    // Without --strict the same input succeeds.
    assert_eq!(
        code(&run(
            &["-o", out.to_str().unwrap(), p.to_str().unwrap()],
            None
        )),
        0
    );
}

#[test]
fn output_file_is_replaced_atomically() {
    let dir = tmpdir();
    let p = write(dir.path(), "urls.txt", APPLE_ITEMS.as_bytes());
    let out = dir.path().join("filter.json");
    std::fs::write(&out, b"old contents").unwrap();
    let o = run(
        &[
            "--seed",
            "3",
            "-o",
            out.to_str().unwrap(),
            p.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["seed"], 3);
    // Only the input and the output remain: the temporary file was renamed, not left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["filter.json", "urls.txt"]);
    // A target in a missing directory fails with exit 4 and leaves nothing.
    let bad = dir.path().join("missing/filter.json");
    let o = run(&["-o", bad.to_str().unwrap(), p.to_str().unwrap()], None);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
}

#[test]
fn empty_and_comment_only_input_exit_3() {
    for input in [&b""[..], b"\n\n# only a comment\n   \n"] {
        let o = run(&["-"], Some(input));
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(stderr(&o).contains("no usable entries"), "{}", stderr(&o));
    }
    let o = run(&["/nonexistent/urls.txt"], None);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("cannot open"), "{}", stderr(&o));
}

#[test]
fn binary_garbage_does_not_panic() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let garbage: Vec<u8> = (0..300_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let o = run(&["--seed", "1", "-"], Some(&garbage));
    assert!([0, 3].contains(&code(&o)), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
    assert!(stderr(&o).contains("rejected"));
}

#[test]
fn long_lines_are_rejected_not_buffered() {
    // A 1 MB line between two good ones, then a 3 MB line with no newline at the end.
    let mut input = b"example.com\n".to_vec();
    input.extend(std::iter::repeat_n(b'a', 1 << 20));
    input.extend(b"\nexample.org\n");
    input.extend(std::iter::repeat_n(b'b', 3 << 20));
    let o = run(&["--seed", "1", "-"], Some(&input));
    let v = json(&o);
    assert_eq!(v["count"], 2);
    let err = stderr(&o);
    assert!(err.contains("<stdin>:2: rejected:"), "{err}");
    assert!(err.contains("<stdin>:4: rejected:"), "{err}");
    assert!(err.contains("limit is 8192"), "{err}");
}

#[test]
fn duplicates_are_counted_once_and_the_spill_path_agrees() {
    let mut input = String::new();
    for i in 0..3000 {
        input.push_str(&format!("https://www.host{}.example/p\n", i % 1000));
    }
    let mem = json(&run(&["--seed", "77", "-"], Some(input.as_bytes())));
    let spilled = json(&run(
        &["--seed", "77", "--spill-after", "100", "-"],
        Some(input.as_bytes()),
    ));
    assert_eq!(mem["count"], 1000);
    assert_eq!(mem, spilled);
}

#[test]
fn canonicalize_prints_the_pir_keywords_once() {
    let input =
        b"https://WWW.Example.com/A/?q=1#frag\nexample.com/A?q=1\nwww.apple.com/url-filter-test\n";
    let o = run(&["canonicalize", "-"], Some(input));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "example.com/A?q=1\nexample.com/a?q=1\napple.com/url-filter-test\nwww.apple.com/url-filter-test\n"
    );
    let o = run(
        &["canonicalize", "--keep-duplicates", "-q", "-"],
        Some(input),
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 6);
}

#[test]
fn check_walks_the_device_path() {
    let dir = tmpdir();
    let p = write(
        dir.path(),
        "urls.txt",
        b"example.com/blocked\nwww.apple.com/url-filter-test\n",
    );
    let filter = dir.path().join("filter.json");
    assert_eq!(
        code(&run(
            // A fixed seed: with a random one, the negative URL below is a false positive
            // now and then (a 2-entry filter at p = 0.001, ~10 sub-URLs).
            &[
                "-q",
                "--seed",
                "1",
                "-o",
                filter.to_str().unwrap(),
                p.to_str().unwrap()
            ],
            None
        )),
        0
    );
    let f = filter.to_str().unwrap();

    let o = run(
        &[
            "check",
            "--filter",
            f,
            "https://www.example.com/blocked/page?x=1",
        ],
        None,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("  + example.com/blocked\n"), "{out}");
    assert!(out.contains("    example.com/\n"), "{out}");

    let o = run(
        &["check", "--filter", f, "https://other.example.net/"],
        None,
    );
    assert_eq!(code(&o), 0);

    // No scheme: https:// is assumed. iOS 27 rules: no www. forms, ports.
    let o = run(
        &[
            "check",
            "--ios",
            "27",
            "--positives-only",
            "--filter",
            f,
            "example.com/blocked",
        ],
        None,
    );
    assert_eq!(code(&o), 1);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("  + example.com/blocked\n"), "{out}");
    assert!(!out.contains("www."), "{out}");

    let o = run(
        &[
            "check",
            "--filter",
            f,
            "https://www.apple.com/url-filter-test",
        ],
        None,
    );
    assert_eq!(code(&o), 1);

    // A plist filter works too; an unreadable filter is exit 3.
    let plist = dir.path().join("filter.plist");
    assert_eq!(
        code(&run(
            &[
                "-q",
                "--format",
                "plist",
                "-o",
                plist.to_str().unwrap(),
                p.to_str().unwrap()
            ],
            None
        )),
        0
    );
    assert_eq!(
        code(&run(
            &[
                "check",
                "--filter",
                plist.to_str().unwrap(),
                "example.com/blocked"
            ],
            None
        )),
        1
    );
    let junk = write(dir.path(), "junk.json", b"{\"bits\": 0}");
    assert_eq!(
        code(&run(
            &["check", "--filter", junk.to_str().unwrap(), "example.com"],
            None
        )),
        3
    );
}

#[test]
fn example_blocklist_builds_and_keeps_the_onboarding_entry() {
    let list = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/blocklist.txt");
    let o = run(&["canonicalize", list], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.lines().any(|l| l == "www.apple.com/url-filter-test"),
        "{out}"
    );
    let o = run(&["--seed", "1", list], None);
    let v = json(&o);
    assert!(v["count"].as_u64().unwrap() >= 4);
    // No progress bar escape codes when stderr is not a terminal.
    assert!(!stderr(&o).contains('\u{1b}'));
}
