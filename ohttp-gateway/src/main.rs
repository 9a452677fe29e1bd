//! `ohttp-gateway`: the binary. Parses flags, resolves and validates the whole configuration,
//! then binds the public and admin listeners and serves until Ctrl-C or SIGTERM; the keys are
//! re-read from their store on SIGHUP and every `--key-reload-secs` (rotation). Also manages the
//! keys (`keys init|rotate|retire|show`) in the key file or the shared Redis key store.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use ohttp_gateway::allow_list::AllowList;
use ohttp_gateway::keys::{KeyRing, KeySeed};
use ohttp_gateway::server::forward::ForwardLimits;
use ohttp_gateway::server::key_store::{self, AnyKeyStore, Revision};
use ohttp_gateway::server::key_store_file::FileKeyStore;
use ohttp_gateway::server::keyfile::KeyFile;
use ohttp_gateway::server::{GatewayState, Limits, admin, listen, router};
use rand::RngCore as _;
use serde::Deserialize;
use tokio::net::TcpListener;

/// Exit code for a configuration that does not validate (nothing was bound).
const EXIT_CONFIG: u8 = 2;
/// Exit code for a failure while running.
const EXIT_RUNTIME: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "ohttp-gateway",
    version,
    about = "RFC 9458 Oblivious HTTP gateway: decrypts requests from Apple's OHTTP relay and \
             forwards them to allow-listed targets",
    after_help = "Exit codes: 0 success, 1 runtime failure, 2 invalid configuration (nothing bound)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gateway (public listener) and /healthz, /readyz, /metrics (admin listener).
    Serve(Box<ServeArgs>),
    /// Manage the key file (seeds, mode 0600).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Create the keys with one fresh current key (id 1). Refuses to overwrite: of several
    /// replicas initialising one shared store at once, exactly one writes.
    Init(StoreArgs),
    /// Start a rotation: add a fresh key as the preferred current key; current keys become
    /// retiring (accepted, no longer published). Running gateways pick it up on their next
    /// reload (SIGHUP or --key-reload-secs).
    Rotate(StoreArgs),
    /// End a rotation: drop retiring keys (once their request counters are near zero).
    Retire(StoreArgs),
    /// Print the published `application/ohttp-keys` body as hex (public keys only).
    Show(StoreArgs),
}

/// Where the `keys` commands find the keys: --keys-file or --key-store.
#[derive(Debug, Args)]
struct StoreArgs {
    /// Key file (JSON seeds, mode 0600).
    #[arg(long, value_name = "PATH")]
    keys_file: Option<PathBuf>,
    /// Key store shared by replicas: redis://HOST[:PORT][/DB] (or file:PATH).
    #[arg(
        long,
        value_name = "URL",
        env = "OHTTP_GATEWAY_KEY_STORE",
        conflicts_with = "keys_file"
    )]
    key_store: Option<String>,
    /// Redis key of the hash that holds the keys.
    #[arg(long, value_name = "KEY", default_value = DEFAULT_REDIS_KEY)]
    key_store_redis_key: String,
}

/// The Redis hash the keys live in unless --key-store-redis-key says otherwise.
const DEFAULT_REDIS_KEY: &str = "ohttp-gateway:keys";

/// Opens the store named by `--keys-file` or `--key-store`.
async fn open_store(
    keys_file: Option<&Path>,
    key_store: Option<&str>,
    redis_key: &str,
) -> anyhow::Result<Option<AnyKeyStore>> {
    Ok(match (keys_file, key_store) {
        (Some(path), None) => Some(AnyKeyStore::File(FileKeyStore::new(path))),
        (None, Some(url)) => Some(
            AnyKeyStore::open(url, redis_key)
                .await
                .with_context(|| format!("opening key store {}", redact(url)))?,
        ),
        (None, None) => None,
        (Some(_), Some(_)) => bail!("give --keys-file or --key-store, not both"),
    })
}

