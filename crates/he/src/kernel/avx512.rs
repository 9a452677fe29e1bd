//! The AVX-512 kernel of the ct × pt scan (spec bfv.md §5.9, pir-protocol.md §4.7): both
//! polynomials of every ciphertext times its plaintext, summed over all terms while 32 lanes of
//! each accumulator stay in registers, so a term costs its loads and products only (no
//! accumulator traffic through memory). Exact lazy arithmetic, the same bits as
//! [`super::scalar::dot_pairs`].
#![allow(
    unsafe_code,
    reason = "AVX-512 intrinsics: target-feature calls and unaligned loads/stores"
)]

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_loadu_si512, _mm512_mul_epu32, _mm512_storeu_si512,
};
use std::ops::Range;

/// Proof that the running CPU has AVX-512F: only [`Avx512::detect`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Avx512(());

impl Avx512 {
    pub(super) fn detect() -> Option<Self> {
        is_x86_feature_detected!("avx512f").then_some(Self(()))
    }
}

/// Lanes per register block: four registers of eight per accumulator, eight accumulators.
const BLOCK: usize = 32;

#[inline]
#[target_feature(enable = "avx512f")]
fn load(c: &[u64; 8]) -> __m512i {
    // SAFETY: `c` is 64 readable bytes; the unaligned load has no alignment requirement.
    unsafe { _mm512_loadu_si512(c.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store(c: &mut [u64; 8], v: __m512i) {
    // SAFETY: `c` is 64 writable bytes; the unaligned store has no alignment requirement.
    unsafe { _mm512_storeu_si512(c.as_mut_ptr().cast(), v) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load4(c: &[u64; BLOCK]) -> [__m512i; 4] {
    let (chunks, _) = c.as_chunks::<8>();
    [
        load(&chunks[0]),
        load(&chunks[1]),
        load(&chunks[2]),
        load(&chunks[3]),
    ]
}

/// A row's `BLOCK` values from `at`, if it has them.
#[inline(always)]
fn block(row: &[u64], at: usize) -> Option<&[u64; BLOCK]> {
    row.get(at..)?.first_chunk::<BLOCK>()
}

/// See [`super::dot_pairs`]; the caller has checked every length against `range`.
pub(super) fn dot_pairs(
    _: Avx512,
    acc: [&mut [u64]; 2],
    cts: &[[&[u64]; 2]],
    pts: &[Option<&[u64]>],
    pt_offset: usize,
    range: Range<usize>,
) {
    // SAFETY: the token shows the CPU has AVX-512F.
    unsafe { dot_pairs_avx512(acc, cts, pts, pt_offset, range) }
}

#[target_feature(enable = "avx512f")]
fn dot_pairs_avx512(
    acc: [&mut [u64]; 2],
    cts: &[[&[u64]; 2]],
    pts: &[Option<&[u64]>],
    pt_offset: usize,
    range: Range<usize>,
) {
    let [acc0, acc1] = acc;
    let blocks_end = range.start + (range.end - range.start) / BLOCK * BLOCK;
    for at in (range.start..blocks_end).step_by(BLOCK) {
        let (Some(a0), Some(a1)) = (
            acc0.get_mut(at..)
                .and_then(|s| s.first_chunk_mut::<BLOCK>()),
            acc1.get_mut(at..)
                .and_then(|s| s.first_chunk_mut::<BLOCK>()),
        ) else {
            continue;
        };
        let mut s0 = load4(a0);
        let mut s1 = load4(a1);
        for ([c0, c1], pt) in cts.iter().zip(pts) {
            let Some(pt) = pt else { continue };
            let (Some(p), Some(x0), Some(x1)) =
                (block(pt, pt_offset + at), block(c0, at), block(c1, at))
            else {
                continue;
            };
            let (p, x0, x1) = (load4(p), load4(x0), load4(x1));
            for r in 0..4 {
                s0[r] = _mm512_add_epi64(s0[r], _mm512_mul_epu32(x0[r], p[r]));
                s1[r] = _mm512_add_epi64(s1[r], _mm512_mul_epu32(x1[r], p[r]));
            }
        }
        for (dst, regs) in [(a0, s0), (a1, s1)] {
            let (chunks, _) = dst.as_chunks_mut::<8>();
            for (c, v) in chunks.iter_mut().zip(regs) {
                store(c, v);
            }
        }
    }
    super::scalar::dot_pairs([acc0, acc1], cts, pts, pt_offset, blocks_end..range.end);
}
