//! `pir-server serve`: validate the whole config, load everything, then bind (DESIGN.md
//! practice 11). SIGHUP (and `[reload] watch_secs`) reloads use cases; SIGTERM/ctrl-c drains
//! and stops. `--role router` (role `None` here) serves [`pir_server::fanout`] from the
//! `[router]` section instead.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use pir_server::apple_service_config::AppleServiceConfig;
use pir_server::compute_pool::ComputePool;
use pir_server::issuer_state::{IssuerKeys, IssuerState, issuer_from};
use pir_server::key_store::{EmbeddedKeyStore, KeyStore, RedisKeyStore, system_clock};
use pir_server::server_config::ServerConfig;
use pir_server::token_auth::{NonceBackend, TokenAuth};
use pir_server::{AppState, Limits, Role};
use privacy_pass::{HashedUserTokens, MemoryNonceStore, RedisNonceStore, Tier};
use tokio::net::TcpListener;

use super::{Exit, ExitContext as _, Failure};

/// Serves `role`, or the router when `role` is `None`.
pub fn serve(
    config_path: Option<&Path>,
    apple_config_path: Option<&Path>,
    role: Option<Role>,
) -> Result<(), Failure> {
    let config = read_config(config_path, apple_config_path).exit(Exit::Config)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .exit(Exit::Runtime)?;
    match role {
        Some(role) => runtime.block_on(run(config, role)),
        None => runtime.block_on(run_router(config)),
    }
}

/// The TOML file (defaults when absent) plus the use cases of Apple's `service-config.json`,
/// validated together.
fn read_config(
    config_path: Option<&Path>,
    apple_config_path: Option<&Path>,
) -> anyhow::Result<ServerConfig> {
    let mut config = match config_path {
        Some(path) => ServerConfig::read_file(path)?,
        None => toml::from_str("")?,
    };
    if let Some(path) = apple_config_path {
        let apple = AppleServiceConfig::from_file(path)?;
        let entries = apple
            .usecase_entries()
            .with_context(|| format!("{}", path.display()))?;
        config.usecases.extend(entries);
        if config.reports.directory.is_none() {
            config.reports.directory = apple.report_directory;
        }
    }
    config.validate()?;
    Ok(config)
}

async fn run_router(config: ServerConfig) -> Result<(), Failure> {
    let router = config
        .router
        .as_ref()
        .context("--role router needs a [router] section")
        .exit(Exit::Config)?;
    let auth = if config.auth.enabled {
        let issuer_keys = issuer_keys(&config).await?;
        Some(token_auth(&config, &issuer_keys).await?)
    } else {
        tracing::warn!("Privacy Pass checks are DISABLED: for local testing only");
        None
    };
    let fanout =
        pir_server::fanout::Fanout::new(router, auth, limits(&config)).exit(Exit::Config)?;
    tracing::info!(groups = router.groups.len(), "router configured");
    listen_and_serve(
        &config,
        config.listen.service,
        pir_server::fanout::router(fanout.clone()),
        pir_server::fanout::admin_router(fanout),
    )
    .await
}

fn limits(config: &ServerConfig) -> Limits {
    Limits {
        max_body_bytes: config.limits.max_body_bytes,
        max_requests_per_body: config.limits.max_requests_per_body,
    }
}

async fn run(config: ServerConfig, role: Role) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let state = build_state(&config, role).await?;
    tracing::info!(
        usecases = state.sources.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "loaded"
    );

    let device_addr = match role {
        Role::Issuer => config.listen.issuer,
        Role::Service | Role::All => config.listen.service,
    };
    tokio::spawn(reload_on_sighup(state.clone()));
    if config.reload.watch_secs > 0 {
        let every = Duration::from_secs(config.reload.watch_secs);
        tokio::spawn(pir_server::reload_watch::watch(state.clone(), every));
    }
    listen_and_serve(
        &config,
        device_addr,
        pir_server::router(state.clone(), role),
        pir_server::admin_router(state),
    )
    .await
}

/// Binds the device and admin listeners, serves until SIGTERM/ctrl-c, then drains.
async fn listen_and_serve(
    config: &ServerConfig,
    device_addr: std::net::SocketAddr,
    device_router: axum::Router,
    admin_router: axum::Router,
) -> Result<(), Failure> {
    let device = TcpListener::bind(device_addr)
        .await
        .with_context(|| format!("binding {device_addr}"))
        .exit(Exit::Bind)?;
    let admin = TcpListener::bind(config.listen.admin)
        .await
        .with_context(|| format!("binding admin {}", config.listen.admin))
        .exit(Exit::Bind)?;
    tracing::info!(%device_addr, admin = %config.listen.admin, "listening");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let device_task = tokio::spawn(serve_until(device, device_router, stop_rx.clone()));
    let admin_task = tokio::spawn(serve_until(admin, admin_router, stop_rx));

    shutdown_signal().await;
    tracing::info!(drain_secs = config.listen.drain_secs, "draining");
    let _ = stop_tx.send(true);
    let drain = Duration::from_secs(config.listen.drain_secs);
    let both = async {
        let (a, b) = tokio::join!(device_task, admin_task);
        a.context("service listener")?.context("service listener")?;
        b.context("admin listener")?.context("admin listener")
    };
    match tokio::time::timeout(drain, both).await {
        Ok(result) => result.exit(Exit::Runtime),
        Err(_) => {
            tracing::warn!("drain timeout; stopping with requests in flight");
            Ok(())
        }
    }
}

