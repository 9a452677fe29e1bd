//! Encryption parameters: Apple's 17 predefined RLWE parameter sets and the validation of custom
//! parameters (spec bfv.md §2.1, §2.3, §2.5).
//!
//! [`EncryptionParameters`] can only be built through validation, so holding one means Apple's
//! `EncryptionParameters.init` (and its polynomial-context checks) would accept the same values
//! for the same scalar engine.

use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::behz::{Scalar, is_prime};
use crate::proto;

/// Target error standard deviation of the RLWE samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorStdDev {
    /// σ = 8/√(2π) ≈ 3.2, the only one Apple accepts.
    StdDev32,
    /// σ ≈ 6.4; Apple defines it but rejects it as insecure.
    StdDev64,
}

/// Security level enforced on the coefficient modulus size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityLevel {
    /// Post-quantum 128-bit security for ternary secrets.
    Quantum128,
    /// No bound (test parameters only).
    Unchecked,
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Quantum128 => "quantum128",
            Self::Unchecked => "unchecked",
        })
    }
}

/// `Modulus.max = 2^(w−2) − 1`: the largest coefficient or plaintext modulus of the engine.
pub fn max_modulus(scalar: Scalar) -> u64 {
    match scalar {
        Scalar::U32 => (1 << 30) - 1,
        Scalar::U64 => (1 << 62) - 1,
    }
}

/// Apple's `rnsCorrectionFactor` γ used by decryption; no modulus may equal it.
pub fn rns_correction_factor(scalar: Scalar) -> u64 {
    match scalar {
        Scalar::U32 => (1 << 30) - 20405,
        Scalar::U64 => (1 << 62) - 40797,
    }
}

/// Apple's BEHZ Montgomery modulus m̃; no modulus may equal it.
pub fn m_tilde(scalar: Scalar) -> u64 {
    match scalar {
        Scalar::U32 => 1 << 16,
        Scalar::U64 => 1 << 32,
    }
}

/// Most coefficient moduli Apple allows (it packs per-modulus data in 32-wide tables).
pub const MAX_MODULI: usize = 32;

/// The largest `Σ log2 q_i` that is secure for `degree`, `None` for no bound (spec §2.3 item 2).
pub fn max_log2_coefficient_modulus(
    degree: usize,
    security: SecurityLevel,
    std_dev: ErrorStdDev,
) -> Result<Option<u32>, Error> {
    match (security, std_dev) {
        (SecurityLevel::Unchecked, _) => Ok(None),
        (SecurityLevel::Quantum128, ErrorStdDev::StdDev32) => match degree {
            1024 => Ok(Some(21)),
            2048 => Ok(Some(41)),
            4096 => Ok(Some(83)),
            8192 => Ok(Some(165)),
            16384 => Ok(Some(330)),
            32768 => Ok(Some(660)),
            _ => Err(Error::DegreeNotCovered {
                degree,
                security: "quantum128 with stdDev32",
                allowed: "1024, 2048, 4096, 8192, 16384 or 32768",
            }),
        },
        (SecurityLevel::Quantum128, ErrorStdDev::StdDev64) => match degree {
            2048 => Ok(Some(42)),
            _ => Err(Error::DegreeNotCovered {
                degree,
                security: "quantum128 with stdDev64",
                allowed: "2048",
            }),
        },
    }
}

/// How many products of residues a double-width accumulator holds for `moduli` (Apple's
/// `maxLazyProductAccumulationCount`): ⌊(2^(2w) − 1 − q_max) / (q_max − 1)²⌋, w the scalar width.
pub fn max_lazy_product_accumulation_count(moduli: &[u64], scalar: Scalar) -> usize {
    let Some(&q_max) = moduli.iter().max() else {
        return usize::MAX;
    };
    let q = u128::from(q_max);
    let product = (q.saturating_sub(1)).pow(2).max(1);
    let double_max = match scalar {
        Scalar::U32 => u128::from(u64::MAX),
        Scalar::U64 => u128::MAX,
    };
    usize::try_from(double_max.saturating_sub(q) / product).unwrap_or(usize::MAX)
}

/// Validated BFV encryption parameters for one scalar engine (Apple's
/// `EncryptionParameters<Scalar>`). The last coefficient modulus is the key-switching modulus
/// when there are at least two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionParameters {
    degree: usize,
    plaintext_modulus: u64,
    coefficient_moduli: Vec<u64>,
    error_std_dev: ErrorStdDev,
    security_level: SecurityLevel,
    scalar: Scalar,
}

