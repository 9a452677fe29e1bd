//! A word-sized prime modulus and exact modular arithmetic on canonical residues (spec bfv.md §3.1).
//! Products are reduced with Barrett's method (precomputed `floor(2^128/q)`), constant factors
//! with Shoup's; both are exact, so nothing serialized depends on the reduction method.

use crate::Error;

/// A prime modulus q < 2^62.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modulus {
    q: u64,
    /// `floor(2^128 / q)` as (low, high) words, for Barrett reduction of products.
    ratio: (u64, u64),
}

/// High word of a 64×64-bit product.
#[inline(always)]
fn mul_hi(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 64) as u64
}

impl Modulus {
    /// Wraps `q`; it must be in [2, 2^62).
    pub fn new(q: u64) -> Result<Self, Error> {
        if !(2..1 << 62).contains(&q) {
            return Err(Error::BadModulus {
                modulus: q,
                degree: 0,
                reason: "not in [2, 2^62)",
            });
        }
        // floor(2^128/q) from 2^128 − 1 = u128::MAX: one more when q divides 2^128.
        let (d, m) = (u128::MAX / u128::from(q), u128::MAX % u128::from(q));
        let r = if m == u128::from(q) - 1 { d + 1 } else { d };
        Ok(Self {
            q,
            ratio: (r as u64, (r >> 64) as u64),
        })
    }

    /// The modulus value.
    #[inline(always)]
    pub fn value(self) -> u64 {
        self.q
    }

    /// ceil(log2 q): the serialized width of a residue.
    pub fn bits(self) -> u32 {
        64 - (self.q - 1).leading_zeros()
    }

    /// (a + b) mod q for canonical a, b.
    #[inline(always)]
    pub fn add(self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.q { s - self.q } else { s }
    }

    /// (a − b) mod q for canonical a, b.
    #[inline(always)]
    pub fn sub(self, a: u64, b: u64) -> u64 {
        if a >= b { a - b } else { a + self.q - b }
    }

    /// −a mod q.
    #[inline(always)]
    pub fn neg(self, a: u64) -> u64 {
        if a == 0 { 0 } else { self.q - a }
    }

    /// a·b mod q (exact for any u64 a, b).
    #[inline(always)]
    pub fn mul(self, a: u64, b: u64) -> u64 {
        self.reduce_u128(u128::from(a) * u128::from(b))
    }

    /// x mod q for any u128, by Barrett: the quotient estimate `floor(x·floor(2^128/q)/2^128)`
    /// is at most 1 below the true quotient, so one conditional subtraction is left.
    #[inline(always)]
    pub fn reduce_u128(self, x: u128) -> u64 {
        let (x0, x1) = (x as u64, (x >> 64) as u64);
        let (r0, r1) = self.ratio;
        // floor(x·r / 2^128) mod 2^64: only the low quotient word is needed, as the remainder
        // (< 2q < 2^63) is recovered in wrapping u64 arithmetic.
        let mid = u128::from(x1) * u128::from(r0) + u128::from(mul_hi(x0, r0));
        let mid = mid.wrapping_add(u128::from(x0) * u128::from(r1));
        let quot = x1.wrapping_mul(r1).wrapping_add((mid >> 64) as u64);
        let r = x0.wrapping_sub(quot.wrapping_mul(self.q));
        if r >= self.q { r - self.q } else { r }
    }

    /// x mod q for any u64.
    #[inline(always)]
    pub fn reduce(self, x: u64) -> u64 {
        // floor(2^64/q) is the high ratio word; the estimate is at most 1 below the quotient.
        let quot = mul_hi(x, self.ratio.1);
        let r = x - quot * self.q;
        if r >= self.q { r - self.q } else { r }
    }

    /// Shoup's companion `floor(w·2^64 / q)` of a constant factor `w < q`, for [`Self::mul_shoup`].
    pub fn shoup(self, w: u64) -> u64 {
        ((u128::from(w) << 64) / u128::from(self.q)) as u64
    }

    /// `x·w mod q` for any u64 `x`, given `w < q` and `w_shoup = self.shoup(w)`.
    #[inline(always)]
    pub fn mul_shoup(self, x: u64, w: u64, w_shoup: u64) -> u64 {
        let r = self.mul_shoup_lazy(x, w, w_shoup);
        if r >= self.q { r - self.q } else { r }
    }

