//! Negacyclic NTT with the smallest primitive 2N-th root and bit-reversed output (spec bfv.md §3.2):
//! `Eval[i] = Σ_j a_j ψ^{(2·brv(i)+1)·j}`. The butterflies run in [`crate::kernel`].

use std::sync::Arc;

use crate::Error;
use crate::kernel::{self, Backend, NttTables};
use crate::modulus::Modulus;

/// Twiddle tables for one modulus and degree.
#[derive(Debug, Clone)]
pub struct Ntt {
    modulus: Modulus,
    /// `fwd[brv(k)] = ψ^k` and `inv[brv(k)] = ψ^{-k}`, with Shoup companions; shared, so the
    /// contexts made per operation (prefixes, key-switching bases) do not copy them.
    tables: Arc<NttTables>,
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
        Ok(Self {
            modulus,
            tables: Arc::new(NttTables::new(modulus, fwd, inv)?),
        })
    }

    /// The modulus.
    pub fn modulus(&self) -> Modulus {
        self.modulus
    }

    /// The tables the kernels run on.
    pub fn tables(&self) -> &NttTables {
        &self.tables
    }

    /// In-place forward transform of `a` (length n, canonical).
    pub fn forward(&self, a: &mut [u64]) {
        kernel::ntt_forward(Backend::best(), &self.tables, a);
    }

    /// In-place inverse transform (exact inverse of [`Ntt::forward`]).
    pub fn inverse(&self, a: &mut [u64]) {
        kernel::ntt_inverse(Backend::best(), &self.tables, a);
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