impl EncryptionParameters {
    /// Validates the parameters as Apple's `EncryptionParameters<Scalar>.init` and its context
    /// creation do, in the same order, for the engine `scalar`.
    pub fn new(
        degree: usize,
        plaintext_modulus: u64,
        coefficient_moduli: Vec<u64>,
        error_std_dev: ErrorStdDev,
        security_level: SecurityLevel,
        scalar: Scalar,
    ) -> Result<Self, Error> {
        // Our NTT needs N ≥ 2; Apple's degree-1 rings are useless anyway.
        if degree < 2 || !degree.is_power_of_two() {
            return Err(Error::BadDegree(degree));
        }
        // Apple bounds the modulus with the stdDev32 table whatever the std dev, then rejects
        // any other std dev.
        let bound = max_log2_coefficient_modulus(degree, security_level, ErrorStdDev::StdDev32)?;
        // Apple sums in f32, which puts the 3×55 sets exactly on the 165 bound.
        let log2_q: f32 = coefficient_moduli.iter().map(|&q| (q as f32).log2()).sum();
        if let Some(max) = bound
            && log2_q > max as f32
        {
            return Err(Error::InsecureModulus {
                degree,
                security: security_level.to_string(),
                log2_q: format!("{log2_q:.3}"),
                max,
            });
        }
        if error_std_dev != ErrorStdDev::StdDev32 {
            return Err(Error::InsecureErrorStdDev);
        }
        if coefficient_moduli.len() > MAX_MODULI {
            return Err(Error::TooManyModuli {
                count: coefficient_moduli.len(),
                max: MAX_MODULI,
            });
        }
        for &q in &coefficient_moduli {
            if q <= plaintext_modulus {
                return Err(Error::ModulusNotAbovePlaintext {
                    modulus: q,
                    plaintext_modulus,
                });
            }
            if q % (2 * degree as u64) != 1 {
                return Err(Error::ModulusNotNtt { modulus: q, degree });
            }
        }
        let max = max_modulus(scalar);
        let reserved = [
            (rns_correction_factor(scalar), "rnsCorrectionFactor"),
            (m_tilde(scalar), "mTilde"),
        ];
        let all = coefficient_moduli
            .iter()
            .map(|&q| ("coefficient modulus", q))
            .chain([("plaintext modulus", plaintext_modulus)]);
        for (what, value) in all {
            if !is_prime(value) {
                return Err(Error::NotPrime { what, value });
            }
            if value > max {
                return Err(Error::ModulusTooLarge { what, value, max });
            }
            if let Some(&(_, constant)) = reserved.iter().find(|&&(r, _)| r == value) {
                return Err(Error::ReservedModulus { value, constant });
            }
        }
        if coefficient_moduli.is_empty() {
            return Err(Error::NoModuli);
        }
        for (i, &q) in coefficient_moduli.iter().enumerate() {
            if coefficient_moduli[..i].contains(&q) {
                return Err(Error::DuplicateModulus(q));
            }
        }
        // Apple's context creation: each key-switching context [q_0..q_i, p] must have fewer
        // moduli than its lazy product-accumulation budget.
        if let Some((&p, ciphertext)) = coefficient_moduli.split_last()
            && !ciphertext.is_empty()
        {
            for i in 1..=ciphertext.len() {
                let ks: Vec<u64> = ciphertext[..i].iter().copied().chain([p]).collect();
                let max = max_lazy_product_accumulation_count(&ks, scalar);
                if ks.len() >= max {
                    return Err(Error::LazyAccumulationExceeded {
                        count: ks.len(),
                        max,
                    });
                }
            }
        }
        Ok(Self {
            degree,
            plaintext_modulus,
            coefficient_moduli,
            error_std_dev,
            security_level,
            scalar,
        })
    }

