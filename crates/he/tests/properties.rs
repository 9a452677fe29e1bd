//! Property tests on a small parameter set (N = 32, Q = 12289·40961, p = 65537, t = 17):
//! encrypt/decrypt, homomorphic add, ct×pt, ct×ct + relinearization, Galois rotation, and
//! deserializers fed arbitrary bytes.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::sync::Arc;

use he::behz::{Behz, Scalar};
use he::decrypt::decrypt;
use he::encrypt::encrypt;
use he::keygen;
use he::keyswitch;
use he::poly::{Coeff, Eval, Poly, PolyContext, read_polys, write_polys};
use he::rng::NistAes128Ctr;
use he::{proto, sample, serialize};
use proptest::prelude::*;
use prost::Message;

const N: usize = 32;
const T: u64 = 17;
const MODULI: [u64; 3] = [12289, 40961, 65537];

struct Keys {
    all: Arc<PolyContext>,
    ct: Arc<PolyContext>,
    secret: Poly<Eval>,
}

fn keys(seed: u8) -> Keys {
    let all = PolyContext::new(N, &MODULI).unwrap();
    let ct = all.prefix(2).unwrap();
    let s = sample::ternary(&all, &mut NistAes128Ctr::new(&[seed; 32])).unwrap();
    Keys {
        secret: s.ntt(&all),
        all,
        ct,
    }
}

fn values() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(0..T, N)
}

fn enc(k: &Keys, m: &[u64], seed: u8) -> Vec<Poly<Coeff>> {
    encrypt(&k.ct, &k.secret, m, T, &mut NistAes128Ctr::new(&[seed; 32]))
        .unwrap()
        .polys
}

