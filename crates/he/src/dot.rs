//! Inner products of ciphertext vectors as Apple's `Bfv.innerProduct` computes them (spec bfv.md
//! §5.9; pir-protocol.md §4.7): `Σ ct_i ⊙ pt_i` in Eval form, exact, reduced once at the end; and
//! `Σ ct_i ⊗ ct'_i` with every tensor accumulated in Q‖Bsk and then scaled by t/Q once (one
//! floor for the whole sum, not one per product, which changes the rounded bits).

use std::sync::Arc;

use crate::Error;
use crate::behz::{Scalar, ntt_primes};
use crate::kernel::{self, Backend};
use crate::modulus::Modulus;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// `Σ_k ct_k ⊙ pt_k` over the pairs whose plaintext is present: `cts[k]` is an Eval ciphertext
/// over `ctx`, `pts[k]` the `L · N` Eval residues of a plaintext (modulus after modulus) or
/// `None` for a zero plaintext. All `None` (or no pairs) gives the zero ciphertext with
/// `poly_count` polynomials.
pub fn ct_pt(
    ctx: &PolyContext,
    cts: &[Vec<Poly<Eval>>],
    pts: &[Option<&[u64]>],
    poly_count: usize,
) -> Result<Vec<Poly<Eval>>, Error> {
    let mut out = ct_pt_columns(ctx, cts, &[pts], poly_count)?;
    out.pop().ok_or(Error::Unsupported("no column"))
}

/// Bytes of packed ciphertext slices one pass of [`ct_pt_columns`] keeps hot: an L3 share
/// rather than an L2, since longer runs of each plaintext stream faster from memory than the
/// ciphertexts then come from L3 (measured on the 1M-row scan: 512 KiB 24 ms, 4 MiB 18 ms).
const SLICE_BYTES: usize = 4 << 20;

