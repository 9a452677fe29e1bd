//! Property tests: hashing and index arithmetic against straightforward references, every
//! inserted entry found, canonicalization closed and idempotent, formats agree.
#![allow(clippy::unwrap_used, reason = "property tests fail loudly")]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bloom_gen::format::{self, Format, Meta};
use bloom_gen::index::{Reducer, probes};
use bloom_gen::{BloomBuilder, BloomParams, Fingerprint, Seed, canonicalize};
use proptest::prelude::*;

/// FNV-1a as the spec's Python reference writes it (u64 arithmetic, masked).
fn fnv1a_ref(bytes: &[u8]) -> u32 {
    let mut h: u64 = 0x811c_9dc5;
    for &b in bytes {
        h = ((h ^ u64::from(b)) * 0x0100_0193) & 0xffff_ffff;
    }
    h as u32
}

/// MurmurHash3 x86_32 transcribed from the spec's Python reference (u64 arithmetic, masked).
fn mm3_ref(b: &[u8], seed: u32) -> u32 {
    const M: u64 = 0xffff_ffff;
    let rotl = |x: u64, r: u32| ((x << r) | (x >> (32 - r))) & M;
    let mut h = u64::from(seed);
    let n = b.len();
    for i in (0..n / 4 * 4).step_by(4) {
        let mut k = u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
        k = (rotl((k * 0xcc9e_2d51) & M, 15) * 0x1b87_3593) & M;
        h = (rotl(h ^ k, 13) * 5 + 0xe654_6b64) & M;
    }
    let t = &b[n / 4 * 4..];
    let mut k: u64 = 0;
    for j in (0..t.len()).rev() {
        k = (k << 8) | u64::from(t[j]);
    }
    if !t.is_empty() {
        h ^= (rotl((k * 0xcc9e_2d51) & M, 15) * 0x1b87_3593) & M;
    }
    h ^= n as u64 & M;
    h ^= h >> 16;
    h = (h * 0x85eb_ca6b) & M;
    h ^= h >> 13;
    h = (h * 0xc2b2_ae35) & M;
    (h ^ (h >> 16)) as u32
}

/// The device's probe formula, in 64-bit arithmetic with an explicit `mod 2^32`.
fn probes_ref(h1: u32, h2: u32, bits: u32, hashes: u32) -> Vec<u32> {
    (0..u64::from(hashes))
        .map(|i| (((u64::from(h1) + i * u64::from(h2)) % (1 << 32)) % u64::from(bits)) as u32)
        .collect()
}

fn build_ref(items: &[Vec<u8>], bits: u32, hashes: u32, seed: u32) -> Vec<u8> {
    let mut d = vec![0u8; (bits as usize).div_ceil(8)];
    for item in items {
        for j in probes_ref(fnv1a_ref(item), mm3_ref(item, seed), bits, hashes) {
            d[(j / 8) as usize] |= 1 << (j % 8);
        }
    }
    d
}

/// Blocklist-ish lines: schemes, userinfo, case, www., ports, paths, escapes, queries, fragments.
fn url_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "",
            "https://",
            "http://",
            "//",
            "HTTPS://",
            "ftp://u:p@",
        ]),
        prop::sample::select(vec!["", "www.", "WWW.", "www.www.", "a.www."]),
        "[a-zA-Z0-9-]{1,12}(\\.[a-z0-9]{1,8}){0,2}",
        prop::sample::select(vec![".com", ".org", ".xn--p1ai", ".de", ".COM."]),
        prop::sample::select(vec!["", ":443", ":8080", ":"]),
        "(/[a-zA-Z0-9._~%-]{0,8}(%2[fF]|%4[1aA]|%20|%25)?){0,4}/?",
        prop::option::of("[a-zA-Z0-9=&%/?]{0,10}"),
        prop::option::of("[a-z0-9]{0,6}"),
    )
        .prop_map(|(scheme, www, name, tld, port, path, query, frag)| {
            let mut s = format!("{scheme}{www}{name}{tld}{port}{path}");
            if let Some(q) = query {
                s.push('?');
                s.push_str(&q);
            }
            if let Some(f) = frag {
                s.push('#');
                s.push_str(&f);
            }
            s
        })
}

