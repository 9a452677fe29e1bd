//! Filter parameters and sizing (spec/bloom-prefilter.md §3, §6): `bitCount`, `hashCount`,
//! `murmurSeed`, all `u32` on the device, none of them zero.

use std::num::NonZeroU32;

use crate::Error;

/// `murmurSeed`: any `u32` except 0, which the device rejects (spec §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Seed(NonZeroU32);

impl Seed {
    /// A seed from a `u32`; 0 is refused.
    pub fn new(seed: u32) -> Result<Self, Error> {
        NonZeroU32::new(seed).map(Self).ok_or(Error::ZeroSeed)
    }

    /// The seed value.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// Largest hash count the sizing rule will pick on its own. Past ~30 probes the false-positive
/// gain is below 1e-9 while every lookup gets slower; an explicit `hashes` may go higher.
pub const MAX_AUTO_HASHES: u32 = 64;

/// Largest hash count accepted at all (the device loops `hashCount` times per sub-URL).
pub const MAX_HASHES: u32 = 1024;

/// `bitCount`, `hashCount` and `murmurSeed` of one filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BloomParams {
    bits: NonZeroU32,
    hashes: NonZeroU32,
    seed: Seed,
}

impl BloomParams {
    /// Checks and bundles the three numbers: `bits` in 1..=2^32−1, `hashes` in 1..=[`MAX_HASHES`].
    pub fn new(bits: u64, hashes: u64, seed: Seed) -> Result<Self, Error> {
        let bits = u32::try_from(bits)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or(Error::BitsOutOfRange { bits })?;
        let hashes = u32::try_from(hashes)
            .ok()
            .filter(|h| *h <= MAX_HASHES)
            .and_then(NonZeroU32::new)
            .ok_or(Error::HashesOutOfRange { hashes })?;
        Ok(Self { bits, hashes, seed })
    }

    /// `bitCount`.
    #[must_use]
    pub fn bits(&self) -> u32 {
        self.bits.get()
    }

    /// `bitCount` as the non-zero type it is.
    #[must_use]
    pub fn bits_nonzero(&self) -> NonZeroU32 {
        self.bits
    }

    /// `hashCount`.
    #[must_use]
    pub fn hashes(&self) -> u32 {
        self.hashes.get()
    }

    /// `murmurSeed`.
    #[must_use]
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// Bitmap length in bytes: `ceil(bits / 8)`.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        byte_len(self.bits())
    }

    /// Theoretical false-positive rate of one lookup with `n` distinct entries inserted:
    /// `(1 − e^(−k·n/m))^k`.
    #[must_use]
    pub fn expected_fpr(&self, n: u64) -> f64 {
        expected_fpr(self.bits(), self.hashes(), n)
    }
}

/// `ceil(bits / 8)`.
#[must_use]
pub fn byte_len(bits: u32) -> usize {
    // u32 → usize is lossless on every platform this builds for (>= 32-bit).
    (bits as usize).div_ceil(8)
}

/// `(1 − e^(−k·n/m))^k`, the standard approximation.
#[must_use]
pub fn expected_fpr(bits: u32, hashes: u32, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "an estimate; n < 2^53 in practice"
    )]
    let n = n as f64;
    let m = f64::from(bits);
    let k = f64::from(hashes);
    (1.0 - (-k * n / m).exp()).powf(k)
}

/// Probability that a page load testing `lookups` sub-URLs (each absent) sees at least one
/// false positive: `1 − (1 − p)^lookups`.
#[must_use]
pub fn per_page_fpr(p: f64, lookups: u32) -> f64 {
    1.0 - (1.0 - p).powi(i32::try_from(lookups).unwrap_or(i32::MAX))
}

/// Checks a target false-positive rate: finite, strictly between 0 and 1.
pub fn check_fpr(p: f64) -> Result<f64, Error> {
    if p.is_finite() && p > 0.0 && p < 1.0 {
        Ok(p)
    } else {
        Err(Error::FprOutOfRange { fpr: p })
    }
}

/// Apple's sizing rule (spec §3, `calculateBitCount`): `bits = ceil(−n·ln p / (ln 2)²)`.
pub fn bits_for(n: u64, p: f64) -> Result<u32, Error> {
    let p = check_fpr(p)?;
    if n == 0 {
        return Err(Error::NoEntries);
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "sizing in double precision, as Apple's tool"
    )]
    let m = (-(n as f64) * p.ln() / (std::f64::consts::LN_2 * std::f64::consts::LN_2)).ceil();
    if !(1.0..=f64::from(u32::MAX)).contains(&m) {
        return Err(Error::TooManyEntries { n, fpr: p });
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "range checked"
    )]
    Ok(m as u32)
}

/// Apple's sizing rule (spec §3, `calculateHashCount`): `hashes = ceil(bits / n · ln 2)`, from
/// the already rounded `bits`; at least 1, at most [`MAX_AUTO_HASHES`].
pub fn hashes_for(bits: u32, n: u64) -> Result<u32, Error> {
    if n == 0 {
        return Err(Error::NoEntries);
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "sizing in double precision, as Apple's tool"
    )]
    let k = (f64::from(bits) / n as f64 * std::f64::consts::LN_2).ceil();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped first"
    )]
    Ok(k.clamp(1.0, f64::from(MAX_AUTO_HASHES)) as u32)
}

/// The false-positive rate at which `n` entries fit in `max_bytes` bytes with the sizing rule:
/// `p = e^(−m·(ln 2)² / n)` for `m = 8·max_bytes` (capped at 2^32−1 bits).
#[must_use]
pub fn fpr_for_size(n: u64, max_bytes: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "an estimate")]
    let m = (max_bytes.saturating_mul(8).min(u64::from(u32::MAX))) as f64;
    #[expect(clippy::cast_precision_loss, reason = "an estimate")]
    let n = n as f64;
    (-m * std::f64::consts::LN_2 * std::f64::consts::LN_2 / n).exp()
}
