//! The two hash functions the device uses (spec/bloom-prefilter.md §1): 32-bit FNV-1a (`h1`) and
//! 32-bit MurmurHash3 x86_32 seeded with `murmurSeed` (`h2`), both over the entry's UTF-8 bytes
//! with no terminator and no length prefix.
//!
//! Written by hand rather than taken from a crate: the `fnv` crate only offers 64-bit FNV, and the
//! `murmur3` crate's `murmur3_32` hashes through `std::io::Read` (an `io::Result` per call and a
//! `Cursor` in the hot loop). The `murmur3` crate is kept as a dev-dependency and checked against
//! this implementation in the tests; both are checked against the vectors in `vectors/bloom/`.

/// FNV-1a offset basis, 32-bit.
pub const FNV_OFFSET_BASIS: u32 = 0x811c_9dc5;
/// FNV prime, 32-bit.
pub const FNV_PRIME: u32 = 0x0100_0193;

/// 32-bit FNV-1a: for each byte, XOR it in, *then* multiply (FNV-1 multiplies first; that
/// ordering produced the legacy WWDC25 sample bitmap that devices do not accept, spec §1).
#[must_use]
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    let mut h = FNV_OFFSET_BASIS;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// [`fnv1a_32`] of four inputs at once. FNV-1a is one dependent multiply per byte, so a single
/// hash waits on multiply latency; four independent lanes keep the multiplier busy (and fit one
/// SIMD register). Same results as four calls.
#[must_use]
pub fn fnv1a_32_x4(inputs: [&[u8]; 4]) -> [u32; 4] {
    let [a, b, c, d] = inputs;
    let mut h = [FNV_OFFSET_BASIS; 4];
    // Lockstep over the common prefix, then each lane's remaining bytes alone.
    for (((&w, &x), &y), &z) in a.iter().zip(b).zip(c).zip(d) {
        for (lane, byte) in h.iter_mut().zip([w, x, y, z]) {
            *lane = (*lane ^ u32::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }
    let common = a.len().min(b.len()).min(c.len()).min(d.len());
    for (lane, input) in h.iter_mut().zip(inputs) {
        for &byte in input.get(common..).unwrap_or_default() {
            *lane = (*lane ^ u32::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }
    h
}

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

#[inline]
fn mix_k(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

/// MurmurHash3 x86_32 (Austin Appleby's reference), little-endian 4-byte blocks, 1–3 byte tail,
/// `h ^= len`, then fmix32.
#[must_use]
pub fn murmur3_x86_32(bytes: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut blocks = bytes.chunks_exact(4);
    for block in &mut blocks {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h ^= mix_k(k);
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k |= u32::from(b) << (8 * i);
        }
        h ^= mix_k(k);
    }
    // The reference takes `int len`; the device passes `strlen`. Entries are far below 4 GiB
    // (the canonicalizer caps them), so truncating the length to 32 bits is the reference's
    // behaviour, not a loss.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "MurmurHash3 mixes in len mod 2^32"
    )]
    let len = bytes.len() as u32;
    h ^= len;
    fmix32(h)
}

#[inline]
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// The pair `(h1, h2)` of one entry under one seed. It fixes the entry's probe positions for
/// every `bitCount`/`hashCount`, so two entries with the same fingerprint set the same bits: the
/// builder dedupes and stores fingerprints (8 bytes per entry) instead of strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint {
    /// FNV-1a 32 of the entry.
    pub h1: u32,
    /// MurmurHash3 x86_32 of the entry with the filter's seed.
    pub h2: u32,
}

impl Fingerprint {
    /// Hashes one entry's bytes.
    #[must_use]
    pub fn of(bytes: &[u8], seed: crate::Seed) -> Self {
        Self {
            h1: fnv1a_32(bytes),
            h2: murmur3_x86_32(bytes, seed.get()),
        }
    }

    /// Packs into one `u64` (`h1` high, `h2` low), the form stored and sorted at scale.
    #[must_use]
    pub fn to_u64(self) -> u64 {
        (u64::from(self.h1) << 32) | u64::from(self.h2)
    }

    /// Inverse of [`Fingerprint::to_u64`].
    #[must_use]
    pub fn from_u64(v: u64) -> Self {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "splitting a u64 into two u32 halves"
        )]
        Self {
            h1: (v >> 32) as u32,
            h2: v as u32,
        }
    }
}
