//! Hybrid key switching with one special modulus, laid out as Apple's keys are (spec bfv.md §5.7),
//! and its uses: Galois application and relinearization.

use crate::Error;
use crate::galois;
use crate::kernel::{self, Backend};
use crate::modswitch::divide_and_round_rows;
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
    let n = ctx.degree();
    let backend = Backend::best();
    let mut moduli = Vec::with_capacity(rows.len());
    let mut out = [
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    ];
    // One scratch row for each digit's NTT, reused across digits and key rows.
    let mut b = vec![0u64; n];
    for &key_row in &rows {
        let ntt = all.ntt_of(key_row).ok_or(Error::Unsupported("key row"))?;
        let e = ntt.modulus();
        moduli.push(e);
        // Σ_j NTT(d_j)·k_j summed unreduced while the u64 accumulators cannot overflow.
        let budget = kernel::lazy_terms(e);
        let mut pending = 0;
        let mut acc = [vec![0u64; n], vec![0u64; n]];
        for ((digit, pair), qj) in d.rows().iter().zip(&key.digits).zip(ctx.moduli()) {
            if qj.value() <= 4 * e.value() && digit.len() == n {
                // The forward NTT takes any representatives below 4e.
                b.copy_from_slice(digit);
            } else {
                for (x, &c) in b.iter_mut().zip(digit) {
                    *x = e.reduce(c);
                }
            }
            ntt.forward(&mut b);
            if budget > 0 && pending == budget {
                acc.iter_mut().for_each(|a| kernel::reduce(e, a));
                pending = 0;
            }
            for (acc_k, k) in acc.iter_mut().zip(pair) {
                let krow = k.rows().get(key_row).ok_or(Error::Unsupported("key row"))?;
                if budget > 0 {
                    kernel::mul_acc(backend, acc_k, &b, krow);
                } else {
                    for ((a, &x), &y) in acc_k.iter_mut().zip(&b).zip(krow) {
                        *a = e.add(*a, e.mul(x, y));
                    }
                }
            }
            pending += 1;
        }
        for (o, mut a) in out.iter_mut().zip(acc) {
            if budget > 0 {
                kernel::reduce(e, &mut a);
            }
            ntt.inverse(&mut a);
            o.push(a);
        }
    }
    let [mut r0, mut r1] = out;
    let (Some(l0), Some(l1)) = (r0.pop(), r1.pop()) else {
        return Err(Error::Unsupported("key row"));
    };
    let u0 = divide_and_round_rows(&moduli, r0, &l0);
    let u1 = divide_and_round_rows(&moduli, r1, &l1);
    Ok([Poly::from_rows_unchecked(u0), Poly::from_rows_unchecked(u1)])
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
    let mut c0 = galois::apply(ctx, c0, g)?;
    let c1 = galois::apply(ctx, c1, g)?;
    let [u0, u1] = update(all, ctx, &c1, key)?;
    c0.add_assign(&u0, ctx);
    Ok(vec![c0, u1])
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
