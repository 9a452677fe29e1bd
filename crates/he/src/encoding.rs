//! Plaintext encoding (spec bfv.md §5.1): coefficient and SIMD (batch) encoding and decoding of
//! values mod t as Apple's `Bfv.encode`/`decode` do, and the lift of a Coeff plaintext to an Eval
//! plaintext over the ciphertext moduli (and back).
//!
//! A Coeff plaintext is its N coefficients in [0, t).

use crate::Error;
use crate::modulus::Modulus;
use crate::ntt::Ntt;
use crate::params::EncryptionParameters;
use crate::poly::{Coeff, Eval, Poly, PolyContext};

/// Apple's SIMD slot table: slot k lives at Eval (NTT output) index `table[k]`. Slot k < N/2
/// evaluates at ψ^(3^k), slot N/2+k at ψ^(−3^k), so Galois element 3 rotates each row left.
pub fn simd_slot_table(degree: usize) -> Vec<usize> {
    let half = degree / 2;
    let log_n = degree.trailing_zeros();
    let mask = 2 * degree - 1;
    let brv = |x: usize| {
        if log_n == 0 {
            0
        } else {
            x.reverse_bits() >> (usize::BITS - log_n)
        }
    };
    let mut table = vec![0; degree];
    let mut g = 1usize;
    for i in 0..half {
        table[i] = brv((g - 1) >> 1);
        table[half + i] = brv((mask - g) >> 1);
        g = (g * 3) & mask;
    }
    table
}

/// Encodes and decodes plaintexts for one parameter set.
#[derive(Debug, Clone)]
pub struct Encoder {
    degree: usize,
    t: Modulus,
    /// NTT mod t and the slot table, when t ≡ 1 mod 2N.
    simd: Option<(Ntt, Vec<usize>)>,
}

impl Encoder {
    /// An encoder for `params`; SIMD is available iff the parameters support it.
    pub fn new(params: &EncryptionParameters) -> Result<Self, Error> {
        let degree = params.degree();
        let t = Modulus::new(params.plaintext_modulus())?;
        let simd = if params.supports_simd_encoding() {
            Some((Ntt::new(t, degree)?, simd_slot_table(degree)))
        } else {
            None
        };
        Ok(Self { degree, t, simd })
    }

    /// The plaintext modulus t.
    pub fn plaintext_modulus(&self) -> u64 {
        self.t.value()
    }

    /// Whether SIMD encoding is available (t ≡ 1 mod 2N).
    pub fn supports_simd(&self) -> bool {
        self.simd.is_some()
    }

    fn check(&self, values: &[u64]) -> Result<(), Error> {
        if values.len() > self.degree {
            return Err(Error::TooManyValues {
                count: values.len(),
                max: self.degree,
            });
        }
        match values.iter().find(|&&v| v >= self.t.value()) {
            Some(&value) => Err(Error::CoefficientOutOfRange {
                value,
                modulus: self.t.value(),
            }),
            None => Ok(()),
        }
    }

    fn simd(&self) -> Result<&(Ntt, Vec<usize>), Error> {
        self.simd.as_ref().ok_or(Error::SimdUnsupported {
            t: self.t.value(),
            degree: self.degree,
        })
    }

    /// Coefficient encoding: `Σ v_i X^i`, zero-padded to N. At most N values, each below t.
    pub fn encode_coefficients(&self, values: &[u64]) -> Result<Vec<u64>, Error> {
        self.check(values)?;
        let mut out = values.to_vec();
        out.resize(self.degree, 0);
        Ok(out)
    }

    /// SIMD encoding: value k in slot k (other slots 0), then the inverse NTT mod t.
    pub fn encode_simd(&self, values: &[u64]) -> Result<Vec<u64>, Error> {
        self.check(values)?;
        let (ntt, table) = self.simd()?;
        let mut eval = vec![0; self.degree];
        for (&slot, &v) in table.iter().zip(values) {
            eval[slot] = v;
        }
        ntt.inverse(&mut eval);
        Ok(eval)
    }

    /// Coefficient decoding: the N coefficients themselves.
    pub fn decode_coefficients(&self, plaintext: &[u64]) -> Result<Vec<u64>, Error> {
        self.check_plaintext(plaintext)?;
        Ok(plaintext.to_vec())
    }

