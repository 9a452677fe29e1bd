//! AVX2 kernels for moduli below 2^30: four residues per 256-bit register, one per 64-bit lane.
//! Every lazy value (< 4q) fits a lane's low 32 bits, so `_mm256_mul_epu32` gives exact
//! 32×32→64-bit products and Shoup's quotient needs only the 32-bit companion
//! `floor(w·2^32/q) = floor(w·2^64/q) >> 32`.
#![allow(
    unsafe_code,
    reason = "AVX2 intrinsics: target-feature calls and unaligned loads/stores"
)]

use core::arch::x86_64::{
    __m128i, __m256i, _mm_cvtsi64_si128, _mm256_add_epi64, _mm256_loadu_si256, _mm256_min_epu32,
    _mm256_mul_epu32, _mm256_permute2x128_si256, _mm256_permute4x64_epi64, _mm256_set_epi64x,
    _mm256_set1_epi64x, _mm256_srl_epi64, _mm256_srli_epi64, _mm256_storeu_si256, _mm256_sub_epi32,
    _mm256_sub_epi64, _mm256_unpackhi_epi64, _mm256_unpacklo_epi64,
};

use super::NttTables;
use crate::modulus::Modulus;

/// Proof that the running CPU has AVX2: only [`Avx2::detect`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Avx2(());

