//! Hybrid key switching with one special modulus, laid out as Apple's keys are (spec bfv.md §5.7),
//! and its uses: Galois application and relinearization.

use crate::Error;
use crate::galois;
use crate::modswitch::divide_and_round_q_last;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// A key-switching key: one Eval ciphertext `(k_{j,0}, k_{j,1})` over all K moduli per digit j.
#[derive(Debug, Clone)]
pub struct KeySwitchKey {
    /// The digit ciphertexts.
    pub digits: Vec<[Poly<Eval>; 2]>,
}

/// The key-switching update `(u0, u1)` of `d` (Coeff over `ctx`, a prefix of `all`).
pub fn update(
    all: &PolyContext,
    ctx: &PolyContext,
    d: &Poly<Coeff>,
    key: &KeySwitchKey,
) -> Result<[Poly<Coeff>; 2], Error> {
    let levels = ctx.len();
    let special = all.len() - 1;
    if levels >= all.len() || key.digits.len() < levels {
        return Err(Error::CountMismatch {
            what: "key-switching digits",
            expected: levels,
            got: key.digits.len(),
        });
    }
    let rows: Vec<usize> = (0..levels).chain(std::iter::once(special)).collect();
    let ext = all.pick(&rows)?;
    let mut out = [
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    ];
    for &key_row in &rows {
        let ntt = all.ntt_of(key_row).ok_or(Error::Unsupported("key row"))?;
        let e = ntt.modulus();
        let mut acc = [vec![0u64; ctx.degree()], vec![0u64; ctx.degree()]];
        for (digit, pair) in d.rows().iter().zip(&key.digits) {
            let mut b: Vec<u64> = digit.iter().map(|&x| e.reduce(x)).collect();
            ntt.forward(&mut b);
            for (acc_k, k) in acc.iter_mut().zip(pair) {
                let krow = k.rows().get(key_row).ok_or(Error::Unsupported("key row"))?;
                for ((a, &x), &y) in acc_k.iter_mut().zip(&b).zip(krow) {
                    *a = e.add(*a, e.mul(x, y));
                }
            }
        }
        for (o, mut a) in out.iter_mut().zip(acc) {
            ntt.inverse(&mut a);
            o.push(a);
        }
    }
    let [r0, r1] = out;
    let u0 = divide_and_round_q_last(&ext, &Poly::from_rows_unchecked(r0))?.1;
    let u1 = divide_and_round_q_last(&ext, &Poly::from_rows_unchecked(r1))?.1;
    Ok([u0, u1])
}

/// `applyGalois`: `[σ_g(c0) + u0, u1]` with `(u0, u1) = KS(σ_g(c1))`.
pub fn apply_galois(
    all: &PolyContext,
    ctx: &PolyContext,
    ct: &[Poly<Coeff>],
    g: u64,
    key: &KeySwitchKey,
) -> Result<Vec<Poly<Coeff>>, Error> {
    let [c0, c1] = ct else {
        return Err(Error::CountMismatch {
            what: "ciphertext polynomials",
            expected: 2,
            got: ct.len(),
        });
    };
    let c0 = galois::apply(ctx, c0, g)?;
    let c1 = galois::apply(ctx, c1, g)?;
    let [u0, u1] = update(all, ctx, &c1, key)?;
    Ok(vec![c0.add(&u0, ctx), u1])
}

/// `relinearize`: `[c0 + u0, c1 + u1]` with `(u0, u1) = KS(c2)`.
pub fn relinearize(
    all: &PolyContext,
    ctx: &PolyContext,
    ct: &[Poly<Coeff>],
    key: &KeySwitchKey,
) -> Result<Vec<Poly<Coeff>>, Error> {
    let [c0, c1, c2] = ct else {
        return Err(Error::CountMismatch {
            what: "ciphertext polynomials",
            expected: 3,
            got: ct.len(),
        });
    };
    let [u0, u1] = update(all, ctx, c2, key)?;
    Ok(vec![c0.add(&u0, ctx), c1.add(&u1, ctx)])
}