    /// SIMD decoding: the forward NTT mod t, read in slot order.
    pub fn decode_simd(&self, plaintext: &[u64]) -> Result<Vec<u64>, Error> {
        self.check_plaintext(plaintext)?;
        let (ntt, table) = self.simd()?;
        let mut eval = plaintext.to_vec();
        ntt.forward(&mut eval);
        Ok(table.iter().map(|&i| eval[i]).collect())
    }

    fn check_plaintext(&self, plaintext: &[u64]) -> Result<(), Error> {
        if plaintext.len() != self.degree {
            return Err(Error::CountMismatch {
                what: "plaintext coefficients",
                expected: self.degree,
                got: plaintext.len(),
            });
        }
        self.check(plaintext)
    }

    /// Maps signed values in [−⌊t/2⌋, ⌊(t−1)/2⌋] to [0, t) (negatives as v + t).
    pub fn to_unsigned(&self, values: &[i64]) -> Result<Vec<u64>, Error> {
        let t = i128::from(self.t.value());
        let (low, high) = (-(t >> 1), (t - 1) >> 1);
        values
            .iter()
            .map(|&v| {
                let v = i128::from(v);
                if (low..=high).contains(&v) {
                    Ok(v.rem_euclid(t) as u64)
                } else {
                    Err(Error::SignedValueOutOfRange {
                        value: v as i64,
                        low: low as i64,
                        high: high as i64,
                    })
                }
            })
            .collect()
    }

    /// Maps values in [0, t) to signed ones: x > (t−1)/2 becomes x − t.
    pub fn to_signed(&self, values: &[u64]) -> Vec<i64> {
        let t = self.t.value();
        values
            .iter()
            .map(|&x| {
                if x > (t - 1) / 2 {
                    -((t - x) as i64)
                } else {
                    x as i64
                }
            })
            .collect()
    }
}

/// Lifts a Coeff plaintext (N values in [0, t)) to an Eval plaintext over `ctx` (the first
/// moduli of the ciphertext context): values ≥ (t+1)/2 are centered, m ↦ m + (q_i − t), then
/// each row is NTT'd. This is what a processed PIR database stores.
pub fn plaintext_to_eval(
    ctx: &PolyContext,
    plaintext: &[u64],
    t: u64,
) -> Result<Poly<Eval>, Error> {
    if plaintext.len() != ctx.degree() {
        return Err(Error::CountMismatch {
            what: "plaintext coefficients",
            expected: ctx.degree(),
            got: plaintext.len(),
        });
    }
    if let Some(&value) = plaintext.iter().find(|&&m| m >= t) {
        return Err(Error::CoefficientOutOfRange { value, modulus: t });
    }
    if let Some(q) = ctx.moduli().find(|q| q.value() <= t) {
        return Err(Error::ModulusNotAbovePlaintext {
            modulus: q.value(),
            plaintext_modulus: t,
        });
    }
    let threshold = t.div_ceil(2);
    let rows = ctx
        .moduli()
        .map(|q| {
            let increment = q.value() - t;
            plaintext
                .iter()
                .map(|&m| if m < threshold { m } else { m + increment })
                .collect()
        })
        .collect();
    Ok(Poly::<Coeff>::from_rows(ctx, rows)?.ntt(ctx))
}

/// The inverse of [`plaintext_to_eval`]: inverse NTT, keep row 0, undo the centering.
pub fn plaintext_from_eval(ctx: &PolyContext, poly: Poly<Eval>, t: u64) -> Result<Vec<u64>, Error> {
    let q0 = ctx.moduli().next().ok_or(Error::NoModuli)?.value();
    if q0 <= t {
        return Err(Error::ModulusNotAbovePlaintext {
            modulus: q0,
            plaintext_modulus: t,
        });
    }
    let threshold = t.div_ceil(2);
    let coeff = poly.intt(ctx);
    let row = coeff.rows().first().ok_or(Error::NoModuli)?;
    row.iter()
        .map(|&x| {
            let m = if x >= threshold {
                x.checked_sub(q0 - t)
            } else {
                Some(x)
            };
            // Only a plaintext lifted from [0, t) comes back; anything else is not one.
            m.filter(|&m| m < t).ok_or(Error::CoefficientOutOfRange {
                value: x,
                modulus: t,
            })
        })
        .collect()
}
