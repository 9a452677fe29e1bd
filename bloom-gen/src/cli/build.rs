//! `bloom-gen INPUT`: blocklist → filter.json / raw bitmap / plist.

use bloom_gen::format::{self, Format, Meta};
use bloom_gen::{BloomBuilder, BloomParams, Seed};
use rand::Rng;

use super::args::BuildArgs;
use super::input::Session;
use super::report::{self, group, pct, size};
use super::store::Store;
use super::{Exit, ExitContext, Outcome, fail, output};

/// Page loads test roughly this many sub-URLs (spec §3).
const LOOKUPS_PER_PAGE: [u32; 2] = [20, 50];

pub fn run(args: BuildArgs) -> Outcome {
    let quiet = args.input.quiet;
    let seed = match args.seed {
        Some(s) => Seed::new(s).exit(Exit::Usage)?,
        // The library draws no randomness; the binary picks a random non-zero seed.
        None => Seed::new(rand::thread_rng().gen_range(1..=u32::MAX)).exit(Exit::Usage)?,
    };
    let format: Format = args.format.into();

    let t0 = std::time::Instant::now();
    let mut phases: Vec<(&str, std::time::Duration)> = Vec::new();
    let mut lap = {
        let mut last = t0;
        move |name: &'static str, phases: &mut Vec<(&str, std::time::Duration)>| {
            let now = std::time::Instant::now();
            phases.push((name, now - last));
            last = now;
        }
    };
    let mut session = Session::open(&args.input, Some(seed))?;
    let mut store = Store::new(args.spill_after);
    let stats = session
        .run(|out, _| store.push(&out.fingerprints))
        .map_err(|e| super::Failure {
            exit: Exit::Input,
            error: e.context(format!("reading {}", session.name)),
        })?;
    let say = |msg: String| {
        if !quiet {
            eprintln!("bloom-gen: {msg}");
        }
    };
    session.summarize(&stats);
    let rejections = &session.rejections;
    let name = &session.name;
    if args.input.strict && rejections.total() > 0 {
        return Err(fail(
            Exit::Usage,
            format!(
                "--strict: {} rejected lines; nothing written",
                group(rejections.total())
            ),
        ));
    }

    lap("read+canonicalize+hash", &mut phases);
    let spin = report::spinner(session.bar_shown(), "deduplicating");
    let (distinct, fps) = store.finish().exit(Exit::Input)?;
    lap("dedupe", &mut phases);
    if distinct == 0 {
        return Err(fail(
            Exit::Input,
            format!("{name}: no usable entries; nothing written"),
        ));
    }
    let bits = match args.bits {
        Some(b) => b,
        None => u64::from(bloom_gen::bits_for(distinct, args.fpr).exit(Exit::Usage)?),
    };
    let hashes = match args.hashes {
        Some(h) => h,
        None => {
            let bits32 =
                u32::try_from(bits).map_err(|_| fail(Exit::Usage, "bit count over u32"))?;
            u64::from(bloom_gen::hashes_for(bits32, distinct).exit(Exit::Usage)?)
        }
    };
    let params = BloomParams::new(bits, hashes, seed).exit(Exit::Usage)?;
    if let Some(s) = &spin {
        s.set_message("filling the bitmap");
    }
    let mut builder = BloomBuilder::new(params);
    let chunk_len = builder.batch_len();
    fps.for_each_chunk(chunk_len, |chunk| builder.insert_fingerprints_par(chunk))
        .exit(Exit::Input)?;
    drop(fps);
    let filter = builder.finish();
    if let Some(s) = spin {
        s.finish_and_clear();
    }
    lap("set bits", &mut phases);

    let expected = params.expected_fpr(distinct);
    let sized_by_rule = args.bits.is_none() && args.hashes.is_none();
    let meta = Meta {
        count: distinct,
        fpr: if sized_by_rule { args.fpr } else { expected },
    };
    output::write_output(args.output.as_deref(), format == Format::Raw, |w| {
        format::write(&filter, meta, format, w)
    })
    .exit(Exit::Output)?;
    lap("write", &mut phases);
    if args.timings {
        let all: Vec<String> = phases
            .iter()
            .map(|(n, d)| format!("{n} {:.3}s", d.as_secs_f64()))
            .collect();
        eprintln!(
            "bloom-gen: timings: {} (total {:.3}s)",
            all.join(", "),
            t0.elapsed().as_secs_f64()
        );
    }

    say(format!(
        "{} entries ({} from variants), {} merged as duplicates: {} distinct",
        group(stats.entries),
        group(stats.variants),
        group(stats.entries - distinct.min(stats.entries)),
        group(distinct),
    ));
    let bytes = params.byte_len() as u64;
    say(format!(
        "filter: {} bits ({}), {} hashes, seed {}, tag {}",
        group(u64::from(params.bits())),
        size(bytes),
        params.hashes(),
        seed.get(),
        filter.tag_hex()
    ));
    let [lo, hi] = LOOKUPS_PER_PAGE;
    say(format!(
        "false-positive rate: {} per lookup{}; per page load ({lo}-{hi} sub-URLs) {}-{}",
        pct(expected),
        if sized_by_rule {
            format!(" (target {})", pct(args.fpr))
        } else {
            String::new()
        },
        pct(bloom_gen::per_page_fpr(expected, lo)),
        pct(bloom_gen::per_page_fpr(expected, hi)),
    ));
    if bytes > report::WARN_BYTES {
        eprintln!(
            "bloom-gen: warning: the bitmap is {}. On devices whose VPN shares neagent with the URL \
             filter, neagent is killed near 90 MiB; to fit --max-bytes {} use --fpr {:.3e}",
            size(bytes),
            size(args.max_bytes),
            bloom_gen::fpr_for_size(distinct, args.max_bytes)
        );
    } else if bytes > args.max_bytes {
        eprintln!(
            "bloom-gen: warning: the bitmap ({}) exceeds --max-bytes {}; --fpr {:.3e} would fit",
            size(bytes),
            size(args.max_bytes),
            bloom_gen::fpr_for_size(distinct, args.max_bytes)
        );
    }
    if !args.input.verbatim && !filter.contains(bloom_gen::canonical::ONBOARDING_KEYWORD.as_bytes())
    {
        say(format!(
            "note: Apple's onboarding test entry {} is not in the list (Apple's validation \
             fetches it from the PIR service)",
            bloom_gen::canonical::ONBOARDING_KEYWORD
        ));
    }
    Ok(Exit::Success)
}
