//! Checks of the manifest's `he` section, one parameter set (`he[]` entry) at a time: the NTT and
//! the secret key against their recorded bytes, every result ciphertext deserialized (and
//! re-serialized to the same bytes) and decrypted to its `.decrypted.u64le`. Recomputing server
//! results and reproducing seeded objects are reported as SKIP until crates/he does them.

use std::path::Path;
use std::sync::Arc;

use he::poly::{Coeff, Eval, Poly, PolyContext, read_polys, write_polys};
use he::proto::{self, serialized_ciphertext::SerializedCiphertextType};
use prost::Message;
use serde_json::Value;

use crate::report::{Outcome, Report};

const PENDING: &str = "BFV engine in crates/he does not compute this yet";

/// One parameter set's contexts and key.
struct Set<'a> {
    root: &'a Path,
    dir: String,
    all: Arc<PolyContext>,
    t: u64,
}

fn u64s(v: Option<&Value>) -> Vec<u64> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn fail(e: impl std::fmt::Display) -> Outcome {
    Outcome::Fail(e.to_string())
}

/// Reports the checks of one `he[]` parameter-set entry.
pub(super) fn check(root: &Path, set: &Value, report: &mut Report) {
    let dir = set
        .get("directory")
        .and_then(Value::as_str)
        .unwrap_or("he/?")
        .to_string();
    let degree = set.get("poly_degree").and_then(Value::as_u64).unwrap_or(0);
    let moduli = u64s(set.get("coefficient_moduli"));
    let t = set
        .get("plaintext_modulus")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let all = match PolyContext::new(degree as usize, &moduli) {
        Ok(c) => c,
        Err(e) => {
            report.push(format!("parameters {dir}"), fail(e));
            return;
        }
    };
    let s = Set { root, dir, all, t };
    let ct_count = u64s(set.get("ciphertext_moduli")).len();
    report.push(
        format!("forward NTT {}/ntt_known_poly", s.dir),
        s.ntt(ct_count),
    );
    let (outcome, secret) = s.secret_key();
    report.push(
        format!(
            "secret key {}/secret_key.bin from its ternary coefficients",
            s.dir
        ),
        outcome,
    );
    for object in ["secret_key", "evaluation_key"] {
        report.push(
            format!("reproduce {}/{object} from its seed", s.dir),
            Outcome::Skip(PENDING.into()),
        );
    }
    let results = set.get("results").and_then(Value::as_array);
    for result in results.into_iter().flatten() {
        let name = result.get("name").and_then(Value::as_str).unwrap_or("?");
        report.push(
            format!("recompute {}/{name}", s.dir),
            Outcome::Skip(PENDING.into()),
        );
        let (outcome, decrypted) = s.deserialize(result, secret.as_ref());
        report.push(format!("deserialize {}/{name}", s.dir), outcome);
        report.push(format!("decrypt {}/{name}", s.dir), decrypted);
    }
}