/// The allocation-free canonicalizer hands out exactly the entries of `parse_line`.
fn fast_equals_full(line: &[u8]) -> Result<(), TestCaseError> {
    let mut fast = Vec::new();
    let parsed = bloom_gen::Canonicalizer::new().parse_line(line, |e| fast.push(e.to_vec()));
    match bloom_gen::parse_line(line) {
        bloom_gen::Line::Skip => prop_assert_eq!(parsed, bloom_gen::Parsed::Skip),
        bloom_gen::Line::Rejected(r) => prop_assert_eq!(parsed, bloom_gen::Parsed::Rejected(r)),
        bloom_gen::Line::Entries(c) => {
            let full: Vec<Vec<u8>> = c.entries().iter().map(|e| e.as_bytes().to_vec()).collect();
            prop_assert_eq!(parsed, bloom_gen::Parsed::Entries(full.len()));
            prop_assert_eq!(fast, full);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fnv1a_matches_reference(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(bloom_gen::fnv1a_32(&bytes), fnv1a_ref(&bytes));
    }

    #[test]
    fn fnv1a_x4_equals_four_single_hashes(
        a in prop::collection::vec(any::<u8>(), 0..60),
        b in prop::collection::vec(any::<u8>(), 0..60),
        c in prop::collection::vec(any::<u8>(), 0..60),
        d in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        let got = bloom_gen::hash::fnv1a_32_x4([&a, &b, &c, &d]);
        prop_assert_eq!(got, [fnv1a_ref(&a), fnv1a_ref(&b), fnv1a_ref(&c), fnv1a_ref(&d)]);
    }

    #[test]
    fn murmur3_matches_reference_and_crate(bytes in prop::collection::vec(any::<u8>(), 0..200), seed: u32) {
        let ours = bloom_gen::murmur3_x86_32(&bytes, seed);
        prop_assert_eq!(ours, mm3_ref(&bytes, seed));
        let theirs = murmur3::murmur3_32(&mut std::io::Cursor::new(&bytes), seed).unwrap();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn fastmod_is_exact(x: u32, d in 1u32..) {
        let r = Reducer::new(std::num::NonZeroU32::new(d).unwrap());
        prop_assert_eq!(r.reduce(x), x % d);
    }

    #[test]
    fn fastmod_small_and_extreme_divisors(x: u32, d in prop::sample::select(vec![1u32, 2, 3, 7, 144, 44, u32::MAX, u32::MAX - 1, 1 << 31, (1 << 31) + 1])) {
        let r = Reducer::new(std::num::NonZeroU32::new(d).unwrap());
        prop_assert_eq!(r.reduce(x), x % d);
    }

    #[test]
    fn probes_match_reference(h1: u32, h2: u32, bits in 1u32.., hashes in 1u32..40) {
        let params = BloomParams::new(bits.into(), hashes.into(), Seed::new(1).unwrap()).unwrap();
        let got: Vec<u32> = probes(Fingerprint { h1, h2 }, &params).collect();
        prop_assert_eq!(got, probes_ref(h1, h2, bits, hashes));
    }

    #[test]
    fn bitmap_matches_reference_and_every_entry_is_found(
        items in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..60),
        bits in 1u32..5000,
        hashes in 1u32..16,
        seed in 1u32..,
    ) {
        let params = BloomParams::new(bits.into(), hashes.into(), Seed::new(seed).unwrap()).unwrap();
        let mut b = BloomBuilder::new(params);
        for item in &items {
            b.insert_bytes(item);
        }
        let filter = b.finish();
        prop_assert_eq!(filter.bitmap(), &build_ref(&items, bits, hashes, seed)[..]);
        for item in &items {
            prop_assert!(filter.contains(item));
        }
    }

    #[test]
    fn canonicalization_is_idempotent_and_closed(line in url_line()) {
        if let Ok(c) = canonicalize(&line) {
            let set: Vec<&str> = c.entries().iter().map(|e| e.as_str()).collect();
            // The primary is a fixed point.
            let again = canonicalize(c.primary().as_str()).unwrap();
            prop_assert_eq!(again.primary(), c.primary());
            for e in c.entries() {
                // Every entry canonicalizes to a subset of the same set that contains it.
                let sub = canonicalize(e.as_str()).unwrap();
                prop_assert!(sub.entries().contains(e), "{} not in its own set", e);
                for x in sub.entries() {
                    prop_assert!(set.contains(&x.as_str()), "{} from {} escapes {:?}", x, e, set);
                }
                // What the device needs: ASCII, no scheme, no trailing slash, no fragment.
                prop_assert!(e.as_str().is_ascii());
                prop_assert!(!e.as_str().contains("://"));
                prop_assert!(!e.as_str().contains('#'));
                let before_query = e.as_str().split('?').next().unwrap();
                prop_assert!(!before_query.ends_with('/'));
                prop_assert!(!before_query.contains("//"));
            }
            // No duplicates in the set.
            let mut sorted = set.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), set.len());
        }
    }

    #[test]
    fn host_shortcut_agrees_with_idna(host in "[a-z0-9_.-]{1,30}|xn--[a-z0-9-]{1,12}(\\.[a-z]{2,4})?|[a-z]{1,8}\\.xn--[a-z0-9]{1,10}") {
        // The canonicalizer skips UTS #46 for plain lowercase hosts; idna must agree.
        let ours = canonicalize(&host);
        let theirs = idna::domain_to_ascii_cow(host.trim_end_matches('.').as_bytes(), idna::AsciiDenyList::URL);
        if let (Ok(c), Ok(t)) = (&ours, &theirs) {
            let mut t: &str = t;
            while let Some(r) = t.strip_prefix("www.") {
                t = r;
            }
            prop_assert_eq!(c.primary().as_str(), t);
        }
        if theirs.is_err() {
            prop_assert!(ours.is_err(), "idna refuses {host:?} but canonicalize accepted it");
        }
    }

    #[test]
    fn json_raw_plist_describe_the_same_bitmap(
        items in prop::collection::vec("[a-z0-9./?=]{1,30}", 1..40),
        seed in 1u32..,
    ) {
        let (bits, hashes) = bloom_gen::sizing_for(items.len() as u64, 0.01).unwrap();
        let params = BloomParams::new(bits.into(), hashes.into(), Seed::new(seed).unwrap()).unwrap();
        let mut b = BloomBuilder::new(params);
        for i in &items {
            b.insert_bytes(i.as_bytes());
        }
        let filter = b.finish();
        let meta = Meta { count: items.len() as u64, fpr: 0.01 };
        let mut json = Vec::new();
        let mut raw = Vec::new();
        let mut plist = Vec::new();
        format::write(&filter, meta, Format::Json, &mut json).unwrap();
        format::write(&filter, meta, Format::Raw, &mut raw).unwrap();
        format::write(&filter, meta, Format::Plist, &mut plist).unwrap();
        prop_assert_eq!(&raw[..], filter.bitmap());
        let from_json = format::parse(&json).unwrap();
        let from_plist = format::parse(&plist).unwrap();
        prop_assert_eq!(&from_json.filter, &filter);
        prop_assert_eq!(&from_plist.filter, &filter);
        prop_assert_eq!(from_json.count, Some(items.len() as u64));
        prop_assert_eq!(from_plist.count, Some(items.len() as u64));
        // And with an independent reader: serde_json / the plist crate's own types.
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(STANDARD.decode(v["content"].as_str().unwrap()).unwrap(), raw.clone());
        let p: plist::Value = plist::from_bytes(&plist).unwrap();
        let d = p.as_dictionary().unwrap();
        prop_assert_eq!(d.get("data").unwrap().as_data().unwrap(), &raw[..]);
        prop_assert_eq!(d.get("bitCount").unwrap().as_unsigned_integer(), Some(u64::from(bits)));
        prop_assert_eq!(d.get("byteCount").unwrap().as_unsigned_integer(), Some(raw.len() as u64));
        prop_assert_eq!(d.get("hashCount").unwrap().as_unsigned_integer(), Some(u64::from(hashes)));
        prop_assert_eq!(d.get("murmurSeed").unwrap().as_unsigned_integer(), Some(u64::from(seed)));
        prop_assert_eq!(d.get("itemCount").unwrap().as_unsigned_integer(), Some(items.len() as u64));
        prop_assert_eq!(d.get("falsePositiveTolerance").unwrap().as_real(), Some(0.01));
    }
}

