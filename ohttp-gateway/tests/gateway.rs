//! End to end: OHTTP client → gateway → a real axum target on 127.0.0.1, over HTTP/1.1 and
//! HTTP/2, cleartext and TLS, both Binary HTTP framings; bad inputs; key rotation.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bhttp::Mode;
use common::{DOWN, SERVICE, Version, ring, send, start_gateway, start_target};
use ohttp_gateway::client::{Client, Pending};
use ohttp_gateway::codepoints::PROBLEM_OHTTP_KEY;
use ohttp_gateway::inner::{InnerRequest, InnerResponse};
use ohttp_gateway::keys::KeyState;

const CURRENT: KeyState = KeyState::Current;

fn echo_request(body: &[u8]) -> InnerRequest {
    InnerRequest {
        method: "POST".into(),
        authority: SERVICE.into(),
        path: "/echo?x=1".into(),
        headers: vec![
            ("authorization".into(), b"PrivateToken token=AAAA".to_vec()),
            ("content-type".into(), b"application/x-protobuf".to_vec()),
        ],
        body: body.to_vec(),
    }
}

async fn fetch_client(gw: &common::Gateway, version: Version) -> Client {
    let keys = send(
        gw.addr,
        gw.tls.as_ref(),
        version,
        "GET",
        "/ohttp-keys",
        None,
        vec![],
    )
    .await;
    assert_eq!(keys.status, 200);
    assert_eq!(keys.headers["content-type"], "application/ohttp-keys");
    assert_eq!(keys.body, gw.state.keys().encoded_configs());
    let well_known = send(
        gw.addr,
        gw.tls.as_ref(),
        version,
        "GET",
        "/.well-known/ohttp-gateway",
        None,
        vec![],
    )
    .await;
    assert_eq!(well_known.body, keys.body);
    Client::from_key_list(&keys.body).unwrap()
}

/// Sends an encapsulated request and opens the encrypted answer.
async fn ohttp(
    gw: &common::Gateway,
    version: Version,
    wire: Vec<u8>,
    pending: Pending,
) -> InnerResponse {
    let reply = send(
        gw.addr,
        gw.tls.as_ref(),
        version,
        "POST",
        "/",
        Some("message/ohttp-req"),
        wire,
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.headers["content-type"], "message/ohttp-res");
    assert_eq!(reply.headers["cache-control"], "private, no-store");
    pending.open(&reply.body).unwrap()
}

async fn round_trips(tls: bool) {
    let target = start_target().await;
    let gw = start_gateway(&target, tls, ring(&[(1, CURRENT)])).await;
    for version in [Version::H1, Version::H2] {
        if tls {
            let probe = send(
                gw.addr,
                gw.tls.as_ref(),
                version,
                "GET",
                "/ohttp-keys",
                None,
                vec![],
            )
            .await;
            let expected: &[u8] = if version == Version::H2 {
                b"h2"
            } else {
                b"http/1.1"
            };
            assert_eq!(probe.alpn.as_deref(), Some(expected));
        }
        let client = fetch_client(&gw, version).await;
        for mode in [Mode::KnownLength, Mode::IndeterminateLength] {
            let body = vec![0xab; 1000];
            let (wire, pending) = client.encapsulate(&echo_request(&body), mode).unwrap();
            let response = ohttp(&gw, version, wire, pending).await;
            assert_eq!(response.status, 200);
            assert_eq!(response.body, body);
            assert_eq!(
                response.header("x-saw-authorization"),
                Some(&b"PrivateToken token=AAAA"[..])
            );
            assert_eq!(response.header("content-encoding"), Some(&b"identity"[..]));
        }
    }
    assert_eq!(target.hits.load(Ordering::SeqCst), 4);
    assert_eq!(gw.state.metrics.outcome_count("success"), 4);
}

#[tokio::test]
async fn round_trip_cleartext_h1_and_h2c() {
    round_trips(false).await;
}

#[tokio::test]
async fn round_trip_tls_alpn_h2_and_http11() {
    round_trips(true).await;
}

