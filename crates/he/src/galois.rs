//! Galois automorphisms `f(X) ↦ f(X^g)` in Coeff form (spec bfv.md §3.5).

use crate::Error;
use crate::poly::{Coeff, Poly, PolyContext};

/// Applies σ_g to a Coeff polynomial; `g` must be odd with 1 < g < 2N.
pub fn apply(ctx: &PolyContext, poly: &Poly<Coeff>, g: u64) -> Result<Poly<Coeff>, Error> {
    let n = ctx.degree();
    if g % 2 == 0 || g <= 1 || g >= 2 * n as u64 {
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
