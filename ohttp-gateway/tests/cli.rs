//! The binary as a black box: help, key-file management, configuration validation before
//! binding, and a real serve run stopped by SIGTERM.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ohttp-gateway");

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ohttp-gateway-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("OHTTP_GATEWAY_KEYS")
        .output()
        .unwrap()
}

#[test]
fn help_lists_the_flags() {
    let out = run(&["serve", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--target",
        "--keys-file",
        "--tls-cert",
        "--admin-listen",
        "--max-request-bytes",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}

#[test]
fn key_file_lifecycle() {
    let dir = temp_dir("keys");
    let file = dir.join("keys.json");
    let f = file.to_str().unwrap();
    assert!(run(&["keys", "init", "--keys-file", f]).status.success());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        run(&["keys", "init", "--keys-file", f]).status.code(),
        Some(2),
        "no overwrite"
    );
    let show =
        |f: &str| String::from_utf8(run(&["keys", "show", "--keys-file", f]).stdout).unwrap();
    let first = show(f);
    assert_eq!(first.trim().len(), 2 * 47);
    assert!(first.starts_with("002d010020"), "{first}");

    assert!(run(&["keys", "rotate", "--keys-file", f]).status.success());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["keys"][0]["id"], 2);
    assert_eq!(json["keys"][0]["state"], "current");
    assert_eq!(json["keys"][1]["id"], 1);
    assert_eq!(json["keys"][1]["state"], "retiring");
    let rotated = show(f);
    assert!(
        rotated.starts_with("002d02"),
        "only the new key is published: {rotated}"
    );
    assert_eq!(rotated.trim().len(), 2 * 47);

    assert!(run(&["keys", "retire", "--keys-file", f]).status.success());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["keys"].as_array().unwrap().len(), 1);
    assert_eq!(show(f), rotated);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn invalid_configuration_exits_2_before_binding() {
    let dir = temp_dir("invalid");
    let file = dir.join("keys.json");
    let f = file.to_str().unwrap();
    let base = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ];
    let serve = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        run(&args)
    };
    // No keys at all: never generated at start-up.
    let out = serve(&["--target", "a.example=http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no keys"));
    assert!(run(&["keys", "init", "--keys-file", f]).status.success());
    for bad in [
        vec!["--keys-file", f],
        vec!["--keys-file", f, "--target", "a.example"],
        vec!["--keys-file", f, "--target", "a.example=ftp://x"],
        vec![
            "--keys-file",
            f,
            "--target",
            "a.example=http://x",
            "--gateway-path",
            "nope",
        ],
        vec![
            "--keys-file",
            "/nonexistent/keys.json",
            "--target",
            "a.example=http://x",
        ],
    ] {
        assert_eq!(serve(&bad).status.code(), Some(2), "{bad:?}");
    }
    let out = Command::new(BIN)
        .args(base)
        .args(["--target", "a.example=http://x"])
        .env(
            "OHTTP_GATEWAY_KEYS",
            r#"{"keys":[{"id":1,"seed":"00","state":"current"}]}"#,
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a short seed is refused");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn serves_keys_and_stops_on_sigterm() {
    let dir = temp_dir("serve");
    let file = dir.join("keys.json");
    let f = file.to_str().unwrap();
    assert!(run(&["keys", "init", "--keys-file", f]).status.success());
    let expected = String::from_utf8(run(&["keys", "show", "--keys-file", f]).stdout).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--keys-file",
            f,
        ])
        .args(["--target", "service.example.net=http://127.0.0.1:9"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "listening on 127.0.0.1:P (admin 127.0.0.1:Q)"
    let addr = line.split_whitespace().nth(2).unwrap().to_owned();

    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /ohttp-keys HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/ohttp-keys")
    );
    let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(hex::encode(&response[body_start..]), expected.trim());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "graceful exit on SIGTERM");
    std::fs::remove_dir_all(dir).unwrap();
}
