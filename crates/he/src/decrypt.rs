//! BFV decryption with coefficient decoding (spec bfv.md §5.4): `m = round(t·[c0 + c1·s + c2·s² …]_Q / Q) mod t`.

use crate::Error;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// Decrypts the ciphertext `polys` (Coeff, over `ctx`) under the Eval-form secret key `secret`
/// (over a context whose first moduli are `ctx`'s) to its plaintext coefficients mod `t`.
/// Supports Q < 2^64 (one or two moduli of the n=4096 sets).
pub fn decrypt(
    ctx: &PolyContext,
    secret: &Poly<Eval>,
    polys: &[Poly<Coeff>],
    t: u64,
) -> Result<Vec<u64>, Error> {
    let Some((c0, rest)) = polys.split_first() else {
        return Err(Error::CountMismatch {
            what: "ciphertext polynomials",
            expected: 2,
            got: 0,
        });
    };
    let s = secret.truncate(ctx.len());
    let mut acc = c0.clone();
    let mut s_pow = s.clone();
    for c in rest {
        let term = c.clone().ntt(ctx).mul(&s_pow, ctx).intt(ctx);
        acc = acc.add(&term, ctx);
        s_pow = s_pow.mul(&s, ctx);
    }
    let moduli: Vec<u64> = ctx.moduli().map(|q| q.value()).collect();
    let big_q = moduli
        .iter()
        .try_fold(1u64, |p, &q| p.checked_mul(q))
        .ok_or(Error::Unsupported("decryption with Q >= 2^64"))?;
    let q128 = u128::from(big_q);
    // CRT basis: (Q/q_i) and (Q/q_i)^{-1} mod q_i.
    let basis: Vec<(u64, u64)> = ctx
        .moduli()
        .map(|q| {
            let hat = big_q / q.value();
            (hat, q.inv(q.reduce(hat)))
        })
        .collect();
    let out = (0..ctx.degree())
        .map(|j| {
            let x = acc.rows().iter().zip(ctx.moduli()).zip(&basis).fold(
                0u128,
                |s, ((row, q), &(hat, hat_inv))| {
                    (s + u128::from(q.mul(row[j], hat_inv)) * u128::from(hat)) % q128
                },
            );
            // round(t·x/Q) = floor((2·t·x + Q) / 2Q)
            let m = (2 * u128::from(t) * x + q128) / (2 * q128);
            (m % u128::from(t)) as u64
        })
        .collect();
    Ok(out)
}