/// A store URL for messages: any password in it is replaced.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Public listener (the relay's side).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "OHTTP_GATEWAY_LISTEN"
    )]
    listen: SocketAddr,
    /// Admin listener for /healthz, /readyz and /metrics; keep it private.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:9090",
        env = "OHTTP_GATEWAY_ADMIN_LISTEN"
    )]
    admin_listen: SocketAddr,
    /// TLS certificate chain (PEM). With --tls-key enables TLS (ALPN h2, http/1.1); without,
    /// the listener is cleartext for use behind a TLS-terminating load balancer.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Key file (JSON seeds; see `keys init`). Reloaded on SIGHUP and every --key-reload-secs.
    #[arg(long, value_name = "PATH", env = "OHTTP_GATEWAY_KEYS_FILE")]
    keys_file: Option<PathBuf>,
    /// Key store shared by every replica, so all serve byte-identical key configurations:
    /// redis://HOST[:PORT][/DB] (or file:PATH). Create the keys once with
    /// `keys init --key-store URL`; rotate with `keys rotate|retire --key-store URL`. The seeds
    /// are secrets: use a private, authenticated Redis.
    #[arg(
        long,
        value_name = "URL",
        env = "OHTTP_GATEWAY_KEY_STORE",
        conflicts_with = "keys_file"
    )]
    key_store: Option<String>,
    /// Redis key of the hash that holds the keys (with --key-store redis://...).
    #[arg(long, value_name = "KEY", default_value = DEFAULT_REDIS_KEY)]
    key_store_redis_key: String,
    /// Seconds between re-reads of the key store, so replicas follow a rotation; 0: only on
    /// SIGHUP.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    key_reload_secs: u64,
    /// The key file's JSON given directly (from a secret store), instead of --keys-file or
    /// --key-store; never reloaded.
    #[arg(
        long,
        value_name = "JSON",
        env = "OHTTP_GATEWAY_KEYS",
        hide_env_values = true,
        conflicts_with_all = ["keys_file", "key_store"]
    )]
    keys_json: Option<String>,
    /// TOML file with `gateway_path` and a `[targets]` table of host = "http://upstream".
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Allow-listed target: inner authority = upstream base URL, http:// or https://
    /// (repeatable), e.g. `--target service.example.net=http://10.0.0.5:8080`.
    #[arg(long = "target", value_name = "HOST=URL")]
    targets: Vec<String>,
    /// Path of the gateway resource (POST); /.well-known/ohttp-gateway is always served too.
    #[arg(long, value_name = "PATH")]
    gateway_path: Option<String>,
    /// Largest Encapsulated Request accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 12 << 20)]
    max_request_bytes: usize,
    /// Largest upstream response accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    max_response_bytes: usize,
    /// Deadline for one upstream exchange, in milliseconds (then an encrypted 504).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    upstream_timeout_ms: u64,
    /// Upstream connect deadline, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    connect_timeout_ms: u64,
    /// Deadline for receiving a request body, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    body_timeout_ms: u64,
    /// Idle pooled connections kept per upstream.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pool_idle_per_target: usize,
    /// Requests in flight per upstream.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_in_flight_per_target: usize,
    /// Seconds to let open connections finish after Ctrl-C / SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    drain_seconds: u64,
    /// Extra CA certificates (PEM) trusted for https:// targets, besides the webpki roots.
    #[arg(long, value_name = "PATH")]
    upstream_ca: Option<PathBuf>,
    /// Zero-pad every inner response to a multiple of this many bytes (e.g. 4096) so response
    /// lengths reveal only a bucket; 0: no padding.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pad_responses_to: usize,
    /// Runtime worker threads; 0: one per core. Fewer than the cores leaves room for
    /// co-located processes (the target, a sidecar) and saves cross-thread wake-ups.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        env = "OHTTP_GATEWAY_WORKER_THREADS"
    )]
    worker_threads: usize,
}

/// The `--config` file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    gateway_path: Option<String>,
    #[serde(default)]
    targets: BTreeMap<String, String>,
}

