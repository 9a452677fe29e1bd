//! Predefined parameter sets and parameter validation against Apple's
//! `EncryptionParametersTests.swift` (spec bfv.md §2.1, §2.3, §7.11, §7.12).

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
