//! Seeded symmetric encryption of a coefficient plaintext (spec bfv.md §5.3, manifest
//! `rng.encryption`): `[-(INTT(a·s) + e) + Δ(m), INTT(a)]` with `a` expanded from a seed drawn
//! from the stream and `e` drawn from the same stream.

use crate::Error;
use crate::poly::{Coeff, Eval, Poly, PolyContext};
use crate::rng::{NistAes128Ctr, SEED_LEN};
use crate::sample;

/// A fresh ciphertext and the seed of its `c1`.
#[derive(Debug, Clone)]
pub struct Fresh {
    /// `[c0, c1]`, Coeff.
    pub polys: Vec<Poly<Coeff>>,
    /// The seed `a` was expanded from.
    pub seed: [u8; SEED_LEN],
}

/// Apple's plaintext embedding `Δ(m) = floor(Q/t)·m + floor(((Q mod t)·m + (t+1)/2) / t)`, per
/// modulus; it rounds the tie `(Q mod t)·m ≡ (t−1)/2 (mod t)` up. Supports Q < 2^64.
pub fn scale_plaintext(ctx: &PolyContext, values: &[u64], t: u64) -> Result<Poly<Coeff>, Error> {
    let big_q = ctx
        .moduli()
        .try_fold(1u64, |p, q| p.checked_mul(q.value()))
        .ok_or(Error::Unsupported("plaintext scaling with Q >= 2^64"))?;
    if values.len() != ctx.degree() {
        return Err(Error::CountMismatch {
            what: "plaintext coefficients",
            expected: ctx.degree(),
            got: values.len(),
        });
    }
    if let Some(&value) = values.iter().find(|&&m| m >= t) {
        return Err(Error::CoefficientOutOfRange { value, modulus: t });
    }
    let (q, t) = (u128::from(big_q), u128::from(t));
    let rows = ctx
        .moduli()
        .map(|qi| {
            values
                .iter()
                .map(|&m| {
                    let m = u128::from(m);
                    let v = (q / t) * m + ((q % t) * m + t.div_ceil(2)) / t;
                    (v % u128::from(qi.value())) as u64
                })
                .collect()
        })
        .collect();
    Poly::from_rows(ctx, rows)
}

/// Encrypts the coefficient plaintext `values` (mod t) under `secret` (Eval, over a context
/// whose first moduli are `ctx`'s), drawing the seed of `a` and then the error from `stream`.
pub fn encrypt(
    ctx: &PolyContext,
    secret: &Poly<Eval>,
    values: &[u64],
    t: u64,
    stream: &mut NistAes128Ctr,
) -> Result<Fresh, Error> {
    let delta_m = scale_plaintext(ctx, values, t)?;
    let seed: [u8; SEED_LEN] = stream.bytes();
    let a = sample::uniform_eval(ctx, &mut NistAes128Ctr::new(&seed))?;
    let e = sample::cbd(ctx, stream)?;
    let noisy = a
        .mul(&secret.truncate(ctx.len()), ctx)
        .intt(ctx)
        .add(&e, ctx);
    let c0 = delta_m.sub(&noisy, ctx);
    Ok(Fresh {
        polys: vec![c0, a.intt(ctx)],
        seed,
    })
}
