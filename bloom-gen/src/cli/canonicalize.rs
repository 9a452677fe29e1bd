//! `bloom-gen canonicalize INPUT`: the canonical entries, one per line — the PIR keywords.
//!
//! Duplicates are removed with a set of 128-bit XXH3 hashes of the entries (16 bytes each plus
//! set overhead, never the strings); a false merge needs a 128-bit collision.

use std::collections::HashSet;

use super::args::CanonicalizeArgs;
use super::input::{self, Mode, Reader};
use super::report::{self, Rejections, group};
use super::{Exit, ExitContext, Outcome, fail, open_input, output};

pub fn run(args: CanonicalizeArgs) -> Outcome {
    let quiet = args.input.quiet;
    let path = args
        .input
        .input
        .clone()
        .ok_or_else(|| fail(Exit::Usage, "no INPUT given"))?;
    let (reader, len, name) = open_input(&path)?;
    let bar = report::progress(len, quiet);
    let mut rejections = Rejections::new(&name, args.input.max_reports, bar.clone());
    let mode = Mode {
        verbatim: args.input.verbatim,
        seed: None,
    };
    let mut seen: HashSet<u128> = HashSet::new();
    let mut written = 0u64;
    let mut stats = None;
    let mut read_error = None;
    let strict = args.input.strict;
    // Output is streamed; with --strict a rejected line aborts before the atomic rename, so a
    // file target is never left half-written (stdout may already hold earlier lines).
    let result = output::write_output(args.output.as_deref(), false, |w| {
        let mut reader = Reader::new(reader);
        let r = input::run(
            &mut reader,
            mode,
            |pos| {
                if let Some(b) = &bar {
                    b.set_position(pos);
                }
            },
            |out| {
                rejections.take(&out);
                if strict && rejections.total() > 0 {
                    anyhow::bail!("--strict: rejected lines");
                }
                for e in &out.entries {
                    if args.keep_duplicates
                        || seen.insert(xxhash_rust::xxh3::xxh3_128(e.as_bytes()))
                    {
                        w.write_all(e.as_bytes())?;
                        w.write_all(b"\n")?;
                        written += 1;
                    }
                }
                Ok(())
            },
        );
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
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(e) = read_error {
        if strict && rejections.total() > 0 {
            return Err(fail(
                Exit::Usage,
                format!(
                    "--strict: {} rejected lines; nothing written",
                    group(rejections.total())
                ),
            ));
        }
        return Err(super::Failure {
            exit: Exit::Input,
            error: e.context(format!("reading {name}")),
        });
    }
    result.exit(Exit::Output)?;
    let stats = stats.unwrap_or_default();
    if !quiet {
        eprintln!("bloom-gen: {}", report::lines_summary(&stats, &rejections));
        eprintln!(
            "bloom-gen: {} entries ({} from variants), {} distinct written",
            group(stats.entries),
            group(stats.variants),
            group(written)
        );
    }
    if rejections.unshown() > 0 {
        eprintln!(
            "bloom-gen: {} more rejected lines not shown",
            group(rejections.unshown())
        );
    }
    Ok(Exit::Success)
}
