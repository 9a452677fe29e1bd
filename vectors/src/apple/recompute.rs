//! Recomputes `he` results from their inputs and compares the serialized bytes. Which operation
//! made a result is read from its name, as the transcript generator writes them (`X.ntt.*`,
//! `X_x_pt_Y.eval|coeff`, `X.modswitch`, `X.response`, fresh `X.seeded|full` encryptions).

use std::collections::BTreeMap;

use he::behz::{Behz, Scalar};
use he::poly::{Coeff, Eval, Poly, PolyContext, write_polys};
use he::proto::{self, serialized_ciphertext::SerializedCiphertextType};
use he::rng::NistAes128Ctr;
use he::{keyswitch, modswitch, serialize};
use prost::Message;
use serde_json::Value;

use super::he::{Loaded, PENDING, Set, fail};
use crate::report::Outcome;

/// Recomputes the result `name` (already loaded as `object`) from earlier results.
pub(super) fn check(
    set: &Set<'_>,
    name: &str,
    object: &Loaded,
    earlier: &BTreeMap<String, Loaded>,
    secret: Option<&Poly<Eval>>,
    result: &Value,
) -> Outcome {
    match recompute(set, name, object, earlier, secret, result) {
        Ok(Some(bytes)) if bytes == object.bytes => Outcome::Pass,
        Ok(Some(_)) => Outcome::Fail("recomputed bytes differ".into()),
        Ok(None) => Outcome::Skip(PENDING.into()),
        Err(o) => o,
    }
}

fn input<'a>(earlier: &'a BTreeMap<String, Loaded>, name: &str) -> Result<&'a Loaded, Outcome> {
    [
        name.to_string(),
        format!("{name}.full"),
        format!("{name}.seeded"),
    ]
    .iter()
    .find_map(|n| earlier.get(n))
    .ok_or_else(|| Outcome::Skip(format!("input {name} not among earlier results")))
}

fn full(polys: Vec<u8>, skip_lsbs: Vec<u32>) -> Vec<u8> {
    proto::SerializedCiphertext {
        serialized_ciphertext_type: Some(SerializedCiphertextType::Full(
            proto::SerializedFullCiphertext {
                polys,
                skip_lsbs,
                correction_factor: 1,
            },
        )),
    }
    .encode_to_vec()
}

fn seeded(poly0: Vec<u8>, seed: Vec<u8>) -> Vec<u8> {
    proto::SerializedCiphertext {
        serialized_ciphertext_type: Some(SerializedCiphertextType::Seeded(
            proto::SerializedSeededCiphertext { poly0, seed },
        )),
    }
    .encode_to_vec()
}

fn evaluation_key(set: &Set<'_>) -> Result<proto::SerializedEvaluationKey, Outcome> {
    let bytes = set.read("evaluation_key.binpb")?;
    proto::SerializedEvaluationKey::decode(bytes.as_slice()).map_err(fail)
}

fn to_eval(ctx: &PolyContext, polys: &[Poly<Coeff>]) -> Vec<Poly<Eval>> {
    polys.iter().map(|p| p.clone().ntt(ctx)).collect()
}

