//! TLS to an `https://` upstream (spec §1.7, §6.2): the gateway forwards over rustls, trusting
//! a configured CA, and refuses (encrypted 502) an upstream whose certificate it cannot verify.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use bhttp::Mode;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use ohttp_gateway::allow_list::AllowList;
use ohttp_gateway::client::Client;
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::inner::InnerRequest;
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};
use ohttp_gateway::server::{GatewayState, Limits, listen, router};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

/// An HTTPS echo target with a fresh self-signed certificate for `localhost`.
async fn tls_target() -> (u16, CertificateDer<'static>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let der = cert.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let tls = listen::tls_config_from_der(vec![der.clone()], key).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().route("/echo", post(|body: Bytes| async move { body }));
    let stop = tokio::time::sleep(Duration::from_secs(30));
    tokio::spawn(listen::serve(
        listener,
        app,
        Some(tls),
        stop,
        Duration::from_secs(1),
    ));
    (port, der)
}

/// Sends one sealed POST through a gateway trusting `roots`; returns the inner status and body.
async fn through_gateway(port: u16, roots: Vec<CertificateDer<'static>>) -> (u16, Vec<u8>) {
    let ring = KeyRing::new(vec![KeySpec {
        id: KeyId(1),
        seed: KeySeed::new(vec![5; 32]).unwrap(),
        state: KeyState::Current,
    }])
    .unwrap();
    let client = Client::from_key_list(&ring.encoded_configs()).unwrap();
    let upstream = format!("https://localhost:{port}");
    let allow = AllowList::new([("service.example.net", upstream.as_str())]).unwrap();
    let mut limits = Limits::default();
    limits.forward.extra_roots = roots;
    limits.forward.request_timeout = Duration::from_secs(5);
    let state = Arc::new(GatewayState::new(ring, allow, limits, "/").unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = listener.local_addr().unwrap();
    let stop = tokio::time::sleep(Duration::from_secs(30));
    tokio::spawn(listen::serve(
        listener,
        router(state),
        None,
        stop,
        Duration::from_secs(1),
    ));

    let mut request = InnerRequest::get("service.example.net", "/echo");
    request.method = "POST".into();
    request.body = b"over tls".to_vec();
    let (wire, pending) = client.encapsulate(&request, Mode::KnownLength).unwrap();
    let tcp = tokio::net::TcpStream::connect(gateway).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let outer = http::Request::post("/")
        .header("host", "gateway")
        .header("content-type", "message/ohttp-req")
        .body(Full::new(Bytes::from(wire)))
        .unwrap();
    let response = sender.send_request(outer).await.unwrap();
    assert_eq!(response.status(), 200);
    let sealed = response.into_body().collect().await.unwrap().to_bytes();
    let inner = pending.open(&sealed).unwrap();
    (inner.status, inner.body)
}

#[tokio::test]
async fn https_upstream_with_configured_ca() {
    let (port, ca) = tls_target().await;
    assert_eq!(
        through_gateway(port, vec![ca]).await,
        (200, b"over tls".to_vec())
    );
}

#[tokio::test]
async fn https_upstream_with_unknown_certificate_is_an_encrypted_502() {
    let (port, _) = tls_target().await;
    assert_eq!(through_gateway(port, Vec::new()).await, (502, Vec::new()));
}
