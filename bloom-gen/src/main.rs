//! `bloom-gen`: see `bloom-gen --help` and README.md ("bloom-gen" section).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let parsed = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help / --version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                cli::Exit::Usage as u8
            } else {
                0
            });
        }
    };
    match cli::run(parsed) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(f) => {
            eprintln!("bloom-gen: error: {:#}", f.error);
            ExitCode::from(f.exit as u8)
        }
    }
}
