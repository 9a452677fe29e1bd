//! Samplers driven by `NistAes128Ctr` (spec bfv.md §4.3, §4.5): uniform Eval polynomials from a
//! seed, ternary secrets and centered-binomial errors.

use crate::Error;
use crate::modulus::Modulus;
use crate::poly::{Coeff, Eval, Poly, PolyContext};
use crate::rng::NistAes128Ctr;

/// The uniform polynomial `a` of a seeded ciphertext: 16 LE bytes mod q_i per coefficient, row by row.
pub fn uniform_eval(ctx: &PolyContext, rng: &mut NistAes128Ctr) -> Result<Poly<Eval>, Error> {
    let moduli: Vec<Modulus> = ctx.moduli().collect();
    Poly::from_rows(ctx, uniform_rows(ctx.degree(), &moduli, rng))
}

/// Rows of [`uniform_eval`] for any moduli (also ones without an NTT).
pub fn uniform_rows(degree: usize, moduli: &[Modulus], rng: &mut NistAes128Ctr) -> Vec<Vec<u64>> {
    moduli
        .iter()
        .map(|q| {
            let q128 = u128::from(q.value());
            (0..degree)
                .map(|_| (rng.next_u128() % q128) as u64)
                .collect()
        })
        .collect()
}

/// Signed small values reduced into each modulus.
pub fn signed_rows(moduli: &[Modulus], values: &[i64]) -> Vec<Vec<u64>> {
    moduli
        .iter()
        .map(|q| {
            let m = q.value() as i64;
            values.iter().map(|&v| v.rem_euclid(m) as u64).collect()
        })
        .collect()
}

/// Ternary secret: per coefficient ((u64 << 32) | u32) mod 3, minus 1.
pub fn ternary(ctx: &PolyContext, rng: &mut NistAes128Ctr) -> Result<Poly<Coeff>, Error> {
    let moduli: Vec<Modulus> = ctx.moduli().collect();
    Poly::from_rows(
        ctx,
        signed_rows(&moduli, &ternary_values(ctx.degree(), rng)),
    )
}

/// The signed ternary values of [`ternary`].
pub fn ternary_values(degree: usize, rng: &mut NistAes128Ctr) -> Vec<i64> {
    (0..degree)
        .map(|_| {
            let hi = u128::from(rng.next_u64());
            let lo = u128::from(rng.next_u32());
            ((hi << 32 | lo) % 3) as i64 - 1
        })
        .collect()
}

/// Centered binomial error with k = 21 (σ = 3.2): popcount difference of two 21-bit words.
pub fn cbd(ctx: &PolyContext, rng: &mut NistAes128Ctr) -> Result<Poly<Coeff>, Error> {
    let moduli: Vec<Modulus> = ctx.moduli().collect();
    Poly::from_rows(ctx, signed_rows(&moduli, &cbd_values(ctx.degree(), rng)))
}

/// The signed values of [`cbd`].
pub fn cbd_values(degree: usize, rng: &mut NistAes128Ctr) -> Vec<i64> {
    const MASK: u64 = (1 << 21) - 1;
    (0..degree)
        .map(|_| {
            let pos = (rng.next_u64() & MASK).count_ones();
            let neg = (rng.next_u64() & MASK).count_ones();
            i64::from(pos) - i64::from(neg)
        })
        .collect()
}