async fn build_state(config: &ServerConfig, role: Role) -> Result<AppState, Failure> {
    let keys = match &config.key_store.redis_url {
        Some(url) => KeyStore::Redis(
            RedisKeyStore::connect(
                url,
                &config.key_store.redis_prefix,
                Duration::from_secs(config.key_store.ttl_secs),
            )
            .await
            .context("connecting to the Redis key store")
            .exit(Exit::Load)?,
        ),
        None => {
            if let Some(parent) = config.key_store.path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))
                    .exit(Exit::Load)?;
            }
            KeyStore::Embedded(
                EmbeddedKeyStore::open(
                    &config.key_store.path,
                    Duration::from_secs(config.key_store.ttl_secs),
                )
                .with_context(|| format!("opening {}", config.key_store.path.display()))
                .exit(Exit::Load)?,
            )
        }
    };
    let workers = match config.compute.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let pool = ComputePool::new(
        workers,
        config.compute.queue,
        config.compute.retry_after_secs,
    );
    let sources = config.sources();
    let mut state = tokio::task::spawn_blocking(move || AppState::new(sources, keys, pool))
        .await
        .exit(Exit::Runtime)?
        .exit(Exit::Load)?;
    state.limits = limits(config);
    state.report_dir = config.reports.directory.clone();

    let issuer_keys = issuer_keys(config).await?;
    // The issuer first: it creates the keys the service's verifier reads.
    if matches!(role, Role::Issuer | Role::All) {
        let issuer = config
            .issuer
            .as_ref()
            .context("--role issuer/all needs an [issuer] section")
            .exit(Exit::Config)?;
        let tiers: Vec<Tier> = issuer
            .tiers
            .iter()
            .map(|t| Tier::from(t.as_str()))
            .collect();
        let set = issuer_keys
            .open_or_create(&tiers, (system_clock())())
            .await
            .exit(Exit::Load)?;
        let users_json = std::fs::read_to_string(&issuer.user_tokens)
            .with_context(|| format!("reading {}", issuer.user_tokens.display()))
            .exit(Exit::Load)?;
        let users = HashedUserTokens::from_json(&users_json)
            .with_context(|| format!("parsing {}", issuer.user_tokens.display()))
            .exit(Exit::Load)?;
        state.issuer = Some(Arc::new(IssuerState {
            issuer: issuer_from(&set).exit(Exit::Load)?,
            users,
            request_uri: issuer.request_uri.clone(),
        }));
    }
    if matches!(role, Role::Service | Role::All) && config.auth.enabled {
        state.auth = Some(token_auth(config, &issuer_keys).await?);
    } else if !config.auth.enabled {
        tracing::warn!("Privacy Pass checks are DISABLED: for local testing only");
    }
    Ok(state)
}

/// The issuer's key set, where `[issuer_keys]` says it lives.
async fn issuer_keys(config: &ServerConfig) -> Result<IssuerKeys, Failure> {
    Ok(match &config.issuer_keys.redis_url {
        Some(url) => IssuerKeys::Redis(
            privacy_pass::RedisKeyStore::connect(url, &config.issuer_keys.redis_key)
                .await
                .context("connecting to the Redis issuer key store")
                .exit(Exit::Load)?,
        ),
        None => IssuerKeys::file(config.issuer_keys.file.clone()).exit(Exit::Load)?,
    })
}

/// Token redemption with the issuer's public keys and the `[auth]` nonce store (service and
/// router roles).
async fn token_auth(
    config: &ServerConfig,
    issuer_keys: &IssuerKeys,
) -> Result<Arc<TokenAuth>, Failure> {
    let keys = issuer_keys.verifier_keys().await.exit(Exit::Load)?;
    if keys.is_empty() {
        return Err(anyhow::anyhow!(
            "no issuer keys to verify tokens with: start the issuer first, or disable auth"
        ))
        .exit(Exit::Load);
    }
    let nonces = match &config.auth.nonce_redis_url {
        Some(url) => NonceBackend::Redis(
            RedisNonceStore::connect(url, "pir:nonce:")
                .await
                .context("connecting to the Redis nonce store")
                .exit(Exit::Load)?,
        ),
        None => NonceBackend::Memory(MemoryNonceStore::new()),
    };
    Ok(Arc::new(TokenAuth::new(
        keys,
        nonces,
        config.auth.nonce_ttl_secs,
        system_clock(),
    )))
}

async fn serve_until(
    listener: TcpListener,
    router: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    // Small HTTP/2 frames (a router's h2c calls, their WINDOW_UPDATEs) otherwise wait for
    // Nagle's algorithm behind the peer's delayed ACK (~20 ms per call measured on loopback).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
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
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn reload_on_sighup(state: AppState) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!("SIGHUP handler unavailable; reload through the admin endpoint");
            return;
        };
        while hup.recv().await.is_some() {
            match state.reload().await {
                Ok(()) => tracing::info!("reloaded use cases"),
                Err(e) => tracing::error!(error = %e, "reload failed; previous versions kept"),
            }
        }
    }
    #[cfg(not(unix))]
    drop(state);
}