fn recompute(
    set: &Set<'_>,
    name: &str,
    object: &Loaded,
    earlier: &BTreeMap<String, Loaded>,
    secret: Option<&Poly<Eval>>,
    result: &Value,
) -> Result<Option<Vec<u8>>, Outcome> {
    let zeros = |n: usize| vec![0u32; n];
    if let Some(base) = name.strip_suffix(".response") {
        let x = input(earlier, base)?;
        let skips = if x.ctx.len() == 1 {
            let q0 = x.ctx.moduli().next().map(|q| q.value()).unwrap_or(0);
            modswitch::skip_lsbs_for_decryption(q0, set.t, x.ctx.degree()).to_vec()
        } else {
            zeros(x.polys.len())
        };
        let bytes = write_polys(&x.ctx, &x.polys, &skips).map_err(fail)?;
        return Ok(Some(full(bytes, skips)));
    }
    if let Some(base) = name.strip_suffix(".modswitch") {
        let x = input(earlier, base)?;
        let (ctx, polys) = modswitch::mod_switch_down_to_single(&x.ctx, &x.polys).map_err(fail)?;
        let bytes = write_polys(&ctx, &polys, &[]).map_err(fail)?;
        return Ok(Some(full(bytes, zeros(polys.len()))));
    }
    if let Some(base) = name.strip_suffix(".ntt.full") {
        let x = input(earlier, base)?;
        let bytes = write_polys(&x.ctx, &to_eval(&x.ctx, &x.polys), &[]).map_err(fail)?;
        return Ok(Some(full(bytes, zeros(x.polys.len()))));
    }
    if let Some(base) = name.strip_suffix(".ntt.seeded") {
        let x = input(earlier, &format!("{base}.seeded"))?;
        let (Some(seed), Some(c0)) = (&x.seed, x.polys.first()) else {
            return Err(Outcome::Fail(format!("{base}.seeded is not seeded")));
        };
        let mut poly0 = Vec::new();
        c0.clone()
            .ntt(&x.ctx)
            .write(&x.ctx, 0, &mut poly0)
            .map_err(fail)?;
        return Ok(Some(seeded(poly0, seed.clone())));
    }
    if let Some((ct, rest)) = name.split_once("_x_pt_") {
        let (pt, form) = rest
            .split_once('.')
            .ok_or_else(|| Outcome::Skip("unknown result name".into()))?;
        let x = input(earlier, ct)?;
        let pt_bytes = set.read(&format!("plaintext_{pt}.eval.bin"))?;
        let pt = Poly::<Eval>::from_bytes(&x.ctx, &pt_bytes, 0).map_err(fail)?;
        let prod: Vec<Poly<Eval>> = to_eval(&x.ctx, &x.polys)
            .iter()
            .map(|c| c.mul(&pt, &x.ctx))
            .collect();
        let n = prod.len();
        let bytes = match form {
            "eval" => write_polys(&x.ctx, &prod, &[]),
            "coeff" => {
                let coeff: Vec<Poly<Coeff>> = prod.into_iter().map(|p| p.intt(&x.ctx)).collect();
                write_polys(&x.ctx, &coeff, &[])
            }
            _ => return Ok(None),
        }
        .map_err(fail)?;
        return Ok(Some(full(bytes, zeros(n))));
    }
    if let Some((base, g)) = name.split_once(".galois_") {
        let g: u64 = g
            .parse()
            .map_err(|_| Outcome::Skip("unknown result name".into()))?;
        let x = input(earlier, base)?;
        let key = evaluation_key(set)?;
        let galois = key
            .galois_key
            .as_ref()
            .and_then(|k| k.key_switch_keys.get(&g))
            .ok_or_else(|| Outcome::Fail(format!("no Galois key for {g}")))?;
        let ksk = serialize::key_switch_key(&set.all, galois).map_err(fail)?;
        let polys = keyswitch::apply_galois(&set.all, &x.ctx, &x.polys, g, &ksk).map_err(fail)?;
        let bytes = write_polys(&x.ctx, &polys, &[]).map_err(fail)?;
        return Ok(Some(full(bytes, zeros(polys.len()))));
    }
    if let Some(base) = name.strip_suffix(".relin") {
        let x = input(earlier, base)?;
        let key = evaluation_key(set)?;
        let relin = key
            .relin_key
            .as_ref()
            .and_then(|k| k.relin_key.as_ref())
            .ok_or_else(|| Outcome::Fail("no relinearization key".into()))?;
        let ksk = serialize::key_switch_key(&set.all, relin).map_err(fail)?;
        let polys = keyswitch::relinearize(&set.all, &x.ctx, &x.polys, &ksk).map_err(fail)?;
        let bytes = write_polys(&x.ctx, &polys, &[]).map_err(fail)?;
        return Ok(Some(full(bytes, zeros(polys.len()))));
    }
    if let Some((lhs, rhs)) = name.split_once("_x_ct_") {
        if rhs.contains('.') {
            return Ok(None);
        }
        let (a, b) = (input(earlier, lhs)?, input(earlier, &format!("ct_{rhs}"))?);
        let scalar = match set.scalar.as_str() {
            "u32" => Scalar::U32,
            "u64" => Scalar::U64,
            other => return Err(Outcome::Skip(format!("unknown scalar {other}"))),
        };
        let behz = Behz::new(&a.ctx, set.t, scalar).map_err(fail)?;
        let polys = behz.multiply(&a.ctx, &a.polys, &b.polys).map_err(fail)?;
        let bytes = write_polys(&a.ctx, &polys, &[]).map_err(fail)?;
        return Ok(Some(full(bytes, zeros(polys.len()))));
    }
    if let Some(stream_seed) = result.get("stream_seed").and_then(Value::as_str) {
        let Some(secret) = secret else {
            return Err(Outcome::Skip("no secret key".into()));
        };
        return encrypt(set, name, object, secret, stream_seed).map(Some);
    }
    Ok(None)
}

/// Reproduces a fresh encryption of the plaintext from its recorded values and seeds (manifest
/// `rng.encryption`), with `he::encrypt`.
fn encrypt(
    set: &Set<'_>,
    name: &str,
    object: &Loaded,
    secret: &Poly<Eval>,
    stream_seed: &str,
) -> Result<Vec<u8>, Outcome> {
    let seed: [u8; 32] = hex::decode(stream_seed)
        .map_err(fail)?
        .try_into()
        .map_err(|_| Outcome::Fail("stream seed is not 32 bytes".into()))?;
    let plain = name
        .split('.')
        .next()
        .unwrap_or("")
        .replace("ct_", "plaintext_");
    let values: Vec<u64> = set
        .read(&format!("{plain}.values.u64le"))?
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    let ctx = &object.ctx;
    let fresh = he::encrypt::encrypt(ctx, secret, &values, set.t, &mut NistAes128Ctr::new(&seed))
        .map_err(fail)?;
    let [c0, c1] = fresh.polys.as_slice() else {
        return Err(Outcome::Fail(
            "encryption did not give 2 polynomials".into(),
        ));
    };
    let a_seed = fresh.seed;
    if object.seed.is_some() {
        let mut poly0 = Vec::new();
        c0.write(ctx, 0, &mut poly0).map_err(fail)?;
        Ok(seeded(poly0, a_seed.to_vec()))
    } else {
        let polys = [c0.clone(), c1.clone()];
        let bytes = write_polys(ctx, &polys, &[]).map_err(fail)?;
        Ok(full(bytes, vec![0, 0]))
    }
}
