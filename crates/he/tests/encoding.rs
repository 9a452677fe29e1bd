//! Plaintext encoding (spec bfv.md §5.1): Apple's transcript plaintexts (coefficient encoding,
//! Coeff → Eval lift), SIMD slot semantics checked by direct evaluation and Galois rotation, round
//! trips and bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use he::Error;
use he::encoding::{Encoder, plaintext_from_eval, plaintext_to_eval, simd_slot_table};
use he::galois;
use he::modulus::Modulus;
use he::packing;
use he::params::PredefinedParameters;
use he::poly::{Coeff, Poly, PolyContext};
use proptest::prelude::*;

fn vector(relative: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../vectors/apple/{relative}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn u64le(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Apple's `plaintext_a.coeff.bin` / `plaintext_b.eval.bin` from its encoded values, in every
/// transcript directory.
#[test]
fn apples_transcript_plaintexts() {
    for (set, engine) in [
        ("n_4096_logq_27_28_28_logt_5", "u32"),
        ("n_4096_logq_27_28_28_logt_5", "u64"),
        ("n_4096_logq_27_28_28_logt_4", "u32"),
        ("n_4096_logq_27_28_28_logt_4", "u64"),
    ] {
        let dir = format!("he/{set}/{engine}");
        let params = PredefinedParameters::from_name(set).unwrap().parameters();
        let t = params.plaintext_modulus();
        let encoder = Encoder::new(&params).unwrap();
        assert!(!encoder.supports_simd());
        let ctx = PolyContext::new(params.degree(), params.ciphertext_moduli()).unwrap();
        for name in ["plaintext_a", "plaintext_b"] {
            let values = u64le(&vector(&format!("{dir}/{name}.values.u64le")));
            let pt = encoder.encode_coefficients(&values).unwrap();
            assert_eq!(encoder.decode_coefficients(&pt).unwrap(), values);
            // A Coeff plaintext is one row over [t] at ceilLog2(t) bits.
            let mut bytes = Vec::new();
            let bits = Modulus::new(t).unwrap().bits();
            packing::pack(&pt, bits, 0, &mut bytes).unwrap();
            if name == "plaintext_a" {
                assert_eq!(bytes, vector(&format!("{dir}/{name}.coeff.bin")), "{dir}");
            }
            let eval = plaintext_to_eval(&ctx, &pt, t).unwrap();
            if name == "plaintext_b" {
                let mut bytes = Vec::new();
                eval.write(&ctx, 0, &mut bytes).unwrap();
                assert_eq!(bytes, vector(&format!("{dir}/{name}.eval.bin")), "{dir}");
            }
            assert_eq!(plaintext_from_eval(&ctx, eval, t).unwrap(), values);
        }
    }
}

/// Slot k < N/2 is the value at ψ^(3^k), slot N/2+k at ψ^(−3^k), ψ the minimal 2N-th root of t.
fn check_slots_by_evaluation(set: PredefinedParameters, values: &[u64], slots: &[usize]) {
    let params = set.parameters();
    let (n, t) = (
        params.degree(),
        Modulus::new(params.plaintext_modulus()).unwrap(),
    );
    let encoder = Encoder::new(&params).unwrap();
    let pt = encoder.encode_simd(values).unwrap();
    let psi = t.min_primitive_root(n).unwrap();
    let two_n = 2 * n as u64;
    for &k in slots {
        // Exponents are odd mod 2N; reduce powers of 3 mod 2N, not mod t.
        let exponent = (0..(k % (n / 2)) as u64).fold(1u64, |g, _| g * 3 % two_n);
        let exponent = if k < n / 2 {
            exponent
        } else {
            two_n - exponent
        };
        let x = t.pow(psi, exponent);
        let value = pt.iter().rev().fold(0, |acc, &c| t.add(t.mul(acc, x), c));
        assert_eq!(value, values.get(k).copied().unwrap_or(0), "slot {k}");
    }
}

#[test]
fn simd_slots_are_apples_evaluation_points() {
    let values: Vec<u64> = (0..8).map(|i| (3 * i + 1) % 17).collect();
    check_slots_by_evaluation(
        PredefinedParameters::InsecureN8Logq5x18Logt5,
        &values,
        &(0..8).collect::<Vec<_>>(),
    );
    let values: Vec<u64> = (0..4096u64).map(|i| (i * i + 7) % 65537).collect();
    check_slots_by_evaluation(
        PredefinedParameters::N4096Logq27_28_28Logt17,
        &values,
        &[0, 1, 2, 3, 100, 2047, 2048, 2049, 3000, 4095],
    );
    // Fewer values than slots: the rest are 0.
    check_slots_by_evaluation(
        PredefinedParameters::InsecureN16Logq60Logt15,
        &[5, 6, 7],
        &(0..16).collect::<Vec<_>>(),
    );
}

#[test]
fn slot_table_for_n8() {
    // g = 1, 3, 9, 11 (mod 16): (g−1)/2 = 0, 1, 4, 5 and (15−g)/2 = 7, 6, 3, 2, bit-reversed.
    assert_eq!(simd_slot_table(8), vec![0, 4, 1, 5, 7, 3, 6, 2]);
}

/// Galois element 3^k rotates both rows left by k; 2N − 1 swaps the rows (pitfall P12).
#[test]
fn galois_on_simd_plaintexts_rotates_rows() {
    let set = PredefinedParameters::InsecureN16Logq60Logt15;
    let params = set.parameters();
    let (n, t) = (params.degree(), params.plaintext_modulus());
    let encoder = Encoder::new(&params).unwrap();
    let ctx = PolyContext::new(n, &[t]).unwrap();
    let values: Vec<u64> = (0..n as u64).map(|i| 100 + i).collect();
    let pt = encoder.encode_simd(&values).unwrap();
    let poly = Poly::<Coeff>::from_rows(&ctx, vec![pt]).unwrap();
    let half = n / 2;
    for (element, expected) in [
        (
            3u64,
            (0..n)
                .map(|i| values[(i / half) * half + (i % half + 1) % half])
                .collect::<Vec<_>>(),
        ),
        (
            9,
            (0..n)
                .map(|i| values[(i / half) * half + (i % half + 2) % half])
                .collect(),
        ),
        (
            2 * n as u64 - 1,
            (0..n).map(|i| values[(i + half) % n]).collect(),
        ),
    ] {
        let rotated = galois::apply(&ctx, &poly, element).unwrap();
        let got = encoder.decode_simd(&rotated.rows()[0]).unwrap();
        assert_eq!(got, expected, "element {element}");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let params = PredefinedParameters::N4096Logq27_28_28Logt5.parameters();
    let encoder = Encoder::new(&params).unwrap();
    assert!(matches!(
        encoder.encode_simd(&[1, 2]),
        Err(Error::SimdUnsupported {
            t: 17,
            degree: 4096
        })
    ));
    assert!(matches!(
        encoder.encode_coefficients(&[0; 4097]),
        Err(Error::TooManyValues {
            count: 4097,
            max: 4096
        })
    ));
    assert_eq!(
        encoder.encode_coefficients(&[3, 17]),
        Err(Error::CoefficientOutOfRange {
            value: 17,
            modulus: 17
        })
    );
    assert!(encoder.decode_coefficients(&[0; 5]).is_err());
    // t = 17: signed range [−8, 8].
    assert_eq!(encoder.to_unsigned(&[-8, 8, 0, -1]).unwrap(), [9, 8, 0, 16]);
    assert_eq!(
        encoder.to_unsigned(&[9]),
        Err(Error::SignedValueOutOfRange {
            value: 9,
            low: -8,
            high: 8
        })
    );
    assert!(encoder.to_unsigned(&[-9]).is_err());
    assert_eq!(encoder.to_signed(&[9, 8, 0, 16]), [-8, 8, 0, -1]);
    let ctx = PolyContext::new(4096, params.ciphertext_moduli()).unwrap();
    assert!(plaintext_to_eval(&ctx, &[0; 4096], 17).is_ok());
    assert!(plaintext_to_eval(&ctx, &[0; 10], 17).is_err());
    assert!(plaintext_to_eval(&ctx, &[17; 4096], 17).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn simd_and_coefficient_round_trips(values in proptest::collection::vec(0u64..65537, 0..=4096)) {
        let params = PredefinedParameters::N4096Logq27_28_28Logt17.parameters();
        let encoder = Encoder::new(&params).unwrap();
        let mut padded = values.clone();
        padded.resize(4096, 0);
        let pt = encoder.encode_simd(&values).unwrap();
        prop_assert_eq!(encoder.decode_simd(&pt).unwrap(), padded.clone());
        let pt = encoder.encode_coefficients(&values).unwrap();
        prop_assert_eq!(encoder.decode_coefficients(&pt).unwrap(), padded.clone());
        let ctx = PolyContext::new(4096, params.ciphertext_moduli()).unwrap();
        let eval = plaintext_to_eval(&ctx, &pt, 65537).unwrap();
        prop_assert_eq!(plaintext_from_eval(&ctx, eval, 65537).unwrap(), padded);
        let signed = encoder.to_signed(&pt);
        prop_assert_eq!(encoder.to_unsigned(&signed).unwrap(), pt);
    }
}
