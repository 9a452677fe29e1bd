//! BEHZ ciphertext × ciphertext (spec bfv.md §5.9): lift Q → Q‖Bsk with a small Montgomery
//! reduction by m̃, tensor in Eval, then scale by t/Q with an approximate floor and the
//! Shenoy–Kumaresan conversion back to Q. The scalar width (u32/u64) fixes Bsk and m̃, and so
//! the rare rounding differences between Apple's two engines.

use std::sync::Arc;

use crate::Error;
use crate::kernel::{self, Backend};
use crate::modulus::Modulus;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// Apple's scalar engine, which fixes the BEHZ auxiliary base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `Bfv<UInt32>`: 29-bit Bsk primes, m̃ = 2^16.
    U32,
    /// `Bfv<UInt64>`: 61-bit Bsk primes, m̃ = 2^32.
    U64,
}

impl Scalar {
    fn bsk_bits(self) -> u32 {
        match self {
            Self::U32 => 29,
            Self::U64 => 61,
        }
    }
    fn m_tilde_bits(self) -> u32 {
        match self {
            Self::U32 => 16,
            Self::U64 => 32,
        }
    }
}

/// Deterministic Miller–Rabin for u64.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if let Some(&p) = BASES.iter().find(|&&p| n.is_multiple_of(p)) {
        return n == p;
    }
    let mul = |a: u64, b: u64| ((u128::from(a) * u128::from(b)) % u128::from(n)) as u64;
    let pow = |mut a: u64, mut e: u64| {
        let mut r = 1;
        while e > 0 {
            if e & 1 == 1 {
                r = mul(r, a);
            }
            a = mul(a, a);
            e >>= 1;
        }
        r
    };
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    BASES.iter().all(|&a| {
        let mut x = pow(a, d);
        if x == 1 || x == n - 1 {
            return true;
        }
        (1..s).any(|_| {
            x = mul(x, x);
            x == n - 1
        })
    })
}

/// The first `count` primes ≡ 1 mod 2N upward from 2^(bits−1)+1 (Apple's `preferringSmall`).
pub fn ntt_primes(bits: u32, degree: usize, count: usize) -> Vec<u64> {
    let step = 2 * degree as u64;
    let limit = 1u64 << bits;
    (0..)
        .map(|k| (1u64 << (bits - 1)) + 1 + k * step)
        .take_while(|&p| p < limit)
        .filter(|&p| is_prime(p))
        .take(count)
        .collect()
}

/// Fast base conversion constants from `from` to one modulus `c`: `(A/a_i) mod c`.
fn hat_mod(from: &[Modulus], i: usize, c: Modulus) -> u64 {
    from.iter()
        .enumerate()
        .filter(|&(k, _)| k != i)
        .fold(1 % c.value(), |acc, (_, a)| c.mul(acc, c.reduce(a.value())))
}

fn prod_mod(from: &[Modulus], c: Modulus) -> u64 {
    from.iter()
        .fold(1 % c.value(), |acc, a| c.mul(acc, c.reduce(a.value())))
}

/// `y_i = x_i · (A/a_i)^{-1} · k mod a_i`, per coefficient (`k = 1` for plain base conversion).
fn fbc_y_scaled(rows: &[Vec<u64>], from: &[Modulus], k: &[u64]) -> Vec<Vec<u64>> {
    rows.iter()
        .zip(from)
        .enumerate()
        .map(|(i, (row, &a))| {
            let c = a.mul(a.inv(hat_mod(from, i, a)), k.get(i).copied().unwrap_or(1));
            let mut y = row.clone();
            kernel::mul_const(Backend::best(), a, &mut y, (c, a.shoup(c)));
            y
        })
        .collect()
}

/// `y_i = x_i · (A/a_i)^{-1} mod a_i`, per coefficient.
fn fbc_y(rows: &[Vec<u64>], from: &[Modulus]) -> Vec<Vec<u64>> {
    fbc_y_scaled(rows, from, &[])
}