proptest! {
    // Cheap cases; many of them, since the fast path must agree on every line it accepts.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn fast_canonicalizer_equals_parse_line(line in prop_oneof![
        url_line(),
        // Plain-looking lines, so the fast path is taken often, with the odd capital, escape,
        // doubled slash, trailing dot, long label or `xn--` label that sends it back.
        "([a-z]{1,5}://|//)?(www\\.){0,2}([a-z0-9_-]{1,12}\\.){0,3}[a-z0-9_-]{1,12}\\.?(/[a-zA-Z0-9._%-]{0,6}){0,4}/{0,2}(\\?[a-zA-Z0-9=&/?.%]{0,8})?(#[a-z/?]{0,4})?",
        "[a-z]{60,66}\\.[a-z]{2,3}(/x)?",
        "(xn--|www\\.|x|xn-)[a-z0-9-]{0,8}\\.(xn--)?[a-z]{1,4}",
        "[ -~]{0,40}",
        "[\t\r #]{0,3}[!-~]{0,30}[\t\r ]{0,3}",
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        fast_equals_full(line.as_bytes())?;
    }

    #[test]
    fn fast_canonicalizer_equals_parse_line_on_bytes(line in prop::collection::vec(prop::sample::select(b"abx-_.w/:@?#%A \t\r\xff\xc3\xbc".to_vec()), 0..30)) {
        fast_equals_full(&line)?;
    }
}