/// [`ct_pt`] for several columns of plaintexts against the same ciphertexts (a PIR table's
/// first dimension): output c is `Σ_k cts[k] ⊙ columns[c][k]`. The sums run over one slice of
/// coefficients at a time, every column in turn, so the ciphertexts' slices stay in cache while
/// each plaintext is streamed from memory once.
pub fn ct_pt_columns<'a>(
    ctx: &PolyContext,
    cts: &'a [Vec<Poly<Eval>>],
    columns: &[&[Option<&[u64]>]],
    poly_count: usize,
) -> Result<Vec<Vec<Poly<Eval>>>, Error> {
    let n = ctx.degree();
    let moduli: Vec<Modulus> = ctx.moduli().collect();
    for pts in columns {
        if cts.len() != pts.len() {
            return Err(Error::CountMismatch {
                what: "plaintexts for the ciphertexts",
                expected: cts.len(),
                got: pts.len(),
            });
        }
        for pt in pts.iter().flatten() {
            if pt.len() != n * moduli.len() {
                return Err(Error::CountMismatch {
                    what: "plaintext residues",
                    expected: n * moduli.len(),
                    got: pt.len(),
                });
            }
        }
    }
    for ct in cts {
        if ct.len() != poly_count {
            return Err(Error::CountMismatch {
                what: "ciphertext polynomials",
                expected: poly_count,
                got: ct.len(),
            });
        }
        for poly in ct {
            if poly.rows().len() != moduli.len() {
                return Err(Error::CountMismatch {
                    what: "ciphertext residue rows",
                    expected: moduli.len(),
                    got: poly.rows().len(),
                });
            }
            if let Some(row) = poly.rows().iter().find(|row| row.len() != n) {
                return Err(Error::CountMismatch {
                    what: "ciphertext coefficients",
                    expected: n,
                    got: row.len(),
                });
            }
        }
    }
    let backend = Backend::best();
    let per_coefficient = (cts.len() * poly_count * 8).max(1);
    // Whole register blocks of the scan kernel, as many as keep the ciphertexts' slices hot.
    let slice = (SLICE_BYTES / per_coefficient / 32 * 32).clamp(64, n.max(64));
    // out[c][p][i]: column c, polynomial p, modulus i.
    let mut out = vec![vec![vec![vec![0u64; n]; moduli.len()]; poly_count]; columns.len()];
    // The odd polynomial of an odd count is paired with a scratch accumulator.
    let mut scratch = vec![0u64; if poly_count % 2 == 1 { n } else { 0 }];
    // One slice of every ciphertext row, packed densely ([term][polynomial][coefficient]): rows
    // and plaintexts sit at power-of-two strides, so unpacked their slices share a few cache
    // sets and evict each other long before the next column reuses them.
    // A single column reads every slice once, so packing would only add a copy.
    let pack = columns.len() > 1;
    let padded = poly_count + poly_count % 2;
    let mut packed = vec![
        0u64;
        if pack {
            cts.len() * padded * slice.min(n)
        } else {
            0
        }
    ];
    let zeros = vec![0u64; if pack { 0 } else { slice.min(n) }];
    let group = scan_group(&moduli);
    for (i, &q) in moduli.iter().enumerate() {
        // Unreduced u64 sums of at most `budget` products, reduced in place (to below q, which
        // the budget allows for) when full; moduli above 2^32 (budget 0) add term by term.
        let budget = kernel::lazy_terms(q);
        let row = |ct: &'a [Poly<Eval>], p: usize| -> &'a [u64] {
            ct.get(p)
                .and_then(|poly| poly.rows().get(i))
                .map_or(&[][..], Vec::as_slice)
        };
        for start in (0..n).step_by(slice) {
            let end = (start + slice).min(n);
            let len = end - start;
            if budget == 0 {
                for (pts, col) in columns.iter().zip(&mut out) {
                    for (p, acc) in col.iter_mut().enumerate() {
                        let acc = &mut acc[i][start..end];
                        for (ct, pt) in cts.iter().zip(pts.iter()) {
                            let Some(pt) = pt else { continue };
                            let prow = pt.get(i * n + start..i * n + end).unwrap_or_default();
                            let crow = row(ct, p).get(start..end).unwrap_or_default();
                            for ((s, &x), &y) in acc.iter_mut().zip(crow).zip(prow) {
                                *s = q.add(*s, q.mul(x, y));
                            }
                        }
                    }
                }
                continue;
            }
            for (k, ct) in cts.iter().enumerate().filter(|_| pack) {
                for p in 0..padded {
                    let at = (k * padded + p) * len;
                    let dst = &mut packed[at..at + len];
                    match row(ct, p).get(start..end) {
                        Some(src) => dst.copy_from_slice(src),
                        None => dst.fill(0),
                    }
                }
            }
            let rows: Vec<&[u64]> = if pack {
                packed[..cts.len() * padded * len].chunks(len).collect()
            } else {
                (0..cts.len() * padded)
                    .map(|r| {
                        let whole = row(&cts[r / padded], r % padded);
                        whole.get(start..end).unwrap_or(&zeros[..len])
                    })
                    .collect()
            };
            for (pts, col) in columns.iter().zip(&mut out) {
                for pair in 0..padded / 2 {
                    let p = 2 * pair;
                    let terms: Vec<[&[u64]; 2]> = (0..cts.len())
                        .map(|k| [rows[k * padded + p], rows[k * padded + p + 1]])
                        .collect();
                    let (lo, hi) = col.split_at_mut(p + 1);
                    let a0 = &mut lo[p][i][start..end];
                    let a1 = match hi.first_mut() {
                        Some(next) => &mut next[i][start..end],
                        None => &mut scratch[start..end],
                    };
                    // Products summed since the last reduction (which left each lane below q).
                    let mut held = 0;
                    for (terms, pts) in terms.chunks(group).zip(pts.chunks(group)) {
                        let present = pts.iter().flatten().count();
                        if held + present > budget {
                            kernel::reduce(q, a0);
                            kernel::reduce(q, a1);
                            held = 0;
                        }
                        held += present;
                        kernel::dot_pairs(backend, [a0, a1], terms, pts, i * n + start, 0..len)?;
                    }
                    kernel::reduce(q, a0);
                    kernel::reduce(q, a1);
                }
            }
        }
    }
    out.into_iter()
        .map(|col| {
            col.into_iter()
                .map(|rows| Poly::from_rows(ctx, rows))
                .collect()
        })
        .collect()
}