/// `Σ_i y_i · ((A/a_i) mod c) mod c`: summed unreduced in u64 when every product fits the
/// accumulator, else term by term.
fn fbc_to(y: &[Vec<u64>], from: &[Modulus], c: Modulus, n: usize) -> Vec<u64> {
    let hats: Vec<u64> = (0..from.len()).map(|i| hat_mod(from, i, c)).collect();
    let bound = from.iter().try_fold(c.value(), |s, a| {
        (a.value() < 1 << 32)
            .then(|| (a.value() - 1).checked_mul(c.value() - 1))
            .flatten()
            .and_then(|p| s.checked_add(p))
    });
    if c.value() < 1 << 32 && bound.is_some() {
        let backend = Backend::best();
        let mut acc = vec![0u64; n];
        for (row, &h) in y.iter().zip(&hats) {
            kernel::mul_acc_const(backend, &mut acc, row, h);
        }
        kernel::reduce(c, &mut acc);
        return acc;
    }
    let mut acc = vec![0u64; n];
    for (row, &h) in y.iter().zip(&hats) {
        let hs = c.shoup(h);
        for (s, &x) in acc.iter_mut().zip(row) {
            *s = c.add(*s, c.mul_shoup(x, h, hs));
        }
    }
    acc
}

/// Precomputed bases of one ciphertext level.
pub struct Behz {
    q: Vec<Modulus>,
    bsk: Vec<Modulus>,
    qbsk: Arc<PolyContext>,
    m_tilde_bits: u32,
    t: u64,
}

impl Behz {
    /// Bases for ciphertexts over `ctx` (the top level: all ciphertext moduli) and plaintext `t`.
    pub fn new(ctx: &PolyContext, t: u64, scalar: Scalar) -> Result<Self, Error> {
        let q: Vec<Modulus> = ctx.moduli().collect();
        let primes = ntt_primes(scalar.bsk_bits(), ctx.degree(), q.len() + 1);
        if primes.len() != q.len() + 1 {
            return Err(Error::Unsupported("not enough Bsk primes"));
        }
        let bsk = primes
            .iter()
            .map(|&p| Modulus::new(p))
            .collect::<Result<Vec<_>, _>>()?;
        let all: Vec<u64> = q.iter().chain(&bsk).map(|m| m.value()).collect();
        let qbsk = PolyContext::new(ctx.degree(), &all)?;
        Ok(Self {
            q,
            bsk,
            qbsk,
            m_tilde_bits: scalar.m_tilde_bits(),
            t,
        })
    }