proptest! {
    // Each case allocates an 8 MiB bitmap; fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn parallel_insert_equals_sequential(n in 16_384usize..40_000, seed in 1u32..) {
        let mut x = u64::from(seed) | 1;
        let fps: Vec<u64> = (0..n).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x }).collect();
        // Big enough (8 MiB) for the cache-blocked path.
        let params = BloomParams::new(64 << 20, 7, Seed::new(seed).unwrap()).unwrap();
        let mut seq = BloomBuilder::new(params);
        for &fp in &fps {
            seq.insert_fingerprint(Fingerprint::from_u64(fp));
        }
        let mut par = BloomBuilder::new(params);
        par.insert_fingerprints_par(&fps);
        prop_assert!(seq.finish().bitmap() == par.finish().bitmap());
    }

    #[test]
    fn parallel_insert_with_clustered_probes_equals_sequential(n in 16_384usize..40_000, seed in 1u32.., spread in 0u32..4) {
        // Every probe in a few regions: the buckets overflow and the overflow path must agree.
        let mut x = u64::from(seed) | 1;
        let fps: Vec<u64> = (0..n).map(|_| {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            ((x & 0x3f_ffff) << 32) | ((x >> 40) % u64::from(spread + 1))
        }).collect();
        let params = BloomParams::new(64 << 20, 7, Seed::new(seed).unwrap()).unwrap();
        let mut seq = BloomBuilder::new(params);
        for &fp in &fps {
            seq.insert_fingerprint(Fingerprint::from_u64(fp));
        }
        let mut par = BloomBuilder::new(params);
        par.insert_fingerprints_par(&fps);
        prop_assert!(seq.finish().bitmap() == par.finish().bitmap());
    }
}
