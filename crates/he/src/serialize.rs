//! Ciphertexts and keys from their protobuf messages (spec bfv.md §6.4, §6.6).

use crate::Error;
use crate::keyswitch::KeySwitchKey;
use crate::poly::{Eval, Poly, PolyContext, read_polys};
use crate::proto::{self, serialized_ciphertext::SerializedCiphertextType};
use crate::rng::{NistAes128Ctr, SEED_LEN};
use crate::sample;

/// Loads an Eval-form ciphertext over `ctx` (seeded: `c1` is the seed's uniform expansion).
pub fn ciphertext_eval(
    ctx: &PolyContext,
    ct: &proto::SerializedCiphertext,
) -> Result<Vec<Poly<Eval>>, Error> {
    match &ct.serialized_ciphertext_type {
        Some(SerializedCiphertextType::Seeded(s)) => {
            let seed: [u8; SEED_LEN] =
                s.seed
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::CountMismatch {
                        what: "seed bytes",
                        expected: SEED_LEN,
                        got: s.seed.len(),
                    })?;
            let c0 = Poly::<Eval>::from_bytes(ctx, &s.poly0, 0)?;
            let c1 = sample::uniform_eval(ctx, &mut NistAes128Ctr::new(&seed))?;
            Ok(vec![c0, c1])
        }
        Some(SerializedCiphertextType::Full(f)) => read_polys(ctx, &f.polys, &f.skip_lsbs),
        None => Err(Error::CountMismatch {
            what: "ciphertext polynomials",
            expected: 2,
            got: 0,
        }),
    }
}

/// Loads a key-switching key (Eval ciphertexts over all moduli `all`).
pub fn key_switch_key(
    all: &PolyContext,
    key: &proto::SerializedKeySwitchKey,
) -> Result<KeySwitchKey, Error> {
    let cts = key
        .key_switch_key
        .as_ref()
        .map(|v| v.ciphertexts.as_slice())
        .unwrap_or_default();
    let digits = cts
        .iter()
        .map(|ct| {
            let polys = ciphertext_eval(all, ct)?;
            let got = polys.len();
            <[Poly<Eval>; 2]>::try_from(polys).map_err(|_| Error::CountMismatch {
                what: "key-switching ciphertext polynomials",
                expected: 2,
                got,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(KeySwitchKey { digits })
}