impl Avx2 {
    pub(super) fn detect() -> Option<Self> {
        is_x86_feature_detected!("avx2").then_some(Self(()))
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn load(c: &[u64; 4]) -> __m256i {
    // SAFETY: `c` is 32 readable bytes; the unaligned load has no alignment requirement.
    unsafe { _mm256_loadu_si256(c.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store(c: &mut [u64; 4], v: __m256i) {
    // SAFETY: `c` is 32 writable bytes; the unaligned store has no alignment requirement.
    unsafe { _mm256_storeu_si256(c.as_mut_ptr().cast(), v) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u64) -> __m256i {
    _mm256_set1_epi64x(x as i64)
}

/// `x` reduced from [0, 2m) to [0, m), for lanes below 2^32: when x < m the 32-bit difference
/// wraps above x and the minimum keeps x.
#[inline]
#[target_feature(enable = "avx2")]
fn csub(x: __m256i, m: __m256i) -> __m256i {
    _mm256_min_epu32(x, _mm256_sub_epi32(x, m))
}

/// Shoup's product `x·w mod q` in [0, 2q), for x < 2^32, w < q and `ws` the 32-bit companion.
#[inline]
#[target_feature(enable = "avx2")]
fn shoup_lazy(x: __m256i, w: __m256i, ws: __m256i, q: __m256i) -> __m256i {
    let quot = _mm256_srli_epi64::<32>(_mm256_mul_epu32(x, ws));
    _mm256_sub_epi64(_mm256_mul_epu32(x, w), _mm256_mul_epu32(quot, q))
}

/// Constants of one modulus broadcast to every lane.
#[derive(Clone, Copy)]
struct Lanes {
    q: __m256i,
    two_q: __m256i,
}

impl Lanes {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(q: u64) -> Self {
        Self {
            q: splat(q),
            two_q: splat(2 * q),
        }
    }

    /// Cooley–Tukey butterfly, inputs and outputs in [0, 4q).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn forward(self, x: __m256i, y: __m256i, w: __m256i, ws: __m256i) -> (__m256i, __m256i) {
        let x = csub(x, self.two_q);
        let t = shoup_lazy(y, w, ws, self.q);
        (
            _mm256_add_epi64(x, t),
            _mm256_sub_epi64(_mm256_add_epi64(x, self.two_q), t),
        )
    }

    /// Gentleman–Sande butterfly, inputs and outputs in [0, 2q).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn inverse(self, x: __m256i, y: __m256i, w: __m256i, ws: __m256i) -> (__m256i, __m256i) {
        let s = csub(_mm256_add_epi64(x, y), self.two_q);
        let d = _mm256_sub_epi64(_mm256_add_epi64(x, self.two_q), y);
        (s, shoup_lazy(d, w, ws, self.q))
    }

    /// [0, 4q) → [0, q).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn canonical(self, x: __m256i) -> __m256i {
        csub(csub(x, self.two_q), self.q)
    }
}

/// The twiddle of groups (k, k, k+1, k+1) for the gap-2 layer.
#[inline]
#[target_feature(enable = "avx2")]
fn pairs(w: &[u64; 2]) -> __m256i {
    _mm256_set_epi64x(w[1] as i64, w[1] as i64, w[0] as i64, w[0] as i64)
}

/// The twiddles of groups (k, k+2, k+1, k+3) for the gap-1 layer, matching the unpack order.
#[inline]
#[target_feature(enable = "avx2")]
fn interleaved(w: &[u64; 4]) -> __m256i {
    _mm256_permute4x64_epi64::<0b11_01_10_00>(load(w))
}

/// Runs the forward NTT; the caller guarantees `a.len() == t.degree() ≥ 8` and q < 2^30.
pub(super) fn forward(_: Avx2, t: &NttTables, a: &mut [u64]) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { forward_avx2(t, a) }
}

#[target_feature(enable = "avx2")]
fn forward_avx2(t: &NttTables, a: &mut [u64]) {
    let n = a.len();
    let l = Lanes::new(t.q.value());
    let (mut m, mut gap) = (1, n / 2);
    while gap >= 4 {
        for (i, block) in a.chunks_exact_mut(2 * gap).enumerate() {
            let w = splat(t.fwd[m + i]);
            let ws = splat(t.fwd_shoup[m + i] >> 32);
            let (lo, hi) = block.split_at_mut(gap);
            for (x, y) in lo
                .as_chunks_mut::<4>()
                .0
                .iter_mut()
                .zip(hi.as_chunks_mut().0)
            {
                let (u, v) = l.forward(load(x), load(y), w, ws);
                store(x, u);
                store(y, v);
            }
        }
        m *= 2;
        gap /= 2;
    }
    // Gap 2 (m = n/4): each 8 values hold two groups [x x y y][x x y y].
    let (w2, ws2) = (&t.fwd[m..2 * m], &t.fwd_shoup[m..2 * m]);
    let groups = a.as_chunks_mut::<4>().0;
    for ((c, w), ws) in groups
        .chunks_exact_mut(2)
        .zip(w2.as_chunks::<2>().0)
        .zip(ws2.as_chunks::<2>().0)
    {
        let [c0, c1] = c else { continue };
        let (p, r) = (load(c0), load(c1));
        let x = _mm256_permute2x128_si256::<0x20>(p, r);
        let y = _mm256_permute2x128_si256::<0x31>(p, r);
        let (u, v) = l.forward(x, y, pairs(w), _mm256_srli_epi64::<32>(pairs(ws)));
        store(c0, _mm256_permute2x128_si256::<0x20>(u, v));
        store(c1, _mm256_permute2x128_si256::<0x31>(u, v));
    }
    m *= 2;
    // Gap 1 (m = n/2), the last layer: each 8 values hold four groups [x y x y][x y x y].
    let (w1, ws1) = (&t.fwd[m..2 * m], &t.fwd_shoup[m..2 * m]);
    for ((c, w), ws) in groups
        .chunks_exact_mut(2)
        .zip(w1.as_chunks::<4>().0)
        .zip(ws1.as_chunks::<4>().0)
    {
        let [c0, c1] = c else { continue };
        let (p, r) = (load(c0), load(c1));
        let x = _mm256_unpacklo_epi64(p, r);
        let y = _mm256_unpackhi_epi64(p, r);
        let (u, v) = l.forward(
            x,
            y,
            interleaved(w),
            _mm256_srli_epi64::<32>(interleaved(ws)),
        );
        let (u, v) = (l.canonical(u), l.canonical(v));
        store(c0, _mm256_unpacklo_epi64(u, v));
        store(c1, _mm256_unpackhi_epi64(u, v));
    }
}

/// Runs the inverse NTT; the caller guarantees `a.len() == t.degree() ≥ 8` and q < 2^30.
pub(super) fn inverse(_: Avx2, t: &NttTables, a: &mut [u64]) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { inverse_avx2(t, a) }
}

#[target_feature(enable = "avx2")]
fn inverse_avx2(t: &NttTables, a: &mut [u64]) {
    let n = a.len();
    let l = Lanes::new(t.q.value());
    // Gap 1 (m = n/2).
    let mut m = n / 2;
    let (w1, ws1) = (&t.inv[m..2 * m], &t.inv_shoup[m..2 * m]);
    let groups = a.as_chunks_mut::<4>().0;
    for ((c, w), ws) in groups
        .chunks_exact_mut(2)
        .zip(w1.as_chunks::<4>().0)
        .zip(ws1.as_chunks::<4>().0)
    {
        let [c0, c1] = c else { continue };
        let (p, r) = (load(c0), load(c1));
        let x = _mm256_unpacklo_epi64(p, r);
        let y = _mm256_unpackhi_epi64(p, r);
        let (u, v) = l.inverse(
            x,
            y,
            interleaved(w),
            _mm256_srli_epi64::<32>(interleaved(ws)),
        );
        store(c0, _mm256_unpacklo_epi64(u, v));
        store(c1, _mm256_unpackhi_epi64(u, v));
    }
    // Gap 2 (m = n/4).
    m /= 2;
    let (w2, ws2) = (&t.inv[m..2 * m], &t.inv_shoup[m..2 * m]);
    for ((c, w), ws) in groups
        .chunks_exact_mut(2)
        .zip(w2.as_chunks::<2>().0)
        .zip(ws2.as_chunks::<2>().0)
    {
        let [c0, c1] = c else { continue };
        let (p, r) = (load(c0), load(c1));
        let x = _mm256_permute2x128_si256::<0x20>(p, r);
        let y = _mm256_permute2x128_si256::<0x31>(p, r);
        let (u, v) = l.inverse(x, y, pairs(w), _mm256_srli_epi64::<32>(pairs(ws)));
        store(c0, _mm256_permute2x128_si256::<0x20>(u, v));
        store(c1, _mm256_permute2x128_si256::<0x31>(u, v));
    }
    m /= 2;
    let mut gap = 4;
    while m > 1 {
        for (i, block) in a.chunks_exact_mut(2 * gap).enumerate() {
            let w = splat(t.inv[m + i]);
            let ws = splat(t.inv_shoup[m + i] >> 32);
            let (lo, hi) = block.split_at_mut(gap);
            for (x, y) in lo
                .as_chunks_mut::<4>()
                .0
                .iter_mut()
                .zip(hi.as_chunks_mut().0)
            {
                let (u, v) = l.inverse(load(x), load(y), w, ws);
                store(x, u);
                store(y, v);
            }
        }
        m /= 2;
        gap *= 2;
    }
    // Last layer (m = 1) with n^{-1} merged in: x' = (x+y)/n, y' = (x−y)·w/n.
    let (ni, nis) = (splat(t.n_inv.0), splat(t.n_inv.1 >> 32));
    let (lw, lws) = (splat(t.last.0), splat(t.last.1 >> 32));
    let (lo, hi) = a.split_at_mut(n / 2);
    for (x, y) in lo
        .as_chunks_mut::<4>()
        .0
        .iter_mut()
        .zip(hi.as_chunks_mut().0)
    {
        let (u, v) = (load(x), load(y));
        let s = shoup_lazy(_mm256_add_epi64(u, v), ni, nis, l.q);
        let d = _mm256_sub_epi64(_mm256_add_epi64(u, l.two_q), v);
        store(x, csub(s, l.q));
        store(y, csub(shoup_lazy(d, lw, lws, l.q), l.q));
    }
}

/// Barrett reduction mod q < 2^30 of lane values below 2^{2k} (k the bit length of q) with
/// `μ = floor(2^{2k}/q)`: the quotient estimate `((x >> (k−1))·μ) >> (k+1)` is at most 2 short,
/// so two conditional subtractions remain.
#[derive(Clone, Copy)]
struct Barrett {
    q: __m256i,
    mu: __m256i,
    pre: __m128i,
    post: __m128i,
}

impl Barrett {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(q: Modulus) -> Self {
        let qv = q.value();
        let k = 64 - qv.leading_zeros();
        Self {
            q: splat(qv),
            mu: splat(((1u128 << (2 * k)) / u128::from(qv)) as u64),
            pre: _mm_cvtsi64_si128(i64::from(k - 1)),
            post: _mm_cvtsi64_si128(i64::from(k + 1)),
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn reduce(self, x: __m256i) -> __m256i {
        let est = _mm256_mul_epu32(_mm256_srl_epi64(x, self.pre), self.mu);
        let quot = _mm256_srl_epi64(est, self.post);
        let r = _mm256_sub_epi64(x, _mm256_mul_epu32(quot, self.q));
        csub(csub(r, self.q), self.q)
    }
}

/// Point-wise products of canonical residues mod q < 2^30 (below q² < 2^{2k}).
pub(super) fn mul_mod(_: Avx2, q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { mul_mod_avx2(q, out, a, b) }
}

#[target_feature(enable = "avx2")]
fn mul_mod_avx2(q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    let red = Barrett::new(q);
    let done = out.len().min(a.len()).min(b.len()) / 4 * 4;
    let (head, tail) = out.split_at_mut(done);
    let (a_head, a_tail) = a.split_at(done);
    let (b_head, b_tail) = b.split_at(done);
    let lanes = head.as_chunks_mut::<4>().0.iter_mut();
    for ((o, x), y) in lanes.zip(a_head.as_chunks().0).zip(b_head.as_chunks().0) {
        store(o, red.reduce(_mm256_mul_epu32(load(x), load(y))));
    }
    super::scalar::mul_mod(q, tail, a_tail, b_tail);
}

/// Sums of canonical residues mod q < 2^30: below 2q < 2^32, so [`csub`] applies.
pub(super) fn add_mod(_: Avx2, q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { add_mod_avx2(q, out, a, b) }
}

#[target_feature(enable = "avx2")]
fn add_mod_avx2(q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    let ql = splat(q.value());
    let done = out.len().min(a.len()).min(b.len()) / 4 * 4;
    let (head, tail) = out.split_at_mut(done);
    let (a_head, a_tail) = a.split_at(done);
    let (b_head, b_tail) = b.split_at(done);
    let lanes = head.as_chunks_mut::<4>().0.iter_mut();
    for ((o, x), y) in lanes.zip(a_head.as_chunks().0).zip(b_head.as_chunks().0) {
        store(o, csub(_mm256_add_epi64(load(x), load(y)), ql));
    }
    super::scalar::add_mod(q, tail, a_tail, b_tail);
}

/// Differences of canonical residues mod q < 2^30, as `a + q − b` in [0, 2q) reduced once.
pub(super) fn sub_mod(_: Avx2, q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { sub_mod_avx2(q, out, a, b) }
}

#[target_feature(enable = "avx2")]
fn sub_mod_avx2(q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    let ql = splat(q.value());
    let done = out.len().min(a.len()).min(b.len()) / 4 * 4;
    let (head, tail) = out.split_at_mut(done);
    let (a_head, a_tail) = a.split_at(done);
    let (b_head, b_tail) = b.split_at(done);
    let lanes = head.as_chunks_mut::<4>().0.iter_mut();
    for ((o, x), y) in lanes.zip(a_head.as_chunks().0).zip(b_head.as_chunks().0) {
        let d = _mm256_sub_epi64(_mm256_add_epi64(load(x), ql), load(y));
        store(o, csub(d, ql));
    }
    super::scalar::sub_mod(q, tail, a_tail, b_tail);
}

/// `acc[i] += lo32(a[i])·lo32(b[i])`, wrapping.
pub(super) fn mul_acc(_: Avx2, acc: &mut [u64], a: &[u64], b: &[u64]) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { mul_acc_avx2(acc, a, b) }
}

#[target_feature(enable = "avx2")]
fn mul_acc_avx2(acc: &mut [u64], a: &[u64], b: &[u64]) {
    let done = acc.len().min(a.len()).min(b.len()) / 4 * 4;
    let (head, tail) = acc.split_at_mut(done);
    let (a_head, a_tail) = a.split_at(done);
    let (b_head, b_tail) = b.split_at(done);
    let lanes = head.as_chunks_mut::<4>().0.iter_mut();
    for ((s, x), y) in lanes.zip(a_head.as_chunks().0).zip(b_head.as_chunks().0) {
        store(
            s,
            _mm256_add_epi64(load(s), _mm256_mul_epu32(load(x), load(y))),
        );
    }
    super::scalar::mul_acc(tail, a_tail, b_tail);
}

/// `acc[i] += lo32(a[i])·lo32(w)`, wrapping.
pub(super) fn mul_acc_const(_: Avx2, acc: &mut [u64], a: &[u64], w: u64) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { mul_acc_const_avx2(acc, a, w) }
}

#[target_feature(enable = "avx2")]
fn mul_acc_const_avx2(acc: &mut [u64], a: &[u64], w: u64) {
    let done = acc.len().min(a.len()) / 4 * 4;
    let (head, tail) = acc.split_at_mut(done);
    let (a_head, a_tail) = a.split_at(done);
    let wv = splat(w);
    for (s, x) in head
        .as_chunks_mut::<4>()
        .0
        .iter_mut()
        .zip(a_head.as_chunks().0)
    {
        store(s, _mm256_add_epi64(load(s), _mm256_mul_epu32(load(x), wv)));
    }
    super::scalar::mul_acc_const(tail, a_tail, w);
}

/// `x[i] = (x[i] + offset − s[i])·w mod q`; the caller guarantees x[i] + offset < 2^32.
pub(super) fn mul_shoup_shifted(
    _: Avx2,
    q: Modulus,
    x: &mut [u64],
    s: &[u64],
    offset: u64,
    w: (u64, u64),
) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { mul_shoup_shifted_avx2(q, x, s, offset, w) }
}

