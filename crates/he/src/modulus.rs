//! A word-sized prime modulus and exact modular arithmetic on canonical residues (spec bfv.md §3.1).
//! Products go through u128; nothing serialized depends on the reduction method.

use crate::Error;

/// A prime modulus q < 2^62.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modulus {
    q: u64,
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
        Ok(Self { q })
    }

    /// The modulus value.
    pub fn value(self) -> u64 {
        self.q
    }

    /// ceil(log2 q): the serialized width of a residue.
    pub fn bits(self) -> u32 {
        64 - (self.q - 1).leading_zeros()
    }

    /// (a + b) mod q for canonical a, b.
    pub fn add(self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.q { s - self.q } else { s }
    }

    /// (a − b) mod q for canonical a, b.
    pub fn sub(self, a: u64, b: u64) -> u64 {
        if a >= b { a - b } else { a + self.q - b }
    }

    /// −a mod q.
    pub fn neg(self, a: u64) -> u64 {
        if a == 0 { 0 } else { self.q - a }
    }

    /// a·b mod q.
    pub fn mul(self, a: u64, b: u64) -> u64 {
        ((u128::from(a) * u128::from(b)) % u128::from(self.q)) as u64
    }

    /// x mod q for any u64.
    pub fn reduce(self, x: u64) -> u64 {
        x % self.q
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
    fn root_is_primitive_and_minimal() {
        let m = Modulus::new(12289).unwrap();
        let psi = m.min_primitive_root(1024).unwrap();
        assert_eq!(m.pow(psi, 1024), 12288);
        assert!((2..psi).all(|g| m.pow(g, 1024) != 12288 || m.pow(g, 2048) != 1));
    }
}
