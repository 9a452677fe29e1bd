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
    /// A parameter-set name that is not one of Apple's predefined sets.
    #[error("unknown parameter set {name:?}; valid names: {valid}")]
    UnknownParameterSet {
        /// The name asked for.
        name: String,
        /// Every valid name, comma-separated.
        valid: String,
    },
    /// The security level has no modulus bound for this degree.
    #[error("degree {degree} is not covered by {security}: allowed degrees are {allowed}")]
    DegreeNotCovered {
        /// The polynomial degree.
        degree: usize,
        /// Security level and error distribution.
        security: &'static str,
        /// The degrees that have a bound.
        allowed: &'static str,
    },
    /// The coefficient modulus is too large for the security level.
    #[error(
        "insecure parameters: sum of log2(q_i) = {log2_q} exceeds the {security} maximum of {max} for degree {degree}"
    )]
    InsecureModulus {
        /// The polynomial degree.
        degree: usize,
        /// The security level.
        security: String,
        /// Σ log2 q_i as Apple computes it (f32), formatted.
        log2_q: String,
        /// The largest allowed sum.
        max: u32,
    },
    /// An error standard deviation other than stdDev32.
    #[error("insecure parameters: the error standard deviation must be stdDev32")]
    InsecureErrorStdDev,
    /// More coefficient moduli than Apple allows.
    #[error("{count} coefficient moduli; at most {max} are allowed")]
    TooManyModuli {
        /// Moduli given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// No coefficient moduli.
    #[error("no coefficient moduli; at least 1 is required")]
    NoModuli,
    /// A coefficient modulus not above the plaintext modulus.
    #[error(
        "coefficient modulus {modulus} must be greater than the plaintext modulus {plaintext_modulus}"
    )]
    ModulusNotAbovePlaintext {
        /// The coefficient modulus.
        modulus: u64,
        /// The plaintext modulus.
        plaintext_modulus: u64,
    },
    /// A coefficient modulus that is not ≡ 1 mod 2N.
    #[error("coefficient modulus {modulus} must be 1 mod 2·{degree} (NTT-friendly)")]
    ModulusNotNtt {
        /// The modulus.
        modulus: u64,
        /// The polynomial degree.
        degree: usize,
    },
    /// A modulus that is not prime.
    #[error("{what} {value} must be prime")]
    NotPrime {
        /// Which modulus.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// A modulus above the scalar engine's `Modulus.max`.
    #[error("{what} {value} is out of range: must be in [2, {max}]")]
    ModulusTooLarge {
        /// Which modulus.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The engine's largest modulus.
        max: u64,
    },
    /// A modulus equal to one of the engine's internal constants.
    #[error("modulus {value} equals the engine's {constant} and cannot be used")]
    ReservedModulus {
        /// The modulus.
        value: u64,
        /// Which constant.
        constant: &'static str,
    },
    /// The same coefficient modulus twice.
    #[error("coefficient modulus {0} appears twice; moduli must be distinct")]
    DuplicateModulus(u64),
    /// A protobuf enum value this engine does not know.
    #[error("unknown {what} value {value}")]
    UnknownEnumValue {
        /// The enum.
        what: &'static str,
        /// The value read.
        value: i32,
    },
    /// More values than plaintext slots.
    #[error("{count} values to encode; at most {max} (the degree) fit")]
    TooManyValues {
        /// Values given.
        count: usize,
        /// The polynomial degree.
        max: usize,
    },
    /// SIMD encoding needs t ≡ 1 mod 2N.
    #[error("SIMD encoding needs t = 1 mod 2N; t = {t}, N = {degree}")]
    SimdUnsupported {
        /// The plaintext modulus.
        t: u64,
        /// The polynomial degree.
        degree: usize,
    },
    /// A signed value outside the centered range of t.
    #[error("signed value {value} is out of range: must be in [{low}, {high}]")]
    SignedValueOutOfRange {
        /// The value.
        value: i64,
        /// Smallest allowed.
        low: i64,
        /// Largest allowed.
        high: i64,
    },
    /// A key-switching context with more moduli than lazy accumulation allows.
    #[error(
        "{count} moduli in a key-switching context; fewer than {max} are allowed for these moduli and scalar width"
    )]
    LazyAccumulationExceeded {
        /// Moduli in the context.
        count: usize,
        /// The accumulation budget (exclusive bound).
        max: usize,
    },
    /// The operation is not supported for these parameters yet.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}
