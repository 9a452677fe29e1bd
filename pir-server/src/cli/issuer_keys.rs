//! `pir-server issuer-keys`: the operator's rotation of the Privacy Pass issuer keys
//! (ohttp-privacy-pass.md §5.6: staged → active → retiring → retired), on the store the config's
//! `[issuer_keys]` names. Each change is one [`privacy_pass::key_store::update`]: load, apply the
//! [`KeySet`] step, compare-and-swap, and on a lost race against another writer (an issuer
//! starting, a second operator) reload and apply again.
//!
//! Running servers read the set only when they start, so a change reaches them on their next
//! restart (README.md, "Rotating issuer keys").

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use pir_server::issuer_state::IssuerKeys;
use pir_server::key_store::system_clock;
use pir_server::server_config::ServerConfig;
use privacy_pass::key_store::{KeyStore, update};
use privacy_pass::{KeySet, KeyState, Tier};

use super::{Exit, ExitContext as _, Failure};

#[derive(Debug, clap::Args)]
pub struct IssuerKeysArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every key: tier, state, key id, not-before (no private material).
    Show {
        /// The TOML config file; only `[issuer_keys]` and `[issuer]` are read.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Add a key for the tier, listed from now on and usable from `--not-before` (the tier
    /// first gets an active key if it has none, as the issuer's start would give it).
    Stage {
        #[command(flatten)]
        target: Target,
        /// When clients may start using the key: UNIX seconds, or `+<n><s|m|h|d>` from now
        /// (e.g. `+7d`). Must lie in the future.
        #[arg(long, value_parser = parse_not_before)]
        not_before: NotBefore,
    },
    /// Make the tier's staged key active (its not-before must have passed); the active key
    /// becomes retiring and keeps verifying.
    Promote {
        #[command(flatten)]
        target: Target,
    },
    /// Stop accepting the tier's retiring keys.
    Retire {
        #[command(flatten)]
        target: Target,
    },
}

/// The store and tier a change applies to.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The TOML config file; only `[issuer_keys]` and `[issuer]` are read.
    #[arg(long, short)]
    config: PathBuf,
    /// The tier to rotate (one of `[issuer] tiers` when the config has that section).
    #[arg(long, default_value = "tier1")]
    tier: String,
}

/// `--not-before` as given; relative times are resolved against the clock when the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotBefore {
    At(u64),
    In(u64),
}

fn parse_not_before(s: &str) -> Result<NotBefore, String> {
    let Some(rel) = s.strip_prefix('+') else {
        return s
            .parse()
            .map(NotBefore::At)
            .map_err(|_| format!("{s:?} is neither UNIX seconds nor +<n><s|m|h|d>"));
    };
    let split = rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len());
    let (digits, unit) = rel.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?}: expected +<n><s|m|h|d>, e.g. +7d"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    n.checked_mul(scale)
        .map(NotBefore::In)
        .ok_or_else(|| format!("{s:?} is too far in the future"))
}

/// One step, resolved.
enum Step {
    Show,
    Stage { tier: Tier, not_before: u64 },
    Promote(Tier),
    Retire(Tier),
}