/// Terms per call of the scan kernel: few enough that their plaintexts (each its own stream,
/// at a power-of-two stride) stay within what the hardware prefetcher and the L1 ways hold
/// (measured on the 1M-row scan: 4 terms 18 ms, 8 terms 25 ms, all 97 in registers 29 ms).
const SCAN_GROUP: usize = 4;

/// [`SCAN_GROUP`], or fewer where a modulus's lazy budget allows fewer products per reduction.
fn scan_group(moduli: &[Modulus]) -> usize {
    let budget = moduli
        .iter()
        .map(|&q| kernel::lazy_terms(q))
        .filter(|&b| b > 0)
        .min()
        .unwrap_or(usize::MAX);
    SCAN_GROUP.min(budget)
}

/// Precomputed bases for `Σ ct ⊗ ct'` of ciphertexts over one level `Q` (BEHZ, as
/// [`crate::behz::Behz`], but summing before the scale-down).
pub struct CtCtDot {
    q: Vec<Modulus>,
    bsk: Vec<Modulus>,
    qbsk: Arc<PolyContext>,
    m_tilde_bits: u32,
    t: u64,
    /// Q → Bsk with the m̃ factor folded into `y` (the lift).
    lift_fbc: Fbc,
    /// Q → Bsk (the first step of the scale-down).
    drop_fbc: Fbc,
    /// B → [m_sk, Q] (Shenoy–Kumaresan), B = Bsk without its last prime m_sk.
    sk_fbc: Fbc,
    /// m̃-side constants of the lift: `(Q/q_i) mod m̃` and `−Q^{-1} mod m̃`.
    hats_mt: Vec<u64>,
    neg_q_inv_mt: u64,
    /// Per Bsk prime: `Q mod b` and `m̃^{-1} mod b` (lift), `Q^{-1} mod b` (drop).
    q_mod_bsk: Vec<u64>,
    mt_inv_bsk: Vec<u64>,
    q_inv_bsk: Vec<u64>,
    /// `B^{-1} mod m_sk` and, per q_i, `B mod q_i`.
    b_inv_sk: u64,
    b_mod_q: Vec<u64>,
    /// Every modulus is below 2^30 and every base-conversion sum of products fits a u64: the
    /// lift, the scale-down and the tensor sums run on the lazy SIMD kernels.
    lazy: bool,
}

/// `(A/a_i) mod c` for every i.
fn hats_mod(from: &[Modulus], c: Modulus) -> Vec<u64> {
    (0..from.len())
        .map(|i| {
            from.iter()
                .enumerate()
                .filter(|&(k, _)| k != i)
                .fold(1 % c.value(), |acc, (_, a)| c.mul(acc, c.reduce(a.value())))
        })
        .collect()
}

/// `A mod c`.
fn prod_mod(from: &[Modulus], c: Modulus) -> u64 {
    from.iter()
        .fold(1 % c.value(), |acc, a| c.mul(acc, c.reduce(a.value())))
}

/// Fast base conversion from `from` to the moduli `to`, with its constants: `y_i = x_i ·
/// (A/a_i)^{-1} · k_i mod a_i`, then `Σ_i y_i · ((A/a_i) mod c) mod c` per target c.
struct Fbc {
    from: Vec<Modulus>,
    /// Per source modulus: the factor of `y` and its Shoup companion.
    y_factor: Vec<(u64, u64)>,
    /// Per target: the modulus and `(A/a_i) mod c`.
    to: Vec<(Modulus, Vec<u64>)>,
}