    /// Validates protobuf parameters for the engine `scalar`, as Apple's `native()` does
    /// (unspecified security level = unchecked; the scheme must be BFV).
    pub fn from_proto(p: &proto::EncryptionParameters, scalar: Scalar) -> Result<Self, Error> {
        let error_std_dev = match p.error_std_dev {
            0 => ErrorStdDev::StdDev32,
            // Apple's generated code at its submodule pin has STDDEV64 = 1.
            1 => ErrorStdDev::StdDev64,
            value => {
                return Err(Error::UnknownEnumValue {
                    what: "ErrorStdDev",
                    value,
                });
            }
        };
        let security_level = match proto::SecurityLevel::try_from(p.security_level) {
            Ok(proto::SecurityLevel::Unspecified) => SecurityLevel::Unchecked,
            Ok(proto::SecurityLevel::Quantum128) => SecurityLevel::Quantum128,
            Err(_) => {
                return Err(Error::UnknownEnumValue {
                    what: "SecurityLevel",
                    value: p.security_level,
                });
            }
        };
        match proto::HeScheme::try_from(p.he_scheme) {
            Ok(proto::HeScheme::Bfv) => {}
            Ok(_) => return Err(Error::Unsupported("HE scheme other than BFV")),
            Err(_) => {
                return Err(Error::UnknownEnumValue {
                    what: "HeScheme",
                    value: p.he_scheme,
                });
            }
        }
        let degree = usize::try_from(p.polynomial_degree).unwrap_or(usize::MAX);
        Self::new(
            degree,
            p.plaintext_modulus,
            p.coefficient_moduli.clone(),
            error_std_dev,
            security_level,
            scalar,
        )
    }

    /// The protobuf form (BFV), as Apple's `proto(scheme: Bfv.self)` writes it.
    pub fn to_proto(&self) -> proto::EncryptionParameters {
        proto::EncryptionParameters {
            polynomial_degree: self.degree as u64,
            plaintext_modulus: self.plaintext_modulus,
            coefficient_moduli: self.coefficient_moduli.clone(),
            error_std_dev: match self.error_std_dev {
                ErrorStdDev::StdDev32 => 0,
                ErrorStdDev::StdDev64 => 1,
            },
            security_level: match self.security_level {
                SecurityLevel::Quantum128 => proto::SecurityLevel::Quantum128,
                SecurityLevel::Unchecked => proto::SecurityLevel::Unspecified,
            } as i32,
            he_scheme: proto::HeScheme::Bfv as i32,
        }
    }

    /// Polynomial degree N.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// Plaintext modulus t.
    pub fn plaintext_modulus(&self) -> u64 {
        self.plaintext_modulus
    }

    /// All coefficient moduli, the key-switching modulus last.
    pub fn coefficient_moduli(&self) -> &[u64] {
        &self.coefficient_moduli
    }

    /// The ciphertext moduli: all but the last, or the only one.
    pub fn ciphertext_moduli(&self) -> &[u64] {
        match self.coefficient_moduli.len() {
            0 | 1 => &self.coefficient_moduli,
            k => &self.coefficient_moduli[..k - 1],
        }
    }

    /// Error standard deviation.
    pub fn error_std_dev(&self) -> ErrorStdDev {
        self.error_std_dev
    }

    /// Security level the parameters were checked against.
    pub fn security_level(&self) -> SecurityLevel {
        self.security_level
    }

    /// The scalar engine these parameters were validated for.
    pub fn scalar(&self) -> Scalar {
        self.scalar
    }

    /// Whether SIMD (batch) encoding is available: t ≡ 1 mod 2N.
    pub fn supports_simd_encoding(&self) -> bool {
        self.plaintext_modulus % (2 * self.degree as u64) == 1
    }

    /// Whether evaluation keys exist: there is a key-switching modulus.
    pub fn supports_evaluation_key(&self) -> bool {
        self.coefficient_moduli.len() > 1
    }

    /// Bits one plaintext carries: N·⌊log2 t⌋.
    pub fn bits_per_plaintext(&self) -> usize {
        self.degree * self.plaintext_modulus.ilog2() as usize
    }

    /// Whole bytes one plaintext carries.
    pub fn bytes_per_plaintext(&self) -> usize {
        self.bits_per_plaintext() / 8
    }
}

impl From<&EncryptionParameters> for proto::EncryptionParameters {
    fn from(p: &EncryptionParameters) -> Self {
        p.to_proto()
    }
}