/// Everything `serve` needs, validated before anything is bound.
struct Resolved {
    state: Arc<GatewayState>,
    tls: Option<Arc<rustls::ServerConfig>>,
    listen: SocketAddr,
    admin_listen: SocketAddr,
    /// Where reloads read the keys from, and the revision now in force.
    store: Option<(AnyKeyStore, Revision)>,
    key_reload: Option<Duration>,
    drain: Duration,
}

fn load_ring(file: &KeyFile) -> anyhow::Result<KeyRing> {
    Ok(KeyRing::new(file.specs()?)?)
}

async fn resolve(args: ServeArgs) -> anyhow::Result<Resolved> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<ConfigFile>(&text)
                .with_context(|| format!("parsing {}", path.display()))?
        }
        None => ConfigFile::default(),
    };
    let mut targets = config.targets;
    for flag in &args.targets {
        let (host, url) = flag
            .split_once('=')
            .with_context(|| format!("--target {flag:?} is not HOST=URL"))?;
        if targets.insert(host.to_owned(), url.to_owned()).is_some() {
            bail!("target {host:?} given twice");
        }
    }
    if targets.is_empty() {
        bail!("no targets: give --target HOST=URL or a [targets] table in --config");
    }
    let allow = AllowList::new(targets.iter().map(|(h, u)| (h.as_str(), u.as_str())))?;

    let store = open_store(
        args.keys_file.as_deref(),
        args.key_store.as_deref(),
        &args.key_store_redis_key,
    )
    .await?;
    let (ring, store) = match (store, &args.keys_json) {
        (Some(store), None) => {
            let (ring, revision) = key_store::load_ring(&store).await?;
            (ring, Some((store, revision)))
        }
        (None, Some(json)) => (load_ring(&KeyFile::from_json(json)?)?, None),
        _ => bail!(
            "no keys: give --keys-file, --key-store or OHTTP_GATEWAY_KEYS (never generated at \
             start-up)"
        ),
    };

    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(listen::tls_config(cert, key)?),
        _ => None,
    };
    if args.max_request_bytes == 0 || args.max_response_bytes == 0 {
        bail!("size limits must be positive");
    }
    let limits = Limits {
        max_request_bytes: args.max_request_bytes,
        body_timeout: Duration::from_millis(args.body_timeout_ms),
        forward: ForwardLimits {
            connect_timeout: Duration::from_millis(args.connect_timeout_ms),
            request_timeout: Duration::from_millis(args.upstream_timeout_ms),
            max_response_bytes: args.max_response_bytes,
            pool_idle_per_upstream: args.pool_idle_per_target,
            max_in_flight_per_upstream: args.max_in_flight_per_target.max(1),
            extra_roots: match &args.upstream_ca {
                Some(path) => {
                    let pem = std::fs::read(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    rustls_pemfile::certs(&mut pem.as_slice())
                        .collect::<Result<Vec<_>, _>>()
                        .with_context(|| format!("parsing {}", path.display()))?
                }
                None => Vec::new(),
            },
        },
        response_pad_to: NonZeroUsize::new(args.pad_responses_to),
    };
    let path = args
        .gateway_path
        .or(config.gateway_path)
        .unwrap_or_else(|| "/".into());
    let state = Arc::new(GatewayState::new(ring, allow, limits, &path)?);
    Ok(Resolved {
        state,
        tls,
        listen: args.listen,
        admin_listen: args.admin_listen,
        store,
        key_reload: (args.key_reload_secs > 0).then(|| Duration::from_secs(args.key_reload_secs)),
        drain: Duration::from_secs(args.drain_seconds),
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}

/// Re-reads the key store on SIGHUP and every `every`, installing the keys when their revision
/// changed; a bad or unreachable store is logged and the old keys stay in force.
async fn reload_keys(
    state: Arc<GatewayState>,
    store: AnyKeyStore,
    mut revision: Revision,
    every: Option<Duration>,
) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    let mut ticks = every.map(|d| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let forced = tokio::select! {
            got = hup.recv() => {
                if got.is_none() {
                    return;
                }
                true
            }
            () = async {
                match ticks.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => std::future::pending().await,
                }
            } => false,
        };
        match key_store::load_ring(&store).await {
            Ok((_, same)) if same == revision && !forced => {}
            Ok((ring, new)) => {
                let ids: Vec<u8> = ring.current_ids().iter().map(|k| k.0).collect();
                state.set_keys(ring);
                revision = new;
                tracing::info!(?ids, "keys reloaded");
            }
            Err(e) => tracing::error!(error = %e, "key reload failed; keeping the old keys"),
        }
    }
}