    /// `x·w mod q` up to one extra q: a value in [0, 2q) (Harvey's lazy form).
    #[inline(always)]
    pub fn mul_shoup_lazy(self, x: u64, w: u64, w_shoup: u64) -> u64 {
        let quot = mul_hi(x, w_shoup);
        x.wrapping_mul(w).wrapping_sub(quot.wrapping_mul(self.q))
    }

    /// a^e mod q.
    pub fn pow(self, mut a: u64, mut e: u64) -> u64 {
        let mut r = 1 % self.q;
        a %= self.q;
        while e > 0 {
            if e & 1 == 1 {
                r = self.mul(r, a);
            }
            a = self.mul(a, a);
            e >>= 1;
        }
        r
    }

    /// a^{-1} mod q (q prime, a ≠ 0).
    pub fn inv(self, a: u64) -> u64 {
        self.pow(a, self.q - 2)
    }

    /// The smallest primitive 2n-th root of unity mod q (Apple's choice, spec §3.2).
    pub fn min_primitive_root(self, n: usize) -> Result<u64, Error> {
        let two_n = 2 * n as u64;
        let bad = |reason| Error::BadModulus {
            modulus: self.q,
            degree: n,
            reason,
        };
        if !(self.q - 1).is_multiple_of(two_n) {
            return Err(bad("q != 1 mod 2n"));
        }
        let cofactor = (self.q - 1) / two_n;
        let psi = (2..self.q.min(1 << 20))
            .map(|g| self.pow(g, cofactor))
            .find(|&psi| self.pow(psi, n as u64) == self.q - 1)
            .ok_or(bad("no primitive 2n-th root found"))?;
        // The primitive 2n-th roots are psi^k for odd k; take the smallest.
        let step = self.mul(psi, psi);
        let mut cur = psi;
        let mut best = psi;
        for _ in 0..n {
            best = best.min(cur);
            cur = self.mul(cur, step);
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn arithmetic_is_exact() {
        let m = Modulus::new(268369921).unwrap();
        assert_eq!(m.mul(268369920, 268369920), 1);
        assert_eq!(m.add(268369920, 5), 4);
        assert_eq!(m.sub(3, 5), 268369919);
        assert_eq!(m.mul(m.inv(12345), 12345), 1);
        assert_eq!(m.bits(), 28);
    }

    #[test]
    fn extremes_reduce_exactly() {
        for q in [2, 3, 12289, 268369921, (1 << 61) - 1, (1 << 62) - 57] {
            let m = Modulus::new(q).unwrap();
            for x in [0, 1, q - 1, q, u64::MAX, u64::MAX - 1] {
                assert_eq!(m.reduce(x), x % q, "{x} mod {q}");
                assert_eq!(m.mul(x, x), ((x as u128 * x as u128) % q as u128) as u64);
            }
            assert_eq!(m.reduce_u128(u128::MAX), (u128::MAX % q as u128) as u64);
        }
    }

    proptest! {
        #[test]
        fn barrett_and_shoup_match_remainder(q in 2u64..1 << 62, a: u64, b: u64, x: u128) {
            let m = Modulus::new(q).unwrap();
            let want = |v: u128| (v % u128::from(q)) as u64;
            prop_assert_eq!(m.mul(a, b), want(u128::from(a) * u128::from(b)));
            prop_assert_eq!(m.reduce(a), a % q);
            prop_assert_eq!(m.reduce_u128(x), want(x));
            let w = b % q;
            let lazy = m.mul_shoup_lazy(a, w, m.shoup(w));
            prop_assert!(lazy < 2 * q);
            prop_assert_eq!(m.mul_shoup(a, w, m.shoup(w)), want(u128::from(a) * u128::from(w)));
        }
    }

    #[test]
    fn root_is_primitive_and_minimal() {
        let m = Modulus::new(12289).unwrap();
        let psi = m.min_primitive_root(1024).unwrap();
        assert_eq!(m.pow(psi, 1024), 12288);
        assert!((2..psi).all(|g| m.pow(g, 1024) != 12288 || m.pow(g, 2048) != 1));
    }
}
