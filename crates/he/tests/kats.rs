//! Known-answer tests (spec bfv.md §7): Apple's unit-test vectors from `vectors/bfv/bfv.json`, and
//! the noise budgets and decryptions Apple recorded in the `vectors/apple/he` transcripts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed unwrap is a failed test"
)]

use he::behz::Scalar;
use he::decrypt::decrypt_with;
use he::modulus::Modulus;
use he::noise::noise_budget;
use he::params::PredefinedParameters;
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