macro_rules! predefined {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $name:literal {
            degree: $n:expr, t: $t:expr, moduli: [$($q:expr),+ $(,)?],
            security: $sec:ident, scalar32: $s32:expr $(,)?
        }
    )+) => {
        /// Apple's `PredefinedRlweParameters` (spec bfv.md §2.1).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PredefinedParameters {
            $($(#[$doc])* $variant,)+
        }

        impl PredefinedParameters {
            /// Every set, in Apple's declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Apple's raw name, e.g. `n_4096_logq_27_28_28_logt_5`.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)+ }
            }

            fn raw(self) -> Raw {
                match self {
                    $(Self::$variant => Raw {
                        degree: $n,
                        plaintext_modulus: $t,
                        coefficient_moduli: &[$($q),+],
                        security_level: SecurityLevel::$sec,
                        supports_scalar32: $s32,
                    },)+
                }
            }
        }
    };
}

struct Raw {
    degree: usize,
    plaintext_modulus: u64,
    coefficient_moduli: &'static [u64],
    security_level: SecurityLevel,
    supports_scalar32: bool,
}

predefined! {
    /// Insecure, tests only; a single modulus (no evaluation keys).
    InsecureN16Logq60Logt15 = "insecure_n_16_logq_60_logt_15" {
        degree: 16, t: (1 << 14) + 33, moduli: [(1 << 60) - 16383],
        security: Unchecked, scalar32: false,
    }
    /// Insecure, tests only.
    InsecureN512Logq4x60Logt20 = "insecure_n_512_logq_4x60_logt_20" {
        degree: 512, t: (1 << 19) + 1025,
        moduli: [(1 << 59) + 13313, (1 << 59) + 16385, (1 << 59) + 23553, (1 << 59) + 48129],
        security: Unchecked, scalar32: false,
    }
    /// Insecure, tests only.
    InsecureN8Logq5x18Logt5 = "insecure_n_8_logq_5x18_logt_5" {
        degree: 8, t: (1 << 4) + 1,
        moduli: [(1 << 17) + 177, (1 << 17) + 225, (1 << 17) + 369, (1 << 17) + 417, (1 << 17) + 545],
        security: Unchecked, scalar32: true,
    }
    /// N=4096, t=11 (no SIMD).
    N4096Logq16_33_33Logt4 = "n_4096_logq_16_33_33_logt_4" {
        degree: 4096, t: (1 << 3) + 3,
        moduli: [(1 << 16) - 24575, (1 << 33) - 81919, (1 << 33) - 90111],
        security: Quantum128, scalar32: false,
    }
    /// N=4096, t=4099 (no SIMD).
    N4096Logq27_28_28Logt13 = "n_4096_logq_27_28_28_logt_13" {
        degree: 4096, t: (1 << 12) + 3, moduli: [Q27, Q28A, Q28B],
        security: Quantum128, scalar32: true,
    }
    /// N=4096, t=40961.
    N4096Logq27_28_28Logt16 = "n_4096_logq_27_28_28_logt_16" {
        degree: 4096, t: (1 << 15) + 8193, moduli: [Q27, Q28A, Q28B],
        security: Quantum128, scalar32: true,
    }
    /// N=4096, t=65537.
    N4096Logq27_28_28Logt17 = "n_4096_logq_27_28_28_logt_17" {
        degree: 4096, t: (1 << 16) + 1, moduli: [Q27, Q28A, Q28B],
        security: Quantum128, scalar32: true,
    }
    /// N=4096, t=11 (no SIMD).
    N4096Logq27_28_28Logt4 = "n_4096_logq_27_28_28_logt_4" {
        degree: 4096, t: (1 << 3) + 3, moduli: [Q27, Q28A, Q28B],
        security: Quantum128, scalar32: true,
    }
    /// N=4096, t=17 (no SIMD).
    N4096Logq27_28_28Logt5 = "n_4096_logq_27_28_28_logt_5" {
        degree: 4096, t: (1 << 4) + 1, moduli: [Q27, Q28A, Q28B],
        security: Quantum128, scalar32: true,
    }
    /// N=4096, t=37 (no SIMD).
    N4096Logq27_28_28Logt6 = "n_4096_logq_27_28_28_logt_6" {
        degree: 4096, t: (1 << 5) + 5, moduli: [Q27, Q28A, Q28B],
        security: Quantum128, scalar32: true,
    }
    /// N=8192, t=557057.
    N8192Logq28_60_60Logt20 = "n_8192_logq_28_60_60_logt_20" {
        degree: 8192, t: (1 << 19) + 32769, moduli: [Q28A, Q60A, Q60B],
        security: Quantum128, scalar32: false,
    }
    /// N=8192, t=16411 (no SIMD).
    N8192Logq29_60_60Logt15 = "n_8192_logq_29_60_60_logt_15" {
        degree: 8192, t: (1 << 14) + 27, moduli: [(1 << 29) - 180_223, Q60A, Q60B],
        security: Quantum128, scalar32: false,
    }
    /// N=8192, t=8404993.
    N8192Logq3x55Logt24 = "n_8192_logq_3x55_logt_24" {
        degree: 8192, t: (1 << 23) + 16385, moduli: [Q55A, Q55B, Q55C],
        security: Quantum128, scalar32: false,
    }
    /// N=8192, t=268582913.
    N8192Logq3x55Logt29 = "n_8192_logq_3x55_logt_29" {
        degree: 8192, t: (1 << 28) + 147_457, moduli: [Q55A, Q55B, Q55C],
        security: Quantum128, scalar32: false,
    }
    /// N=8192, t=536903681.
    N8192Logq3x55Logt30 = "n_8192_logq_3x55_logt_30" {
        degree: 8192, t: (1 << 29) + 32769, moduli: [Q55A, Q55B, Q55C],
        security: Quantum128, scalar32: false,
    }
    /// N=8192, t=2199023288321.
    N8192Logq3x55Logt42 = "n_8192_logq_3x55_logt_42" {
        degree: 8192, t: (1 << 41) + 32769, moduli: [Q55A, Q55B, Q55C],
        security: Quantum128, scalar32: false,
    }
    /// N=8192, t=33832961.
    N8192Logq40_60_60Logt26 = "n_8192_logq_40_60_60_logt_26" {
        degree: 8192, t: (1 << 25) + 278_529, moduli: [(1 << 40) - 147_455, Q60A, Q60B],
        security: Quantum128, scalar32: false,
    }
}