impl Fbc {
    fn new(from: &[Modulus], scale: u64, to: &[Modulus]) -> Self {
        let y_factor = from
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let hat = hats_mod(from, a).get(i).copied().unwrap_or(1);
                let f = a.mul(a.inv(hat), a.reduce(scale));
                (f, a.shoup(f))
            })
            .collect();
        Self {
            from: from.to_vec(),
            y_factor,
            to: to.iter().map(|&c| (c, hats_mod(from, c))).collect(),
        }
    }

    fn y(&self, rows: &[Vec<u64>]) -> Vec<Vec<u64>> {
        rows.iter()
            .zip(&self.from)
            .zip(&self.y_factor)
            .map(|((row, &a), &w)| {
                let mut y = row.clone();
                kernel::mul_const(Backend::best(), a, &mut y, w);
                y
            })
            .collect()
    }

    /// Adds `Σ_i y_i · ((A/a_i) mod c_k)` into `acc`, unreduced (the lazy path: the caller
    /// knows the sum fits a u64).
    fn add_to(&self, y: &[Vec<u64>], k: usize, acc: &mut [u64]) {
        let backend = Backend::best();
        if let Some((_, hats)) = self.to.get(k) {
            for (row, &h) in y.iter().zip(hats) {
                kernel::mul_acc_const(backend, acc, row, h);
            }
        }
    }

    /// The conversion of `y` into target `k`.
    fn to(&self, y: &[Vec<u64>], k: usize, n: usize) -> Vec<u64> {
        let Some((c, hats)) = self.to.get(k) else {
            return vec![0; n];
        };
        let mut acc = vec![0u128; n];
        // Each term is below 2^124 and there are only a handful: the u128 sum cannot overflow.
        for (row, &h) in y.iter().zip(hats) {
            for (s, &v) in acc.iter_mut().zip(row) {
                *s += u128::from(v) * u128::from(h);
            }
        }
        acc.into_iter().map(|s| c.reduce_u128(s)).collect()
    }
}

