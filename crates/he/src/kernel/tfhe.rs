//! `tfhe-ntt`'s negacyclic NTT behind Apple's ordering (spec bfv.md §3.2). Both transforms
//! evaluate a polynomial at the n primitive 2n-th roots of unity mod q, in different orders (and
//! from different root choices), so one fixed permutation π per (q, n) turns tfhe-ntt's output
//! into ours: `ours[i] = tfhe[π(i)]`. π is found once, when the tables are built, by transforming
//! the polynomial X both ways: its evaluations are the roots themselves, all distinct. tfhe-ntt's
//! inverse does not scale by n^{-1}, so that product is folded into the pass that widens its
//! output back to our u64 rows.

use std::cell::Cell;

use tfhe_ntt::{prime32, prime64};

use super::{NttTables, scalar};

/// tfhe-ntt's plan for one (q, n) and the permutation onto our order.
#[derive(Debug, Clone)]
pub(super) struct TfheNtt {
    plan: Plan,
    /// `perm[i]` is the index of tfhe-ntt's output that is our slot i; `inv_perm` undoes it.
    perm: Box<[u32]>,
    inv_perm: Box<[u32]>,
    /// The instruction set the conversion passes are compiled for, detected once.
    arch: pulp::Arch,
}

/// Moduli below 2^31 take the 32-bit plan (its Shoup paths), the rest the 64-bit one.
#[derive(Debug, Clone)]
enum Plan {
    P32(prime32::Plan),
    P64(prime64::Plan),
}

thread_local! {
    /// Scratch rows for the out-of-place permutation, kept per thread so no call allocates
    /// after the first of its size.
    static SCRATCH32: Cell<Vec<u32>> = const { Cell::new(Vec::new()) };
    static NARROWED: Cell<Vec<u32>> = const { Cell::new(Vec::new()) };
    static SCRATCH64: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
}

/// Reduces a value in [0, 2m) to [0, m).
#[inline(always)]
fn csub(x: u64, m: u64) -> u64 {
    if x >= m { x - m } else { x }
}

impl TfheNtt {
    /// The plan for `t`'s modulus and degree, or `None` where tfhe-ntt has none (n < 32 for
    /// the 32-bit plan, n < 16 for the 64-bit one) or its transform is not a reordering of ours.
    pub(super) fn new(t: &NttTables) -> Option<Self> {
        let (q, n) = (t.q.value(), t.degree());
        // The polynomial X: each transform's output lists the roots it evaluates at.
        let mut ours = vec![0u64; n];
        *ours.get_mut(1)? = 1;
        scalar::forward(t, &mut ours);
        let (plan, theirs) = match u32::try_from(q) {
            Ok(q32) if q32 < 1 << 31 => {
                let plan = prime32::Plan::try_new(n, q32)?;
                let mut x = vec![0u32; n];
                x[1] = 1;
                plan.fwd(&mut x);
                (Plan::P32(plan), x.into_iter().map(u64::from).collect())
            }
            _ => {
                let plan = prime64::Plan::try_new(n, q)?;
                let mut x = vec![0u64; n];
                x[1] = 1;
                plan.fwd(&mut x);
                (Plan::P64(plan), x)
            }
        };
        let mut by_value: Vec<(u64, u32)> = theirs.into_iter().zip(0u32..).collect();
        by_value.sort_unstable();
        if by_value.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let perm = ours
            .iter()
            .map(|r| {
                let k = by_value.binary_search_by_key(r, |&(v, _)| v).ok()?;
                Some(by_value[k].1)
            })
            .collect::<Option<Box<[u32]>>>()?;
        let mut inv_perm = vec![0u32; n].into_boxed_slice();
        for (i, &j) in (0u32..).zip(&perm) {
            *inv_perm.get_mut(j as usize)? = i;
        }
        Some(Self {
            plan,
            perm,
            inv_perm,
            arch: pulp::Arch::new(),
        })
    }

