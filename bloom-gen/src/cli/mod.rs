//! The `bloom-gen` binary: files, stdin/stdout, randomness and progress around the library.

pub mod args;
mod build;
mod canonicalize;
mod check;
mod input;
mod output;
mod report;
mod store;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

pub use args::Cli;

/// The documented exit statuses (see `--help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Positive = 1,
    Usage = 2,
    Input = 3,
    Output = 4,
}

/// An error with the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

pub type Outcome = Result<Exit, Failure>;

/// Attaches an exit status to any error.
pub trait ExitContext<T> {
    fn exit(self, exit: Exit) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ExitContext<T> for Result<T, E> {
    fn exit(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            exit,
            error: e.into(),
        })
    }
}

pub fn fail(exit: Exit, msg: impl std::fmt::Display) -> Failure {
    Failure {
        exit,
        error: anyhow::anyhow!("{msg}"),
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        None => build::run(cli.build),
        Some(args::Command::Canonicalize(a)) => canonicalize::run(a),
        Some(args::Command::Check(a)) => check::run(a),
    }
}

/// An opened input: the stream, its size if known (for the progress bar), its display name.
type Input = (Box<dyn Read + Send>, Option<u64>, String);

/// Opens the input file, or stdin for `-`.
fn open_input(path: &Path) -> Result<Input, Failure> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(io::stdin()), None, "<stdin>".into()));
    }
    let f = File::open(path).exit(Exit::Input).map_err(|mut f| {
        f.error = f.error.context(format!("cannot open {}", path.display()));
        f
    })?;
    let meta = f.metadata().ok();
    if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) {
        return Err(fail(
            Exit::Input,
            format!("{} is a directory", path.display()),
        ));
    }
    Ok((
        Box::new(f),
        meta.map(|m| m.len()),
        path.display().to_string(),
    ))
}
