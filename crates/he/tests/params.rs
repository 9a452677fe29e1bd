//! Predefined parameter sets and parameter validation against Apple's
//! `EncryptionParametersTests.swift` (spec bfv.md §2.1, §2.3, §7.11, §7.12).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use he::Error;
use he::behz::{Scalar, is_prime};
use he::modswitch::skip_lsbs_for_decryption;
use he::params::{EncryptionParameters, ErrorStdDev, PredefinedParameters, SecurityLevel};
use he::proto;

/// Per set (§2.1, §7.11, §7.12): ceilLog2 of each modulus, ceilLog2 t, SIMD, u32 support,
/// skipLSBs.
#[allow(clippy::type_complexity, reason = "a literal table")]
const TABLE: &[(&str, &[u32], u32, bool, bool, [u32; 2])] = &[
    (
        "insecure_n_16_logq_60_logt_15",
        &[60],
        15,
        true,
        false,
        [42, 38],
    ),
    (
        "insecure_n_512_logq_4x60_logt_20",
        &[60, 60, 60, 60],
        20,
        true,
        false,
        [36, 29],
    ),
    (
        "insecure_n_8_logq_5x18_logt_5",
        &[18, 18, 18, 18, 18],
        5,
        true,
        true,
        [9, 5],
    ),
    (
        "n_4096_logq_16_33_33_logt_4",
        &[16, 33, 33],
        4,
        false,
        false,
        [9, 0],
    ),
    (
        "n_4096_logq_27_28_28_logt_13",
        &[27, 28, 28],
        13,
        false,
        true,
        [11, 3],
    ),
    (
        "n_4096_logq_27_28_28_logt_16",
        &[27, 28, 28],
        16,
        true,
        true,
        [9, 0],
    ),
    (
        "n_4096_logq_27_28_28_logt_17",
        &[27, 28, 28],
        17,
        true,
        true,
        [8, 0],
    ),
    (
        "n_4096_logq_27_28_28_logt_4",
        &[27, 28, 28],
        4,
        false,
        true,
        [20, 12],
    ),
    (
        "n_4096_logq_27_28_28_logt_5",
        &[27, 28, 28],
        5,
        false,
        true,
        [19, 11],
    ),
    (
        "n_4096_logq_27_28_28_logt_6",
        &[27, 28, 28],
        6,
        false,
        true,
        [18, 10],
    ),
    (
        "n_8192_logq_28_60_60_logt_20",
        &[28, 60, 60],
        20,
        true,
        false,
        [6, 0],
    ),
    (
        "n_8192_logq_29_60_60_logt_15",
        &[29, 60, 60],
        15,
        false,
        false,
        [11, 2],
    ),
    (
        "n_8192_logq_3x55_logt_24",
        &[55, 55, 55],
        24,
        true,
        false,
        [28, 19],
    ),
    (
        "n_8192_logq_3x55_logt_29",
        &[55, 55, 55],
        29,
        true,
        false,
        [23, 14],
    ),
    (
        "n_8192_logq_3x55_logt_30",
        &[55, 55, 55],
        30,
        true,
        false,
        [22, 13],
    ),
    (
        "n_8192_logq_3x55_logt_42",
        &[55, 55, 55],
        42,
        true,
        false,
        [11, 0],
    ),
    (
        "n_8192_logq_40_60_60_logt_26",
        &[40, 60, 60],
        26,
        true,
        false,
        [11, 2],
    ),
];

fn ceil_log2(x: u64) -> u32 {
    64 - (x - 1).leading_zeros()
}

