//! Loopback load generator for comparing OHTTP gateways on one machine (issue 8 benchmarks).
//!
//! `load target --listen 127.0.0.1:18081 --seconds 120` runs an echo target (POST body back);
//! `load run --gateway http://127.0.0.1:18080/ --keys http://127.0.0.1:18080/ohttp-keys ...`
//! sends bounded OHTTP traffic as HTTP/2 streams (prior knowledge) and prints requests/s and
//! latency percentiles. Only loopback addresses are accepted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::body::Bytes;
use bhttp::Mode;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ohttp_gateway::client::Client;
use ohttp_gateway::inner::InnerRequest;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run an echo target for a bounded time.
    Target {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long, default_value_t = 120)]
        seconds: u64,
    },
    /// Send OHTTP requests through a gateway.
    Run {
        /// Gateway resource URL (http://127.0.0.1:PORT/PATH).
        #[arg(long)]
        gateway: String,
        /// Key configuration URL.
        #[arg(long)]
        keys: String,
        /// Inner authority (must be allow-listed by the gateway).
        #[arg(long, default_value = "service.example.net")]
        authority: String,
        /// Inner path.
        #[arg(long, default_value = "/echo")]
        path: String,
        #[arg(long, default_value_t = 1024)]
        size: usize,
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

fn loopback(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let uri: http::Uri = url.parse()?;
    let host = uri.host().context("no host")?;
    if host != "127.0.0.1" && host != "localhost" {
        bail!("only loopback targets are allowed");
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], uri.port_u16().unwrap_or(80)));
    Ok((
        addr,
        uri.path_and_query().map_or("/".into(), ToString::to_string),
    ))
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    ct: Option<&str>,
    body: Vec<u8>,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"));
    if let Some(ct) = ct {
        builder = builder.header("content-type", ct);
    }
    let response = sender
        .send_request(builder.body(Full::new(Bytes::from(body)))?)
        .await?;
    let status = response.status().as_u16();
    Ok((
        status,
        response.into_body().collect().await?.to_bytes().to_vec(),
    ))
}

async fn run(
    gateway: String,
    keys: String,
    authority: String,
    path: String,
    size: usize,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let (gw_addr, gw_path) = loopback(&gateway)?;
    let (keys_addr, keys_path) = loopback(&keys)?;
    let (status, list) = send(
        &mut connect(keys_addr).await?,
        "GET",
        &keys_path,
        None,
        vec![],
    )
    .await?;
    if status != 200 {
        bail!("keys: status {status}");
    }
    // Some gateways serve one bare config rather than the length-prefixed list.
    let client = match Client::from_key_list(&list) {
        Ok(c) => c,
        Err(_) => {
            let len = u16::try_from(list.len())?.to_be_bytes();
            Client::from_key_list(&[&len[..], &list].concat())?
        }
    };
    let mut request = InnerRequest::get(&authority, &path);
    request.method = "POST".into();
    request
        .headers
        .push(("content-type".into(), b"application/octet-stream".to_vec()));
    request.body = vec![0x5a; size];
    let request = Arc::new(request);
    let sender = connect(gw_addr).await?;
    let gw_path = Arc::new(gw_path);
    let per_worker = requests.div_ceil(concurrency.max(1));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, request, mut sender, gw_path) = (
            client.clone(),
            Arc::clone(&request),
            sender.clone(),
            Arc::clone(&gw_path),
        );
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(per_worker);
            let mut failures = 0usize;
            for _ in 0..per_worker {
                let t = Instant::now();
                let Ok((wire, pending)) = client.encapsulate(&request, Mode::IndeterminateLength)
                else {
                    failures += 1;
                    continue;
                };
                let ok = match send(
                    &mut sender,
                    "POST",
                    &gw_path,
                    Some("message/ohttp-req"),
                    wire,
                )
                .await
                {
                    Ok((200, sealed)) => match pending.open(&sealed) {
                        Ok(r) if r.status == 200 && r.body.len() == request.body.len() => true,
                        Ok(r) => {
                            if failures == 0 {
                                eprintln!("inner status {} body {} bytes", r.status, r.body.len());
                            }
                            false
                        }
                        Err(e) => {
                            if failures == 0 {
                                eprintln!("open failed: {e}");
                            }
                            false
                        }
                    },
                    other => {
                        if failures == 0 {
                            eprintln!(
                                "outer: {:?}",
                                other.map(|(s, b)| (s, String::from_utf8_lossy(&b).into_owned()))
                            );
                        }
                        false
                    }
                };
                if ok {
                    latencies.push(t.elapsed());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        });
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    while let Some(done) = workers.join_next().await {
        let (l, f) = done?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or(Duration::ZERO)
    };
    println!(
        "size={size} ok={} failed={failures} concurrency={concurrency} rps={:.0} p50={:?} p99={:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Target { listen, seconds } => {
            let (addr, _) = loopback(&format!("http://{listen}/"))?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let app = axum::Router::new().fallback(|body: Bytes| async move { body });
            let stop = tokio::time::sleep(Duration::from_secs(seconds));
            ohttp_gateway::server::listen::serve(listener, app, None, stop, Duration::from_secs(1))
                .await;
            Ok(())
        }
        Cmd::Run {
            gateway,
            keys,
            authority,
            path,
            size,
            requests,
            concurrency,
        } => run(gateway, keys, authority, path, size, requests, concurrency).await,
    }
}
