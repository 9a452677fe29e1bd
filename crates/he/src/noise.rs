//! Noise budget of a ciphertext (spec bfv.md §5.5; SEAL 2.2 manual, Definition 1), as Apple's
//! `noiseBudget` computes it: `log2(Q / (2·‖[t·(c0 + c1·s + …)]_Q‖∞))`.
//!
//! Test and diagnostics only: the budget is an oracle on the secret key and must never be sent
//! to anyone.

use crate::Error;
use crate::decrypt::dot_product;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// The noise budget in bits of the Coeff ciphertext `polys` over `ctx` under `secret` (Eval),
/// `+∞` for a noiseless ciphertext. Decryption is correct while it is positive. Supports
/// Q < 2^128 (every ciphertext level of the predefined sets but `insecure_n_512`'s top one).
pub fn noise_budget(
    ctx: &PolyContext,
    secret: &Poly<Eval>,
    polys: &[Poly<Coeff>],
    t: u64,
) -> Result<f64, Error> {
    let x = dot_product(ctx, secret, polys)?;
    let moduli: Vec<_> = ctx.moduli().collect();
    let big_q = moduli
        .iter()
        .try_fold(1u128, |p, q| p.checked_mul(u128::from(q.value())))
        .ok_or(Error::Unsupported("noise budget with Q >= 2^128"))?;
    // Garner: prefix products P_k = q_0…q_{k−1} and their inverses mod q_k.
    let mut prefix = Vec::with_capacity(moduli.len());
    let mut p = 1u128;
    for q in &moduli {
        prefix.push((p, q.inv(q.reduce_u128(p))));
        p *= u128::from(q.value());
    }
    let half_q = (big_q + 1) >> 1;
    let mut max = 0u128;
    for j in 0..ctx.degree() {
        // v = [x_j · t]_Q in [0, Q), one mixed-radix digit per modulus; each partial sum stays
        // below the prefix product, so nothing overflows.
        let mut v = 0u128;
        for ((row, q), &(p_k, p_k_inv)) in x.rows().iter().zip(&moduli).zip(&prefix) {
            let xt = q.mul(row[j], q.reduce(t));
            let digit = q.mul(q.sub(xt, q.reduce_u128(v)), p_k_inv);
            v += p_k * u128::from(digit);
        }
        let centered = if v > half_q { big_q - v } else { v };
        max = max.max(centered);
    }
    if max == 0 {
        return Ok(f64::INFINITY);
    }
    let q_f64: f64 = moduli.iter().map(|q| q.value() as f64).product();
    Ok((q_f64 / (2.0 * max as f64)).log2())
}
