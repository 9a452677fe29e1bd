//! bloom-gen benchmarks. Ids carry their parameters:
//!
//! - `bloom_build/{1m,50m}`: synthetic URLs → fingerprints (FNV-1a + Murmur3), dedupe, sizing at
//!   p = 0.001, cache-blocked fill. Canonicalization is measured separately (`canonicalize/…`).
//! - `bloom_lookup/{present,absent}/1m`: one `contains` on a 1 M-entry filter.
//! - `bloom_lookup/page_load_ios26/1m`: derive the sub-URLs of a URL and test each (a page load).
//! - `canonicalize/{plain_url,idn_url}`: one blocklist line through `canonicalize` (owned
//!   entries); `canonicalize/plain_url_fast{,_hashed}`: the same plain line through the
//!   allocation-free `Canonicalizer` the binary uses (and then fingerprinted).
//! - `hash/{fnv1a_32,murmur3_x86_32}/32B`: the hash functions on a typical entry length;
//!   `hash/fnv1a_32_x4/4x32B`: four FNV-1a lanes at once (per call, i.e. four entries).
//!
//! Setup prints the measured false-positive rate on 1 M absent keys next to the theoretical one.

use std::hint::black_box;
use std::time::Duration;

use bloom_gen::{BloomBuilder, BloomFilter, BloomParams, Fingerprint, Os, Seed};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;

const SEED: u32 = 0x9747_b28c;

fn seed() -> Seed {
    Seed::new(SEED).unwrap_or_else(|_| unreachable!())
}

/// The i-th synthetic entry, as canonical text.
fn entry(i: u64, buf: &mut String) {
    use std::fmt::Write;
    buf.clear();
    let _ = write!(buf, "host{i}.example.org/path/{}", i % 997);
}

/// Synthetic entries → packed fingerprints, in parallel, without holding the strings.
fn fingerprints(n: u64) -> Vec<u64> {
    let s = seed();
    (0..n)
        .into_par_iter()
        .map_init(String::new, |buf, i| {
            entry(i, buf);
            Fingerprint::of(buf.as_bytes(), s).to_u64()
        })
        .collect()
}

/// The library's whole build: fingerprints, dedupe, size, fill.
fn build(n: u64) -> BloomFilter {
    let mut fps = fingerprints(n);
    let distinct = bloom_gen::dedupe_fingerprints(&mut fps) as u64;
    let (bits, hashes) = bloom_gen::sizing_for(distinct, 0.001).unwrap_or((1, 1));
    let params =
        BloomParams::new(bits.into(), hashes.into(), seed()).unwrap_or_else(|_| unreachable!());
    let mut b = BloomBuilder::new(params);
    b.insert_fingerprints_par(&fps);
    b.finish()
}

fn bench_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("bloom_build");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("1m", |b| b.iter(|| black_box(build(1_000_000))));
    g.throughput(Throughput::Elements(50_000_000));
    g.measurement_time(Duration::from_secs(60));
    g.bench_function("50m", |b| b.iter(|| black_box(build(50_000_000))));
    g.finish();
}

fn bench_lookup(c: &mut Criterion) {
    let filter = build(1_000_000);
    // Measured false-positive rate on 1 M keys that were never inserted.
    let mut buf = String::new();
    let mut fp = 0u64;
    for i in 0..1_000_000u64 {
        use std::fmt::Write;
        buf.clear();
        let _ = write!(buf, "absent{i}.example.net/x");
        fp += u64::from(filter.contains(buf.as_bytes()));
    }
    #[expect(clippy::cast_precision_loss, reason = "a rate")]
    let measured = fp as f64 / 1e6;
    eprintln!(
        "bloom_lookup: 1M entries, {} bits, {} hashes: measured FPR {measured:.5} on 1M absent keys, theoretical {:.5}",
        filter.params().bits(),
        filter.params().hashes(),
        filter.params().expected_fpr(1_000_000)
    );

    let mut g = c.benchmark_group("bloom_lookup");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("present/1m", |b| {
        b.iter_batched_ref(
            || {
                i = (i + 7919) % 1_000_000;
                let mut s = String::new();
                entry(i, &mut s);
                s
            },
            |s| black_box(filter.contains(s.as_bytes())),
            BatchSize::SmallInput,
        );
    });
    g.bench_function("absent/1m", |b| {
        b.iter(|| black_box(filter.contains(black_box(b"absent42.example.net/some/page"))));
    });
    g.bench_function("page_load_ios26/1m", |b| {
        b.iter(|| {
            let subs = bloom_gen::sub_urls(
                black_box("https://www.news.example.com/world/europe/article-123?ref=home#top"),
                Os::Ios26,
            )
            .unwrap_or_default();
            black_box(
                subs.iter()
                    .filter(|s| filter.contains(s.as_bytes()))
                    .count(),
            )
        });
    });
    g.finish();
}

fn bench_canonicalize(c: &mut Criterion) {
    let mut g = c.benchmark_group("canonicalize");
    g.throughput(Throughput::Elements(1));
    g.bench_function("plain_url", |b| {
        b.iter(|| bloom_gen::canonicalize(black_box("https://host123456.example.org/path/42")))
    });
    let mut canon = bloom_gen::Canonicalizer::new();
    g.bench_function("plain_url_fast", |b| {
        b.iter(|| {
            let mut n = 0usize;
            canon.parse_line(black_box(b"https://host123456.example.org/path/42"), |e| {
                n += e.len()
            });
            n
        })
    });
    g.bench_function("plain_url_fast_hashed", |b| {
        b.iter(|| {
            let mut fp = 0u64;
            canon.parse_line(black_box(b"https://host123456.example.org/path/42"), |e| {
                fp = Fingerprint::of(e, seed()).to_u64()
            });
            fp
        })
    });
    g.bench_function("idn_url", |b| {
        b.iter(|| bloom_gen::canonicalize(black_box("https://www.Bücher.example/Straße?x=1")))
    });
    g.finish();
}

fn bench_hash(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash");
    let input = b"host123456.example.org/path/42ab";
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("fnv1a_32/32B", |b| {
        b.iter(|| bloom_gen::fnv1a_32(black_box(input)))
    });
    g.bench_function("murmur3_x86_32/32B", |b| {
        b.iter(|| bloom_gen::murmur3_x86_32(black_box(input), SEED))
    });
    g.bench_function("fnv1a_32_x4/4x32B", |b| {
        b.iter(|| bloom_gen::hash::fnv1a_32_x4(black_box([input, input, input, input])))
    });
    g.bench_function("murmur3_crate/32B", |b| {
        b.iter(|| murmur3::murmur3_32(&mut std::io::Cursor::new(black_box(input)), SEED).ok())
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_hash,
    bench_canonicalize,
    bench_lookup,
    bench_build
);
criterion_main!(benches);
