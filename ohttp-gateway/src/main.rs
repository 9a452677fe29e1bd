//! `ohttp-gateway`: the binary. Parses flags, resolves and validates the whole configuration,
//! then binds the public and admin listeners and serves until Ctrl-C or SIGTERM; SIGHUP reloads
//! the key file (rotation). Also manages the key file (`keys init|rotate|retire|show`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use ohttp_gateway::allow_list::AllowList;
use ohttp_gateway::keys::{KeyRing, KeySeed};
use ohttp_gateway::server::forward::ForwardLimits;
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
    /// Create a key file with one fresh current key (id 1). Refuses to overwrite.
    Init {
        /// Key file to create.
        #[arg(long, value_name = "PATH")]
        keys_file: PathBuf,
    },
    /// Start a rotation: add a fresh key as the preferred current key; current keys become
    /// retiring (accepted, no longer published). Send SIGHUP to running gateways afterwards.
    Rotate {
        /// Key file to update.
        #[arg(long, value_name = "PATH")]
        keys_file: PathBuf,
    },
    /// End a rotation: drop retiring keys (once their request counters are near zero).
    Retire {
        /// Key file to update.
        #[arg(long, value_name = "PATH")]
        keys_file: PathBuf,
    },
    /// Print the published `application/ohttp-keys` body as hex (public keys only).
    Show {
        /// Key file to read.
        #[arg(long, value_name = "PATH")]
        keys_file: PathBuf,
    },
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
    /// Key file (JSON seeds; see `keys init`). Reloaded on SIGHUP.
    #[arg(long, value_name = "PATH", env = "OHTTP_GATEWAY_KEYS_FILE")]
    keys_file: Option<PathBuf>,
    /// The key file's JSON given directly (from a secret store), instead of --keys-file.
    #[arg(
        long,
        value_name = "JSON",
        env = "OHTTP_GATEWAY_KEYS",
        hide_env_values = true,
        conflicts_with = "keys_file"
    )]
    keys_json: Option<String>,
    /// TOML file with `gateway_path` and a `[targets]` table of host = "http://upstream".
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Allow-listed target: inner authority = upstream base URL (repeatable), e.g.
    /// `--target service.example.net=http://10.0.0.5:8080`.
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
    keys_file: Option<PathBuf>,
    drain: Duration,
}

fn load_ring(file: &KeyFile) -> anyhow::Result<KeyRing> {
    Ok(KeyRing::new(file.specs()?)?)
}

fn resolve(args: ServeArgs) -> anyhow::Result<Resolved> {
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

    let key_file = match (&args.keys_file, &args.keys_json) {
        (Some(path), None) => KeyFile::load(path)?,
        (None, Some(json)) => KeyFile::from_json(json)?,
        _ => bail!("no keys: give --keys-file or OHTTP_GATEWAY_KEYS (never generated at start-up)"),
    };
    let ring = load_ring(&key_file)?;

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
        },
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
        keys_file: args.keys_file,
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

/// Reloads the key file on SIGHUP; a bad file is logged and the old keys stay in force.
async fn reload_on_hangup(state: Arc<GatewayState>, path: PathBuf) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        match KeyFile::load(&path)
            .map_err(anyhow::Error::from)
            .and_then(|f| load_ring(&f))
        {
            Ok(ring) => {
                let ids: Vec<u8> = ring.current_ids().iter().map(|k| k.0).collect();
                state.set_keys(ring);
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
    if let Some(path) = resolved.keys_file {
        tokio::spawn(reload_on_hangup(Arc::clone(&state), path));
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

fn keys(action: KeysAction) -> anyhow::Result<()> {
    let update =
        |path: &Path, f: &dyn Fn(&mut KeyFile) -> anyhow::Result<()>| -> anyhow::Result<()> {
            let mut file = KeyFile::load(path)?;
            f(&mut file)?;
            load_ring(&file)?;
            file.save(path)?;
            Ok(())
        };
    match action {
        KeysAction::Init { keys_file } => {
            if keys_file.exists() {
                bail!("{} exists; not overwriting keys", keys_file.display());
            }
            let mut file = KeyFile::default();
            let id = file.rotate(&fresh_seed()?)?;
            load_ring(&file)?;
            file.save(&keys_file)?;
            println!("created {} with key id {id}", keys_file.display());
        }
        KeysAction::Rotate { keys_file } => update(&keys_file, &|f| {
            let id = f.rotate(&fresh_seed()?)?;
            println!("key id {id} is now current; previous keys are retiring");
            Ok(())
        })?,
        KeysAction::Retire { keys_file } => update(&keys_file, &|f| {
            println!("dropped {} retiring key(s)", f.retire());
            Ok(())
        })?,
        KeysAction::Show { keys_file } => {
            println!(
                "{}",
                hex::encode(load_ring(&KeyFile::load(&keys_file)?)?.encoded_configs())
            );
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
    match cli.command {
        Command::Keys { action } => match keys(action) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Serve(args) => {
            let resolved = match resolve(*args) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: invalid configuration: {e:#}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_RUNTIME);
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
