//! `bloom-gen canonicalize INPUT`: the canonical entries, one per line — the PIR keywords.
//!
//! Duplicates are removed with a set of 128-bit XXH3 hashes of the entries (16 bytes each plus
//! set overhead, never the strings); a false merge needs a 128-bit collision.

use std::collections::HashSet;

use super::args::CanonicalizeArgs;
use super::input::Session;
use super::report::group;
use super::{Exit, ExitContext, Outcome, fail, output};

pub fn run(args: CanonicalizeArgs) -> Outcome {
    let mut session = Session::open(&args.input, None)?;
    let mut seen: HashSet<u128> = HashSet::new();
    let mut written = 0u64;
    let mut stats = None;
    let mut read_error = None;
    let strict = args.input.strict;
    // Output is streamed; with --strict a rejected line aborts before the atomic rename, so a
    // file target is never left half-written (stdout may already hold earlier lines).
    let result = output::write_output(args.output.as_deref(), false, |w| {
        let r = session.run(|out, rejections| {
            if strict && rejections.total() > 0 {
                anyhow::bail!("--strict: rejected lines");
            }
            for e in out.entries() {
                if args.keep_duplicates || seen.insert(xxhash_rust::xxh3::xxh3_128(e)) {
                    w.write_all(e)?;
                    w.write_all(b"\n")?;
                    written += 1;
                }
            }
            Ok(())
        });
        match r {
            Ok(s) => {
                stats = Some(s);
                Ok(())
            }
            Err(e) => {
                read_error = Some(e);
                Err(std::io::Error::other("input failed"))
            }
        }
    });
    if let Some(e) = read_error {
        let total = session.rejections.total();
        if strict && total > 0 {
            return Err(fail(
                Exit::Usage,
                format!("--strict: {} rejected lines; nothing written", group(total)),
            ));
        }
        return Err(super::Failure {
            exit: Exit::Input,
            error: e.context(format!("reading {}", session.name)),
        });
    }
    result.exit(Exit::Output)?;
    let stats = stats.unwrap_or_default();
    session.summarize(&stats);
    if !args.input.quiet {
        eprintln!(
            "bloom-gen: {} entries ({} from variants), {} distinct written",
            group(stats.entries),
            group(stats.variants),
            group(written)
        );
    }
    Ok(Exit::Success)
}