#[test]
fn all_seventeen_sets_match_apples_table() {
    assert_eq!(PredefinedParameters::ALL.len(), 17);
    assert_eq!(TABLE.len(), 17);
    for &(name, bits, t_bits, simd, scalar32, skip) in TABLE {
        let set = PredefinedParameters::from_name(name).unwrap();
        assert_eq!(set.name(), name);
        assert_eq!(set.to_string(), name);
        assert_eq!(name.parse::<PredefinedParameters>().unwrap(), set);
        let p = set.parameters();
        let got: Vec<u32> = p
            .coefficient_moduli()
            .iter()
            .map(|&q| ceil_log2(q))
            .collect();
        assert_eq!(got, bits, "{name}");
        assert_eq!(ceil_log2(p.plaintext_modulus()), t_bits, "{name}");
        assert_eq!(p.supports_simd_encoding(), simd, "{name}");
        assert_eq!(p.supports_evaluation_key(), bits.len() > 1, "{name}");
        assert_eq!(set.supports_scalar32(), scalar32, "{name}");
        let expected_scalar = if scalar32 { Scalar::U32 } else { Scalar::U64 };
        assert_eq!(set.scalar(), expected_scalar, "{name}");
        assert_eq!(p.scalar(), expected_scalar, "{name}");
        assert_eq!(
            set.security_level(),
            if name.starts_with("insecure") {
                SecurityLevel::Unchecked
            } else {
                SecurityLevel::Quantum128
            }
        );
        assert_eq!(p.error_std_dev(), ErrorStdDev::StdDev32);
        assert_eq!(
            skip_lsbs_for_decryption(p.coefficient_moduli()[0], p.plaintext_modulus(), p.degree()),
            skip,
            "{name}"
        );
        // The unvalidated table passes Apple's validation for each engine it supports.
        assert_eq!(set.parameters_for(set.scalar()).unwrap(), p, "{name}");
        assert!(set.parameters_for(Scalar::U64).is_ok(), "{name}");
        assert_eq!(set.parameters_for(Scalar::U32).is_ok(), scalar32, "{name}");
        // Every number in the table is prime (§2.1).
        assert!(p.coefficient_moduli().iter().all(|&q| is_prime(q)));
        assert!(is_prime(p.plaintext_modulus()));
    }
}

#[test]
fn literal_primes_of_the_sets_pir_uses() {
    let p = PredefinedParameters::N4096Logq27_28_28Logt5.parameters();
    assert_eq!(p.degree(), 4096);
    assert_eq!(p.plaintext_modulus(), 17);
    assert_eq!(
        p.coefficient_moduli(),
        [134_176_769, 268_369_921, 268_361_729]
    );
    assert_eq!(p.ciphertext_moduli(), [134_176_769, 268_369_921]);
    assert_eq!(p.bits_per_plaintext(), 4096 * 4);
    assert_eq!(p.bytes_per_plaintext(), 2048);
    let p = PredefinedParameters::N8192Logq3x55Logt42.parameters();
    assert_eq!(p.plaintext_modulus(), 2_199_023_288_321);
    assert_eq!(
        p.coefficient_moduli(),
        [
            36_028_797_018_652_673,
            36_028_797_017_571_329,
            36_028_797_017_456_641
        ]
    );
    let p = PredefinedParameters::InsecureN16Logq60Logt15.parameters();
    assert_eq!(p.ciphertext_moduli(), [1_152_921_504_606_830_593]);
}

#[test]
fn unknown_name_lists_the_valid_names() {
    let err = PredefinedParameters::from_name("n_4096_logq_27_28_28_logt_7").unwrap_err();
    let Error::UnknownParameterSet { name, valid } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(name, "n_4096_logq_27_28_28_logt_7");
    for set in PredefinedParameters::ALL {
        assert!(valid.contains(set.name()));
    }
    assert!(err.to_string().contains("n_8192_logq_3x55_logt_24"));
}

#[test]
fn proto_round_trip_and_apples_enum_mapping() {
    for &set in PredefinedParameters::ALL {
        let p = set.parameters();
        let wire = proto::EncryptionParameters::from(&p);
        assert_eq!(wire.he_scheme, proto::HeScheme::Bfv as i32);
        assert_eq!(wire.error_std_dev, 0);
        // Apple writes unchecked as SECURITY_LEVEL_UNSPECIFIED.
        let level = match set.security_level() {
            SecurityLevel::Quantum128 => proto::SecurityLevel::Quantum128,
            SecurityLevel::Unchecked => proto::SecurityLevel::Unspecified,
        };
        assert_eq!(wire.security_level, level as i32);
        assert_eq!(
            EncryptionParameters::from_proto(&wire, set.scalar()).unwrap(),
            p
        );
    }
    let good = PredefinedParameters::N4096Logq27_28_28Logt5
        .parameters()
        .to_proto();
    let mut bad = good.clone();
    bad.he_scheme = proto::HeScheme::Bgv as i32;
    assert!(matches!(
        EncryptionParameters::from_proto(&bad, Scalar::U32),
        Err(Error::Unsupported(_))
    ));
    let mut bad = good.clone();
    bad.security_level = 7;
    assert!(matches!(
        EncryptionParameters::from_proto(&bad, Scalar::U32),
        Err(Error::UnknownEnumValue { .. })
    ));
    let mut bad = good.clone();
    bad.error_std_dev = 1;
    assert_eq!(
        EncryptionParameters::from_proto(&bad, Scalar::U32),
        Err(Error::InsecureErrorStdDev)
    );
    let mut bad = good;
    bad.polynomial_degree = u64::MAX;
    assert!(EncryptionParameters::from_proto(&bad, Scalar::U64).is_err());
}