#[tokio::test]
async fn plaintext_errors_before_decryption() {
    let target = start_target().await;
    let gw = start_gateway(&target, false, ring(&[(1, CURRENT)])).await;
    let client = fetch_client(&gw, Version::H2).await;
    let (good, _) = client
        .encapsulate(&echo_request(b"x"), Mode::KnownLength)
        .unwrap();
    let post = |ct: Option<&'static str>, body: Vec<u8>| {
        let addr = gw.addr;
        async move { send(addr, None, Version::H1, "POST", "/", ct, body).await }
    };

    assert_eq!(post(Some("text/plain"), good.clone()).await.status, 415);
    assert_eq!(post(None, good.clone()).await.status, 415);
    assert_eq!(
        send(gw.addr, None, Version::H1, "GET", "/", None, vec![])
            .await
            .status,
        405
    );
    assert_eq!(post(Some("message/ohttp-req"), vec![]).await.status, 400);
    assert_eq!(
        post(Some("message/ohttp-req"), vec![0; 3]).await.status,
        400
    );
    assert_eq!(
        post(Some("message/ohttp-req"), vec![1u8; 70 << 10])
            .await
            .status,
        413
    );

    let problem = |reply: common::Reply| {
        assert_eq!(reply.status, 400);
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(json["type"], PROBLEM_OHTTP_KEY);
    };
    let mut unknown_key = good.clone();
    unknown_key[0] = 99;
    problem(post(Some("message/ohttp-req"), unknown_key).await);
    let mut wrong_kem = good.clone();
    wrong_kem[1..3].copy_from_slice(&[0x00, 0x10]);
    problem(post(Some("message/ohttp-req"), wrong_kem).await);
    let mut wrong_aead = good.clone();
    wrong_aead[5..7].copy_from_slice(&[0x00, 0x02]);
    problem(post(Some("message/ohttp-req"), wrong_aead).await);

    let mut tampered = good.clone();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    assert_eq!(post(Some("message/ohttp-req"), tampered).await.status, 422);
    assert_eq!(
        post(Some("message/ohttp-req"), good[..good.len() - 1].to_vec())
            .await
            .status,
        422
    );
    assert_eq!(
        post(Some("message/ohttp-req"), good[..40].to_vec())
            .await
            .status,
        400
    );
    let garbage: Vec<u8> = (0..200u32).map(|i| (i * 7 + 1) as u8).collect();
    let status = post(Some("message/ohttp-req"), garbage).await.status;
    assert!(status == 400 || status == 422, "{status}");

    assert_eq!(target.hits.load(Ordering::SeqCst), 0);
    assert!(gw.state.metrics.outcome_count("config_mismatch") >= 1);
}

#[tokio::test]
async fn encrypted_errors_after_decryption() {
    let target = start_target().await;
    let gw = start_gateway(&target, false, ring(&[(1, CURRENT)])).await;
    let client = fetch_client(&gw, Version::H2).await;
    let status_of = |request: InnerRequest| {
        let client = client.clone();
        let gw = &gw;
        async move {
            let (wire, pending) = client
                .encapsulate(&request, Mode::IndeterminateLength)
                .unwrap();
            ohttp(gw, Version::H2, wire, pending).await.status
        }
    };

    assert_eq!(
        status_of(InnerRequest::get("evil.example.net", "/echo")).await,
        403
    );
    assert_eq!(
        status_of(InnerRequest::get("service.example.net:8443", "/echo")).await,
        403
    );
    assert_eq!(
        target.hits.load(Ordering::SeqCst),
        0,
        "a forbidden target is never forwarded"
    );
    assert_eq!(status_of(InnerRequest::get(DOWN, "/echo")).await, 502);
    assert_eq!(status_of(InnerRequest::get(SERVICE, "/slow")).await, 504);
    assert_eq!(status_of(InnerRequest::get(SERVICE, "/big")).await, 502);
    assert_eq!(status_of(InnerRequest::get(SERVICE, "/teapot")).await, 418);
    assert_eq!(
        status_of(InnerRequest::get(SERVICE, "/echo:443")).await,
        404
    );

    // Malformed Binary HTTP and a non-https scheme inside a valid encapsulation.
    for bhttp in [
        vec![0x02, 0x03, b'G'],
        hex::decode("0003474554046874747073036578616d012f").unwrap(),
    ] {
        let (wire, pending) = client.encapsulate_bhttp(&bhttp).unwrap();
        assert_eq!(ohttp(&gw, Version::H1, wire, pending).await.status, 400);
    }
    assert_eq!(gw.state.metrics.outcome_count("request_forbidden"), 2);
    assert_eq!(gw.state.metrics.outcome_count("upstream_timeout"), 1);
}

