//! Negacyclic NTT with the smallest primitive 2N-th root and bit-reversed output (spec bfv.md §3.2):
//! `Eval[i] = Σ_j a_j ψ^{(2·brv(i)+1)·j}`.

use crate::Error;
use crate::modulus::Modulus;

/// Twiddle tables for one modulus and degree.
#[derive(Debug, Clone)]
pub struct Ntt {
    modulus: Modulus,
    /// `fwd[brv(k)] = ψ^k`.
    fwd: Vec<u64>,
    /// `inv[brv(k)] = ψ^{-k}`.
    inv: Vec<u64>,
    /// Shoup companions `floor(w·2^64 / q)` of `fwd` and `inv`.
    fwd_shoup: Vec<u64>,
    inv_shoup: Vec<u64>,
    n_inv: u64,
}

/// Shoup's constant multiplication: `w·x mod q` given `w' = floor(w·2^64/q)`; exact for q < 2^62.
#[inline(always)]
fn mul_shoup(x: u64, w: u64, w_shoup: u64, q: u64) -> u64 {
    let hi = ((u128::from(x) * u128::from(w_shoup)) >> 64) as u64;
    let r = x.wrapping_mul(w).wrapping_sub(hi.wrapping_mul(q));
    if r >= q { r - q } else { r }
}

fn shoup(w: u64, q: u64) -> u64 {
    ((u128::from(w) << 64) / u128::from(q)) as u64
}

fn bit_reverse(x: usize, log_n: u32) -> usize {
    if log_n == 0 {
        0
    } else {
        x.reverse_bits() >> (usize::BITS - log_n)
    }
}

impl Ntt {
    /// Builds the tables for degree `n` (a power of two) and `modulus`.
    pub fn new(modulus: Modulus, n: usize) -> Result<Self, Error> {
        if n < 2 || !n.is_power_of_two() {
            return Err(Error::BadDegree(n));
        }
        let psi = modulus.min_primitive_root(n)?;
        let psi_inv = modulus.inv(psi);
        let log_n = n.trailing_zeros();
        let mut fwd = vec![0; n];
        let mut inv = vec![0; n];
        let (mut p, mut pi) = (1, 1);
        for k in 0..n {
            let r = bit_reverse(k, log_n);
            fwd[r] = p;
            inv[r] = pi;
            p = modulus.mul(p, psi);
            pi = modulus.mul(pi, psi_inv);
        }
        let n_inv = modulus.inv(n as u64 % modulus.value());
        let q = modulus.value();
        Ok(Self {
            modulus,
            fwd_shoup: fwd.iter().map(|&w| shoup(w, q)).collect(),
            inv_shoup: inv.iter().map(|&w| shoup(w, q)).collect(),
            fwd,
            inv,
            n_inv,
        })
    }

    /// The modulus.
    pub fn modulus(&self) -> Modulus {
        self.modulus
    }

    /// In-place forward transform of `a` (length n, canonical).
    pub fn forward(&self, a: &mut [u64]) {
        let q = self.modulus;
        let n = a.len();
        let mut m = 1;
        while m < n {
            let t = n / (2 * m);
            for i in 0..m {
                let (w, ws) = (self.fwd[m + i], self.fwd_shoup[m + i]);
                let (lo, hi) = a[2 * i * t..2 * i * t + 2 * t].split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi) {
                    let v = mul_shoup(*y, w, ws, q.value());
                    let u = *x;
                    *x = q.add(u, v);
                    *y = q.sub(u, v);
                }
            }
            m *= 2;
        }
    }

    /// In-place inverse transform (exact inverse of [`Ntt::forward`]).
    pub fn inverse(&self, a: &mut [u64]) {
        let q = self.modulus;
        let n = a.len();
        let mut m = n / 2;
        while m >= 1 {
            let t = n / (2 * m);
            for i in 0..m {
                let (w, ws) = (self.inv[m + i], self.inv_shoup[m + i]);
                let (lo, hi) = a[2 * i * t..2 * i * t + 2 * t].split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi) {
                    let (u, v) = (*x, *y);
                    *x = q.add(u, v);
                    *y = mul_shoup(q.sub(u, v), w, ws, q.value());
                }
            }
            m /= 2;
        }
        let ns = shoup(self.n_inv, q.value());
        for x in a.iter_mut() {
            *x = mul_shoup(*x, self.n_inv, ns, q.value());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_definition_and_inverts() {
        let q = Modulus::new(97).unwrap();
        let n = 8;
        let ntt = Ntt::new(q, n).unwrap();
        let psi = q.min_primitive_root(n).unwrap();
        let a: Vec<u64> = (0..n as u64).map(|i| (i * i + 1) % 97).collect();
        let mut b = a.clone();
        ntt.forward(&mut b);
        for (i, &bi) in b.iter().enumerate() {
            let e = 2 * bit_reverse(i, 3) as u64 + 1;
            let want = a.iter().enumerate().fold(0, |s, (j, &aj)| {
                q.add(s, q.mul(aj, q.pow(psi, e * j as u64)))
            });
            assert_eq!(bi, want, "slot {i}");
        }
        ntt.inverse(&mut b);
        assert_eq!(a, b);
    }
}