/// Apple's `generatePrimes(significantBitCounts:preferringSmall:nttDegree:)` for u64 (§2.4).
fn generate_primes(bit_counts: &[u32], preferring_small: bool, ntt_degree: u64) -> Vec<u64> {
    let step = 2 * ntt_degree;
    let mut found: Vec<u64> = Vec::new();
    for &b in bit_counts {
        let (low, high) = (1u64 << (b - 1), 1u64 << b);
        let ok = |c: u64, found: &[u64]| !found.contains(&c) && is_prime(c) && c % step == 1;
        let prime = if preferring_small {
            (0..)
                .map(|k| low + 1 + k * step)
                .take_while(|&c| c < high)
                .find(|&c| ok(c, &found))
        } else {
            (1..)
                .map_while(|k| (high + 1).checked_sub(k * step))
                .take_while(|&c| c >= low)
                .find(|&c| ok(c, &found))
        };
        found.push(prime.expect("enough primes"));
    }
    found
}

fn validate(
    degree: usize,
    t: u64,
    moduli: &[u64],
    security: SecurityLevel,
    scalar: Scalar,
) -> Result<EncryptionParameters, Error> {
    EncryptionParameters::new(
        degree,
        t,
        moduli.to_vec(),
        ErrorStdDev::StdDev32,
        security,
        scalar,
    )
}

