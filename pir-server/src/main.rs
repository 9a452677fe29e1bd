//! `pir-server`: `serve` the PIR service from a config file, or `build` a use-case version from a
//! blocklist. Parsing is in [`cli`]; everything else is the library's.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("pir-server: {:#}", failure.error);
            ExitCode::from(failure.code as u8)
        }
    }
}
