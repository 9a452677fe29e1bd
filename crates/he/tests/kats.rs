//! Known-answer tests (spec bfv.md §7): Apple's unit-test vectors from `vectors/bfv/bfv.json`, and
//! the noise budgets and decryptions Apple recorded in the `vectors/apple/he` transcripts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed unwrap is a failed test"
)]

use he::behz::{Scalar, is_prime, ntt_primes};
use he::decrypt::decrypt_with;
use he::galois;
use he::modswitch::skip_lsbs_for_decryption;
use he::modulus::Modulus;
use he::noise::noise_budget;
use he::packing;
use he::params::{
    EncryptionParameters, ErrorStdDev, PredefinedParameters, SecurityLevel, m_tilde,
    max_log2_coefficient_modulus, max_modulus, rns_correction_factor,
};
use he::poly::{Coeff, Eval, Poly, PolyContext, read_polys};
use he::proto::{self, serialized_ciphertext::SerializedCiphertextType};
use he::rng::NistAes128Ctr;
use he::sample;
use prost::Message;
use serde_json::Value;

fn kats() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../vectors/bfv/bfv.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn seed(v: &Value) -> [u8; 32] {
    hex::decode(v["seed_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn seeded_samplers_match_apple() {
    let kats = kats();
    let vectors = kats["seeded_sampling"]["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 4);
    for v in vectors {
        let moduli: Vec<Modulus> = v["moduli"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| Modulus::new(q.as_u64().unwrap()).unwrap())
            .collect();
        let id = v["id"].as_str().unwrap();
        let mut rng = NistAes128Ctr::new(&seed(v));
        let draw = |rng: &mut NistAes128Ctr| -> Vec<u64> {
            let rows = if id.starts_with("uniform") {
                sample::uniform_rows(4, &moduli, rng)
            } else if id.starts_with("ternary") {
                sample::signed_rows(&moduli, &sample::ternary_values(4, rng))
            } else {
                sample::signed_rows(&moduli, &sample::cbd_values(4, rng))
            };
            rows.concat()
        };
        let want = |k: &str| -> Vec<u64> {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        };
        assert_eq!(draw(&mut rng), want("expected_1"), "{id}");
        for _ in 0..1000 {
            draw(&mut rng);
        }
        assert_eq!(draw(&mut rng), want("expected_2"), "{id}");
        for _ in 0..1000 {
            draw(&mut rng);
        }
        assert_eq!(draw(&mut rng), want("expected_3"), "{id}");
    }
}

fn apple_file(relative: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../vectors/apple/{relative}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Loads a transcript ciphertext as Coeff polys over `ctx` (full or seeded, Coeff or Eval).
fn load_ciphertext(ctx: &PolyContext, bytes: &[u8], eval: bool) -> Vec<Poly<Coeff>> {
    let ct = proto::SerializedCiphertext::decode(bytes).unwrap();
    match ct.serialized_ciphertext_type.unwrap() {
        SerializedCiphertextType::Full(full) => {
            if eval {
                read_polys::<Eval>(ctx, &full.polys, &full.skip_lsbs)
                    .unwrap()
                    .into_iter()
                    .map(|p| p.intt(ctx))
                    .collect()
            } else {
                read_polys::<Coeff>(ctx, &full.polys, &full.skip_lsbs).unwrap()
            }
        }
        SerializedCiphertextType::Seeded(seeded) => {
            let seed: [u8; 32] = seeded.seed.as_slice().try_into().unwrap();
            let a = sample::uniform_eval(ctx, &mut NistAes128Ctr::new(&seed)).unwrap();
            let c0 = if eval {
                Poly::<Eval>::from_bytes(ctx, &seeded.poly0, 0)
                    .unwrap()
                    .intt(ctx)
            } else {
                Poly::<Coeff>::from_bytes(ctx, &seeded.poly0, 0).unwrap()
            };
            vec![c0, a.intt(ctx)]
        }
    }
}

/// Apple's noise budgets (manifest `noise_budget_bits`, 3 decimals) and decryptions with each
/// transcript's engine, for every ciphertext of every `he/` transcript.
#[test]
fn transcript_noise_budgets_and_decryptions() {
    let manifest: Value = serde_json::from_slice(&apple_file("manifest.json")).unwrap();
    let sets = manifest["he"].as_array().unwrap();
    assert!(!sets.is_empty());
    let mut checked = 0;
    for set in sets {
        let dir = set["directory"].as_str().unwrap();
        let params = PredefinedParameters::from_name(set["rlwe_parameters"].as_str().unwrap())
            .unwrap()
            .parameters();
        let scalar = match set["scalar"].as_str().unwrap() {
            "UInt32" | "u32" => Scalar::U32,
            "UInt64" | "u64" => Scalar::U64,
            other => panic!("scalar {other}"),
        };
        let t = params.plaintext_modulus();
        let all = PolyContext::new(params.degree(), params.coefficient_moduli()).unwrap();
        let ternary = apple_file(&format!("{dir}/secret_key.ternary.i8"));
        let rows = all
            .moduli()
            .map(|q| {
                ternary
                    .iter()
                    .map(|&b| q.reduce((i64::from(b as i8) + q.value() as i64) as u64))
                    .collect()
            })
            .collect();
        let secret = Poly::<Coeff>::from_rows(&all, rows).unwrap().ntt(&all);
        for result in set["results"].as_array().unwrap() {
            let name = result["name"].as_str().unwrap();
            let ctx = all
                .prefix(result["moduli_count"].as_u64().unwrap() as usize)
                .unwrap();
            let eval = result["poly_format"].as_str() == Some("Eval format");
            let polys = load_ciphertext(&ctx, &apple_file(result["file"].as_str().unwrap()), eval);
            let budget = noise_budget(&ctx, &secret, &polys, t).unwrap();
            let want = result["noise_budget_bits"].as_f64().unwrap();
            assert!(
                (budget - want).abs() <= 0.0005 + 1e-9,
                "{dir}/{name}: noise budget {budget}, Apple {want}"
            );
            let decrypted: Vec<u8> = decrypt_with(&ctx, &secret, &polys, t, scalar)
                .unwrap()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            assert_eq!(
                decrypted,
                apple_file(result["decrypted_file"].as_str().unwrap()),
                "{dir}/{name}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4 * 18);
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn rows(v: &Value) -> Vec<Vec<u64>> {
    v.as_array().unwrap().iter().map(u64s).collect()
}

/// §7.4: NTT vectors (forward, inverse) and the primitive-root KATs.
#[test]
fn ntt_and_primitive_roots() {
    let kats = kats();
    let mut count = 0;
    for v in kats["ntt"]["vectors"].as_array().unwrap() {
        let n = v["N"].as_u64().unwrap() as usize;
        let moduli = u64s(&v["moduli"]);
        let ctx = PolyContext::new(n, &moduli).unwrap();
        let (coeff, eval) = if v.get("second_row_only").is_some() {
            // The second row's one-hot with a zero first row.
            let second = u64s(&v["coeff_second_row"]);
            let want = u64s(&v["eval_second_row"]);
            (vec![vec![0; n], second], vec![vec![0; n], want])
        } else if let Some(d) = v.get("coeff_description") {
            let one_hot = d.as_str() == Some("one-hot at index 0");
            let mut c = vec![0; n];
            c[0] = u64::from(one_hot);
            let e = vec![u64::from(one_hot); n];
            assert_eq!(
                v["eval_description"].as_str().unwrap(),
                if one_hot { "all ones" } else { "all zeros" }
            );
            (vec![c], vec![e])
        } else {
            (rows(&v["coeff"]), rows(&v["eval"]))
        };
        let c = Poly::<Coeff>::from_rows(&ctx, coeff.clone()).unwrap();
        let e = c.ntt(&ctx);
        assert_eq!(e.rows(), eval.as_slice(), "N={n} {moduli:?}");
        assert_eq!(e.intt(&ctx).rows(), coeff.as_slice());
        count += 1;
    }
    assert_eq!(count, 21);

    let roots = &kats["primitive_roots"];
    for (key, want) in [
        ("is_primitive_root_of_unity_true", true),
        ("is_primitive_root_of_unity_false", false),
    ] {
        for v in roots[key].as_array().unwrap() {
            let q = Modulus::new(v["modulus"].as_u64().unwrap()).unwrap();
            let (root, degree) = (v["root"].as_u64().unwrap(), v["degree"].as_u64().unwrap());
            // Apple's definition: r^(degree/2) ≡ −1.
            assert_eq!(q.pow(root, degree / 2) == q.value() - 1, want, "{v}");
        }
    }
    for v in roots["min_primitive_root_of_unity"].as_array().unwrap() {
        let q = Modulus::new(v["modulus"].as_u64().unwrap()).unwrap();
        // Our API takes N and returns the minimal primitive 2N-th root.
        let n = v["degree"].as_u64().unwrap() as usize / 2;
        let got = q.min_primitive_root(n).unwrap();
        assert_eq!(got, v["expected"].as_u64().unwrap(), "{v}");
    }
}

/// §7.5: Coeff Galois KATs, Eval Galois = NTT ∘ Coeff Galois for every odd element, and the
/// row-swap and rotation identities.
#[test]
fn galois_kats() {
    let kats = kats();
    for v in kats["galois"]["coeff_galois"].as_array().unwrap() {
        let n = v["N"].as_u64().unwrap() as usize;
        let ctx = PolyContext::new(n, &u64s(&v["moduli"])).unwrap();
        let input = Poly::<Coeff>::from_rows(&ctx, rows(&v["input"])).unwrap();
        let g = v["element"].as_u64().unwrap();
        let out = galois::apply(&ctx, &input, g).unwrap();
        assert_eq!(out.rows(), rows(&v["expected"]).as_slice());
        for g in (3..2 * n as u64).step_by(2) {
            let coeff = galois::apply(&ctx, &input, g).unwrap().ntt(&ctx);
            let eval = galois::apply_eval(&ctx, &input.clone().ntt(&ctx), g).unwrap();
            assert_eq!(coeff, eval, "element {g}");
        }
        // Swapping rows twice, and rotating by k then N/2 − k, are the identity in both forms.
        let two_n = 2 * n as u64;
        let power = |k: usize| (0..k).fold(1u64, |g, _| g * 3 % two_n);
        let swap = two_n - 1;
        let twice = galois::apply(&ctx, &galois::apply(&ctx, &input, swap).unwrap(), swap);
        assert_eq!(twice.unwrap(), input);
        for k in 1..n / 2 {
            let (g1, g2) = (power(k), power(n / 2 - k));
            let there = galois::apply(&ctx, &input, g1).unwrap();
            assert_eq!(galois::apply(&ctx, &there, g2).unwrap(), input, "k={k}");
            let eval = input.clone().ntt(&ctx);
            let there = galois::apply_eval(&ctx, &eval, g1).unwrap();
            assert_eq!(galois::apply_eval(&ctx, &there, g2).unwrap(), eval, "k={k}");
        }
    }
}

/// §7.7: divide-and-round by the last modulus (the u64 case; the u32 case's moduli [13, 17]
/// are not NTT-friendly for N=4, which our contexts require).
#[test]
fn divide_and_round_q_last_kat() {
    let kats = kats();
    let mut checked = 0;
    for v in kats["poly_rq"]["divide_and_round_q_last"]
        .as_array()
        .unwrap()
    {
        let n = v["N"].as_u64().unwrap() as usize;
        let moduli = u64s(&v["moduli"]);
        let Ok(ctx) = PolyContext::new(n, &moduli) else {
            assert!(moduli.iter().any(|&q| q % (2 * n as u64) != 1));
            continue;
        };
        let input = Poly::<Coeff>::from_rows(&ctx, rows(&v["input_rows"])).unwrap();
        // The rows are the recorded integers' residues.
        for (row, &q) in input.rows().iter().zip(&moduli) {
            let ints = u64s(&v["input_integers"]);
            assert_eq!(*row, ints.iter().map(|x| x % q).collect::<Vec<_>>());
        }
        let (_, out) = he::modswitch::divide_and_round_q_last(&ctx, &input).unwrap();
        assert_eq!(out.rows(), rows(&v["expected_rows"]).as_slice());
        checked += 1;
    }
    assert_eq!(checked, 1);
}

/// §7.8 and §7.9: coefficient bit packing and the polynomial serialization round trips.
#[test]
fn coefficient_packing_kats() {
    let kats = kats();
    let p = &kats["coefficient_packing"];
    let named = |v: &Value| -> Vec<u64> {
        match v.as_str() {
            Some(name) => u64s(&p["named_inputs"][name]),
            None => u64s(v),
        }
    };
    for v in p["coeffs_to_bytes"].as_array().unwrap() {
        let coeffs = named(&v["coefficients"]);
        let bits = v["bits_per_coeff"].as_u64().unwrap() as u32;
        let skip = v["skip_lsbs"].as_u64().unwrap() as u32;
        let mut out = Vec::new();
        packing::pack(&coeffs, bits, skip, &mut out).unwrap();
        assert_eq!(hex::encode(out), v["expected_hex"].as_str().unwrap(), "{v}");
    }
    for v in p["bytes_to_coeffs"].as_array().unwrap() {
        let bytes = hex::decode(v["bytes_hex"].as_str().unwrap()).unwrap();
        let bits = v["bits_per_coeff"].as_u64().unwrap() as u32;
        let skip = v["skip_lsbs"].as_u64().unwrap() as u32;
        let want = named(&v["expected"]);
        // Apple's count: floor(8·len/s) when decoding, ceil(8·len/s) otherwise.
        let s = (bits - skip) as usize;
        let count = if v["decode"].as_bool().unwrap() {
            8 * bytes.len() / s
        } else {
            (8 * bytes.len()).div_ceil(s)
        };
        let take = count.min(want.len());
        let (got, _) = packing::unpack(&bytes, take, bits, skip).unwrap();
        assert_eq!(got, want[..take], "{v}");
        assert!(want[take..].iter().all(|&c| c == 0));
    }
    let ser = &kats["poly_serialization"];
    for v in ser["roundtrip_kat"].as_array().unwrap() {
        let n = v["N"].as_u64().unwrap() as usize;
        let skip = v["skip_lsbs"].as_u64().unwrap() as u32;
        let want = rows(&v["expected_after_roundtrip"]);
        for ((row, q), want) in rows(&v["rows"]).iter().zip(u64s(&v["moduli"])).zip(want) {
            let bits = Modulus::new(q).unwrap().bits();
            let mut out = Vec::new();
            packing::pack(row, bits, skip, &mut out).unwrap();
            let (back, used) = packing::unpack(&out, n, bits, skip).unwrap();
            assert_eq!((back, used), (want, out.len()));
        }
    }
    // Bytes for widths [5, 5, 5] read as [5, 5, 16]: 60 bytes where 104 are needed.
    let m = &ser["size_mismatch"];
    let n = m["N"].as_u64().unwrap() as usize;
    let len = |widths: &Value| -> usize {
        u64s(widths)
            .iter()
            .map(|&b| packing::packed_len(n, b as u32, 0).unwrap())
            .sum()
    };
    let actual = len(&m["serialized_with_bit_sizes"]);
    assert_eq!(actual as u64, m["actual"].as_u64().unwrap());
    assert_eq!(
        len(&m["deserialize_into_bit_sizes"]) as u64,
        m["expected"].as_u64().unwrap()
    );
    let bytes = vec![0u8; actual];
    let (_, used) = packing::unpack(&bytes, n, 5, 0).unwrap();
    let (_, used2) = packing::unpack(&bytes[used..], n, 5, 0).unwrap();
    assert!(matches!(
        packing::unpack(&bytes[used + used2..], n, 16, 0),
        Err(he::Error::Truncated { .. })
    ));
}

/// §7.10: the modular-arithmetic, primality and prime-generation KATs within our modulus range
/// (q < 2^62; Apple's generic-integer helpers beyond it have no counterpart here).
#[test]
fn scalar_kats() {
    let kats = kats();
    let s = &kats["scalar"];
    let modulus = |v: &Value| Modulus::new(v["modulus"].as_u64().unwrap());
    let mut checked = 0;
    for (key, op) in [
        ("add_mod", 0),
        ("subtract_mod", 1),
        ("multiply_mod", 2),
        ("pow_mod", 3),
    ] {
        for v in s[key].as_array().unwrap() {
            let Ok(q) = modulus(v) else {
                assert!(v["modulus"].as_u64().unwrap() >= 1 << 62);
                continue;
            };
            let (a, b) = match op {
                3 => (v["base"].as_u64().unwrap(), v["exponent"].as_u64().unwrap()),
                _ => (v["a"].as_u64().unwrap(), v["b"].as_u64().unwrap()),
            };
            let got = match op {
                0 => q.add(a, b),
                1 => q.sub(a, b),
                2 => q.mul(a, b),
                _ => q.pow(a, b),
            };
            assert_eq!(got, v["expected"].as_u64().unwrap(), "{key} {v}");
            checked += 1;
        }
    }
    for v in s["negate_mod"].as_array().unwrap() {
        let q = modulus(v).unwrap();
        assert_eq!(
            q.neg(v["x"].as_u64().unwrap()),
            v["expected"].as_u64().unwrap()
        );
        checked += 1;
    }
    for v in s["inverse_mod"].as_array().unwrap() {
        let (x, m) = (v["x"].as_u64().unwrap(), v["modulus"].as_u64().unwrap());
        // Our inverse is for prime moduli and x ≠ 0; the error cases are Apple's generic ones.
        if v.get("expected_error").is_some() || !is_prime(m) {
            continue;
        }
        let q = Modulus::new(m).unwrap();
        let inv = q.inv(x);
        assert_eq!(q.mul(x, inv), 1, "{v}");
        if let Some(want) = v["expected"].as_u64() {
            assert_eq!(inv, want);
        }
        checked += 1;
    }
    assert!(checked >= 25, "{checked}");

    let primes = u64s(&s["is_prime"]["primes"]);
    assert!(primes.iter().all(|&p| is_prime(p)));
    assert!(!is_prime(1));
    for (i, &a) in primes.iter().enumerate() {
        for &b in &primes[i..] {
            assert!(!is_prime(a * b), "{a}·{b}");
        }
    }
    assert_eq!(
        (0..1000).filter(|&n| is_prime(n)).count() as u64,
        s["is_prime"]["count_below_1000"].as_u64().unwrap()
    );

    // generatePrimes, preferringSmall: our `ntt_primes` walks up from 2^(b−1)+1 in steps of 2N.
    let mut generated = 0;
    for v in s["generate_primes"].as_array().unwrap() {
        if !v["preferring_small"].as_bool().unwrap() {
            continue;
        }
        let degree = v["ntt_degree"].as_u64().unwrap() as usize;
        let bits = u64s(&v["significant_bit_counts"]);
        let mut got: Vec<u64> = Vec::new();
        let mut short = false;
        for &b in &bits {
            // A repeated bit count takes the next prime of that size.
            let same = got
                .iter()
                .filter(|&&p| 64 - p.leading_zeros() == b as u32)
                .count();
            // Apple also requires isNttModulus; `ntt_primes` only gets that from its start
            // point, which is ≡ 1 mod 2N only when 2^(b−1) is a multiple of 2N.
            match ntt_primes(b as u32, degree, same + 1).get(same) {
                Some(&p) if p % (2 * degree as u64) == 1 => got.push(p),
                _ => short = true,
            }
        }
        if v.get("expected_error").is_some() {
            assert!(short, "{v}");
        } else {
            assert_eq!(got, u64s(&v["expected"]), "{v}");
        }
        generated += 1;
    }
    assert_eq!(generated, 4);
}

/// §2.1, §2.3, §2.5, §7.11, §7.12: the parameter tables against `he::params`.
#[test]
fn parameter_tables() {
    let kats = kats();
    let sets = kats["predefined_parameters"]["sets"].as_array().unwrap();
    assert_eq!(sets.len(), PredefinedParameters::ALL.len());
    let skip_table = &kats["skip_lsbs_for_decryption"]["table"];
    for v in sets {
        let name = v["name"].as_str().unwrap();
        let set = PredefinedParameters::from_name(name).unwrap();
        let p = set.parameters();
        assert_eq!(p.degree() as u64, v["polynomial_degree"].as_u64().unwrap());
        assert_eq!(
            p.plaintext_modulus(),
            v["plaintext_modulus"].as_u64().unwrap()
        );
        assert_eq!(p.coefficient_moduli(), u64s(&v["coefficient_moduli"]));
        let special =
            (p.coefficient_moduli().len() > 1).then(|| *p.coefficient_moduli().last().unwrap());
        assert_eq!(special, v["special_modulus_p"].as_u64());
        let level = match set.security_level() {
            SecurityLevel::Quantum128 => "quantum128",
            SecurityLevel::Unchecked => "unchecked",
        };
        assert_eq!(level, v["security_level"].as_str().unwrap());
        assert_eq!(v["error_std_dev"].as_str().unwrap(), "stdDev32");
        assert_eq!(p.error_std_dev(), ErrorStdDev::StdDev32);
        assert_eq!(
            set.supports_scalar32(),
            v["supports_scalar32"].as_bool().unwrap()
        );
        assert_eq!(
            p.supports_simd_encoding(),
            v["supports_simd"].as_bool().unwrap()
        );
        assert_eq!(
            p.supports_evaluation_key(),
            v["supports_evaluation_key"].as_bool().unwrap()
        );
        let bits: Vec<u64> = p
            .coefficient_moduli()
            .iter()
            .map(|&q| u64::from(Modulus::new(q).unwrap().bits()))
            .collect();
        assert_eq!(bits, u64s(&v["coefficient_modulus_bit_counts"]));
        if let Some(t_bits) = v["plaintext_modulus_bit_count"].as_u64() {
            assert_eq!(
                u64::from(Modulus::new(p.plaintext_modulus()).unwrap().bits()),
                t_bits
            );
        }
        let skip =
            skip_lsbs_for_decryption(p.coefficient_moduli()[0], p.plaintext_modulus(), p.degree());
        assert_eq!(
            skip.map(u64::from).to_vec(),
            u64s(&v["skip_lsbs_for_decryption"])
        );
        assert_eq!(skip.map(u64::from).to_vec(), u64s(&skip_table[name]));
    }

    let constants = &kats["global_constants"];
    for (key, scalar, bits) in [("u64", Scalar::U64, 64), ("u32", Scalar::U32, 32)] {
        let c = &constants[key];
        assert_eq!(
            rns_correction_factor(scalar),
            c["rns_correction_factor_gamma"].as_u64().unwrap()
        );
        assert_eq!(m_tilde(scalar), c["m_tilde"].as_u64().unwrap());
        assert_eq!(max_modulus(scalar), c["modulus_max"].as_u64().unwrap());
        assert_eq!(c["bsk_prime_bits"].as_u64().unwrap(), bits - 3);
        assert_eq!(c["galois_generator"].as_u64().unwrap(), 3);
    }

    let bounds = &kats["security_bounds"];
    for (key, std_dev) in [
        ("quantum128_stddev32", ErrorStdDev::StdDev32),
        ("quantum128_stddev64", ErrorStdDev::StdDev64),
    ] {
        let rows = bounds[key].as_array().unwrap();
        for degree in [512usize, 1024, 2048, 4096, 8192, 16384, 32768, 65536] {
            let want = rows
                .iter()
                .find(|r| r["polynomial_degree"].as_u64() == Some(degree as u64))
                .map(|r| r["max_log2_coefficient_modulus"].as_u64().unwrap() as u32);
            let got = max_log2_coefficient_modulus(degree, SecurityLevel::Quantum128, std_dev);
            match want {
                Some(max) => assert_eq!(got, Ok(Some(max)), "{key} {degree}"),
                None => assert!(got.is_err(), "{key} {degree}"),
            }
        }
    }
    assert_eq!(
        max_log2_coefficient_modulus(4096, SecurityLevel::Unchecked, ErrorStdDev::StdDev32),
        Ok(None)
    );

    let v = &kats["encryption_parameters_validation"];
    let ex = &v["insecure_example"];
    let err = EncryptionParameters::new(
        ex["polynomial_degree"].as_u64().unwrap() as usize,
        ex["plaintext_modulus"].as_u64().unwrap(),
        u64s(&ex["coefficient_moduli"]),
        ErrorStdDev::StdDev32,
        SecurityLevel::Quantum128,
        Scalar::U64,
    );
    assert!(matches!(err, Err(he::Error::InsecureModulus { .. })));
    let base = &v["invalid"]["base"];
    EncryptionParameters::new(
        base["polynomial_degree"].as_u64().unwrap() as usize,
        base["plaintext_modulus"].as_u64().unwrap(),
        u64s(&base["coefficient_moduli"]),
        ErrorStdDev::StdDev32,
        SecurityLevel::Unchecked,
        Scalar::U32,
    )
    .unwrap();
    // The bit-count bound cases and each invalid case are exercised in tests/params.rs.
    assert_eq!(
        v["quantum128_bit_count_bounds"]["cases"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        v["invalid"]["each_throws_invalidEncryptionParameters"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
}

/// §7.6: the lazy-accumulation budget KATs of `PolyContextTests`.
#[test]
fn poly_context_lazy_accumulation_kats() {
    let kats = kats();
    for v in kats["poly_context"]["max_lazy_product_accumulation_count"]
        .as_array()
        .unwrap()
    {
        let scalar = match v["scalar"].as_str().unwrap() {
            "u32" => Scalar::U32,
            _ => Scalar::U64,
        };
        assert_eq!(
            he::params::max_lazy_product_accumulation_count(&u64s(&v["moduli"]), scalar) as u64,
            v["expected"].as_u64().unwrap(),
            "{v}"
        );
    }
}

/// Every section of `bfv.json` is either read by a test above or listed here with the reason it
/// has no counterpart in this crate, so a new section cannot go unnoticed.
#[test]
fn every_bfv_json_section_is_accounted_for() {
    const READ: &[&str] = &[
        "predefined_parameters",
        "global_constants",
        "security_bounds",
        "seeded_sampling",
        "primitive_roots",
        "ntt",
        "galois",
        "poly_context",
        "poly_rq",
        "poly_serialization",
        "coefficient_packing",
        "scalar",
        "encryption_parameters_validation",
        "skip_lsbs_for_decryption",
    ];
    const NOT_PORTED: &[(&str, &str)] = &[
        (
            "nist_ctr_drbg",
            "the raw CTR_DRBG is private to rng.rs; seeded_sampling pins it",
        ),
        (
            "buffered_rng",
            "the buffer wraps only the CTR_DRBG, not a counter RNG",
        ),
        (
            "rns_tool",
            "BEHZ internals are private to behz.rs; the transcripts pin BEHZ",
        ),
        (
            "pir_galois_elements",
            "PIR Galois elements belong to the pir crate",
        ),
        (
            "property_suites",
            "descriptions only; ported in tests/properties.rs",
        ),
    ];
    const METADATA: &[&str] = &["title", "spec", "conventions"];
    let kats = kats();
    for key in kats.as_object().unwrap().keys() {
        let known = READ.contains(&key.as_str())
            || METADATA.contains(&key.as_str())
            || NOT_PORTED.iter().any(|(k, _)| k == key);
        assert!(known, "bfv.json section {key} is not handled");
    }
}
