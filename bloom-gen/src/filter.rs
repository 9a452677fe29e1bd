//! The bitmap (spec/bloom-prefilter.md §2): `ceil(bitCount/8)` bytes, no header, bit `idx` in
//! byte `idx / 8` at position `idx % 8` counted from the least significant bit.
//!
//! The bitmap is kept as the exact `Vec<u8>` the device receives, so finishing a build never
//! copies it (at 50 M entries it is ~86 MiB). `bitvec`'s `BitVec<u8, Lsb0>` describes the same
//! layout but adds nothing here, and the parallel build needs disjoint `&mut [u8]` ranges (see
//! [`BloomBuilder::insert_fingerprints_par`]), which plain slices give directly.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::index::{Reducer, probes_with};
use crate::{BloomParams, CanonicalEntry, Error, Fingerprint};

/// Below this many fingerprints a parallel insert is not worth the thread hand-off.
const PAR_THRESHOLD: usize = 1 << 14;

/// Builds one filter. Insertion order does not matter and inserting twice is a no-op.
#[derive(Clone, Debug)]
pub struct BloomBuilder {
    params: BloomParams,
    reducer: Reducer,
    bitmap: Vec<u8>,
}

impl BloomBuilder {
    /// An empty filter with these parameters (allocates `ceil(bits/8)` zero bytes).
    #[must_use]
    pub fn new(params: BloomParams) -> Self {
        Self {
            params,
            reducer: Reducer::new(params.bits_nonzero()),
            bitmap: vec![0; params.byte_len()],
        }
    }

    /// The parameters this filter is built with.
    #[must_use]
    pub fn params(&self) -> &BloomParams {
        &self.params
    }

    /// Inserts a canonical entry (the normal path: the same string goes into the PIR database).
    pub fn insert(&mut self, entry: &CanonicalEntry) {
        self.insert_bytes(entry.as_bytes());
    }

    /// Inserts arbitrary bytes as they are (`--verbatim`). The device only ever looks up the
    /// strings of spec §4, so prefer [`BloomBuilder::insert`].
    pub fn insert_bytes(&mut self, bytes: &[u8]) {
        self.insert_fingerprint(Fingerprint::of(bytes, self.params.seed()));
    }

    /// Inserts by fingerprint (which must have been computed with this filter's seed).
    pub fn insert_fingerprint(&mut self, fp: Fingerprint) {
        for idx in probes_with(fp, self.params.hashes(), self.reducer) {
            set_bit(&mut self.bitmap, idx as usize);
        }
    }

    /// Inserts many packed fingerprints ([`Fingerprint::to_u64`]) on the rayon pool.
    ///
    /// Each worker owns one contiguous range of the bitmap and walks every fingerprint, setting
    /// only the probes that land in its range: no atomics, no locks, and the result is identical
    /// to inserting one by one. (Atomic `fetch_or` on shared words was measured slower: each
    /// locked read-modify-write waits for its cache miss, while plain stores overlap them; see
    /// the bench report.)
    pub fn insert_fingerprints_par(&mut self, fps: &[u64]) {
        let parts = rayon::current_num_threads().max(1);
        if fps.len() < PAR_THRESHOLD || parts == 1 {
            for &fp in fps {
                self.insert_fingerprint(Fingerprint::from_u64(fp));
            }
            return;
        }
        let hashes = self.params.hashes();
        let reducer = self.reducer;
        let chunk = self.bitmap.len().div_ceil(parts).max(1);
        self.bitmap
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(part, range)| {
                let start = part * chunk * 8;
                let end = start + range.len() * 8;
                for &fp in fps {
                    for idx in probes_with(Fingerprint::from_u64(fp), hashes, reducer) {
                        let idx = idx as usize;
                        if (start..end).contains(&idx) {
                            set_bit(range, idx - start);
                        }
                    }
                }
            });
    }

    /// The finished filter (no copy of the bitmap).
    #[must_use]
    pub fn finish(self) -> BloomFilter {
        BloomFilter {
            params: self.params,
            reducer: self.reducer,
            bitmap: self.bitmap,
        }
    }
}

#[inline]
fn set_bit(bitmap: &mut [u8], idx: usize) {
    if let Some(byte) = bitmap.get_mut(idx >> 3) {
        *byte |= 1 << (idx & 7);
    }
}

#[inline]
fn get_bit(bitmap: &[u8], idx: usize) -> bool {
    bitmap
        .get(idx >> 3)
        .is_some_and(|b| (b >> (idx & 7)) & 1 == 1)
}

/// A finished filter: parameters plus the bitmap the device receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BloomFilter {
    params: BloomParams,
    reducer: Reducer,
    bitmap: Vec<u8>,
}

impl PartialEq for Reducer {
    fn eq(&self, other: &Self) -> bool {
        self.divisor() == other.divisor()
    }
}
impl Eq for Reducer {}

impl BloomFilter {
    /// Wraps an existing bitmap (e.g. read back from `filter.json`). Like the device, it needs at
    /// least `ceil(bits/8)` bytes; longer input is refused too, since a generator never writes it.
    pub fn from_bitmap(params: BloomParams, bitmap: Vec<u8>) -> Result<Self, Error> {
        if bitmap.len() != params.byte_len() {
            return Err(Error::BitmapLength {
                expected: params.byte_len(),
                actual: bitmap.len(),
            });
        }
        Ok(Self {
            params,
            reducer: Reducer::new(params.bits_nonzero()),
            bitmap,
        })
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &BloomParams {
        &self.params
    }

    /// The bitmap bytes, exactly what `PrefilterData.smallFilter` / the temporary file holds.
    #[must_use]
    pub fn bitmap(&self) -> &[u8] {
        &self.bitmap
    }

    /// Consumes the filter, returning the bitmap.
    #[must_use]
    pub fn into_bitmap(self) -> Vec<u8> {
        self.bitmap
    }

    /// Whether the device would call `bytes` Bloom-positive (all probes set).
    #[must_use]
    pub fn contains(&self, bytes: &[u8]) -> bool {
        self.contains_fingerprint(Fingerprint::of(bytes, self.params.seed()))
    }

    /// [`BloomFilter::contains`] for a precomputed fingerprint.
    #[must_use]
    pub fn contains_fingerprint(&self, fp: Fingerprint) -> bool {
        probes_with(fp, self.params.hashes(), self.reducer)
            .all(|idx| get_bit(&self.bitmap, idx as usize))
    }

    /// SHA-256 of the bitmap, the `tag` handed to `NEURLFilterPrefilter` (spec §6).
    #[must_use]
    pub fn tag(&self) -> [u8; 32] {
        Sha256::digest(&self.bitmap).into()
    }

    /// [`BloomFilter::tag`] as lowercase hex.
    #[must_use]
    pub fn tag_hex(&self) -> String {
        hex::encode(self.tag())
    }

    /// Number of set bits (the fill ratio is `ones / bits`).
    #[must_use]
    pub fn ones(&self) -> u64 {
        self.bitmap.iter().map(|b| u64::from(b.count_ones())).sum()
    }
}
