//! RNS polynomials with their representation in the type (`Poly<Coeff>` / `Poly<Eval>`), their
//! context of moduli and NTT tables, and the bit-packed byte form (spec bfv.md §3, §6.2–6.3).

use std::marker::PhantomData;
use std::sync::Arc;

use crate::Error;
use crate::kernel::{self, Backend};
use crate::modulus::Modulus;
use crate::ntt::Ntt;
use crate::packing;

/// Coefficient representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coeff;
/// Evaluation (NTT) representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eval;

/// Degree and moduli of a polynomial ring `Z_Q[X]/(X^N+1)` in RNS form, with NTT tables.
#[derive(Debug, Clone)]
pub struct PolyContext {
    degree: usize,
    ntt: Vec<Ntt>,
}

impl PolyContext {
    /// A context for degree `degree` over `moduli`.
    pub fn new(degree: usize, moduli: &[u64]) -> Result<Arc<Self>, Error> {
        let ntt = moduli
            .iter()
            .map(|&q| Ntt::new(Modulus::new(q)?, degree))
            .collect::<Result<_, _>>()?;
        Ok(Arc::new(Self { degree, ntt }))
    }

    /// N.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// The moduli, in order.
    pub fn moduli(&self) -> impl Iterator<Item = Modulus> + '_ {
        self.ntt.iter().map(Ntt::modulus)
    }

    /// Number of moduli.
    pub fn len(&self) -> usize {
        self.ntt.len()
    }

    /// Whether there are no moduli.
    pub fn is_empty(&self) -> bool {
        self.ntt.is_empty()
    }

    /// The context of the first `count` moduli.
    pub fn prefix(&self, count: usize) -> Result<Arc<Self>, Error> {
        let ntt = self.ntt.get(..count).ok_or(Error::CountMismatch {
            what: "moduli",
            expected: self.ntt.len(),
            got: count,
        })?;
        Ok(Arc::new(Self {
            degree: self.degree,
            ntt: ntt.to_vec(),
        }))
    }

    /// The context of the moduli at `indices` (in that order), reusing their NTT tables.
    pub fn pick(&self, indices: &[usize]) -> Result<Arc<Self>, Error> {
        let ntt = indices
            .iter()
            .map(|&i| {
                self.ntt.get(i).cloned().ok_or(Error::CountMismatch {
                    what: "moduli",
                    expected: self.ntt.len(),
                    got: i + 1,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Arc::new(Self {
            degree: self.degree,
            ntt,
        }))
    }

    /// NTT tables of modulus `i`.
    pub(crate) fn ntt_of(&self, i: usize) -> Option<&Ntt> {
        self.ntt.get(i)
    }

    /// Bytes of one serialized polynomial with `skip` low bits dropped per residue.
    pub fn serialized_len(&self, skip: u32) -> Result<usize, Error> {
        self.moduli()
            .map(|q| packing::packed_len(self.degree, q.bits(), skip))
            .sum()
    }
}

/// An RNS polynomial: one row of N canonical residues per modulus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poly<F> {
    rows: Vec<Vec<u64>>,
    _form: PhantomData<F>,
}

impl<F> Poly<F> {
    /// Builds a polynomial from rows, checking their shape and range against `ctx`.
    pub fn from_rows(ctx: &PolyContext, rows: Vec<Vec<u64>>) -> Result<Self, Error> {
        if rows.len() != ctx.len() {
            return Err(Error::CountMismatch {
                what: "polynomial rows",
                expected: ctx.len(),
                got: rows.len(),
            });
        }
        for (row, q) in rows.iter().zip(ctx.moduli()) {
            if row.len() != ctx.degree() {
                return Err(Error::CountMismatch {
                    what: "coefficients",
                    expected: ctx.degree(),
                    got: row.len(),
                });
            }
            if let Some(&value) = row.iter().find(|&&c| c >= q.value()) {
                return Err(Error::CoefficientOutOfRange {
                    value,
                    modulus: q.value(),
                });
            }
        }
        Ok(Self {
            rows,
            _form: PhantomData,
        })
    }

    /// The residue rows.
    pub fn rows(&self) -> &[Vec<u64>] {
        &self.rows
    }

    pub(crate) fn from_rows_unchecked(rows: Vec<Vec<u64>>) -> Self {
        Self {
            rows,
            _form: PhantomData,
        }
    }

    fn retag<G>(self) -> Poly<G> {
        Poly {
            rows: self.rows,
            _form: PhantomData,
        }
    }

    /// Reads one polynomial (§6.2) from the start of `bytes`; returns it and the bytes consumed.
    pub fn read(ctx: &PolyContext, bytes: &[u8], skip: u32) -> Result<(Self, usize), Error> {
        let mut used = 0;
        let mut rows = Vec::with_capacity(ctx.len());
        for q in ctx.moduli() {
            let rest = bytes.get(used..).unwrap_or_default();
            let (row, n) = packing::unpack(rest, ctx.degree(), q.bits(), skip)?;
            used += n;
            rows.push(row);
        }
        Ok((Self::from_rows(ctx, rows)?, used))
    }

    /// Reads a polynomial that must fill `bytes` exactly.
    pub fn from_bytes(ctx: &PolyContext, bytes: &[u8], skip: u32) -> Result<Self, Error> {
        let (p, used) = Self::read(ctx, bytes, skip)?;
        if used != bytes.len() {
            return Err(Error::Trailing {
                what: "polynomial",
                extra: bytes.len() - used,
            });
        }
        Ok(p)
    }

    /// Appends the §6.2 bytes (rows in modulus order, each bit-packed at ceil(log2 q) bits).
    pub fn write(&self, ctx: &PolyContext, skip: u32, out: &mut Vec<u8>) -> Result<(), Error> {
        for (row, q) in self.rows.iter().zip(ctx.moduli()) {
            packing::pack(row, q.bits(), skip, out)?;
        }
        Ok(())
    }
}

impl Poly<Coeff> {
    /// Forward NTT of every row.
    pub fn ntt(mut self, ctx: &PolyContext) -> Poly<Eval> {
        for (row, t) in self.rows.iter_mut().zip(&ctx.ntt) {
            t.forward(row);
        }
        self.retag()
    }
}

impl Poly<Eval> {
    /// Inverse NTT of every row.
    pub fn intt(mut self, ctx: &PolyContext) -> Poly<Coeff> {
        for (row, t) in self.rows.iter_mut().zip(&ctx.ntt) {
            t.inverse(row);
        }
        self.retag()
    }

    /// Point-wise product.
    pub fn mul(&self, other: &Self, ctx: &PolyContext) -> Self {
        let rows = self
            .rows
            .iter()
            .zip(&other.rows)
            .zip(ctx.moduli())
            .map(|((a, b), q)| {
                let mut out = vec![0; a.len().min(b.len())];
                kernel::mul_mod(Backend::best(), q, &mut out, a, b);
                out
            })
            .collect();
        Self {
            rows,
            _form: PhantomData,
        }
    }

    /// Restriction to the first `count` moduli.
    pub fn truncate(&self, count: usize) -> Self {
        Self {
            rows: self.rows.iter().take(count).cloned().collect(),
            _form: PhantomData,
        }
    }
}

impl<F> Poly<F> {
    /// Sum, in either form.
    pub fn add(&self, other: &Self, ctx: &PolyContext) -> Self {
        let rows = self
            .rows
            .iter()
            .zip(&other.rows)
            .zip(ctx.moduli())
            .map(|((a, b), q)| {
                let mut out = vec![0; a.len().min(b.len())];
                kernel::add_mod(Backend::best(), q, &mut out, a, b);
                out
            })
            .collect();
        Self {
            rows,
            _form: PhantomData,
        }
    }
}

impl<F> Poly<F> {
    /// `self += other`, in either form, without a new allocation.
    pub fn add_assign(&mut self, other: &Self, ctx: &PolyContext) {
        for ((a, b), q) in self.rows.iter_mut().zip(&other.rows).zip(ctx.moduli()) {
            for (x, &y) in a.iter_mut().zip(b) {
                *x = q.add(*x, y);
            }
        }
    }
}

impl<F> Poly<F> {
    /// Difference, in either form.
    pub fn sub(&self, other: &Self, ctx: &PolyContext) -> Self {
        let rows = self
            .rows
            .iter()
            .zip(&other.rows)
            .zip(ctx.moduli())
            .map(|((a, b), q)| {
                let mut out = vec![0; a.len().min(b.len())];
                kernel::sub_mod(Backend::best(), q, &mut out, a, b);
                out
            })
            .collect();
        Self {
            rows,
            _form: PhantomData,
        }
    }
}

impl Poly<Coeff> {
    /// `(self − other) · X^{−k}` in `Z_q[X]/(X^N + 1)`, in one pass: coefficient j is
    /// `d[j+k]` below `N − k` and `−d[j+k−N] = (other − self)[j+k−N]` from there (the wrapped
    /// terms change sign). The step of query expansion (pir-protocol.md §4.6).
    pub fn sub_times_inverse_monomial(&self, other: &Self, ctx: &PolyContext, k: usize) -> Self {
        let backend = Backend::best();
        let rows = self
            .rows
            .iter()
            .zip(&other.rows)
            .zip(ctx.moduli())
            .map(|((a, b), q)| {
                let n = a.len().min(b.len());
                // X^{−N} = −1: a shift past N swaps the operands.
                let k = k.checked_rem(2 * n).unwrap_or(0);
                let (a, b, k) = if k >= n { (b, a, k - n) } else { (a, b, k) };
                let mut out = vec![0; n];
                let (low, high) = out.split_at_mut(n - k);
                kernel::sub_mod(backend, q, low, &a[k..n], &b[k..n]);
                kernel::sub_mod(backend, q, high, &b[..k], &a[..k]);
                out
            })
            .collect();
        Self {
            rows,
            _form: PhantomData,
        }
    }
}

/// Reads the multi-polynomial container (§6.3): u16 LE count, then each polynomial with its skip.
pub fn read_polys<F>(
    ctx: &PolyContext,
    bytes: &[u8],
    skips: &[u32],
) -> Result<Vec<Poly<F>>, Error> {
    let (Some(&lo), Some(&hi)) = (bytes.first(), bytes.get(1)) else {
        return Err(Error::Truncated {
            what: "poly count",
            needed: 2,
            have: bytes.len(),
        });
    };
    let count = usize::from(u16::from_le_bytes([lo, hi]));
    if !skips.is_empty() && skips.len() != count {
        return Err(Error::CountMismatch {
            what: "skip_lsbs entries",
            expected: count,
            got: skips.len(),
        });
    }
    let mut used = 2;
    let mut polys = Vec::with_capacity(count.min(16));
    for i in 0..count {
        let skip = skips.get(i).copied().unwrap_or(0);
        let (p, n) = Poly::read(ctx, bytes.get(used..).unwrap_or_default(), skip)?;
        used += n;
        polys.push(p);
    }
    if used != bytes.len() {
        return Err(Error::Trailing {
            what: "polys",
            extra: bytes.len() - used,
        });
    }
    Ok(polys)
}

/// Writes the multi-polynomial container (§6.3).
pub fn write_polys<F>(
    ctx: &PolyContext,
    polys: &[Poly<F>],
    skips: &[u32],
) -> Result<Vec<u8>, Error> {
    let count = u16::try_from(polys.len()).map_err(|_| Error::CountMismatch {
        what: "polynomials",
        expected: usize::from(u16::MAX),
        got: polys.len(),
    })?;
    let mut out = count.to_le_bytes().to_vec();
    for (i, p) in polys.iter().enumerate() {
        p.write(ctx, skips.get(i).copied().unwrap_or(0), &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_monomial_wraps_with_a_sign_flip() {
        let ctx = PolyContext::new(8, &[17]).unwrap();
        let f = Poly::<Coeff>::from_rows(&ctx, vec![vec![1, 2, 3, 4, 5, 6, 7, 8]]).unwrap();
        let g = Poly::<Coeff>::from_rows(&ctx, vec![vec![0, 0, 0, 0, 0, 0, 0, 9]]).unwrap();
        // (f − g) = 1 + 2x + … + 7x⁶ − x⁷; times x^-2: 3 + 4x + … + 7x⁴ − x⁵ − x⁶ − 2x⁷.
        let h = f.sub_times_inverse_monomial(&g, &ctx, 2);
        assert_eq!(h.rows(), &[vec![3, 4, 5, 6, 7, 16, 16, 15]]);
        // A shift of 0 is the plain difference, of N its negation, of 2N the identity again.
        assert_eq!(f.sub_times_inverse_monomial(&g, &ctx, 0), f.sub(&g, &ctx));
        assert_eq!(f.sub_times_inverse_monomial(&g, &ctx, 8), g.sub(&f, &ctx));
        assert_eq!(f.sub_times_inverse_monomial(&g, &ctx, 16), f.sub(&g, &ctx));
        assert_eq!(
            f.sub_times_inverse_monomial(&g, &ctx, 10),
            g.sub_times_inverse_monomial(&f, &ctx, 2)
        );
        let mut s = f.clone();
        s.add_assign(&g, &ctx);
        assert_eq!(s, f.add(&g, &ctx));
        assert_eq!(s.rows(), &[vec![1, 2, 3, 4, 5, 6, 7, 0]]);
    }
}
