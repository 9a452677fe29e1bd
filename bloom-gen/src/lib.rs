//! # bloom-gen
//!
//! Builds the Bloom prefilter an NEURLFilter app extension hands to iOS/macOS
//! (`NEURLFilterPrefilter`), and owns the one canonical form of blocklist entries that both the
//! Bloom filter and the PIR keyword database use. Spec: `spec/bloom-prefilter.md`.
//!
//! ```
//! use bloom_gen::{BloomBuilder, BloomParams, Seed, canonicalize, sizing_for};
//!
//! // 1. Canonicalize the blocklist: these are also the PIR keywords.
//! let lines = ["https://www.Example.com/", "example10.com/resource?query=bugs"];
//! let entries: Vec<_> = lines.iter().flat_map(|l| canonicalize(l).unwrap()).collect();
//! assert_eq!(entries[0].as_str(), "example.com");
//!
//! // 2. Size (Apple's ceil/ceil rule), build, and hand bitmap + parameters to the device.
//! let (bits, hashes) = sizing_for(entries.len() as u64, 0.001).unwrap();
//! let params = BloomParams::new(bits.into(), hashes.into(), Seed::new(1267652889).unwrap()).unwrap();
//! let mut builder = BloomBuilder::new(params);
//! for e in &entries {
//!     builder.insert(e);
//! }
//! let filter = builder.finish();
//! assert_eq!(filter.bitmap().len(), params.byte_len());
//!
//! // 3. What the device does on a page load: derive sub-URLs, test each.
//! let subs = bloom_gen::sub_urls("https://example.com/some/page", bloom_gen::Os::Ios26).unwrap();
//! assert!(subs.iter().any(|s| filter.contains(s.as_bytes())));
//! ```
//!
//! ## The public API other crates build on
//!
//! - [`canonicalize`] / [`parse_line`] → [`CanonicalEntry`]: the only way to make an entry. The
//!   PIR database (`crates/pir`) takes its keywords from here, so Bloom entries and PIR keywords
//!   cannot drift apart. One line may yield several entries (case and percent-decoding variants,
//!   see [`canonical`]); all of them go into both the filter and the PIR database.
//! - [`sub_urls`] / [`parse_url`]: the strings a device derives from a URL being loaded (iOS 26
//!   and iOS 27 rules); the device simulator (`urlfilter check`) uses these.
//! - [`BloomBuilder`], [`BloomFilter`], [`BloomParams`], [`Seed`], [`sizing_for`]: the bitmap
//!   with the device's exact hashing (FNV-1a 32, MurmurHash3 x86_32), index arithmetic
//!   (`(h1 + i·h2) mod 2^32 mod bits`) and bit order (LSB-first).
//! - [`format`](mod@format): `filter.json`, raw bitmap, Apple-sample plist, written to a caller's
//!   [`std::io::Write`]; [`format::parse`] reads JSON/plist back.
//!
//! The library does no I/O of its own and draws no randomness: the seed is a parameter. The
//! `bloom-gen` binary owns files, stdin/stdout, the random seed and progress output.

pub mod canonical;
pub mod canonicalizer;
mod error;
mod filter;
pub mod format;
pub mod hash;
pub mod index;
mod params;
pub mod suburl;

pub use canonical::{Canonical, CanonicalEntry, Line, Rejection, canonicalize, parse_line};
pub use canonicalizer::{Canonicalizer, Parsed};
pub use error::Error;
pub use filter::{BloomBuilder, BloomFilter};
pub use hash::{Fingerprint, fnv1a_32, murmur3_x86_32};
pub use params::{
    BloomParams, MAX_AUTO_HASHES, MAX_HASHES, Seed, bits_for, byte_len, check_fpr, expected_fpr,
    fpr_for_size, hashes_for, per_page_fpr,
};
pub use suburl::{Os, UrlParts, parse_url, sub_urls};

/// Apple's sizing rule for `n` distinct entries at target rate `fpr`: `(bits, hashes)`
/// (spec §3; `bits = ceil(−n ln p / ln²2)`, `hashes = ceil(bits/n · ln 2)`).
pub fn sizing_for(n: u64, fpr: f64) -> Result<(u32, u32), Error> {
    let bits = bits_for(n, fpr)?;
    Ok((bits, hashes_for(bits, n)?))
}

/// Sorts and dedupes packed fingerprints ([`Fingerprint::to_u64`]) in place; returns how many
/// distinct ones remain. Distinct fingerprints are distinct bit sets, so this is the `count` of a
/// filter (two different strings share a fingerprint only by a full 64-bit collision, expected
/// about n²/2^65 times: 7·10⁻⁵ at 50 M entries).
pub fn dedupe_fingerprints(fps: &mut Vec<u64>) -> usize {
    use rayon::slice::ParallelSliceMut;
    fps.par_sort_unstable();
    fps.dedup();
    fps.len()
}
