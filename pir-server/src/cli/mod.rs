//! The command line (DESIGN.md practice 12): one declaration per flag drives `--help`; parsing is
//! separate from running; failures map to the documented exit codes in [`Exit`].

mod build;
mod issuer_keys;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use pir_server::Role;

/// Exit codes (also in README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Anything not listed below, e.g. a listener failing while serving.
    Runtime = 1,
    /// A bad command line (clap's code), or `build`: no parameters fit the size limits.
    SizeLimits = 2,
    /// The config file is unreadable or invalid.
    Config = 3,
    /// A use case, key store or issuer key could not be loaded.
    Load = 4,
    /// A listener could not bind.
    Bind = 5,
    /// `build`: the input could not be read or processed.
    Build = 6,
}

/// An error with the exit code it ends the process with.
pub struct Failure {
    pub code: Exit,
    pub error: anyhow::Error,
}

/// Tags a result's error with an exit code.
pub trait ExitContext<T> {
    fn exit(self, code: Exit) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ExitContext<T> for Result<T, E> {
    fn exit(self, code: Exit) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            code,
            error: e.into(),
        })
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "pir-server",
    version,
    about = "Apple-compatible PIR service for NEURLFilter"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `serve --role`: the library's [`Role`]s, and `router`, which serves no database itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeRole {
    /// `/config`, `/key`, `/queries`, `/report`, `/prefilter`.
    Service,
    /// The Privacy Pass issuer endpoints.
    Issuer,
    /// Both on one listener.
    All,
    /// The device endpoints, forwarded to the replica groups of `[router]` by shard.
    Router,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the PIR service (and/or the Privacy Pass issuer) described by a config file.
    Serve {
        /// The TOML config file (see README.md); optional with `--apple-service-config`.
        #[arg(long, short, required_unless_present = "apple_service_config")]
        config: Option<PathBuf>,
        /// Apple's example PIRService `service-config.json`: its use cases are served from the
        /// files `PIRProcessDatabase` wrote, in addition to any `[[usecase]]` (migration).
        #[arg(long)]
        apple_service_config: Option<PathBuf>,
        /// Which endpoints to serve: the PIR service, the issuer, both on one listener, or the
        /// shard fan-out front of replica groups (`[router]` section).
        #[arg(long, value_enum, default_value = "service")]
        role: ServeRole,
    },
    /// Process a blocklist into a new version directory of a use case.
    Build(Box<build::BuildArgs>),
    /// Rotate the Privacy Pass issuer keys in the `[issuer_keys]` store (show, stage, promote,
    /// retire).
    IssuerKeys(issuer_keys::IssuerKeysArgs),
}

/// Runs the parsed command.
pub fn run(args: Args) -> Result<(), Failure> {
    match args.command {
        Command::Serve {
            config,
            apple_service_config,
            role,
        } => {
            let role = match role {
                ServeRole::Service => Some(Role::Service),
                ServeRole::Issuer => Some(Role::Issuer),
                ServeRole::All => Some(Role::All),
                ServeRole::Router => None,
            };
            serve::serve(config.as_deref(), apple_service_config.as_deref(), role)
        }
        Command::Build(build) => build::build(&build),
        Command::IssuerKeys(args) => issuer_keys::run(&args),
    }
}
