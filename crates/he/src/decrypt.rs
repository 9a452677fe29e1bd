//! BFV decryption (spec bfv.md §5.4): the dot product `c0 + c1·s + c2·s² + …` in Coeff, then
//! Apple's `scaleAndRound` (eprint 2016/510 Alg. 2 with the correction factor γ), which needs no
//! big integers and so works for any number of moduli (Q ≥ 2^64 included).

use crate::Error;
use crate::behz::Scalar;
use crate::modulus::Modulus;
use crate::params::rns_correction_factor;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// `c0 + c1·s + c2·s² + …` over `ctx` in Coeff form, for a Coeff ciphertext `polys` and an
/// Eval-form secret key over a context whose first moduli are `ctx`'s.
pub fn dot_product(
    ctx: &PolyContext,
    secret: &Poly<Eval>,
    polys: &[Poly<Coeff>],
) -> Result<Poly<Coeff>, Error> {
    let Some((c0, rest)) = polys.split_first() else {
        return Err(Error::CountMismatch {
            what: "ciphertext polynomials",
            expected: 2,
            got: 0,
        });
    };
    if secret.rows().len() < ctx.len() {
        return Err(Error::CountMismatch {
            what: "secret key moduli",
            expected: ctx.len(),
            got: secret.rows().len(),
        });
    }
    let s = secret.truncate(ctx.len());
    let mut acc = c0.clone();
    let mut s_pow = s.clone();
    for c in rest {
        let term = c.clone().ntt(ctx).mul(&s_pow, ctx).intt(ctx);
        acc = acc.add(&term, ctx);
        s_pow = s_pow.mul(&s, ctx);
    }
    Ok(acc)
}

/// Decrypts the ciphertext `polys` (Coeff, over `ctx`) under the Eval-form secret key `secret`
/// to its plaintext coefficients mod `t`, with `Bfv<UInt64>`'s γ. Every engine gives the same
/// plaintext whenever the noise allows decryption.
pub fn decrypt(
    ctx: &PolyContext,
    secret: &Poly<Eval>,
    polys: &[Poly<Coeff>],
    t: u64,
) -> Result<Vec<u64>, Error> {
    decrypt_with(ctx, secret, polys, t, Scalar::U64)
}

/// [`decrypt`] with the γ of the engine `scalar`, bit for bit as that engine decrypts.
pub fn decrypt_with(
    ctx: &PolyContext,
    secret: &Poly<Eval>,
    polys: &[Poly<Coeff>],
    t: u64,
    scalar: Scalar,
) -> Result<Vec<u64>, Error> {
    let x = dot_product(ctx, secret, polys)?;
    scale_and_round(ctx, &x, t, rns_correction_factor(scalar))
}