/// Runs an `issuer-keys` action: config problems exit 3, store and rotation failures 1.
pub fn run(args: &IssuerKeysArgs) -> Result<(), Failure> {
    let now = (system_clock())();
    let (config_path, step) = match &args.action {
        Action::Show { config } => (config, Step::Show),
        Action::Stage { target, not_before } => {
            let not_before = match *not_before {
                NotBefore::At(t) => t,
                NotBefore::In(d) => now.saturating_add(d),
            };
            let tier = Tier::from(target.tier.as_str());
            (&target.config, Step::Stage { tier, not_before })
        }
        Action::Promote { target } => (&target.config, Step::Promote(target.tier.as_str().into())),
        Action::Retire { target } => (&target.config, Step::Retire(target.tier.as_str().into())),
    };
    let config = read_config(config_path, &step).exit(Exit::Config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .exit(Exit::Runtime)?;
    let out = runtime
        .block_on(async {
            let (store, location) = open(&config).await?;
            match &store {
                IssuerKeys::File(s) => execute(s, &location, &step, now).await,
                IssuerKeys::Redis(s) => execute(s, &location, &step, now).await,
            }
        })
        .exit(Exit::Runtime)?;
    print!("{out}");
    Ok(())
}

/// Parses the config (use cases are not needed here, so not validated) and checks the tier.
fn read_config(path: &Path, step: &Step) -> anyhow::Result<ServerConfig> {
    let config = ServerConfig::read_file(path)?;
    let tier = match step {
        Step::Show => None,
        Step::Stage { tier, .. } | Step::Promote(tier) | Step::Retire(tier) => Some(tier),
    };
    if let (Some(tier), Some(issuer)) = (tier, &config.issuer)
        && !issuer.tiers.contains(&tier.0)
    {
        anyhow::bail!(
            "{}: tier {:?} is not in [issuer] tiers {:?}",
            path.display(),
            tier.0,
            issuer.tiers
        );
    }
    Ok(config)
}

/// The store `[issuer_keys]` names, and how to name it in output (never the Redis URL, which
/// may carry a password).
async fn open(config: &ServerConfig) -> anyhow::Result<(IssuerKeys, String)> {
    let keys = &config.issuer_keys;
    Ok(match &keys.redis_url {
        Some(url) => (
            IssuerKeys::Redis(
                privacy_pass::RedisKeyStore::connect(url, &keys.redis_key)
                    .await
                    .context("connecting to the Redis issuer key store")?,
            ),
            format!("redis key {:?}", keys.redis_key),
        ),
        None => (
            IssuerKeys::file(keys.file.clone())?,
            format!("file {}", keys.file.display()),
        ),
    })
}

/// Applies `step` to `store`; returns what to print.
async fn execute<S: KeyStore>(
    store: &S,
    location: &str,
    step: &Step,
    now: u64,
) -> anyhow::Result<String> {
    let context = || format!("issuer key set ({location})");
    let mut rng = privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng);
    let (set, done) = match step {
        Step::Show => (store.load().await.with_context(context)?, String::new()),
        Step::Stage { tier, not_before } => {
            let mut staged = None;
            let set = update(store, |set| {
                set.ensure_active(&mut rng, tier, now)?;
                staged = Some(set.stage(&mut rng, tier, *not_before, now)?);
                Ok(true)
            })
            .await
            .with_context(context)?;
            let id = staged.map(|id| hex::encode(id.0)).unwrap_or_default();
            let msg = format!("staged {} key {id}, not-before {not_before}\n", tier.0);
            (set, msg)
        }
        Step::Promote(tier) => {
            let set = update(store, |set| set.promote(tier, now).map(|()| true))
                .await
                .with_context(context)?;
            (set, format!("promoted the staged {} key\n", tier.0))
        }
        Step::Retire(tier) => {
            let mut retired = 0;
            let set = update(store, |set| {
                retired = set.retire(tier);
                Ok(retired > 0)
            })
            .await
            .with_context(context)?;
            if retired == 0 {
                anyhow::bail!("tier {:?} has no retiring key", tier.0);
            }
            (set, format!("retired {retired} {} key(s)\n", tier.0))
        }
    };
    Ok(format!("{done}{}", listing(&set, location, now)))
}

/// The set as a table: one line per key, no private material.
fn listing(set: &KeySet, location: &str, now: u64) -> String {
    let mut out = format!("issuer keys: {location}, version {}\n", set.version());
    if set.records().is_empty() {
        out.push_str("no keys stored yet (the issuer creates them at its first start)\n");
        return out;
    }
    out.push_str("tier      state     not-before   key id (truncated)\n");
    for r in set.records() {
        let id = r.key.public_key().key_id();
        let state = match r.state {
            KeyState::Staged => "staged",
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
        };
        let when = if r.not_before > now {
            format!(" (in {}s)", r.not_before - now)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<9} {state:<9} {:<12} {} ({:#04x}){when}\n",
            r.tier.0,
            r.not_before,
            hex::encode(id.0),
            id.truncated()
        ));
    }
    out
}