/// Negacyclic product mod t.
fn negacyclic(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = vec![0i64; N];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = (x * y) as i64;
            if i + j < N {
                out[i + j] += p;
            } else {
                out[i + j - N] -= p;
            }
        }
    }
    out.iter().map(|v| v.rem_euclid(T as i64) as u64).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn encrypt_decrypt(m in values(), seed in any::<u8>()) {
        let k = keys(seed);
        let ct = enc(&k, &m, seed.wrapping_add(1));
        prop_assert_eq!(decrypt(&k.ct, &k.secret, &ct, T).unwrap(), m);
    }

    #[test]
    fn add_and_plaintext_product(a in values(), b in values()) {
        let k = keys(1);
        let (ca, cb) = (enc(&k, &a, 2), enc(&k, &b, 3));
        let sum: Vec<_> = ca.iter().zip(&cb).map(|(x, y)| x.add(y, &k.ct)).collect();
        let want: Vec<u64> = a.iter().zip(&b).map(|(x, y)| (x + y) % T).collect();
        prop_assert_eq!(decrypt(&k.ct, &k.secret, &sum, T).unwrap(), want);
        // ct × pt with the plaintext lifted unscaled to the ciphertext moduli.
        let rows = k.ct.moduli().map(|_| b.clone()).collect();
        let pt = Poly::<Coeff>::from_rows(&k.ct, rows).unwrap().ntt(&k.ct);
        let prod: Vec<Poly<Coeff>> = ca
            .iter()
            .map(|c| c.clone().ntt(&k.ct).mul(&pt, &k.ct).intt(&k.ct))
            .collect();
        prop_assert_eq!(decrypt(&k.ct, &k.secret, &prod, T).unwrap(), negacyclic(&a, &b));
    }

    #[test]
    fn multiply_relinearize_rotate(a in values(), b in values(), scalar64 in any::<bool>()) {
        let k = keys(4);
        let (ca, cb) = (enc(&k, &a, 5), enc(&k, &b, 6));
        let scalar = if scalar64 { Scalar::U64 } else { Scalar::U32 };
        let prod = Behz::new(&k.ct, T, scalar).unwrap().multiply(&k.ct, &ca, &cb).unwrap();
        let want = negacyclic(&a, &b);
        prop_assert_eq!(decrypt(&k.ct, &k.secret, &prod, T).unwrap(), want.clone());
        let eval_key = keygen::evaluation_key(&k.all, 2, &k.secret, &[3], true, &mut NistAes128Ctr::new(&[7; 32])).unwrap();
        let relin = serialize::key_switch_key(&k.all, eval_key.relin_key.as_ref().unwrap().relin_key.as_ref().unwrap()).unwrap();
        let relined = keyswitch::relinearize(&k.all, &k.ct, &prod, &relin).unwrap();
        prop_assert_eq!(relined.len(), 2);
        prop_assert_eq!(decrypt(&k.ct, &k.secret, &relined, T).unwrap(), want);
        let gk = serialize::key_switch_key(&k.all, &eval_key.galois_key.as_ref().unwrap().key_switch_keys[&3]).unwrap();
        let rotated = keyswitch::apply_galois(&k.all, &k.ct, &ca, 3, &gk).unwrap();
        let mut want = vec![0; N];
        for (i, &m) in a.iter().enumerate() {
            let raw = i * 3;
            want[raw % N] = if (raw / N) % 2 == 1 { (T - m) % T } else { m };
        }
        prop_assert_eq!(decrypt(&k.ct, &k.secret, &rotated, T).unwrap(), want);
    }

    #[test]
    fn serialization_round_trips(m in values()) {
        let k = keys(8);
        let ct = enc(&k, &m, 9);
        let bytes = write_polys(&k.ct, &ct, &[]).unwrap();
        prop_assert_eq!(read_polys::<Coeff>(&k.ct, &bytes, &[]).unwrap(), ct);
    }

    #[test]
    fn deserializers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), skip in prop::collection::vec(0u32..40, 0..4)) {
        let k = keys(10);
        let _ = read_polys::<Coeff>(&k.ct, &bytes, &skip);
        let _ = Poly::<Eval>::from_bytes(&k.ct, &bytes, 0);
        if let Ok(ct) = proto::SerializedCiphertext::decode(bytes.as_slice()) {
            let _ = serialize::ciphertext_eval(&k.all, &ct);
        }
        if let Ok(key) = proto::SerializedKeySwitchKey::decode(bytes.as_slice()) {
            let _ = serialize::key_switch_key(&k.all, &key);
        }
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let k = keys(11);
    let ct = enc(&k, &[1; N], 12);
    let bytes = write_polys(&k.ct, &ct, &[]).unwrap();
    let truncated = read_polys::<Coeff>(&k.ct, &bytes[..bytes.len() - 1], &[]);
    assert!(
        matches!(truncated, Err(he::Error::Truncated { .. })),
        "{truncated:?}"
    );
    let mut longer = bytes.clone();
    longer.push(0);
    let trailing = read_polys::<Coeff>(&k.ct, &longer, &[]);
    assert!(
        matches!(trailing, Err(he::Error::Trailing { .. })),
        "{trailing:?}"
    );
    let mut big = bytes.clone();
    big[2] = 0xff;
    big[3] = 0xff;
    let range = read_polys::<Coeff>(&k.ct, &big, &[]);
    assert!(
        matches!(range, Err(he::Error::CoefficientOutOfRange { .. })),
        "{range:?}"
    );
    let skips = read_polys::<Coeff>(&k.ct, &bytes, &[0]);
    assert!(
        matches!(skips, Err(he::Error::CountMismatch { .. })),
        "{skips:?}"
    );
    let relin = keyswitch::relinearize(
        &k.all,
        &k.ct,
        &ct,
        &keyswitch::KeySwitchKey { digits: vec![] },
    );
    assert!(
        matches!(relin, Err(he::Error::CountMismatch { .. })),
        "{relin:?}"
    );
    assert!(matches!(
        PolyContext::new(N, &[12289, 7]),
        Err(he::Error::BadModulus { .. })
    ));
}