#[tokio::test]
async fn key_rotation_with_overlap_while_requests_flow() {
    let target = start_target().await;
    let gw = Arc::new(start_gateway(&target, false, ring(&[(1, CURRENT)])).await);
    let old = fetch_client(&gw, Version::H2).await;

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let gw = Arc::clone(&gw);
        let old = old.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15u8 {
                let (wire, pending) = old
                    .encapsulate(&echo_request(&[i]), Mode::KnownLength)
                    .unwrap();
                let response = ohttp(&gw, Version::H2, wire, pending).await;
                assert_eq!((response.status, response.body), (200, vec![i]));
            }
        }));
    }
    // Rotate once some requests have gone through (bounded wait).
    for _ in 0..500 {
        if gw.state.metrics.outcome_count("success") >= 10 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    gw.state
        .set_keys(ring(&[(2, CURRENT), (1, KeyState::Retiring)]));
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(gw.state.metrics.outcome_count("success"), 60);

    // The new key is the one published; the old one is still accepted.
    let new = fetch_client(&gw, Version::H1).await;
    assert_eq!(
        gw.state.keys().encoded_configs(),
        ring(&[(2, CURRENT)]).encoded_configs()
    );
    for client in [&new, &old] {
        let (wire, pending) = client
            .encapsulate(&echo_request(b"ok"), Mode::KnownLength)
            .unwrap();
        assert_eq!(ohttp(&gw, Version::H2, wire, pending).await.status, 200);
    }

    // Retired: the old key is refused in plaintext with the key problem type.
    gw.state.set_keys(ring(&[(2, CURRENT)]));
    let (wire, _) = old
        .encapsulate(&echo_request(b"late"), Mode::KnownLength)
        .unwrap();
    let reply = send(
        gw.addr,
        None,
        Version::H2,
        "POST",
        "/",
        Some("message/ohttp-req"),
        wire,
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
}

#[tokio::test]
async fn admin_listener_health_readiness_metrics() {
    let target = start_target().await;
    let gw = start_gateway(&target, false, ring(&[(7, CURRENT)])).await;
    let get = |path: &'static str| send(gw.admin, None, Version::H1, "GET", path, None, vec![]);
    assert_eq!(get("/healthz").await.status, 200);
    assert_eq!(get("/readyz").await.status, 503);
    gw.state.set_ready(true);
    assert_eq!(get("/readyz").await.status, 200);

    let client = fetch_client(&gw, Version::H1).await;
    let (wire, pending) = client
        .encapsulate(&echo_request(b"m"), Mode::KnownLength)
        .unwrap();
    ohttp(&gw, Version::H1, wire, pending).await;
    let metrics = String::from_utf8(get("/metrics").await.body).unwrap();
    assert!(
        metrics.contains("ohttp_gateway_requests_total{outcome=\"success\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ohttp_gateway_key_requests_total{key_id=\"7\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ohttp_gateway_request_duration_seconds_count 1"),
        "{metrics}"
    );
    // The admin routes are not on the public listener and vice versa.
    assert_eq!(
        send(gw.addr, None, Version::H1, "GET", "/metrics", None, vec![])
            .await
            .status,
        404
    );
    assert_eq!(get("/ohttp-keys").await.status, 404);
}