    /// Forward NTT of `a` (`a.len() == t.degree()`, values below 4q), canonical out in our order.
    pub(super) fn forward(&self, t: &NttTables, a: &mut [u64]) {
        let q = t.q.value();
        match &self.plan {
            Plan::P32(plan) => SCRATCH32.with(|cell| {
                let mut buf = cell.take();
                fit(&mut buf, a.len());
                self.arch.dispatch(|| narrow_lazy(q, &mut buf, a));
                plan.fwd(&mut buf);
                self.arch.dispatch(|| {
                    for (o, &j) in a.iter_mut().zip(&self.perm) {
                        *o = u64::from(buf[j as usize]);
                    }
                });
                cell.set(buf);
            }),
            Plan::P64(plan) => SCRATCH64.with(|cell| {
                let mut buf = cell.take();
                buf.clear();
                buf.extend(a.iter().map(|&x| csub(csub(x, 2 * q), q)));
                plan.fwd(&mut buf);
                for (o, &j) in a.iter_mut().zip(&self.perm) {
                    *o = buf[j as usize];
                }
                cell.set(buf);
            }),
        }
    }

    /// Inverse NTT of `a` (`a.len() == t.degree()`, values below 2q, our order) including the
    /// scaling by n^{-1}, canonical out.
    pub(super) fn inverse(&self, t: &NttTables, a: &mut [u64]) {
        let q = t.q;
        let qv = q.value();
        let (ni, nis) = t.n_inv;
        match &self.plan {
            Plan::P32(plan) => SCRATCH32.with(|cell| {
                let (mut buf, mut narrow) = (cell.take(), NARROWED.take());
                fit(&mut buf, a.len());
                fit(&mut narrow, a.len());
                // Below 2q < 2^32, so the narrowing keeps every bit; one subtraction makes it
                // canonical. Narrowing first halves the table the permutation gathers from.
                let q32 = qv as u32;
                self.arch.dispatch(|| {
                    for (o, &v) in narrow.iter_mut().zip(a.iter()) {
                        let v = v as u32;
                        *o = v.min(v.wrapping_sub(q32));
                    }
                    for (b, &i) in buf.iter_mut().zip(&self.inv_perm) {
                        *b = narrow[i as usize];
                    }
                });
                NARROWED.set(narrow);
                plan.inv(&mut buf);
                // Shoup's product by n^{-1} with the 32-bit companion, exact for inputs below
                // 2^32: a value in [0, 2q), reduced once.
                let (w, ws) = (ni, nis >> 32);
                self.arch.dispatch(|| {
                    for (o, &v) in a.iter_mut().zip(&buf) {
                        let v = u64::from(v);
                        let r = (v * w).wrapping_sub(((v * ws) >> 32) * qv) as u32;
                        *o = u64::from(r.min(r.wrapping_sub(q32)));
                    }
                });
                cell.set(buf);
            }),
            Plan::P64(plan) => SCRATCH64.with(|cell| {
                let mut buf = cell.take();
                buf.clear();
                buf.extend(self.inv_perm.iter().map(|&i| csub(a[i as usize], qv)));
                plan.inv(&mut buf);
                for (o, &v) in a.iter_mut().zip(&buf) {
                    *o = q.mul_shoup(v, ni, nis);
                }
                cell.set(buf);
            }),
        }
    }
}

/// Makes `buf` n long; its contents are left as they are, for the caller overwrites them all.
#[inline(always)]
fn fit(buf: &mut Vec<u32>, n: usize) {
    if buf.len() != n {
        buf.clear();
        buf.resize(n, 0);
    }
}

/// `out[i] = x[i] mod q` for `x[i] < 4q`, q < 2^31, on the SIMD width the caller dispatched to.
#[inline(always)]
fn narrow_lazy(q: u64, out: &mut [u32], x: &[u64]) {
    if q < 1 << 30 {
        // 4q < 2^32: the whole reduction runs on 32-bit lanes.
        let (q, two_q) = (q as u32, 2 * q as u32);
        for (o, &v) in out.iter_mut().zip(x) {
            let v = v as u32;
            let v = v.min(v.wrapping_sub(two_q));
            *o = v.min(v.wrapping_sub(q));
        }
    } else {
        for (o, &v) in out.iter_mut().zip(x) {
            // Canonical, below q < 2^31.
            *o = csub(csub(v, 2 * q), q) as u32;
        }
    }
}