#[test]
fn insecure_kats() {
    let err = validate(
        1024,
        257,
        &[17_179_869_209],
        SecurityLevel::Quantum128,
        Scalar::U64,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InsecureModulus { max: 21, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("maximum of 21"));

    let cases: &[(usize, &[u32], &[u32])] = &[
        (1024, &[21], &[22]),
        (2048, &[41], &[42]),
        (4096, &[40, 43], &[40, 44]),
        (8192, &[40, 40, 40, 45], &[40, 46, 40, 40]),
        (
            16384,
            &[50, 50, 50, 50, 50, 50, 30],
            &[50, 50, 50, 50, 50, 50, 31],
        ),
    ];
    for &(n, secure, insecure) in cases {
        let secure = generate_primes(secure, false, n as u64);
        let insecure = generate_primes(insecure, false, n as u64);
        for level in [SecurityLevel::Quantum128, SecurityLevel::Unchecked] {
            validate(n, 1153, &secure, level, Scalar::U64).unwrap();
        }
        assert!(matches!(
            validate(n, 1153, &insecure, SecurityLevel::Quantum128, Scalar::U64),
            Err(Error::InsecureModulus { .. })
        ));
        validate(n, 1153, &insecure, SecurityLevel::Unchecked, Scalar::U64).unwrap();
    }
}

#[test]
fn security_bound_is_summed_in_f32_like_apple() {
    // The 3×55 sets sum to exactly 165.0 in f32 (§2.3 note, pitfall P19).
    let p = PredefinedParameters::N8192Logq3x55Logt24.parameters();
    let sum: f32 = p
        .coefficient_moduli()
        .iter()
        .map(|&q| (q as f32).log2())
        .sum();
    assert_eq!(sum, 165.0);
    assert!(
        PredefinedParameters::N8192Logq3x55Logt24
            .parameters_for(Scalar::U64)
            .is_ok()
    );
    // Degrees without a quantum128 bound are rejected with the list of allowed ones.
    let err = validate(512, 17, &[12289], SecurityLevel::Quantum128, Scalar::U64).unwrap_err();
    assert!(matches!(err, Error::DegreeNotCovered { degree: 512, .. }));
    assert!(
        err.to_string()
            .contains("1024, 2048, 4096, 8192, 16384 or 32768")
    );
    // stdDev64 is insecure at every degree the stdDev32 table covers.
    assert_eq!(
        EncryptionParameters::new(
            4096,
            17,
            vec![134_176_769],
            ErrorStdDev::StdDev64,
            SecurityLevel::Quantum128,
            Scalar::U64,
        ),
        Err(Error::InsecureErrorStdDev)
    );
}

#[test]
fn invalid_kats() {
    let t = (1 << 17) + 177;
    let q: &[u64] = &[(1 << 17) + 225, (1 << 17) + 369, (1 << 17) + 417];
    let unchecked = SecurityLevel::Unchecked;
    validate(8, t, q, unchecked, Scalar::U32).unwrap();
    assert_eq!(
        validate(7, t, q, unchecked, Scalar::U32),
        Err(Error::BadDegree(7))
    );
    assert_eq!(
        validate(8, 131_248, q, unchecked, Scalar::U32),
        Err(Error::NotPrime {
            what: "plaintext modulus",
            value: 131_248
        })
    );
    assert!(matches!(
        validate(8, q[0], q, unchecked, Scalar::U32),
        Err(Error::ModulusNotAbovePlaintext { .. })
    ));
    let big = generate_primes(&[27], true, 1)[0];
    assert!(matches!(
        validate(8, big, q, unchecked, Scalar::U32),
        Err(Error::ModulusNotAbovePlaintext { .. })
    ));
    let first_32_bit = generate_primes(&[32], true, 1)[0];
    assert_eq!(first_32_bit, (1 << 31) + 11);
    assert!(validate(8, first_32_bit, q, unchecked, Scalar::U32).is_err());
    assert!(matches!(
        validate(8, 1, q, unchecked, Scalar::U32),
        Err(Error::NotPrime { value: 1, .. })
    ));
    // Apple calls this "too many moduli"; the rejection is that they are not 1 mod 16.
    let many = generate_primes(&[25; 10], true, 1);
    assert_eq!(many[0], 16_777_259);
    assert!(matches!(
        validate(8, t, &many, unchecked, Scalar::U32),
        Err(Error::ModulusNotNtt { degree: 8, .. })
    ));
}

#[test]
fn engine_limits_reserved_values_and_context_checks() {
    let unchecked = SecurityLevel::Unchecked;
    // A 31-bit NTT prime is fine for u64 but above u32's Modulus.max = 2^30 − 1.
    let q31 = generate_primes(&[31], true, 8)[0];
    validate(8, 17, &[q31], unchecked, Scalar::U64).unwrap();
    let err = validate(8, 17, &[q31], unchecked, Scalar::U32).unwrap_err();
    assert_eq!(
        err,
        Error::ModulusTooLarge {
            what: "coefficient modulus",
            value: q31,
            max: (1 << 30) - 1
        }
    );
    assert!(err.to_string().contains("[2, 1073741823]"));
    assert_eq!(
        validate(1, 17, &[3], unchecked, Scalar::U32),
        Err(Error::BadDegree(1))
    );
    // u32's rnsCorrectionFactor 2^30 − 20405 is prime (≡ 3 mod 4, so only usable as t).
    let gamma = (1 << 30) - 20405;
    let q = (gamma + 1..1 << 30)
        .find(|&q| q % 4 == 1 && is_prime(q))
        .unwrap();
    assert_eq!(
        validate(2, gamma, &[q], unchecked, Scalar::U32),
        Err(Error::ReservedModulus {
            value: gamma,
            constant: "rnsCorrectionFactor"
        })
    );
    assert_eq!(
        validate(8, 17, &[], unchecked, Scalar::U64),
        Err(Error::NoModuli)
    );
    assert_eq!(
        validate(8, 17, &[131_249, 131_249], unchecked, Scalar::U64),
        Err(Error::DuplicateModulus(131_249))
    );
    let too_many = generate_primes(&[40; 33], true, 8);
    assert!(matches!(
        validate(8, 17, &too_many, unchecked, Scalar::U64),
        Err(Error::TooManyModuli { count: 33, max: 32 })
    ));
}

#[test]
fn lazy_accumulation_budget_limits_the_moduli_count() {
    use he::params::max_lazy_product_accumulation_count as lazy;
    // Apple's PolyContextTests KATs (§7.6).
    assert_eq!(
        lazy(&[134_176_769, 268_369_921, 268_361_729], Scalar::U32),
        256
    );
    assert_eq!(
        lazy(
            &[576_460_752_303_436_801, 576_460_752_303_439_873],
            Scalar::U64
        ),
        1023
    );
    // 30-bit moduli under u32 allow 16 products, so at most 15 moduli per key-switching context.
    let q = generate_primes(&[30; 16], false, 8);
    assert!(q.iter().all(|&q| q < 1 << 30));
    assert_eq!(lazy(&q, Scalar::U32), 16);
    validate(8, 17, &q[..15], SecurityLevel::Unchecked, Scalar::U32).unwrap();
    assert_eq!(
        validate(8, 17, &q, SecurityLevel::Unchecked, Scalar::U32),
        Err(Error::LazyAccumulationExceeded { count: 16, max: 16 })
    );
    validate(8, 17, &q, SecurityLevel::Unchecked, Scalar::U64).unwrap();
}