async fn serve(resolved: Resolved) -> anyhow::Result<()> {
    let public = TcpListener::bind(resolved.listen)
        .await
        .with_context(|| format!("binding {}", resolved.listen))?;
    let admin_listener = TcpListener::bind(resolved.admin_listen)
        .await
        .with_context(|| format!("binding {}", resolved.admin_listen))?;
    let state = resolved.state;
    // Printed (not only logged) so scripts and tests can learn port-0 addresses.
    println!(
        "listening on {} (admin {})",
        public.local_addr()?,
        admin_listener.local_addr()?
    );
    tracing::info!(tls = resolved.tls.is_some(), "gateway serving");
    if let Some((store, revision)) = resolved.store {
        tokio::spawn(reload_keys(
            Arc::clone(&state),
            store,
            revision,
            resolved.key_reload,
        ));
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let admin_task = tokio::spawn(listen::serve(
        admin_listener,
        admin::router(Arc::clone(&state)),
        None,
        stopped(stop_rx.clone()),
        resolved.drain,
    ));
    let public_task = tokio::spawn(listen::serve(
        public,
        router(Arc::clone(&state)),
        resolved.tls,
        stopped(stop_rx),
        resolved.drain,
    ));
    state.set_ready(true);
    shutdown_signal().await;
    tracing::info!("shutting down");
    state.set_ready(false);
    let _ = stop_tx.send(true);
    public_task.await?;
    admin_task.await?;
    Ok(())
}

fn fresh_seed() -> anyhow::Result<KeySeed> {
    let mut bytes = vec![0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .context("no OS randomness")?;
    Ok(KeySeed::new(bytes)?)
}

async fn keys(action: KeysAction) -> anyhow::Result<()> {
    let args = match &action {
        KeysAction::Init(a)
        | KeysAction::Rotate(a)
        | KeysAction::Retire(a)
        | KeysAction::Show(a) => a,
    };
    let store = open_store(
        args.keys_file.as_deref(),
        args.key_store.as_deref(),
        &args.key_store_redis_key,
    )
    .await?
    .context("give --keys-file or --key-store")?;
    match action {
        KeysAction::Init(_) => {
            let mut file = KeyFile::default();
            let id = file.rotate(&fresh_seed()?)?;
            let (created, _) = key_store::create(&store, &file).await?;
            if !created {
                bail!("the key store already holds keys; not overwriting them");
            }
            println!("created keys with key id {id}");
        }
        KeysAction::Rotate(_) => {
            let seed = fresh_seed()?;
            let (_, id) = key_store::update(&store, |f| f.rotate(&seed)).await?;
            println!("key id {id} is now current; previous keys are retiring");
        }
        KeysAction::Retire(_) => {
            let (_, n) = key_store::update(&store, |f| Ok(f.retire())).await?;
            println!("dropped {n} retiring key(s)");
        }
        KeysAction::Show(_) => {
            let (ring, _) = key_store::load_ring(&store).await?;
            println!("{}", hex::encode(ring.encoded_configs()));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Command::Serve(args) = &cli.command
        && args.worker_threads > 0
    {
        builder.worker_threads(args.worker_threads);
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    match cli.command {
        Command::Keys { action } => match runtime.block_on(keys(action)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Serve(args) => {
            let resolved = match runtime.block_on(resolve(*args)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: invalid configuration: {e:#}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            match runtime.block_on(serve(resolved)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(EXIT_RUNTIME)
                }
            }
        }
    }
}
