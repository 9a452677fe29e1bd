//! The binary against a shared Redis key store, as a black box: concurrent `keys init` from
//! several processes writes once, two `serve --key-store redis://...` replicas serve the same
//! `application/ohttp-keys` bytes, and both follow a `keys rotate` (one on SIGHUP, one by its
//! periodic re-read).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_support::redis::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_ohttp-gateway");

fn keys(action: &str, url: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["keys", action, "--key-store", url])
        .env_remove("OHTTP_GATEWAY_KEYS")
        .env_remove("OHTTP_GATEWAY_KEYS_FILE")
        .output()
        .unwrap()
}

fn show(url: &str) -> String {
    let out = keys("show", url);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A serving replica and its public address; killed when dropped.
struct Replica {
    child: Child,
    addr: String,
}

impl Replica {
    fn start(url: &str, reload_secs: &str) -> Replica {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
            ])
            .args(["--key-store", url, "--key-reload-secs", reload_secs])
            .args(["--target", "service.example.net=http://127.0.0.1:9"])
            .env_remove("OHTTP_GATEWAY_KEYS")
            .env_remove("OHTTP_GATEWAY_KEYS_FILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "listening on 127.0.0.1:P (admin 127.0.0.1:Q)"
        let addr = line.split_whitespace().nth(2).expect(&line).to_owned();
        Replica { child, addr }
    }

    fn served_keys(&self) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream
            .write_all(b"GET /ohttp-keys HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        assert!(response.starts_with(b"HTTP/1.1 200"));
        let body = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        hex::encode(&response[body..])
    }

    /// Polls (at most 200 times, 50 ms apart) until the served keys are `want`.
    fn wait_for_keys(&self, want: &str) {
        for _ in 0..200 {
            if self.served_keys() == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("replica at {} never served {want}", self.addr);
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn replicas_share_and_follow_the_redis_key_store() {
    let redis = RedisServer::start().expect("redis-server is required for the Redis tests");
    let url = redis.url();

    // Serving an empty store fails before binding: keys are never generated at start-up.
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--key-store",
            &url,
            "--target",
            "a.example=http://127.0.0.1:9",
        ])
        .env_remove("OHTTP_GATEWAY_KEYS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keys init"));

    // Four operators (or init containers) at once: one writes, the others refuse.
    let inits: Vec<_> = (0..4)
        .map(|_| {
            Command::new(BIN)
                .args(["keys", "init", "--key-store", &url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<_> = inits
        .into_iter()
        .map(|mut c| c.wait().unwrap().code())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == Some(2)).count(),
        3,
        "{codes:?}"
    );

    let first = show(&url);
    assert!(first.starts_with("002d010020"), "{first}");
    let on_hangup = Replica::start(&url, "0");
    let polling = Replica::start(&url, "1");
    assert_eq!(on_hangup.served_keys(), first);
    assert_eq!(polling.served_keys(), first);

    assert!(keys("rotate", &url).status.success());
    let rotated = show(&url);
    assert!(rotated.starts_with("002d02"), "{rotated}");
    on_hangup.signal("-HUP");
    on_hangup.wait_for_keys(&rotated);
    polling.wait_for_keys(&rotated);

    // After retiring, the published list is unchanged (only the retiring key left).
    assert!(keys("retire", &url).status.success());
    assert_eq!(show(&url), rotated);
    on_hangup.signal("-TERM");
}