// Primes shared by several sets.
const Q27: u64 = (1 << 27) - 40959;
const Q28A: u64 = (1 << 28) - 65535;
const Q28B: u64 = (1 << 28) - 73727;
const Q60A: u64 = (1 << 60) - 16383;
const Q60B: u64 = (1 << 60) - 98303;
const Q55A: u64 = (1 << 55) - 311_295;
const Q55B: u64 = (1 << 55) - 1_392_639;
const Q55C: u64 = (1 << 55) - 1_507_327;

impl PredefinedParameters {
    /// The set Apple names `name`; an unknown name is an error listing the valid ones.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.name() == name)
            .ok_or_else(|| Error::UnknownParameterSet {
                name: name.to_owned(),
                valid: Self::ALL
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Whether Apple allows `Bfv<UInt32>` for this set (`supportsScalar32`).
    pub fn supports_scalar32(self) -> bool {
        self.raw().supports_scalar32
    }

    /// The engine Apple's reference PIR server uses: `Bfv<UInt32>` whenever the set allows it.
    pub fn scalar(self) -> Scalar {
        if self.supports_scalar32() {
            Scalar::U32
        } else {
            Scalar::U64
        }
    }

    /// Security level of the set.
    pub fn security_level(self) -> SecurityLevel {
        self.raw().security_level
    }

    /// The validated parameters for [`Self::scalar`].
    pub fn parameters(self) -> EncryptionParameters {
        // Built directly: the table is constant, and tests check every set passes validation.
        let raw = self.raw();
        EncryptionParameters {
            degree: raw.degree,
            plaintext_modulus: raw.plaintext_modulus,
            coefficient_moduli: raw.coefficient_moduli.to_vec(),
            error_std_dev: ErrorStdDev::StdDev32,
            security_level: raw.security_level,
            scalar: self.scalar(),
        }
    }

    /// The validated parameters for the engine `scalar` (an error for u32 on a u64-only set).
    pub fn parameters_for(self, scalar: Scalar) -> Result<EncryptionParameters, Error> {
        let raw = self.raw();
        if scalar == Scalar::U32 && !raw.supports_scalar32 {
            return Err(Error::Unsupported("Bfv<UInt32> for this parameter set"));
        }
        EncryptionParameters::new(
            raw.degree,
            raw.plaintext_modulus,
            raw.coefficient_moduli.to_vec(),
            ErrorStdDev::StdDev32,
            raw.security_level,
            scalar,
        )
    }
}

impl fmt::Display for PredefinedParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PredefinedParameters {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_name(s)
    }
}
