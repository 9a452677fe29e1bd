//! `urlfilter`: `up` runs the whole stack on loopback; `check` behaves like a device.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use urlfilter::device::{DEFAULT_USER_AGENT, Device, DeviceConfig, DeviceState, Verdict};
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
    /// Behave like a device: prefilter, sub-URLs, Bloom check, tokens, PIR; print the verdicts.
    Check(CheckArgs),
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
        write_private(path, text.as_bytes())
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

/// Writes a file readable only by its owner (it holds secret keys), atomically.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
