//! Apple's unit-test vectors from `vectors/bfv/bfv.json` (spec bfv.md §7): DRBG and seeded samplers.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use he::modulus::Modulus;
use he::rng::NistAes128Ctr;
use he::sample;
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
