//! Test harness: a real axum target and the gateway on 127.0.0.1 port 0, and a per-request
//! HTTP client over cleartext or TLS, HTTP/1.1 or HTTP/2.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use ohttp_gateway::allow_list::AllowList;
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};
use ohttp_gateway::server::{GatewayState, Limits, listen, router};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub const SERVICE: &str = "service.example.net";
pub const DOWN: &str = "down.example.net";

pub fn ring(keys: &[(u8, KeyState)]) -> KeyRing {
    KeyRing::new(
        keys.iter()
            .map(|&(id, state)| KeySpec {
                id: KeyId(id),
                seed: KeySeed::new(vec![id; 32]).unwrap(),
                state,
            })
            .collect(),
    )
    .unwrap()
}

/// The target: counts the requests it sees.
pub struct Target {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

pub async fn start_target() -> Target {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new()
        .route(
            "/echo",
            any(move |headers: HeaderMap, body: Bytes| {
                let counter = Arc::clone(&counter);
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let auth = headers
                        .get("authorization")
                        .cloned()
                        .unwrap_or(axum::http::HeaderValue::from_static(""));
                    let host = headers
                        .get("host")
                        .cloned()
                        .unwrap_or(axum::http::HeaderValue::from_static(""));
                    (
                        StatusCode::OK,
                        [
                            ("x-saw-authorization", auth),
                            ("x-saw-host", host),
                            ("content-encoding", "identity".parse().unwrap()),
                        ],
                        body,
                    )
                }
            }),
        )
        .route(
            "/teapot",
            get(|| async { (StatusCode::IM_A_TEAPOT, "short and stout") }),
        )
        .route("/big", get(|| async { vec![b'x'; 200_000] }))
        .route(
            "/slow",
            get(|| async {
                // Longer than the gateway's upstream deadline in these tests.
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Target {
        addr,
        hits,
        _stop: stop,
    }
}

/// A port nothing listens on (bound, then released).
pub async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

pub struct Gateway {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub state: Arc<GatewayState>,
    pub tls: Option<rustls::pki_types::CertificateDer<'static>>,
    _stop: oneshot::Sender<()>,
}

pub async fn start_gateway(target: &Target, tls: bool, ring: KeyRing) -> Gateway {
    let up = format!("http://{}", target.addr);
    let down = format!("http://127.0.0.1:{}", closed_port().await);
    let allow = AllowList::new([(SERVICE, up.as_str()), (DOWN, down.as_str())]).unwrap();
    let mut limits = Limits {
        max_request_bytes: 64 << 10,
        ..Limits::default()
    };
    limits.forward.request_timeout = Duration::from_millis(300);
    limits.forward.max_response_bytes = 100_000;
    let state = Arc::new(GatewayState::new(ring, allow, limits, "/").unwrap());

    let (config, cert) = if tls {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let der = cert.cert.der().clone();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        (
            Some(listen::tls_config_from_der(vec![der.clone()], key).unwrap()),
            Some(der),
        )
    } else {
        (None, None)
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = admin_listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (admin_stop_tx, admin_stop) = tokio::sync::watch::channel(false);
    let app = router(Arc::clone(&state));
    let admin_app = ohttp_gateway::server::admin::router(Arc::clone(&state));
    tokio::spawn(async move {
        listen::serve(
            listener,
            app,
            config,
            async {
                let _ = stopped.await;
            },
            Duration::from_secs(1),
        )
        .await;
        let _ = admin_stop_tx.send(true);
    });
    tokio::spawn(async move {
        let mut admin_stop = admin_stop;
        listen::serve(
            admin_listener,
            admin_app,
            None,
            async move {
                let _ = admin_stop.changed().await;
            },
            Duration::from_secs(1),
        )
        .await;
    });
    Gateway {
        addr,
        admin,
        state,
        tls: cert,
        _stop: stop,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    H1,
    H2,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub alpn: Option<Vec<u8>>,
}

/// One request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    tls: Option<&rustls::pki_types::CertificateDer<'static>>,
    version: Version,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"));
    if version == Version::H1 {
        builder = builder.header("host", "localhost");
    }
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let request = builder.body(Full::new(Bytes::from(body))).unwrap();
    match tls {
        Some(cert) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(cert.clone()).unwrap();
            let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
            config.alpn_protocols = match version {
                Version::H2 => vec![b"h2".to_vec()],
                Version::H1 => vec![b"http/1.1".to_vec()],
            };
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let stream = connector.connect(name, tcp).await.unwrap();
            let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            let mut reply = exchange(TokioIo::new(stream), version, request).await;
            reply.alpn = alpn;
            reply
        }
        None => exchange(TokioIo::new(tcp), version, request).await,
    }
}

async fn exchange<IO>(io: IO, version: Version, request: http::Request<Full<Bytes>>) -> Reply
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let response = match version {
        Version::H1 => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            sender.send_request(request).await.unwrap()
        }
        Version::H2 => {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
            tokio::spawn(conn);
            sender.send_request(request).await.unwrap()
        }
    };
    assert_eq!(
        response.version(),
        if version == Version::H2 {
            http::Version::HTTP_2
        } else {
            http::Version::HTTP_11
        }
    );
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
        alpn: None,
    }
}
