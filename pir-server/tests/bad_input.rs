//! The bad-input matrix against what Apple's running service answered
//! (vectors/apple/service/url-1shard/probes.json; pir-protocol.md §1.9): every probe that does
//! not involve Privacy Pass (those are in privacy_pass.rs) is replayed, and the status and body
//! must be Apple's — except where the spec says to do better: bodies that do not decode get 400
//! with a JSON error (Apple: empty 500), an out-of-range shard index gets 400 (Apple's server
//! crashes), and an oversized body gets 413 with a JSON error (Apple: empty). After every probe
//! the service still answers a valid request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;

#[derive(Debug, serde::Deserialize)]
struct Probe {
    name: String,
    method: String,
    path: String,
    headers: Vec<String>,
    body: Option<String>,
    status: u16,
    response: String,
    response_text: Option<String>,
}

/// Probes that need a token (privacy_pass.rs) or a PIR answer compared byte for byte
/// (apple_queries.rs).
const ELSEWHERE: &[&str] = &[
    "probe.config.no-authorization",
    "probe.queries.no-authorization",
    "probe.queries.bearer-user-token",
    "probe.queries.garbage-private-token",
    "probe.queries.reused-token",
    "probe.queries.truncated-half",
];

fn probe_body(probe: &Probe) -> Vec<u8> {
    match probe.body.as_deref() {
        None => Vec::new(),
        Some(b) if b.starts_with("any valid") => api("requests.A.binpb"),
        Some("inputs/random-11MiB.bin") => vec![0xa5; 11 << 20],
        Some(path) => read(service_vectors().join(path)),
    }
}

fn probe_request(probe: &Probe) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(probe.method.as_bytes()).unwrap())
        .uri(&probe.path);
    for line in &probe.headers {
        let (name, value) = line.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        builder = builder.header(name.trim(), value.trim());
    }
    builder.body(Body::from(probe_body(probe))).unwrap()
}

/// Our answer where we deliberately differ from Apple's: status and JSON message.
fn improved(probe: &Probe) -> Option<(u16, &'static str)> {
    match probe.name.as_str() {
        "probe.queries.shard-index-out-of-range" => Some((400, "Shard index 7 out of range")),
        "probe.key.body-11MiB" | "probe.queries.body-11MiB" => {
            Some((413, "Request body is larger than"))
        }
        _ if probe.status == 500 => Some((400, "Malformed protobuf body")),
        _ => None,
    }
}

#[tokio::test]
async fn every_probe_gets_apples_answer_or_a_better_one() {
    let probes: Vec<Probe> =
        serde_json::from_slice(&read(service_vectors().join("probes.json"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let router = service(state(dir.path()));
    let (before, after): (Vec<&Probe>, Vec<&Probe>) = probes
        .iter()
        .filter(|p| !ELSEWHERE.contains(&p.name.as_str()))
        .partition(|p| p.name == "probe.queries-before-key-upload");
    assert!(!before.is_empty() && after.len() > 20, "{}", after.len());

    let mut checked = 0;
    for (i, probe) in before.iter().chain(after.iter()).enumerate() {
        if i == before.len() {
            let (status, _) =
                call(&router, device_post("/key", api("evaluation-keys.binpb"))).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, body) = call(&router, probe_request(probe)).await;
        match improved(probe) {
            Some((want, message)) => {
                assert_eq!(status.as_u16(), want, "{}", probe.name);
                let json: serde_json::Value = serde_json::from_slice(&body)
                    .unwrap_or_else(|_| panic!("{}: not JSON", probe.name));
                let got = json["error"]["message"].as_str().unwrap_or_default();
                assert!(got.starts_with(message), "{}: {got}", probe.name);
            }
            None => {
                assert_eq!(status.as_u16(), probe.status, "{}", probe.name);
                let expected = read(service_vectors().join(&probe.response));
                assert_eq!(
                    body,
                    expected,
                    "{}: {:?} vs Apple's {:?}",
                    probe.name,
                    String::from_utf8_lossy(&body),
                    probe.response_text
                );
            }
        }
        // Still serving.
        let (status, body) =
            call(&router, device_post("/config", api("config-request.binpb"))).await;
        assert_eq!(status, StatusCode::OK, "after {}", probe.name);
        assert!(!body.is_empty());
        checked += 1;
    }
    assert_eq!(checked, before.len() + after.len());
}
