//! Typed errors for everything the engine reads from outside.

/// Errors of the HE engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A modulus is not a usable NTT prime for the degree.
    #[error("modulus {modulus} is unusable for degree {degree}: {reason}")]
    BadModulus {
        /// The modulus.
        modulus: u64,
        /// The polynomial degree.
        degree: usize,
        /// Why.
        reason: &'static str,
    },
    /// The polynomial degree is not a power of two of at least 2.
    #[error("polynomial degree {0} is not a power of two >= 2")]
    BadDegree(usize),
    /// Serialized bytes end before the object does.
    #[error("serialized {what} truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        have: usize,
    },
    /// Serialized bytes continue after the object.
    #[error("serialized {what} has {extra} trailing bytes")]
    Trailing {
        /// What was being read.
        what: &'static str,
        /// Extra bytes.
        extra: usize,
    },
    /// A serialized coefficient is not below its modulus.
    #[error("coefficient {value} is not below modulus {modulus}")]
    CoefficientOutOfRange {
        /// The value read.
        value: u64,
        /// Its modulus.
        modulus: u64,
    },
    /// Wrong number of polynomials, moduli or skip counts.
    #[error("{what}: expected {expected}, got {got}")]
    CountMismatch {
        /// What was counted.
        what: &'static str,
        /// Expected count.
        expected: usize,
        /// Actual count.
        got: usize,
    },
    /// A bit-packing width is out of range.
    #[error("bad packing: {bits} bits per coefficient, {skip} skipped")]
    BadPacking {
        /// Bits per coefficient.
        bits: u32,
        /// Low bits skipped.
        skip: u32,
    },
    /// A Galois element that is even or outside (1, 2N).
    #[error("invalid Galois element {0}")]
    BadGaloisElement(u64),
    /// The operation is not supported for these parameters yet.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}
