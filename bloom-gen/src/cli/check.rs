//! `bloom-gen check --filter filter.json URL...`: the device's path for each URL.

use std::io::Write;

use bloom_gen::Os;

use super::args::CheckArgs;
use super::{Exit, ExitContext, Outcome, fail};

pub fn run(args: CheckArgs) -> Outcome {
    let bytes = std::fs::read(&args.filter)
        .exit(Exit::Input)
        .map_err(|mut f| {
            f.error = f
                .error
                .context(format!("cannot read {}", args.filter.display()));
            f
        })?;
    let parsed = bloom_gen::format::parse(&bytes)
        .exit(Exit::Input)
        .map_err(|mut f| {
            f.error = f.error.context(format!("{}", args.filter.display()));
            f
        })?;
    let filter = parsed.filter;
    let os = if args.ios == "27" {
        Os::Ios27
    } else {
        Os::Ios26
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any_positive = false;
    let mut bad = 0usize;
    for url in &args.urls {
        let full = if url.contains("://") {
            url.clone()
        } else {
            format!("https://{url}")
        };
        let subs = match bloom_gen::sub_urls(&full, os) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("bloom-gen: {url}: {e}");
                bad += 1;
                continue;
            }
        };
        let positives: Vec<&String> = subs
            .iter()
            .filter(|s| filter.contains(s.as_bytes()))
            .collect();
        any_positive |= !positives.is_empty();
        let w =
            |out: &mut std::io::StdoutLock<'_>, s: String| writeln!(out, "{s}").exit(Exit::Output);
        w(
            &mut out,
            format!(
                "{full}: {} of {} sub-URLs Bloom-positive{}",
                positives.len(),
                subs.len(),
                if positives.is_empty() {
                    " (allowed without a PIR query)"
                } else {
                    " (sent to PIR)"
                }
            ),
        )?;
        for s in &subs {
            let hit = filter.contains(s.as_bytes());
            if hit || !args.positives_only {
                w(&mut out, format!("  {} {s}", if hit { '+' } else { ' ' }))?;
            }
        }
    }
    if bad > 0 {
        return Err(fail(
            Exit::Usage,
            format!("{bad} URL(s) could not be parsed"),
        ));
    }
    Ok(if any_positive {
        Exit::Positive
    } else {
        Exit::Success
    })
}