impl Set<'_> {
    fn read(&self, name: &str) -> Result<Vec<u8>, Outcome> {
        super::read(self.root, &format!("{}/{name}", self.dir))
    }

    fn ntt(&self, ct_count: usize) -> Outcome {
        let (coeff, eval) = match (
            self.read("ntt_known_poly.coeff.bin"),
            self.read("ntt_known_poly.eval.bin"),
        ) {
            (Ok(c), Ok(e)) => (c, e),
            (Err(o), _) | (_, Err(o)) => return o,
        };
        let run = || -> Result<Vec<u8>, he::Error> {
            let ctx = self.all.prefix(ct_count)?;
            let p = Poly::<Coeff>::from_bytes(&ctx, &coeff, 0)?.ntt(&ctx);
            let mut out = Vec::new();
            p.write(&ctx, 0, &mut out)?;
            Ok(out)
        };
        match run() {
            Ok(out) if out == eval => Outcome::Pass,
            Ok(_) => Outcome::Fail("NTT output differs from the recorded Eval bytes".into()),
            Err(e) => fail(e),
        }
    }

    fn secret_key(&self) -> (Outcome, Option<Poly<Eval>>) {
        let (ternary, bin) = match (
            self.read("secret_key.ternary.i8"),
            self.read("secret_key.bin"),
        ) {
            (Ok(t), Ok(b)) => (t, b),
            (Err(o), _) | (_, Err(o)) => return (o, None),
        };
        let run = || -> Result<(Vec<u8>, Poly<Eval>), he::Error> {
            let rows = self
                .all
                .moduli()
                .map(|q| {
                    ternary
                        .iter()
                        .map(|&b| q.reduce((i64::from(b as i8) + q.value() as i64) as u64))
                        .collect()
                })
                .collect();
            let sk = Poly::<Coeff>::from_rows(&self.all, rows)?.ntt(&self.all);
            let out = write_polys(&self.all, std::slice::from_ref(&sk), &[])?;
            Ok((out, sk))
        };
        match run() {
            Ok((out, sk)) if out == bin => (Outcome::Pass, Some(sk)),
            Ok(_) => (
                Outcome::Fail("NTT of the ternary secret differs from secret_key.bin".into()),
                None,
            ),
            Err(e) => (fail(e), None),
        }
    }

    /// Deserializes one result and, when possible, decrypts it; returns both outcomes.
    fn deserialize(&self, result: &Value, secret: Option<&Poly<Eval>>) -> (Outcome, Outcome) {
        let file = result.get("file").and_then(Value::as_str).unwrap_or("");
        let bytes = match super::read(self.root, file) {
            Ok(b) => b,
            Err(o) => return (o.clone(), o),
        };
        let moduli = result
            .get("moduli_count")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let eval = result.get("poly_format").and_then(Value::as_str) == Some("Eval format");
        let ct = match proto::SerializedCiphertext::decode(bytes.as_slice()) {
            Ok(ct) => ct,
            Err(e) => return (fail(e), Outcome::Skip("not deserialized".into())),
        };
        let Some(SerializedCiphertextType::Full(full)) = ct.serialized_ciphertext_type else {
            return (
                Outcome::Skip(
                    "seeded ciphertexts need the DRBG expansion, not implemented yet".into(),
                ),
                Outcome::Skip(
                    "seeded ciphertexts need the DRBG expansion, not implemented yet".into(),
                ),
            );
        };
        let ctx = match self.all.prefix(moduli) {
            Ok(c) => c,
            Err(e) => return (fail(e), Outcome::Skip("not deserialized".into())),
        };
        let polys: Vec<Poly<Coeff>> = if eval {
            match read_polys::<Eval>(&ctx, &full.polys, &full.skip_lsbs) {
                Ok(p) => {
                    if write_polys(&ctx, &p, &full.skip_lsbs).as_deref() != Ok(&full.polys[..]) {
                        return (
                            Outcome::Fail("re-serialization differs".into()),
                            Outcome::Skip("not deserialized".into()),
                        );
                    }
                    p.into_iter().map(|p| p.intt(&ctx)).collect()
                }
                Err(e) => return (fail(e), Outcome::Skip("not deserialized".into())),
            }
        } else {
            match read_polys::<Coeff>(&ctx, &full.polys, &full.skip_lsbs) {
                Ok(p) => {
                    if write_polys(&ctx, &p, &full.skip_lsbs).as_deref() != Ok(&full.polys[..]) {
                        return (
                            Outcome::Fail("re-serialization differs".into()),
                            Outcome::Skip("not deserialized".into()),
                        );
                    }
                    p
                }
                Err(e) => return (fail(e), Outcome::Skip("not deserialized".into())),
            }
        };
        let Some(secret) = secret else {
            return (Outcome::Pass, Outcome::Skip("no secret key".into()));
        };
        (Outcome::Pass, self.decrypt(&ctx, secret, &polys, result))
    }

    fn decrypt(
        &self,
        ctx: &PolyContext,
        secret: &Poly<Eval>,
        polys: &[Poly<Coeff>],
        result: &Value,
    ) -> Outcome {
        let file = result
            .get("decrypted_file")
            .and_then(Value::as_str)
            .unwrap_or("");
        let want = match super::read(self.root, file) {
            Ok(b) => b,
            Err(o) => return o,
        };
        match he::decrypt::decrypt(ctx, secret, polys, self.t) {
            Ok(m) => {
                let got: Vec<u8> = m.iter().flat_map(|v| v.to_le_bytes()).collect();
                if got == want {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!("decrypted values differ from {file}"))
                }
            }
            Err(he::Error::Unsupported(why)) => Outcome::Skip(why.into()),
            Err(e) => fail(e),
        }
    }
}
