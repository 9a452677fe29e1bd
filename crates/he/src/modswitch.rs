//! Modulus switching: divide by the last modulus and round, rounding half up (spec bfv.md §3.4,
//! §5.8), and the skip-LSBs of a one-modulus response (§5.10).

use std::sync::Arc;

use crate::Error;
use crate::kernel::{self, Backend};
use crate::modulus::Modulus;
use crate::poly::{Coeff, Poly, PolyContext};

/// Divides and rounds by the last modulus of `ctx`; returns the polynomial over the other moduli.
pub fn divide_and_round_q_last(
    ctx: &PolyContext,
    poly: &Poly<Coeff>,
) -> Result<(Arc<PolyContext>, Poly<Coeff>), Error> {
    let moduli: Vec<_> = ctx.moduli().collect();
    let Some((last, rest)) = poly.rows().split_last() else {
        return Err(Error::CountMismatch {
            what: "moduli",
            expected: 2,
            got: 0,
        });
    };
    if moduli.len() < 2 {
        return Err(Error::CountMismatch {
            what: "moduli to switch down from",
            expected: 2,
            got: moduli.len(),
        });
    }
    let rows = divide_and_round_rows(&moduli, rest.to_vec(), last);
    let next = ctx.prefix(moduli.len() - 1)?;
    let p = Poly::from_rows(&next, rows)?;
    Ok((next, p))
}

/// Divides `rest` (residues mod `moduli[..rest.len()]`) by the last modulus `ql` of `moduli`,
/// rounding half up, given the residues `last` mod `ql`: `(c + h − ((l + h) mod ql)) / ql` with
/// h = floor(ql/2), per row in place. Canonical in, canonical out.
pub(crate) fn divide_and_round_rows(
    moduli: &[Modulus],
    mut rest: Vec<Vec<u64>>,
    last: &[u64],
) -> Vec<Vec<u64>> {
    let Some(&ql) = moduli.last() else {
        return rest;
    };
    let h = ql.value() / 2;
    let r: Vec<u64> = last.iter().map(|&c| ql.add(c, h)).collect();
    for (row, &q) in rest.iter_mut().zip(moduli) {
        // r < ql may exceed q: add a multiple of q covering it instead of reducing it.
        let cover = ql.value().div_ceil(q.value()) * q.value();
        let ql_inv = q.inv(q.reduce(ql.value()));
        let w = (ql_inv, q.shoup(ql_inv));
        kernel::mul_shoup_shifted(Backend::best(), q, row, &r, q.reduce(h) + cover, w);
    }
    rest
}

/// Switches every polynomial down until one modulus remains.
pub fn mod_switch_down_to_single(
    ctx: &Arc<PolyContext>,
    polys: &[Poly<Coeff>],
) -> Result<(Arc<PolyContext>, Vec<Poly<Coeff>>), Error> {
    if ctx.len() <= 1 {
        return Ok((Arc::clone(ctx), polys.to_vec()));
    }
    let moduli: Vec<Modulus> = ctx.moduli().collect();
    let out = polys
        .iter()
        .map(|p| {
            let Some((last, rest)) = p
                .rows()
                .split_last()
                .filter(|_| p.rows().len() == moduli.len())
            else {
                return Err(Error::CountMismatch {
                    what: "polynomial rows",
                    expected: moduli.len(),
                    got: p.rows().len(),
                });
            };
            // Each step divides the remaining rows in place by the next modulus down.
            let mut rows = divide_and_round_rows(&moduli, rest.to_vec(), last);
            while rows.len() > 1 {
                let Some(last) = rows.pop() else { break };
                rows = divide_and_round_rows(
                    moduli.get(..=rows.len()).unwrap_or(&moduli),
                    rows,
                    &last,
                );
            }
            Ok(Poly::from_rows_unchecked(rows))
        })
        .collect::<Result<_, _>>()?;
    Ok((ctx.prefix(1)?, out))
}

fn ceil_log2(x: u64) -> i64 {
    if x <= 1 {
        0
    } else {
        i64::from(64 - (x - 1).leading_zeros())
    }
}

/// Low bits each of the two polynomials of a one-modulus ciphertext can drop before decryption.
pub fn skip_lsbs_for_decryption(q0: u64, t: u64, degree: usize) -> [u32; 2] {
    let l_prime: i64 = if t > 0 && q0 / 2 >= t {
        i64::from((q0 / t).ilog2()) - 3
    } else {
        0
    };
    let mut poly0 = l_prime.max(0);
    let tmp = (8.0 * (2.0 * degree as f64 / 9.0).sqrt()) as u64;
    let mut poly1 = l_prime - if tmp == 0 { 0 } else { ceil_log2(tmp) };
    if poly1 <= 1 {
        poly0 = (l_prime + 1).max(0);
        poly1 = 0;
    }
    [poly0 as u32, poly1 as u32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_lsbs_for_the_transcript_set() {
        assert_eq!(skip_lsbs_for_decryption(134176769, 17, 4096), [19, 11]);
    }

    #[test]
    fn down_to_single_is_repeated_single_steps() {
        // Three NTT-sized moduli, the largest first so the divided-out residues exceed q0.
        let ctx = PolyContext::new(4, &[40961, 12289, 17]).unwrap();
        let rows: Vec<Vec<u64>> = ctx
            .moduli()
            .map(|q| (0..4).map(|i| (i * 7919 + 40000) % q.value()).collect())
            .collect();
        let p = Poly::<Coeff>::from_rows(&ctx, rows).unwrap();
        let (c1, step) = divide_and_round_q_last(&ctx, &p).unwrap();
        let (_, step) = divide_and_round_q_last(&c1, &step).unwrap();
        let (one, got) = mod_switch_down_to_single(&ctx, &[p]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(got, vec![step]);
    }

    #[test]
    fn rounds_half_up() {
        let ctx = PolyContext::new(2, &[5, 13]).unwrap();
        // x = 32 (mod 65): residues (2, 6); round(32/13) = 2.
        let p = Poly::<Coeff>::from_rows(&ctx, vec![vec![2, 0], vec![6, 0]]).unwrap();
        let (_, q) = divide_and_round_q_last(&ctx, &p).unwrap();
        assert_eq!(q.rows(), &[vec![2, 0]]);
    }
}
