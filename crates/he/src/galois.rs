//! Galois automorphisms `f(X) ↦ f(X^g)` in Coeff form (spec bfv.md §3.5).

use crate::Error;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// Applies σ_g to a Coeff polynomial; `g` must be odd with 1 < g < 2N.
pub fn apply(ctx: &PolyContext, poly: &Poly<Coeff>, g: u64) -> Result<Poly<Coeff>, Error> {
    let n = ctx.degree();
    if g.is_multiple_of(2) || g <= 1 || g >= 2 * n as u64 {
        return Err(Error::BadGaloisElement(g));
    }
    let rows = poly
        .rows()
        .iter()
        .zip(ctx.moduli())
        .map(|(row, q)| {
            let mut out = vec![0; n];
            for (i, &c) in row.iter().enumerate() {
                let raw = i as u64 * g;
                let target = (raw % n as u64) as usize;
                out[target] = if (raw / n as u64) % 2 == 1 {
                    q.neg(c)
                } else {
                    c
                };
            }
            out
        })
        .collect();
    Ok(Poly::from_rows_unchecked(rows))
}

fn bit_reverse(x: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        x.reverse_bits() >> (usize::BITS - bits)
    }
}

/// Applies σ_g to an Eval polynomial: the slot permutation
/// `out[i] = in[brv(((g·(2·brv(i)+1)) >> 1) mod N)]`, the same for every row.
pub fn apply_eval(ctx: &PolyContext, poly: &Poly<Eval>, g: u64) -> Result<Poly<Eval>, Error> {
    let n = ctx.degree();
    if g.is_multiple_of(2) || g <= 1 || g >= 2 * n as u64 {
        return Err(Error::BadGaloisElement(g));
    }
    let bits = n.trailing_zeros();
    let perm: Vec<usize> = (0..n)
        .map(|i| {
            let odd = 2 * bit_reverse(i, bits) as u64 + 1;
            bit_reverse((((g * odd) >> 1) % n as u64) as usize, bits)
        })
        .collect();
    let rows = poly
        .rows()
        .iter()
        .map(|row| perm.iter().map(|&j| row[j]).collect())
        .collect();
    Ok(Poly::from_rows_unchecked(rows))
}
