//! Oblivious query expansion (spec/pir-protocol.md §4.6; Apple's `PirUtil.expand`,
//! `expandCiphertext`, `expandCiphertextForOneStep`): each query ciphertext, whose coefficient j
//! holds the j-th selector bit (scaled by 2^-height), becomes one ciphertext per coefficient
//! encrypting that bit, by repeated Galois automorphisms and shifts. The two halves of every
//! split are independent, so with `parallel` they run on the current rayon pool's threads.

use std::collections::BTreeMap;

use he::keyswitch::{KeySwitchKey, apply_galois};
use he::poly::{Coeff, Poly, PolyContext};

/// A ciphertext in Coeff form: its polynomials.
pub type Ciphertext = Vec<Poly<Coeff>>;

/// The client's Galois keys by element.
pub type GaloisKeys = BTreeMap<u64, KeySwitchKey>;

/// Why a query could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandError {
    /// The number of query ciphertexts does not fit the outputs asked for.
    #[error("{got} query ciphertexts; {outputs} expanded inputs need {expected}")]
    CiphertextCount {
        /// Ciphertexts given.
        got: usize,
        /// Ciphertexts needed: ceil(outputs / N).
        expected: usize,
        /// Expanded inputs asked for.
        outputs: usize,
    },
    /// The evaluation key has no Galois element ≤ the one this step needs.
    #[error("evaluation key has no Galois element ≤ {target} (has {have:?})")]
    MissingGaloisKey {
        /// The element the step targets.
        target: u64,
        /// The elements present.
        have: Vec<u64>,
    },
    /// A key cannot reach the target by repetition (not of the form 2^k + 1).
    #[error("Galois element {element} cannot be repeated to reach {target}")]
    UnusableGaloisKey {
        /// The element found.
        element: u64,
        /// The target element.
        target: u64,
    },
    /// The HE layer rejected an operation (wrong shapes, a malformed key).
    #[error("HE: {0}")]
    He(#[from] he::Error),
}

/// Expands `ciphertexts` (Coeff, over `ctx`, a prefix of `all`) into `outputs` ciphertexts,
/// output `b·N + j` encrypting coefficient j of ciphertext b times `2^ceilLog2(count_b)`.
///
/// # Errors
/// [`ExpandError`]: a ciphertext count other than `ceil(outputs / N)`, a missing or unusable
/// Galois key, or a ciphertext of the wrong shape.
pub fn expand(
    all: &PolyContext,
    ctx: &PolyContext,
    ciphertexts: &[Ciphertext],
    outputs: usize,
    keys: &GaloisKeys,
    parallel: bool,
) -> Result<Vec<Ciphertext>, ExpandError> {
    let n = ctx.degree();
    let expected = outputs.div_ceil(n);
    if ciphertexts.len() != expected || outputs == 0 {
        return Err(ExpandError::CiphertextCount {
            got: ciphertexts.len(),
            expected,
            outputs,
        });
    }
    let expander = Expander {
        all,
        ctx,
        keys,
        parallel,
    };
    let mut out = Vec::with_capacity(outputs);
    let mut remaining = outputs;
    for ct in ciphertexts {
        let count = remaining.min(n);
        remaining -= count;
        let height = count.next_power_of_two().ilog2();
        out.extend(expander.expand_one(ct.clone(), count, 1, height)?);
    }
    Ok(out)
}

/// The fixed inputs of one expansion.
struct Expander<'a> {
    all: &'a PolyContext,
    ctx: &'a PolyContext,
    keys: &'a GaloisKeys,
    /// Whether the halves of a split may run on two threads (`rayon::join`).
    parallel: bool,
}

impl Expander<'_> {
    /// `expandCiphertext`: `count` outputs from `ct` at level `log_step`.
    fn expand_one(
        &self,
        ct: Ciphertext,
        count: usize,
        log_step: u32,
        height: u32,
    ) -> Result<Vec<Ciphertext>, ExpandError> {
        if count == 1 {
            if log_step > height {
                return Ok(vec![ct]);
            }
            // A short leaf is doubled so every output carries the same power of two.
            let doubled = ct.iter().map(|p| p.add(p, self.ctx)).collect();
            return Ok(vec![doubled]);
        }
        let second = count / 2;
        let first = count - second;
        let (p0, p1) = self.one_step(&ct, log_step)?;
        drop(ct);
        let evens = || self.expand_one(p0, first, log_step + 1, height);
        let odds = || self.expand_one(p1, second, log_step + 1, height);
        let (evens, odds) = if self.parallel {
            rayon::join(evens, odds)
        } else {
            (evens(), odds())
        };
        let (evens, odds) = (evens?, odds?);
        let mut out = Vec::with_capacity(count);
        let mut evens = evens.into_iter();
        for odd in odds {
            out.extend(evens.next());
            out.push(odd);
        }
        out.extend(evens);
        Ok(out)
    }

    /// `expandCiphertextForOneStep`: `(c + σ(c), (c − σ(c)) · x^(−2^(l−1)))` with σ the
    /// automorphism X ↦ X^(N/2^(l−1) + 1), made of repeated applications of the largest key
    /// element not above it.
    fn one_step(
        &self,
        ct: &Ciphertext,
        log_step: u32,
    ) -> Result<(Ciphertext, Ciphertext), ExpandError> {
        let n = self.ctx.degree();
        let log_n = n.ilog2();
        let target = (1u64 << (log_n + 1 - log_step)) + 1;
        let (&element, key) = self.keys.range(..=target).next_back().ok_or_else(|| {
            ExpandError::MissingGaloisKey {
                target,
                have: self.keys.keys().copied().collect(),
            }
        })?;
        let unusable = ExpandError::UnusableGaloisKey { element, target };
        if element < 3 || !(element - 1).is_power_of_two() {
            return Err(unusable);
        }
        let repeats = 1u64 << ((target - 1).ilog2() - (element - 1).ilog2());
        // Repetition reaches the target only when element^repeats ≡ target (mod 2N).
        let two_n = 2 * n as u64;
        let reached = (0..repeats).try_fold(1u64, |acc, _| {
            u64::try_from(u128::from(acc) * u128::from(element) % u128::from(two_n)).ok()
        });
        if reached != Some(target) {
            return Err(unusable);
        }
        let mut rotated = apply_galois(self.all, self.ctx, ct, element, key)?;
        for _ in 1..repeats {
            rotated = apply_galois(self.all, self.ctx, &rotated, element, key)?;
        }
        let shift = 1usize << (log_step - 1);
        let difference = ct
            .iter()
            .zip(&rotated)
            .map(|(c, r)| c.sub_times_inverse_monomial(r, self.ctx, shift))
            .collect();
        // The sum reuses the rotation's buffers.
        for (r, c) in rotated.iter_mut().zip(ct) {
            r.add_assign(c, self.ctx);
        }
        Ok((rotated, difference))
    }
}