#[target_feature(enable = "avx2")]
fn mul_shoup_shifted_avx2(q: Modulus, x: &mut [u64], s: &[u64], offset: u64, w: (u64, u64)) {
    let done = x.len().min(s.len()) / 4 * 4;
    let (head, tail) = x.split_at_mut(done);
    let (s_head, s_tail) = s.split_at(done);
    let (ql, off) = (splat(q.value()), splat(offset));
    let (wv, wsv) = (splat(w.0), splat(w.1 >> 32));
    for (v, d) in head
        .as_chunks_mut::<4>()
        .0
        .iter_mut()
        .zip(s_head.as_chunks().0)
    {
        let t = _mm256_sub_epi64(_mm256_add_epi64(load(v), off), load(d));
        store(v, csub(shoup_lazy(t, wv, wsv, ql), ql));
    }
    super::scalar::mul_shoup_shifted(q, tail, s_tail, offset, w);
}

/// `x[i] = x[i]·w mod q` for lanes below 2^32.
pub(super) fn mul_const(_: Avx2, q: Modulus, x: &mut [u64], w: (u64, u64)) {
    // SAFETY: the token shows the CPU has AVX2.
    unsafe { mul_const_avx2(q, x, w) }
}

#[target_feature(enable = "avx2")]
fn mul_const_avx2(q: Modulus, x: &mut [u64], w: (u64, u64)) {
    let done = x.len() / 4 * 4;
    let (head, tail) = x.split_at_mut(done);
    let ql = splat(q.value());
    let (wv, wsv) = (splat(w.0), splat(w.1 >> 32));
    for v in head.as_chunks_mut::<4>().0 {
        store(v, csub(shoup_lazy(load(v), wv, wsv, ql), ql));
    }
    super::scalar::mul_const(q, tail, w);
}
