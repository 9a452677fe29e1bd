//! Client-side key generation from a DRBG stream (spec bfv.md §5.2): key-switching keys with the
//! RNS gadget (α = 1, special modulus last), Galois and relinearization keys, the evaluation key.

use crate::Error;
use crate::galois;
use crate::poly::{Eval, Poly, PolyContext};
use crate::proto;
use crate::rng::NistAes128Ctr;
use crate::sample;

/// One seeded Eval ciphertext of a key-switching key: `c0` and the seed of `c1`.
pub type SeededDigit = (Poly<Eval>, [u8; 32]);

/// A key-switching key from `target` to `secret` with `levels` digits, drawing each digit's seed
/// and error from `stream`.
pub fn key_switch_key(
    all: &PolyContext,
    levels: usize,
    secret: &Poly<Eval>,
    target: &Poly<Eval>,
    stream: &mut NistAes128Ctr,
) -> Result<Vec<SeededDigit>, Error> {
    let moduli: Vec<_> = all.moduli().collect();
    let p = moduli
        .last()
        .ok_or(Error::Unsupported("no moduli"))?
        .value();
    (0..levels)
        .map(|j| {
            let seed: [u8; 32] = stream.bytes();
            let a = sample::uniform_eval(all, &mut NistAes128Ctr::new(&seed))?;
            let e = sample::cbd(all, stream)?;
            let as_ = a.mul(secret, all).intt(all);
            let neg = as_.add(&e, all);
            let rows: Vec<Vec<u64>> = neg
                .rows()
                .iter()
                .zip(&moduli)
                .map(|(r, q)| r.iter().map(|&x| q.neg(x)).collect())
                .collect();
            let c0 = Poly::<crate::poly::Coeff>::from_rows(all, rows)?.ntt(all);
            let mut rows = c0.rows().to_vec();
            let q = moduli
                .get(j)
                .ok_or(Error::Unsupported("digit beyond moduli"))?;
            let factor = q.reduce(p);
            if let (Some(row), Some(t)) = (rows.get_mut(j), target.rows().get(j)) {
                for (c, &s) in row.iter_mut().zip(t) {
                    *c = q.add(*c, q.mul(factor, s));
                }
            }
            Ok((Poly::from_rows(all, rows)?, seed))
        })
        .collect()
}

fn serialized(
    all: &PolyContext,
    digits: &[SeededDigit],
) -> Result<proto::SerializedKeySwitchKey, Error> {
    let ciphertexts = digits
        .iter()
        .map(|(c0, seed)| {
            let mut poly0 = Vec::new();
            c0.write(all, 0, &mut poly0)?;
            Ok(proto::SerializedCiphertext {
                serialized_ciphertext_type: Some(
                    proto::serialized_ciphertext::SerializedCiphertextType::Seeded(
                        proto::SerializedSeededCiphertext {
                            poly0,
                            seed: seed.to_vec(),
                        },
                    ),
                ),
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(proto::SerializedKeySwitchKey {
        key_switch_key: Some(proto::SerializedCiphertextVec { ciphertexts }),
    })
}

/// The evaluation key: Galois keys for `elements` in the given order, then (if `relin`) the
/// relinearization key, all drawn from one stream.
pub fn evaluation_key(
    all: &PolyContext,
    levels: usize,
    secret: &Poly<Eval>,
    elements: &[u64],
    relin: bool,
    stream: &mut NistAes128Ctr,
) -> Result<proto::SerializedEvaluationKey, Error> {
    let mut galois_keys = std::collections::BTreeMap::new();
    for &g in elements {
        let target = galois::apply_eval(all, secret, g)?;
        let ksk = key_switch_key(all, levels, secret, &target, stream)?;
        galois_keys.insert(g, serialized(all, &ksk)?);
    }
    let relin_key = if relin {
        let target = secret.mul(secret, all);
        let ksk = key_switch_key(all, levels, secret, &target, stream)?;
        Some(proto::SerializedRelinKey {
            relin_key: Some(serialized(all, &ksk)?),
        })
    } else {
        None
    };
    Ok(proto::SerializedEvaluationKey {
        galois_key: (!elements.is_empty()).then_some(proto::SerializedGaloisKey {
            key_switch_keys: galois_keys,
        }),
        relin_key,
    })
}
