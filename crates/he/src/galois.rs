//! Galois automorphisms `f(X) ↦ f(X^g)` in Coeff form (spec bfv.md §3.5).

use crate::Error;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// Applies σ_g to a Coeff polynomial; `g` must be odd with 1 < g < 2N.
pub fn apply(ctx: &PolyContext, poly: &Poly<Coeff>, g: u64) -> Result<Poly<Coeff>, Error> {
    let n = ctx.degree();
    if g.is_multiple_of(2) || g <= 1 || g >= 2 * n as u64 {
        return Err(Error::BadGaloisElement(g));
    }
    // i·g mod 2N says where coefficient i lands (mod N) and whether it wraps an odd number of
    // times past X^N = −1 (bit N); N is a power of two, so both are masks.
    let mask = 2 * n as u64 - 1;
    let rows = poly
        .rows()
        .iter()
        .zip(ctx.moduli())
        .map(|(row, q)| {
            let mut out = vec![0; n];
            let mut raw = 0u64;
            for &c in row {
                let target = (raw & (n as u64 - 1)) as usize;
                if let Some(o) = out.get_mut(target) {
                    *o = if raw & n as u64 != 0 { q.neg(c) } else { c };
                }
                raw = (raw + g) & mask;
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