impl CtCtDot {
    /// Bases for ciphertexts over `ctx` and plaintext modulus `t`, for Apple's engine `scalar`.
    pub fn new(ctx: &PolyContext, t: u64, scalar: Scalar) -> Result<Self, Error> {
        let (bits, m_tilde_bits) = match scalar {
            Scalar::U32 => (29, 16),
            Scalar::U64 => (61, 32),
        };
        let q: Vec<Modulus> = ctx.moduli().collect();
        let primes = ntt_primes(bits, ctx.degree(), q.len() + 1);
        if primes.len() != q.len() + 1 {
            return Err(Error::Unsupported("not enough Bsk primes"));
        }
        let bsk = primes
            .iter()
            .map(|&p| Modulus::new(p))
            .collect::<Result<Vec<_>, _>>()?;
        let all: Vec<u64> = q.iter().chain(&bsk).map(|m| m.value()).collect();
        let mt = 1u64 << m_tilde_bits;
        let mask = mt - 1;
        let hats_mt: Vec<u64> = (0..q.len())
            .map(|i| {
                q.iter()
                    .enumerate()
                    .filter(|&(k, _)| k != i)
                    .fold(1u64, |a, (_, m)| a.wrapping_mul(m.value()) & mask)
            })
            .collect();
        let q_mt = q.iter().fold(1u64, |a, m| a.wrapping_mul(m.value()) & mask);
        // Q^{-1} mod m̃ by Newton iteration (Q odd).
        let mut inv = 1u64;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(q_mt.wrapping_mul(inv))) & mask;
        }
        let (m_sk, base) = bsk.split_last().ok_or(Error::Unsupported("empty Bsk"))?;
        // The longest lazy sum is the lift's: |Q| products plus the m̃ correction, each below
        // max²; the tensor sums are reduced before they could overflow (`kernel::lazy_terms`).
        let max = all.iter().copied().max().unwrap_or(0);
        let lazy =
            max < 1 << 30 && (q.len() as u128 + 1) * u128::from(max) * u128::from(max) < 1 << 64;
        let sk_targets: Vec<Modulus> = std::iter::once(*m_sk).chain(q.iter().copied()).collect();
        Ok(Self {
            qbsk: PolyContext::new(ctx.degree(), &all)?,
            lift_fbc: Fbc::new(&q, mt, &bsk),
            drop_fbc: Fbc::new(&q, 1, &bsk),
            sk_fbc: Fbc::new(base, 1, &sk_targets),
            hats_mt,
            neg_q_inv_mt: inv.wrapping_neg() & mask,
            q_mod_bsk: bsk.iter().map(|&b| prod_mod(&q, b)).collect(),
            mt_inv_bsk: bsk.iter().map(|&b| b.inv(b.reduce(mt))).collect(),
            q_inv_bsk: bsk.iter().map(|&b| b.inv(prod_mod(&q, b))).collect(),
            b_inv_sk: m_sk.inv(prod_mod(base, *m_sk)),
            b_mod_q: q.iter().map(|&qi| prod_mod(base, qi)).collect(),
            lazy,
            q,
            bsk,
            m_tilde_bits,
            t,
        })
    }

    /// Lifts a Coeff polynomial over Q to Q‖Bsk (Montgomery correction by m̃), in Eval form;
    /// `x_eval`, when the caller has it, is `x` in Eval form (its Q rows need no transform).
    fn lift(&self, x: &Poly<Coeff>, x_eval: Option<&Poly<Eval>>) -> Result<Poly<Eval>, Error> {
        let n = self.qbsk.degree();
        let mt = 1u64 << self.m_tilde_bits;
        let mask = mt - 1;
        let backend = Backend::best();
        // y_i = x_i · m̃ · (Q/q_i)^{-1} mod q_i.
        let y = self.lift_fbc.y(x.rows());
        // r = −(Σ y_i · (Q/q_i)) · Q^{-1} mod m̃; wrapping u64 arithmetic is exact mod 2^k, and
        // the kernel's 32×32-bit products are exact for y_i and (Q/q_i) mod m̃ below 2^32.
        let mut r = vec![0u64; n];
        for (row, &h) in y.iter().zip(&self.hats_mt) {
            if self.lazy {
                kernel::mul_acc_const(backend, &mut r, row, h);
            } else {
                for (s, &v) in r.iter_mut().zip(row) {
                    *s = s.wrapping_add(v.wrapping_mul(h));
                }
            }
        }
        for s in &mut r {
            *s = (*s & mask).wrapping_mul(self.neg_q_inv_mt) & mask;
        }
        let q_rows = self.q.len();
        let mut rows = match x_eval {
            Some(e) if e.rows().len() == q_rows => e.rows().to_vec(),
            _ => x.rows().to_vec(),
        };
        for (k, &b) in self.bsk.iter().enumerate() {
            let q_b = self.q_mod_bsk.get(k).copied().unwrap_or(0);
            let mt_inv = self.mt_inv_bsk.get(k).copied().unwrap_or(0);
            // r as a signed value in (−m̃/2, m̃/2], mod b.
            let rb = r
                .iter()
                .map(|&rj| if rj < mt / 2 { rj } else { rj + b.value() - mt });
            let row = if self.lazy {
                // (Σ y_i·(Q/q_i) + Q·r) · m̃^{-1} mod b, one reduction for the whole sum.
                let mut acc: Vec<u64> = rb.map(|v| v * q_b).collect();
                self.lift_fbc.add_to(&y, k, &mut acc);
                kernel::reduce(b, &mut acc);
                kernel::mul_const(backend, b, &mut acc, (mt_inv, b.shoup(mt_inv)));
                acc
            } else {
                let c = self.lift_fbc.to(&y, k, n);
                c.iter()
                    .zip(rb)
                    .map(|(&cb, rb)| b.mul(b.add(cb, b.mul(q_b, b.reduce(rb))), mt_inv))
                    .collect()
            };
            rows.push(row);
        }
        let skip = if x_eval.is_some_and(|e| e.rows().len() == q_rows) {
            q_rows
        } else {
            0
        };
        for (i, row) in rows.iter_mut().enumerate().skip(skip) {
            self.qbsk
                .ntt_of(i)
                .ok_or(Error::Unsupported("Q‖Bsk row"))?
                .forward(row);
        }
        // Canonical throughout: the caller's Eval rows, and the transforms' outputs.
        Ok(Poly::from_rows_unchecked(rows))
    }

    /// Scales a Coeff polynomial over Q‖Bsk (already times t) by 1/Q, flooring, back to Q.
    fn drop_extended(&self, x: &Poly<Coeff>, ctx: &PolyContext) -> Result<Poly<Coeff>, Error> {
        let n = self.qbsk.degree();
        let backend = Backend::best();
        let (xq, xb) = x.rows().split_at(self.q.len().min(x.rows().len()));
        let y = self.drop_fbc.y(xq);
        // f = (x_b − FBC(x_Q)) · Q^{-1} mod b for every Bsk prime b.
        let f: Vec<Vec<u64>> = self
            .bsk
            .iter()
            .zip(xb)
            .enumerate()
            .map(|(k, (&b, row))| {
                let q_inv = self.q_inv_bsk.get(k).copied().unwrap_or(0);
                let q_inv_s = b.shoup(q_inv);
                if self.lazy {
                    let mut v = vec![0u64; n];
                    self.drop_fbc.add_to(&y, k, &mut v);
                    kernel::reduce(b, &mut v);
                    let mut f = row.clone();
                    kernel::mul_shoup_shifted(backend, b, &mut f, &v, b.value(), (q_inv, q_inv_s));
                    f
                } else {
                    let v = self.drop_fbc.to(&y, k, n);
                    row.iter()
                        .zip(&v)
                        .map(|(&xb, &vb)| b.mul_shoup(b.sub(xb, vb), q_inv, q_inv_s))
                        .collect()
                }
            })
            .collect();
        let m_sk = *self.bsk.last().ok_or(Error::Unsupported("empty Bsk"))?;
        let (f_sk, f_b) = f.split_last().ok_or(Error::Unsupported("empty Bsk"))?;
        let yb = self.sk_fbc.y(f_b);
        // Shenoy–Kumaresan: α = (FBC(f_B) − f_sk) · B^{-1} mod m_sk, taken as a signed value.
        let alpha: Vec<u64> = if self.lazy {
            let mut s_sk = vec![0u64; n];
            self.sk_fbc.add_to(&yb, 0, &mut s_sk);
            kernel::reduce(m_sk, &mut s_sk);
            let w = (self.b_inv_sk, m_sk.shoup(self.b_inv_sk));
            kernel::mul_shoup_shifted(backend, m_sk, &mut s_sk, f_sk, m_sk.value(), w);
            s_sk
        } else {
            let s_sk = self.sk_fbc.to(&yb, 0, n);
            s_sk.iter()
                .zip(f_sk)
                .map(|(&s, &fs)| m_sk.mul(m_sk.sub(s, fs), self.b_inv_sk))
                .collect()
        };
        let half = m_sk.value() / 2;
        let rows = self
            .q
            .iter()
            .enumerate()
            .map(|(k, &q)| {
                let b_q = self.b_mod_q.get(k).copied().unwrap_or(0);
                if self.lazy {
                    // FBC(f_B) − α·B mod q, with −α·B as (m_sk − α)·B or α·(q − B mod q).
                    let neg_b_q = q.value() - b_q;
                    let mut o: Vec<u64> = alpha
                        .iter()
                        .map(|&a| {
                            if a > half {
                                (m_sk.value() - a) * b_q
                            } else {
                                a * neg_b_q
                            }
                        })
                        .collect();
                    self.sk_fbc.add_to(&yb, k + 1, &mut o);
                    kernel::reduce(q, &mut o);
                    o
                } else {
                    let o = self.sk_fbc.to(&yb, k + 1, n);
                    o.iter()
                        .zip(&alpha)
                        .map(|(&oi, &a)| {
                            if a > half {
                                q.add(oi, q.mul(b_q, q.reduce(m_sk.value() - a)))
                            } else {
                                q.add(oi, q.mul(q.neg(b_q), q.reduce(a)))
                            }
                        })
                        .collect()
                }
            })
            .collect();
        Poly::from_rows(ctx, rows)
    }

    /// `Σ_k lhs_k ⊗ rhs_k` of 2-polynomial Coeff ciphertexts over `ctx`: one 3-polynomial Coeff
    /// ciphertext over `ctx`, scaled by t/Q once after the sum.
    pub fn inner_product(
        &self,
        ctx: &PolyContext,
        lhs: &[Vec<Poly<Coeff>>],
        rhs: &[Vec<Poly<Coeff>>],
    ) -> Result<Vec<Poly<Coeff>>, Error> {
        self.finish(ctx, self.tensor_sum(lhs, rhs, None)?)
    }

    /// The exact tensor sum `Σ_k lhs_k ⊗ rhs_k` in Q‖Bsk, before the scale-down: sums of
    /// disjoint parts of one inner product may be computed apart (on several threads) and
    /// [merged](Self::merge); [`Self::finish`] then gives what [`Self::inner_product`] gives.
    /// `rhs_eval`, when the caller has it (a first-dimension sum before its inverse NTT), is
    /// `rhs` in Eval form, which saves the transforms of its Q rows.
    pub fn tensor_sum(
        &self,
        lhs: &[Vec<Poly<Coeff>>],
        rhs: &[Vec<Poly<Coeff>>],
        rhs_eval: Option<&[Vec<Poly<Eval>>]>,
    ) -> Result<TensorSum, Error> {
        if lhs.len() != rhs.len()
            || lhs.is_empty()
            || rhs_eval.is_some_and(|e| e.len() != rhs.len())
        {
            return Err(Error::CountMismatch {
                what: "ciphertexts in the ct×ct inner product",
                expected: lhs.len().max(1),
                got: rhs.len(),
            });
        }
        let e = &self.qbsk;
        let n = e.degree();
        let moduli: Vec<Modulus> = e.moduli().collect();
        let backend = Backend::best();
        // Lazy tensor sums (unreduced u64 sums of at most `budget` products) on the lazy path.
        let budget = moduli
            .iter()
            .map(|&m| kernel::lazy_terms(m))
            .min()
            .unwrap_or(0);
        let mut pending = [0usize; 3];
        let mut acc = vec![vec![vec![0u64; n]; moduli.len()]; 3];
        for (k, (a, b)) in lhs.iter().zip(rhs).enumerate() {
            let b_eval = rhs_eval.and_then(|e| e.get(k)).map(Vec::as_slice);
            let (e0, e1) = match b_eval {
                Some([e0, e1]) => (Some(e0), Some(e1)),
                _ => (None, None),
            };
            let ([a0, a1], [b0, b1]) = (a.as_slice(), b.as_slice()) else {
                return Err(Error::CountMismatch {
                    what: "ciphertext polynomials",
                    expected: 2,
                    got: a.len().max(b.len()),
                });
            };
            let (a0, a1, b0, b1) = (
                self.lift(a0, None)?,
                self.lift(a1, None)?,
                self.lift(b0, e0)?,
                self.lift(b1, e1)?,
            );
            let terms: [&[(&Poly<Eval>, &Poly<Eval>)]; 3] =
                [&[(&a0, &b0)], &[(&a0, &b1), (&a1, &b0)], &[(&a1, &b1)]];
            for ((sum, pairs), count) in acc.iter_mut().zip(terms).zip(&mut pending) {
                if self.lazy && *count + pairs.len() > budget {
                    for (row, &q) in sum.iter_mut().zip(&moduli) {
                        kernel::reduce(q, row);
                    }
                    *count = 0;
                }
                *count += pairs.len();
                for (x, y) in pairs {
                    for (((row, xr), yr), &q) in
                        sum.iter_mut().zip(x.rows()).zip(y.rows()).zip(&moduli)
                    {
                        if self.lazy {
                            kernel::mul_acc(backend, row, xr, yr);
                        } else {
                            for ((s, &u), &v) in row.iter_mut().zip(xr).zip(yr) {
                                *s = q.add(*s, q.mul(u, v));
                            }
                        }
                    }
                }
            }
        }
        if self.lazy {
            for (row, &q) in acc.iter_mut().flatten().zip(moduli.iter().cycle()) {
                kernel::reduce(q, row);
            }
        }
        Ok(TensorSum(acc))
    }

    /// The sum of two tensor sums (of the same shapes).
    pub fn merge(&self, mut a: TensorSum, b: &TensorSum) -> TensorSum {
        for (x, y) in a.0.iter_mut().zip(&b.0) {
            for ((xr, yr), q) in x.iter_mut().zip(y).zip(self.qbsk.moduli()) {
                for (u, &v) in xr.iter_mut().zip(yr) {
                    *u = q.add(*u, v);
                }
            }
        }
        a
    }

    /// Scales a tensor sum by t/Q (one floor for the whole sum) back to `ctx`: the 3-polynomial
    /// Coeff ciphertext.
    pub fn finish(&self, ctx: &PolyContext, sum: TensorSum) -> Result<Vec<Poly<Coeff>>, Error> {
        let e = &self.qbsk;
        let backend = Backend::best();
        sum.0
            .into_iter()
            .map(|rows| {
                let scaled: Vec<Vec<u64>> = rows
                    .into_iter()
                    .zip(e.moduli())
                    .map(|(mut r, m)| {
                        let t = m.reduce(self.t);
                        kernel::mul_const(backend, m, &mut r, (t, m.shoup(t)));
                        r
                    })
                    .collect();
                let coeff = Poly::<Eval>::from_rows(e, scaled)?.intt(e);
                self.drop_extended(&coeff, ctx)
            })
            .collect()
    }
}