/// `round(t·x/Q) mod t` per coefficient by fast base conversion to {t, γ}.
fn scale_and_round(
    ctx: &PolyContext,
    x: &Poly<Coeff>,
    t: u64,
    gamma: u64,
) -> Result<Vec<u64>, Error> {
    let tm = Modulus::new(t)?;
    let gm = Modulus::new(gamma)?;
    let moduli: Vec<Modulus> = ctx.moduli().collect();
    if let Some(q) = moduli.iter().find(|q| {
        let q = q.value();
        q == t || q == gamma || q.is_multiple_of(t) || q.is_multiple_of(gamma)
    }) {
        return Err(Error::BadModulus {
            modulus: q.value(),
            degree: ctx.degree(),
            reason: "must be coprime to t and the correction factor",
        });
    }
    // Per modulus i: (γ·t·q̂_i^{-1}) mod q_i, q̂_i mod t, q̂_i mod γ, with q̂_i = Q/q_i.
    let hat_mod = |m: Modulus, i: usize| {
        moduli
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .fold(1 % m.value(), |p, (_, q)| m.mul(p, m.reduce(q.value())))
    };
    let basis: Vec<(u64, u64, u64)> = moduli
        .iter()
        .enumerate()
        .map(|(i, &q)| {
            let gamma_t = q.mul(q.reduce(gamma), q.reduce(t));
            (
                q.mul(gamma_t, q.inv(hat_mod(q, i))),
                hat_mod(tm, i),
                hat_mod(gm, i),
            )
        })
        .collect();
    // −Q^{-1} mod t and mod γ.
    let neg_q_inv = |m: Modulus| {
        let q = moduli
            .iter()
            .fold(1 % m.value(), |p, q| m.mul(p, m.reduce(q.value())));
        m.neg(m.inv(q))
    };
    let (neg_q_inv_t, neg_q_inv_gamma) = (neg_q_inv(tm), neg_q_inv(gm));
    let gamma_inv_t = tm.inv(tm.reduce(gamma));
    let half_gamma = gamma / 2;
    let out = (0..ctx.degree())
        .map(|j| {
            let (mut r_t, mut r_gamma) = (0, 0);
            for ((row, q), &(scale, hat_t, hat_gamma)) in x.rows().iter().zip(&moduli).zip(&basis) {
                let y = q.mul(row[j], scale);
                r_t = tm.add(r_t, tm.mul(y, hat_t));
                r_gamma = gm.add(r_gamma, gm.mul(y, hat_gamma));
            }
            let r_t = tm.mul(r_t, neg_q_inv_t);
            let r_gamma = gm.mul(r_gamma, neg_q_inv_gamma);
            let s = if r_gamma > half_gamma {
                tm.neg(tm.reduce(gamma - r_gamma))
            } else {
                tm.reduce(r_gamma)
            };
            tm.mul(tm.sub(r_t, s), gamma_inv_t)
        })
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::noise_budget;
    use crate::params::PredefinedParameters;
    use crate::rng::NistAes128Ctr;
    use crate::sample;

    /// A fresh encryption of `m` for any Q: `Δ(m) mod q_i` from `Δ ≡ −(Q mod t)·t^{-1}`, as
    /// `Q ≡ 0 mod q_i`, so no big integer is needed.
    fn encrypt_any_q(
        ctx: &PolyContext,
        secret: &Poly<Eval>,
        m: &[u64],
        t: u64,
        rng: &mut NistAes128Ctr,
    ) -> Vec<Poly<Coeff>> {
        let tm = Modulus::new(t).unwrap();
        let q_mod_t = ctx.moduli().fold(1, |p, q| tm.mul(p, tm.reduce(q.value())));
        let rows = ctx
            .moduli()
            .map(|q| {
                let delta = q.neg(q.mul(q.reduce(q_mod_t), q.inv(q.reduce(t))));
                m.iter()
                    .map(|&v| {
                        let adj = (u128::from(q_mod_t) * u128::from(v) + u128::from(t.div_ceil(2)))
                            / u128::from(t);
                        q.add(q.mul(delta, v), q.reduce_u128(adj))
                    })
                    .collect()
            })
            .collect();
        let delta_m = Poly::<Coeff>::from_rows(ctx, rows).unwrap();
        let a = sample::uniform_eval(ctx, rng).unwrap();
        let e = sample::cbd(ctx, rng).unwrap();
        let noisy = a
            .mul(&secret.truncate(ctx.len()), ctx)
            .intt(ctx)
            .add(&e, ctx);
        vec![delta_m.sub(&noisy, ctx), a.intt(ctx)]
    }

    fn round_trip(set: PredefinedParameters) {
        let p = set.parameters();
        let (n, t) = (p.degree(), p.plaintext_modulus());
        let all = PolyContext::new(n, p.coefficient_moduli()).unwrap();
        let ctx = PolyContext::new(n, p.ciphertext_moduli()).unwrap();
        let mut rng = NistAes128Ctr::new(&[7; 32]);
        let secret = sample::ternary(&all, &mut rng).unwrap().ntt(&all);
        let m: Vec<u64> = (0..n as u64).map(|i| (i * i * 7919 + 12345) % t).collect();
        let ct = encrypt_any_q(&ctx, &secret, &m, t, &mut rng);
        for scalar in [Scalar::U32, Scalar::U64] {
            assert_eq!(
                decrypt_with(&ctx, &secret, &ct, t, scalar).unwrap(),
                m,
                "{set}"
            );
        }
        // A fresh ciphertext has budget to spare (measurable while Q < 2^128).
        let budget = if ctx.moduli().map(|q| f64::from(q.bits())).sum::<f64>() < 127.0 {
            noise_budget(&ctx, &secret, &ct, t).unwrap()
        } else {
            f64::INFINITY
        };
        assert!(budget > 1.0, "{set}: budget {budget}");
    }

    #[test]
    fn decrypts_with_q_at_least_2_64() {
        // Q ≈ 2^110 and Q ≈ 2^180.
        round_trip(PredefinedParameters::N8192Logq3x55Logt42);
        round_trip(PredefinedParameters::N8192Logq40_60_60Logt26);
        round_trip(PredefinedParameters::InsecureN512Logq4x60Logt20);
        round_trip(PredefinedParameters::InsecureN16Logq60Logt15);
    }

    #[test]
    fn noise_budget_refuses_q_at_least_2_128() {
        let p = PredefinedParameters::InsecureN512Logq4x60Logt20.parameters();
        let ctx = PolyContext::new(512, p.ciphertext_moduli()).unwrap();
        let all = PolyContext::new(512, p.coefficient_moduli()).unwrap();
        let secret = sample::ternary(&all, &mut NistAes128Ctr::new(&[1; 32]))
            .unwrap()
            .ntt(&all);
        let zero = Poly::<Coeff>::from_rows(&ctx, vec![vec![0; 512]; 3]).unwrap();
        assert_eq!(
            noise_budget(&ctx, &secret, &[zero.clone(), zero], 2),
            Err(Error::Unsupported("noise budget with Q >= 2^128"))
        );
    }
}
