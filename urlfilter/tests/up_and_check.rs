//! Issue #9's end-to-end checks, black box: `urlfilter up` on loopback ports and `urlfilter check`
//! against it through the OHTTP gateway with Privacy Pass on. Blocked entries are blocked (host
//! entries block subdomains and paths), absent ones allowed, Apple's onboarding entry works; after
//! a restart of the stack the same device keeps working without re-configuration.
//!
//! `up` runs the workspace's `pir-server` and `ohttp-gateway` binaries from the same target
//! directory; `cargo test --workspace` builds them (their packages have integration tests).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BLOCKLIST: &str = "\
# test blocklist
www.apple.com/url-filter-test
example.com
tracker.example.org/pixel
";

fn bin_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_urlfilter"));
    let dir = exe.parent().unwrap().to_path_buf();
    for name in ["pir-server", "ohttp-gateway"] {
        assert!(
            dir.join(name).is_file(),
            "{} missing: run `cargo build --bins` (or the whole `cargo test --workspace`) first",
            dir.join(name).display()
        );
    }
    dir
}

struct Up {
    child: Child,
    gateway: String,
    token: String,
}

fn up(data: &Path, blocklist: &Path) -> Up {
    let mut child = Command::new(env!("CARGO_BIN_EXE_urlfilter"))
        .arg("up")
        .arg(blocklist)
        .arg("--data-dir")
        .arg(data)
        .args(["--service-port", "0", "--gateway-port", "0", "--usecase"])
        .arg("test.urlfilter")
        .arg("--bin-dir")
        .arg(bin_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut gateway, mut token) = (None, None);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(180))
            .expect("urlfilter up did not come up within 180 s");
        let field = |prefix: &str| {
            line.trim()
                .strip_prefix(prefix)
                .map(|r| r.trim().split_whitespace().next().unwrap_or("").to_owned())
        };
        if let Some(g) = field("OHTTP gateway") {
            gateway = Some(g);
        }
        if let Some(t) = field("User token") {
            token = Some(t);
        }
        if line.contains("Ctrl-C stops everything") {
            break;
        }
    }
    Up {
        child,
        gateway: gateway.expect("gateway URL printed"),
        token: token.expect("user token printed"),
    }
}

impl Up {
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "urlfilter up exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("urlfilter up did not stop within 30 s of SIGTERM");
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn check(up: &Up, state: &Path, urls: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urlfilter"))
        .arg("check")
        .args(urls)
        .args(["--service", "https://pir.localhost", "--via-gateway"])
        .arg(&up.gateway)
        .args(["--usecase", "test.urlfilter", "--user-token"])
        .arg(&up.token)
        .arg("--state")
        .arg(state)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn up_then_check_through_the_gateway_and_again_after_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let blocklist = work.path().join("blocklist.txt");
    std::fs::write(&blocklist, BLOCKLIST).unwrap();
    let data = work.path().join("data");
    let state = work.path().join("phone.json");

    let stack = up(&data, &blocklist);
    for url in [
        "https://www.apple.com/url-filter-test",
        "https://example.com/",
        "https://deep.sub.example.com/some/page?x=1",
        "https://tracker.example.org/pixel",
    ] {
        let out = check(&stack, &state, &[url]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{url} not blocked:\n{}",
            text(&out)
        );
        assert!(text(&out).contains("BLOCKED"), "{}", text(&out));
    }
    for url in [
        "https://example.org/",
        "https://tracker.example.org/other",
        "https://notexample.com/",
    ] {
        let out = check(&stack, &state, &[url]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{url} not allowed:\n{}",
            text(&out)
        );
    }
    stack.stop();

    // Same data directory, same phone: keys (evaluation, issuer, OHTTP) survived, so the device
    // neither re-uploads its key nor fails on its cached config.
    let stack = up(&data, &blocklist);
    let out = check(&stack, &state, &["https://www.apple.com/url-filter-test"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("evaluation key uploaded"),
        "the key was re-uploaded after a restart:\n{}",
        text(&out)
    );
    stack.stop();
}
