//! Portable kernels for any modulus below 2^62: the reference every SIMD kernel is tested against.

use super::NttTables;
use crate::modulus::Modulus;

/// Reduces a value in [0, 2m) to [0, m).
#[inline(always)]
fn csub(x: u64, m: u64) -> u64 {
    if x >= m { x - m } else { x }
}

/// Cooley–Tukey layers with Harvey's lazy ranges: values stay in [0, 4q) between layers.
pub(super) fn forward(t: &NttTables, a: &mut [u64]) {
    let q = t.q;
    let two_q = 2 * q.value();
    let n = a.len();
    let (mut m, mut gap) = (1, n / 2);
    while m < n {
        for (i, block) in a.chunks_exact_mut(2 * gap).enumerate() {
            let (w, ws) = (t.fwd[m + i], t.fwd_shoup[m + i]);
            let (lo, hi) = block.split_at_mut(gap);
            for (x, y) in lo.iter_mut().zip(hi) {
                let u = csub(*x, two_q);
                let v = q.mul_shoup_lazy(*y, w, ws);
                *x = u + v;
                *y = u + two_q - v;
            }
        }
        m *= 2;
        gap /= 2;
    }
    for x in a {
        *x = csub(csub(*x, two_q), q.value());
    }
}

/// Gentleman–Sande layers with values in [0, 2q); the last layer also scales by n^{-1}.
pub(super) fn inverse(t: &NttTables, a: &mut [u64]) {
    let q = t.q;
    let two_q = 2 * q.value();
    let n = a.len();
    let (mut m, mut gap) = (n / 2, 1);
    while m > 1 {
        for (i, block) in a.chunks_exact_mut(2 * gap).enumerate() {
            let (w, ws) = (t.inv[m + i], t.inv_shoup[m + i]);
            let (lo, hi) = block.split_at_mut(gap);
            for (x, y) in lo.iter_mut().zip(hi) {
                let (u, v) = (*x, *y);
                *x = csub(u + v, two_q);
                *y = q.mul_shoup_lazy(u + two_q - v, w, ws);
            }
        }
        m /= 2;
        gap *= 2;
    }
    let (lo, hi) = a.split_at_mut(n / 2);
    let ((ni, nis), (l, ls)) = (t.n_inv, t.last);
    for (x, y) in lo.iter_mut().zip(hi) {
        let (u, v) = (*x, *y);
        *x = q.mul_shoup(u + v, ni, nis);
        *y = q.mul_shoup(u + two_q - v, l, ls);
    }
}

pub(super) fn mul_mod(q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = q.mul(x, y);
    }
}

pub(super) fn mul_acc(acc: &mut [u64], a: &[u64], b: &[u64]) {
    const LO: u64 = 0xFFFF_FFFF;
    for ((s, &x), &y) in acc.iter_mut().zip(a).zip(b) {
        *s = s.wrapping_add((x & LO) * (y & LO));
    }
}

pub(super) fn mul_acc_const(acc: &mut [u64], a: &[u64], w: u64) {
    const LO: u64 = 0xFFFF_FFFF;
    let w = w & LO;
    for (s, &x) in acc.iter_mut().zip(a) {
        *s = s.wrapping_add((x & LO) * w);
    }
}

pub(super) fn mul_shoup_shifted(
    q: Modulus,
    x: &mut [u64],
    s: &[u64],
    offset: u64,
    (w, ws): (u64, u64),
) {
    for (v, &d) in x.iter_mut().zip(s) {
        *v = q.mul_shoup(*v + offset - d, w, ws);
    }
}

pub(super) fn mul_const(q: Modulus, x: &mut [u64], (w, ws): (u64, u64)) {
    for v in x {
        *v = q.mul_shoup(*v, w, ws);
    }
}

pub(super) fn add_mod(q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = q.add(x, y);
    }
}

pub(super) fn sub_mod(q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = q.sub(x, y);
    }
}

/// See [`super::dot_pairs`]; the caller has checked every length against `range`.
pub(super) fn dot_pairs(
    acc: [&mut [u64]; 2],
    cts: &[[&[u64]; 2]],
    pts: &[Option<&[u64]>],
    pt_offset: usize,
    range: std::ops::Range<usize>,
) {
    const LO: u64 = 0xFFFF_FFFF;
    let [acc0, acc1] = acc;
    for ([c0, c1], pt) in cts.iter().zip(pts) {
        let Some(pt) = pt else { continue };
        let (Some(p), Some(x0), Some(x1), Some(s0), Some(s1)) = (
            pt.get(pt_offset + range.start..pt_offset + range.end),
            c0.get(range.clone()),
            c1.get(range.clone()),
            acc0.get_mut(range.clone()),
            acc1.get_mut(range.clone()),
        ) else {
            continue;
        };
        for ((((s0, s1), &x0), &x1), &p) in s0.iter_mut().zip(s1).zip(x0).zip(x1).zip(p) {
            *s0 = s0.wrapping_add((x0 & LO) * (p & LO));
            *s1 = s1.wrapping_add((x1 & LO) * (p & LO));
        }
    }
}