    /// Lifts a Coeff polynomial over Q to Q‖Bsk (centered representative, Montgomery by m̃).
    fn lift(&self, x: &Poly<Coeff>) -> Result<Poly<Coeff>, Error> {
        let n = self.qbsk.degree();
        let mt = 1u64 << self.m_tilde_bits;
        let mask = mt - 1;
        // z = x·m̃ folded into the base-conversion factor: y = x·m̃·(Q/q_i)^{-1} mod q_i.
        let mt_mod: Vec<u64> = self.q.iter().map(|q| q.reduce(mt)).collect();
        let y = fbc_y_scaled(x.rows(), &self.q, &mt_mod);
        // FBC into m̃ with wrapping arithmetic.
        let hats_mt: Vec<u64> = (0..self.q.len())
            .map(|i| {
                self.q
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != i)
                    .fold(1u64, |a, (_, m)| a.wrapping_mul(m.value()) & mask)
            })
            .collect();
        let q_mt = self
            .q
            .iter()
            .fold(1u64, |a, m| a.wrapping_mul(m.value()) & mask);
        // −Q^{-1} mod m̃ by Newton iteration (Q odd).
        let mut inv = 1u64;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(q_mt.wrapping_mul(inv))) & mask;
        }
        let neg_q_inv = inv.wrapping_neg() & mask;
        let mut r = vec![0u64; n];
        for (row, &h) in y.iter().zip(&hats_mt) {
            for (s, &v) in r.iter_mut().zip(row) {
                *s = s.wrapping_add(v.wrapping_mul(h));
            }
        }
        for c in &mut r {
            *c = (*c & mask).wrapping_mul(neg_q_inv) & mask;
        }
        let mut rows = x.rows().to_vec();
        for &b in &self.bsk {
            let mut c = fbc_to(&y, &self.q, b, n);
            let q_b = prod_mod(&self.q, b);
            let q_bs = b.shoup(q_b);
            let mt_inv = b.inv(b.reduce(mt));
            let mt_invs = b.shoup(mt_inv);
            for (cb, &rj) in c.iter_mut().zip(&r) {
                // r as a centered residue mod m̃, then mod b.
                let rb = if rj < mt / 2 {
                    rj
                } else {
                    b.reduce(rj + b.value() - mt)
                };
                *cb = b.mul_shoup(b.add(*cb, b.mul_shoup(rb, q_b, q_bs)), mt_inv, mt_invs);
            }
            rows.push(c);
        }
        Poly::from_rows(&self.qbsk, rows)
    }

    /// Scales a Coeff polynomial over Q‖Bsk (already times t) by 1/Q back to Q.
    fn drop_extended(&self, x: &Poly<Coeff>, ctx: &PolyContext) -> Result<Poly<Coeff>, Error> {
        let n = self.qbsk.degree();
        let (xq, xb) = x.rows().split_at(self.q.len());
        let y = fbc_y(xq, &self.q);
        let backend = Backend::best();
        let f: Vec<Vec<u64>> = self
            .bsk
            .iter()
            .zip(xb)
            .map(|(&b, row)| {
                let v = fbc_to(&y, &self.q, b, n);
                let q_inv = b.inv(prod_mod(&self.q, b));
                // (x_b − v_b)·Q^{-1} with v_b canonical, so adding b covers the subtraction.
                let mut out = row.clone();
                kernel::mul_shoup_shifted(
                    backend,
                    b,
                    &mut out,
                    &v,
                    b.value(),
                    (q_inv, b.shoup(q_inv)),
                );
                out
            })
            .collect();
        let (m_sk, base) = self
            .bsk
            .split_last()
            .ok_or(Error::Unsupported("empty Bsk"))?;
        let (f_sk, f_b) = f.split_last().ok_or(Error::Unsupported("empty Bsk"))?;
        let yb = fbc_y(f_b, base);
        let mut alpha = fbc_to(&yb, base, *m_sk, n);
        let b_inv_sk = m_sk.inv(prod_mod(base, *m_sk));
        let w = (b_inv_sk, m_sk.shoup(b_inv_sk));
        kernel::mul_shoup_shifted(backend, *m_sk, &mut alpha, f_sk, m_sk.value(), w);
        let half = m_sk.value() / 2;
        let rows = self
            .q
            .iter()
            .map(|&q| {
                let mut o = fbc_to(&yb, base, q, n);
                let b_q = prod_mod(base, q);
                let (pos, neg) = ((b_q, q.shoup(b_q)), (q.neg(b_q), q.shoup(q.neg(b_q))));
                for (oi, &a) in o.iter_mut().zip(&alpha) {
                    // α as a centered residue mod m_sk: +B·(m_sk − α) or −B·α.
                    let t = if a > half {
                        q.mul_shoup(m_sk.value() - a, pos.0, pos.1)
                    } else {
                        q.mul_shoup(a, neg.0, neg.1)
                    };
                    *oi = q.add(*oi, t);
                }
                o
            })
            .collect();
        Poly::from_rows(ctx, rows)
    }

    /// `ct × ct` of two 2-polynomial Coeff ciphertexts over `ctx`: 3 Coeff polynomials over Q.
    pub fn multiply(
        &self,
        ctx: &PolyContext,
        a: &[Poly<Coeff>],
        b: &[Poly<Coeff>],
    ) -> Result<Vec<Poly<Coeff>>, Error> {
        let ([a0, a1], [b0, b1]) = (a, b) else {
            return Err(Error::CountMismatch {
                what: "ciphertext polynomials",
                expected: 2,
                got: a.len().max(b.len()),
            });
        };
        let e = &self.qbsk;
        let lift = |p: &Poly<Coeff>| -> Result<Poly<Eval>, Error> { Ok(self.lift(p)?.ntt(e)) };
        let (a0, a1, b0, b1) = (lift(a0)?, lift(a1)?, lift(b0)?, lift(b1)?);
        let d = [
            a0.mul(&b0, e),
            a0.mul(&b1, e).add(&a1.mul(&b0, e), e),
            a1.mul(&b1, e),
        ];
        d.iter()
            .map(|p| {
                let rows: Vec<Vec<u64>> = p
                    .rows()
                    .iter()
                    .zip(e.moduli())
                    .map(|(r, m)| {
                        let t = m.reduce(self.t);
                        let mut r = r.clone();
                        kernel::mul_const(Backend::best(), m, &mut r, (t, m.shoup(t)));
                        r
                    })
                    .collect();
                let scaled = Poly::<Eval>::from_rows(e, rows)?.intt(e);
                self.drop_extended(&scaled, ctx)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes() {
        assert!(is_prime(268369921) && is_prime(2305843009213693951));
        assert!(!is_prime(268369921u64 * 3));
        let p = ntt_primes(29, 4096, 3);
        assert_eq!(p.len(), 3);
        assert!(
            p.iter()
                .all(|&x| x % 8192 == 1 && x > 1 << 28 && x < 1 << 29)
        );
    }
}
