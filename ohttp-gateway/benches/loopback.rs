//! Added latency of the gateway on loopback (issue 8 benchmarks): the same POST sent over one
//! HTTP/2 connection straight to an echo target, and as OHTTP through the gateway to it.
//! Median(gateway) − median(direct) is the gateway's added latency per request.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use bhttp::Mode;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ohttp_gateway::allow_list::AllowList;
use ohttp_gateway::client::Client;
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::inner::InnerRequest;
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};
use ohttp_gateway::server::{GatewayState, Limits, listen, router};
use tokio::net::{TcpListener, TcpStream};

async fn bind() -> Option<(TcpListener, std::net::SocketAddr)> {
    let l = TcpListener::bind("127.0.0.1:0").await.ok()?;
    let a = l.local_addr().ok()?;
    Some((l, a))
}

async fn connect(addr: std::net::SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
    let tcp = TcpStream::connect(addr).await.ok()?;
    // Without this, Nagle and delayed ACKs add ~40 ms per exchange on loopback.
    tcp.set_nodelay(true).ok()?;
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

async fn post_once(
    sender: &mut SendRequest<Full<Bytes>>,
    ct: &'static str,
    body: Vec<u8>,
) -> Option<Vec<u8>> {
    let request = http::Request::post("http://localhost/echo")
        .header("content-type", ct)
        .body(Full::new(Bytes::from(body)))
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    Some(
        response
            .into_body()
            .collect()
            .await
            .ok()?
            .to_bytes()
            .to_vec(),
    )
}

struct Setup {
    direct: SendRequest<Full<Bytes>>,
    via_gateway: SendRequest<Full<Bytes>>,
    client: Client,
}

async fn setup() -> Option<Setup> {
    let (target_listener, target) = bind().await?;
    let app = Router::new().route("/echo", post(|body: Bytes| async move { body }));
    tokio::spawn(listen::serve(
        target_listener,
        app,
        None,
        std::future::pending(),
        Duration::from_secs(1),
    ));

    let ring = KeyRing::new(vec![KeySpec {
        id: KeyId(1),
        seed: KeySeed::new(vec![1; 32]).ok()?,
        state: KeyState::Current,
    }])
    .ok()?;
    let client = Client::from_key_list(&ring.encoded_configs()).ok()?;
    let upstream = format!("http://{target}");
    let allow = AllowList::new([("service.example.net", upstream.as_str())]).ok()?;
    let state = Arc::new(GatewayState::new(ring, allow, Limits::default(), "/").ok()?);
    let (gw_listener, gateway) = bind().await?;
    tokio::spawn(listen::serve(
        gw_listener,
        router(state),
        None,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    Some(Setup {
        direct: connect(target).await?,
        via_gateway: connect(gateway).await?,
        client,
    })
}

fn loopback(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return;
    };
    let Some(mut setup) = runtime.block_on(setup()) else {
        return;
    };
    let mut group = c.benchmark_group("ohttp/loopback_h2");
    for (label, size) in [("1k", 1024usize), ("30k", 30 * 1024)] {
        let body = vec![0x5a; size];
        group.bench_function(format!("direct/{label}"), |b| {
            b.iter(|| {
                runtime.block_on(post_once(
                    &mut setup.direct,
                    "application/octet-stream",
                    body.clone(),
                ))
            });
        });
        let mut request = InnerRequest::get("service.example.net", "/echo");
        request.method = "POST".into();
        request.body = body.clone();
        group.bench_function(format!("gateway/{label}"), |b| {
            b.iter(|| {
                let (wire, pending) = setup
                    .client
                    .encapsulate(&request, Mode::IndeterminateLength)
                    .ok()?;
                let sealed = runtime.block_on(post_once(
                    &mut setup.via_gateway,
                    "message/ohttp-req",
                    wire,
                ))?;
                pending.open(&sealed).ok().map(|r| r.body.len())
            });
        });
    }
    group.finish();

    // Requests/s: batches of concurrent requests as HTTP/2 streams on one connection; the
    // client's own encapsulation runs on the same 2 cores, so this understates the gateway.
    const BATCH: usize = 64;
    let mut group = c.benchmark_group("ohttp/loopback_h2_concurrent64");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (label, size) in [("1k", 1024usize), ("30k", 30 * 1024)] {
        let mut request = InnerRequest::get("service.example.net", "/echo");
        request.method = "POST".into();
        request.body = vec![0x5a; size];
        group.bench_function(format!("gateway/{label}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..BATCH {
                        let (wire, pending) = setup
                            .client
                            .encapsulate(&request, Mode::IndeterminateLength)
                            .ok()?;
                        let mut sender = setup.via_gateway.clone();
                        tasks.spawn(async move {
                            let sealed = post_once(&mut sender, "message/ohttp-req", wire).await?;
                            pending.open(&sealed).ok().map(|r| r.status)
                        });
                    }
                    let mut ok = 0usize;
                    while let Some(done) = tasks.join_next().await {
                        ok += usize::from(matches!(done, Ok(Some(200))));
                    }
                    Some(ok)
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, loopback);
criterion_main!(benches);
