//! Probe positions (spec/bloom-prefilter.md §2): `idx_i = ((h1 + i·h2) mod 2^32) mod bitCount`
//! for `i = 0 … hashCount−1`, all unsigned 32-bit, `i` from 0 (the first probe is `h1 mod m`).
//!
//! The `mod bitCount` is done with Lemire's exact "fastmod" (two multiplications instead of a
//! division); it equals `%` for every `u32` dividend and divisor, which the property tests check
//! against the plain formula.

use crate::{BloomParams, Fingerprint};

/// Exact `x mod d` for a fixed `u32` divisor `d ≥ 1`, without a division per call.
#[derive(Clone, Copy, Debug)]
pub struct Reducer {
    magic: u64,
    divisor: u32,
}

impl Reducer {
    /// Precomputes the reciprocal of `divisor` (which is non-zero by type).
    #[must_use]
    pub fn new(divisor: std::num::NonZeroU32) -> Self {
        let d = u64::from(divisor.get());
        // ceil(2^64 / d); wraps to 0 for d == 1, which still yields x mod 1 == 0 below.
        Self {
            magic: (u64::MAX / d).wrapping_add(1),
            divisor: divisor.get(),
        }
    }

    /// The divisor.
    #[must_use]
    pub fn divisor(&self) -> u32 {
        self.divisor
    }

    /// `x mod divisor`.
    #[inline]
    #[must_use]
    pub fn reduce(&self, x: u32) -> u32 {
        let low = self.magic.wrapping_mul(u64::from(x));
        #[expect(
            clippy::cast_possible_truncation,
            reason = "the product's top 64 bits are < d"
        )]
        let r = ((u128::from(low) * u128::from(self.divisor)) >> 64) as u32;
        r
    }
}

/// The probe positions of one fingerprint, in device order.
#[derive(Clone, Debug)]
pub struct Probes {
    reducer: Reducer,
    h: u32,
    step: u32,
    remaining: u32,
}

impl Iterator for Probes {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let idx = self.reducer.reduce(self.h);
        // The device keeps one u32 accumulator and adds h2 each round: (h1 + i·h2) mod 2^32.
        self.h = self.h.wrapping_add(self.step);
        Some(idx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Probes {}

/// The `hashCount` bit positions the device tests for a fingerprint.
#[must_use]
pub fn probes(fp: Fingerprint, params: &BloomParams) -> Probes {
    probes_with(fp, params.hashes(), Reducer::new(params.bits_nonzero()))
}

/// [`probes`] with a precomputed reducer (hot loops build the reducer once).
#[must_use]
pub fn probes_with(fp: Fingerprint, hashes: u32, reducer: Reducer) -> Probes {
    Probes {
        reducer,
        h: fp.h1,
        step: fp.h2,
        remaining: hashes,
    }
}
