//! `conformance apple <DIR>`: checks the implementation against the Apple transcripts in DIR,
//! walking DIR/manifest.json. Prints one PASS/FAIL/SKIP line per check, then the counts; exits 1
//! if any check failed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let (Some(suite), Some(dir), None) = (args.next(), args.next(), args.next()) else {
        bail!("usage: conformance apple <DIR>");
    };
    if suite != "apple" {
        bail!("unknown suite {suite:?} (known: apple)");
    }
    let dir = PathBuf::from(dir);
    let report = vectors::apple::run(&dir).with_context(|| format!("walking {}", dir.display()))?;
    for check in &report.checks {
        println!("{check}");
    }
    println!("{}", report.summary());
    let (_, failed, _) = report.counts();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