/// An exact, reduced tensor sum in Q‖Bsk (Eval form): three polynomials' rows.
#[derive(Debug, Clone)]
pub struct TensorSum(Vec<Vec<Vec<u64>>>);

#[cfg(test)]
mod tests {
    use super::*;

    /// Canonical residues from a fixed LCG stream.
    fn poly(ctx: &PolyContext, seed: u64) -> Poly<Coeff> {
        let mut s = seed;
        let rows = ctx
            .moduli()
            .map(|q| {
                (0..ctx.degree())
                    .map(|_| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (s >> 33) % q.value()
                    })
                    .collect()
            })
            .collect();
        Poly::from_rows(ctx, rows).unwrap()
    }

    #[test]
    fn lazy_and_wide_tensor_sums_agree() {
        // Apple's UInt32 engine set: every modulus below 2^30, so `new` picks the lazy path;
        // the u128 reference path must give the same bits on the same sums.
        let ctx = PolyContext::new(64, &[134176769, 268369921, 268361729]).unwrap();
        let lazy = CtCtDot::new(&ctx, 17, Scalar::U32).unwrap();
        assert!(lazy.lazy);
        let mut wide = CtCtDot::new(&ctx, 17, Scalar::U32).unwrap();
        wide.lazy = false;
        // 20 pairs: more terms than one lazy budget, so the mid-sum reductions are exercised.
        let ct = |seed: u64| vec![poly(&ctx, seed), poly(&ctx, seed ^ 0xABCD)];
        let lhs: Vec<_> = (0..20).map(|i| ct(2 * i + 1)).collect();
        let rhs: Vec<_> = (0..20).map(|i| ct(2 * i + 2)).collect();
        let a = lazy.inner_product(&ctx, &lhs, &rhs).unwrap();
        let b = wide.inner_product(&ctx, &lhs, &rhs).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        // Handing over the right-hand sides in Eval form as well changes nothing.
        let rhs_eval: Vec<Vec<Poly<Eval>>> = rhs
            .iter()
            .map(|ct| ct.iter().map(|p| p.clone().ntt(&ctx)).collect())
            .collect();
        let sum = lazy.tensor_sum(&lhs, &rhs, Some(&rhs_eval)).unwrap();
        assert_eq!(lazy.finish(&ctx, sum).unwrap(), a);
        // Two parts merged give the whole sum.
        let (l1, l2) = lhs.split_at(7);
        let (r1, r2) = rhs.split_at(7);
        let merged = lazy.merge(
            lazy.tensor_sum(l1, r1, None).unwrap(),
            &lazy.tensor_sum(l2, r2, None).unwrap(),
        );
        assert_eq!(lazy.finish(&ctx, merged).unwrap(), a);
    }
}
