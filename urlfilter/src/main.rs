//! `urlfilter`: `up` runs the whole stack on loopback; `check` behaves like a device.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use urlfilter::device::{DEFAULT_USER_AGENT, Device, DeviceConfig, DeviceState, Verdict};
use urlfilter::stack::{Stack, StackOptions};
use urlfilter::transport::{BaseUrl, Transport};

/// Exit status of `check`: like grep, 0 when something matched.
const EXIT_BLOCKED: u8 = 0;
const EXIT_ALLOWED: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    version,
    about = "Private URL filtering for Apple's NEURLFilter: run the stack, check URLs like a device",
    after_help = "Exit codes of `check`: 0 at least one URL blocked, 1 all allowed, 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the prefilter and PIR database from a blocklist and run pir-server (service +
    /// issuer) and ohttp-gateway on 127.0.0.1; print what an app needs. Ctrl-C stops everything.
    Up(UpArgs),
    /// Behave like a device: prefilter, sub-URLs, Bloom check, tokens, PIR; print the verdicts.
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct UpArgs {
    /// Blocklist, one URL or host per line.
    #[arg(default_value = "examples/blocklist.txt")]
    blocklist: PathBuf,
    /// State that survives restarts: database, evaluation keys, issuer keys, OHTTP keys, user token.
    #[arg(long, default_value = "urlfilter-data")]
    data_dir: PathBuf,
    /// PIR use case name (`<app bundle id>.url.filtering`).
    #[arg(long, default_value = "urlfilter")]
    usecase: String,
    /// PIR service port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    service_port: u16,
    /// OHTTP gateway port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8443)]
    gateway_port: u16,
    /// Directory holding the pir-server and ohttp-gateway binaries (default: next to this one).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// URLs to check, e.g. https://www.example.com/page.
    #[arg(required = true)]
    urls: Vec<String>,
    /// The PIR service's base URL (direct mode: http://127.0.0.1:PORT; through a gateway: the
    /// name devices are configured with, which the gateway's allow-list maps).
    #[arg(
        long,
        env = "URLFILTER_SERVICE",
        default_value = "http://127.0.0.1:8443"
    )]
    service: String,
    /// The Privacy Pass issuer's base URL (default: the service URL).
    #[arg(long, env = "URLFILTER_ISSUER")]
    issuer: Option<String>,
    /// Send every request sealed in Oblivious HTTP to this gateway URL, as a device does.
    #[arg(long, env = "URLFILTER_GATEWAY")]
    via_gateway: Option<String>,
    /// PIR use case name.
    #[arg(long, default_value = "urlfilter")]
    usecase: String,
    /// Long-lived user token for the issuer (omit when the service runs without Privacy Pass).
    #[arg(long, env = "URLFILTER_USER_TOKEN")]
    user_token: Option<String>,
    /// Device state file (user id, cached config, secret keys); kept between runs like a phone.
    #[arg(long)]
    state: Option<PathBuf>,
    /// User-Agent to send.
    #[arg(long, default_value = DEFAULT_USER_AGENT)]
    user_agent: String,
    /// Sub-URL rules to emulate.
    #[arg(long, value_enum, default_value = "ios26")]
    os: OsArg,
    /// Deadline per HTTP exchange, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OsArg {
    Ios26,
    Ios27,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = match cli.command {
        Command::Up(args) => runtime.block_on(up(args)).map(|()| 0),
        Command::Check(args) => runtime.block_on(check(args)),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let service = BaseUrl::parse(&args.service)?;
    let issuer = BaseUrl::parse(args.issuer.as_deref().unwrap_or(&args.service))?;
    let issuer_name = issuer
        .authority
        .split(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let transport = Transport::new(
        service,
        issuer,
        args.via_gateway.clone(),
        Duration::from_secs(args.timeout_secs),
    )?;
    let state = match &args.state {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        _ => DeviceState::fresh(),
    };
    let mut device = Device::new(
        transport,
        DeviceConfig {
            usecase: args.usecase.clone(),
            user_token: args.user_token.clone(),
            issuer_name,
            user_agent: args.user_agent.clone(),
            os: match args.os {
                OsArg::Ios26 => bloom_gen::Os::Ios26,
                OsArg::Ios27 => bloom_gen::Os::Ios27,
            },
        },
        state,
    );
    let mut blocked = false;
    let mut failed = false;
    for url in &args.urls {
        match device.check(url).await {
            Ok(report) => {
                let timings: Vec<String> = report
                    .timings
                    .iter()
                    .map(|(step, d)| format!("{step} {:.1} ms", d.as_secs_f64() * 1e3))
                    .collect();
                match &report.verdict {
                    Verdict::Blocked { entry, value } => {
                        blocked = true;
                        println!(
                            "BLOCKED  {url}  (entry {entry:?}, value {})",
                            String::from_utf8_lossy(value)
                        );
                    }
                    Verdict::Allowed if report.positives.is_empty() => {
                        println!("allowed  {url}  (no sub-URL in the prefilter)");
                    }
                    Verdict::Allowed => println!(
                        "allowed  {url}  ({} prefilter positive(s), none in the database)",
                        report.positives.len()
                    ),
                }
                println!(
                    "         sub-URLs {}, positives {}{}; {}",
                    report.sub_urls.len(),
                    report.positives.len(),
                    if report.uploaded_key {
                        ", evaluation key uploaded"
                    } else {
                        ""
                    },
                    timings.join(", ")
                );
            }
            Err(e) => {
                failed = true;
                println!("error    {url}  {e}");
            }
        }
    }
    if let Some(path) = &args.state {
        let text = serde_json::to_string_pretty(device.state())?;
        urlfilter::stack::write_private(path, text.as_bytes())
            .with_context(|| format!("saving {}", path.display()))?;
    }
    Ok(if failed {
        EXIT_ERROR
    } else if blocked {
        EXIT_BLOCKED
    } else {
        EXIT_ALLOWED
    })
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let bin_dir = match args.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()
            .context("locating this binary")?
            .parent()
            .map(std::path::Path::to_path_buf)
            .context("this binary has no directory")?,
    };
    let options = StackOptions {
        blocklist: args.blocklist,
        data_dir: args.data_dir,
        usecase: args.usecase,
        bin_dir,
        service_port: args.service_port,
        gateway_port: args.gateway_port,
        ready_timeout: Duration::from_secs(120),
    };
    let stack = tokio::task::spawn_blocking(move || Stack::start(&options)).await??;
    let i = &stack.info;
    println!(
        "urlfilter is up (data in {data}).

  PIR service      {direct}  (direct; devices reach it as https://{name} through the gateway)
  Issuer           {direct}  (same listener: /token-key-for-user-token, /issue)
  OHTTP gateway    {gateway}
  Key config       {keys}
  Admin            {admin}/metrics, {gadmin}/metrics
  Use case         {usecase}
  User token       {token}

  App configuration:
    NEURLFilterManager.setConfiguration(
      pirServerURL: https://{name},
      pirPrivacyPassIssuerURL: https://{name},
      pirAuthenticationToken: \"{token}\",
      controlProviderBundleIdentifier: <your control provider's bundle id>)
    (use case {usecase}; the relay needs the gateway {gateway} and key config {keys})

  Try it:
    urlfilter check https://www.apple.com/url-filter-test https://example.org/ \\
      --service https://{name} --via-gateway {gateway} --usecase {usecase} --user-token {token}

Ctrl-C stops everything.",
        data = i.data_dir.display(),
        direct = i.service_direct,
        name = urlfilter::stack::SERVICE_NAME,
        gateway = i.gateway,
        keys = i.key_config,
        admin = i.service_admin,
        gadmin = i.gateway_admin,
        usecase = i.usecase,
        token = i.user_token,
    );
    let mut stack = stack;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let stopped_by = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break None,
            _ = sigterm.recv() => break None,
            _ = tick.tick() => {
                if let Some(name) = stack.exited() {
                    break Some(name);
                }
            }
        }
    };
    eprintln!("stopping");
    tokio::task::spawn_blocking(move || stack.stop()).await?;
    match stopped_by {
        Some(name) => anyhow::bail!("{name} exited; see the logs in the data directory"),
        None => Ok(()),
    }
}
