//! Loopback load generator for comparing OHTTP gateways on one machine (issue 8 benchmarks).
//!
//! `load target --listen 127.0.0.1:18081 --seconds 120` runs an echo target (POST body back);
//! `load run --gateway http://127.0.0.1:18080/ --keys http://127.0.0.1:18080/ohttp-keys ...`
//! sends bounded OHTTP traffic as HTTP/2 streams (prior knowledge) and prints requests/s and
//! latency percentiles; `load run --direct --gateway http://127.0.0.1:18081/echo` sends the same
//! inner POST straight to the target, so gateway p50 − direct p50 is the latency the gateway adds.
//! Latency is timed around the HTTP exchange only: the client's own HPKE work is outside it.
//! Only loopback addresses are accepted. BENCH.md has the side-by-side procedure.

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
use ohttp_gateway::client::{Client, Pending};
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::gateway::open;
use ohttp_gateway::inner::{InnerRequest, InnerResponse};
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};

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
    /// Send OHTTP requests through a gateway (or, with --direct, plain ones to the target).
    Run(RunArgs),
    /// Time the gateway's in-process phases (no sockets): decapsulate, BHTTP decode, seal.
    Phases {
        #[arg(long, default_value_t = 1024)]
        size: usize,
        #[arg(long, default_value_t = 5000)]
        iterations: u32,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Gateway resource URL (http://127.0.0.1:PORT/PATH); with --direct, the target's URL.
    #[arg(long)]
    gateway: String,
    /// Key configuration URL (unused with --direct).
    #[arg(long, default_value = "")]
    keys: String,
    /// Send the plain inner request to --gateway (the target itself), no OHTTP.
    #[arg(long)]
    direct: bool,
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
    /// Requests sent (and not counted) before timing starts.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
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

/// How requests are sent: sealed through the gateway, or plain to the target.
enum Exchange {
    Ohttp {
        client: Box<Client>,
        request: InnerRequest,
    },
    Direct {
        body: Vec<u8>,
    },
}

/// One request ready to send: its body and, for OHTTP, the context that opens the answer.
struct Prepared {
    wire: Vec<u8>,
    pending: Option<Pending>,
}

impl Exchange {
    /// Builds one request. OHTTP requests are sealed here, before any timing starts, so the
    /// load generator's HPKE work neither counts as latency nor competes with the gateway.
    fn prepare(&self) -> anyhow::Result<Prepared> {
        Ok(match self {
            Self::Direct { body } => Prepared {
                wire: body.clone(),
                pending: None,
            },
            Self::Ohttp { client, request } => {
                let (wire, pending) = client.encapsulate(request, Mode::IndeterminateLength)?;
                Prepared {
                    wire,
                    pending: Some(pending),
                }
            }
        })
    }

    fn content_type(&self) -> &'static str {
        match self {
            Self::Direct { .. } => "application/octet-stream",
            Self::Ohttp { .. } => "message/ohttp-req",
        }
    }
}

/// Sends one prepared request; returns its latency (the HTTP exchange only) or why it failed.
async fn once(
    sender: &mut SendRequest<Full<Bytes>>,
    path: &str,
    content_type: &str,
    prepared: Prepared,
    size: usize,
) -> Result<Duration, String> {
    let t = Instant::now();
    let (status, body) = send(sender, "POST", path, Some(content_type), prepared.wire)
        .await
        .map_err(|e| e.to_string())?;
    let elapsed = t.elapsed();
    if status != 200 {
        return Err(format!(
            "outer status {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let len = match prepared.pending {
        None => body.len(),
        Some(pending) => {
            let r = pending.open(&body).map_err(|e| format!("open: {e}"))?;
            if r.status != 200 {
                return Err(format!("inner status {}", r.status));
            }
            r.body.len()
        }
    };
    if len != size {
        return Err(format!("echoed {len} bytes, sent {size}"));
    }
    Ok(elapsed)
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let (gw_addr, gw_path) = loopback(&args.gateway)?;
    let size = args.size;
    let exchange = if args.direct {
        Exchange::Direct {
            body: vec![0x5a; size],
        }
    } else {
        let (keys_addr, keys_path) = loopback(&args.keys)?;
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
        let mut request = InnerRequest::get(&args.authority, &args.path);
        request.method = "POST".into();
        request
            .headers
            .push(("content-type".into(), b"application/octet-stream".to_vec()));
        request.body = vec![0x5a; size];
        Exchange::Ohttp {
            client: Box::new(client),
            request,
        }
    };
    let sender = connect(gw_addr).await?;
    let gw_path = Arc::new(gw_path);
    let concurrency = args.concurrency.max(1);

    let content_type = exchange.content_type();

    // Warm-up: pools, windows and caches on both sides fill before anything is timed.
    let warm = args.warmup.div_ceil(concurrency);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let batch = (0..warm)
            .map(|_| exchange.prepare())
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (mut sender, gw_path) = (sender.clone(), Arc::clone(&gw_path));
        workers.spawn(async move {
            for prepared in batch {
                let _ = once(&mut sender, &gw_path, content_type, prepared, size).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}

    let per_worker = args.requests.div_ceil(concurrency);
    let batches = (0..concurrency)
        .map(|_| (0..per_worker).map(|_| exchange.prepare()).collect())
        .collect::<anyhow::Result<Vec<Vec<_>>>>()?;
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for batch in batches {
        let (mut sender, gw_path) = (sender.clone(), Arc::clone(&gw_path));
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(batch.len());
            let mut failures = 0usize;
            for prepared in batch {
                match once(&mut sender, &gw_path, content_type, prepared, size).await {
                    Ok(l) => latencies.push(l),
                    Err(e) => {
                        if failures == 0 {
                            eprintln!("request failed: {e}");
                        }
                        failures += 1;
                    }
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
        "size={size} ok={} failed={failures} concurrency={concurrency} rps={:.0} p50_us={} p99_us={}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_micros(),
        pct(0.99).as_micros()
    );
    Ok(())
}

/// This thread's CPU time so far (utime + stime, in clock ticks of 10 ms), so the phase
/// timings hold on a machine shared with other work.
fn thread_cpu() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat")?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').context("bad stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).context("no utime")?.parse::<u64>()?
        + fields.get(12).context("no stime")?.parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}

/// Mean CPU time of each gateway phase over `iterations` fresh requests, printed in µs. Each
/// phase runs as its own loop so its CPU time can be read at its ends.
fn phases(size: usize, iterations: u32) -> anyhow::Result<()> {
    let ring = KeyRing::new(vec![KeySpec {
        id: KeyId(1),
        seed: KeySeed::new(vec![1; 32])?,
        state: KeyState::Current,
    }])?;
    let client = Client::from_key_list(&ring.encoded_configs())?;
    let mut request = InnerRequest::get("service.example.net", "/echo");
    request.method = "POST".into();
    request.body = vec![0x5a; size];
    let response = InnerResponse {
        status: 200,
        headers: vec![("content-type".into(), b"application/octet-stream".to_vec())],
        body: vec![0xa5; size],
    };
    let wires = (0..iterations)
        .map(|_| {
            client
                .encapsulate(&request, Mode::IndeterminateLength)
                .map(|(w, _)| w)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let t0 = thread_cpu()?;
    let opened = wires
        .iter()
        .map(|w| open(&ring, w))
        .collect::<Result<Vec<_>, _>>()?;
    let t1 = thread_cpu()?;
    let decoded = opened
        .iter()
        .map(|o| InnerRequest::decode(&o.inner))
        .collect::<Result<Vec<_>, _>>()?;
    let t2 = thread_cpu()?;
    let sealed = opened
        .into_iter()
        .map(|o| o.reply.seal(&response))
        .collect::<Result<Vec<_>, _>>()?;
    let t3 = thread_cpu()?;
    if decoded.iter().any(|d| d.body.len() != size) || sealed.iter().any(|s| s.len() < size) {
        bail!("round trip lost bytes");
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(iterations.max(1));
    println!(
        "size={size} cpu_us open={:.1} decode={:.1} seal={:.1}",
        us(t1 - t0),
        us(t2 - t1),
        us(t3 - t2)
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
        Cmd::Run(args) => run(args).await,
        Cmd::Phases { size, iterations } => phases(size, iterations),
    }
}
