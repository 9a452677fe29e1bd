//! Checks of the manifest's `he` section, one parameter set (`he[]` entry) at a time: the NTT and
//! the secret key against their recorded bytes, every result ciphertext deserialized (and
//! re-serialized to the same bytes) and decrypted to its `.decrypted.u64le`. Recomputing server
//! results and reproducing seeded objects are reported as SKIP until crates/he does them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use he::poly::{Coeff, Eval, Poly, PolyContext, read_polys, write_polys};
use he::proto::{self, serialized_ciphertext::SerializedCiphertextType};
use he::rng::{NistAes128Ctr, SEED_LEN};
use he::sample;
use prost::Message;
use serde_json::Value;

use crate::report::{Outcome, Report};

pub(super) const PENDING: &str = "BFV engine in crates/he does not compute this yet";

/// One parameter set's contexts and key.
pub(super) struct Set<'a> {
    root: &'a Path,
    pub(super) dir: String,
    pub(super) all: Arc<PolyContext>,
    pub(super) t: u64,
    pub(super) scalar: String,
}

fn u64s(v: Option<&Value>) -> Vec<u64> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

pub(super) fn fail(e: impl std::fmt::Display) -> Outcome {
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
    let scalar = set
        .get("scalar")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let s = Set {
        root,
        dir,
        all,
        t,
        scalar,
    };
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
    let seed = set.get("secret_key_seed").and_then(Value::as_str);
    report.push(
        format!("reproduce {}/secret_key.bin from its seed", s.dir),
        s.secret_key_from_seed(seed),
    );
    report.push(
        format!("reproduce {}/evaluation_key.binpb from its seed", s.dir),
        s.evaluation_key_from_seed(set, ct_count, secret.as_ref()),
    );
    let results = set.get("results").and_then(Value::as_array);
    let mut loaded = BTreeMap::new();
    for result in results.into_iter().flatten() {
        let name = result.get("name").and_then(Value::as_str).unwrap_or("?");
        let (outcome, decrypted, object) = s.deserialize(result, secret.as_ref());
        let recomputed = match &object {
            Some(object) => {
                super::recompute::check(&s, name, object, &loaded, secret.as_ref(), result)
            }
            None => Outcome::Skip("not deserialized".into()),
        };
        report.push(format!("recompute {}/{name}", s.dir), recomputed);
        report.push(format!("deserialize {}/{name}", s.dir), outcome);
        report.push(format!("decrypt {}/{name}", s.dir), decrypted);
        if let Some(object) = object {
            loaded.insert(name.to_string(), object);
        }
    }
}

/// A result ciphertext as loaded: its context, Coeff polynomials, seed and recorded bytes.
pub(super) struct Loaded {
    pub(super) ctx: Arc<PolyContext>,
    pub(super) polys: Vec<Poly<Coeff>>,
    pub(super) seed: Option<Vec<u8>>,
    pub(super) bytes: Vec<u8>,
}

fn seed(hex_seed: Option<&str>) -> Result<[u8; SEED_LEN], Outcome> {
    let bytes = hex::decode(hex_seed.unwrap_or("")).map_err(fail)?;
    bytes
        .try_into()
        .map_err(|_| Outcome::Fail("seed is not 32 bytes".into()))
}

impl Set<'_> {
    fn evaluation_key_from_seed(
        &self,
        set: &Value,
        levels: usize,
        secret: Option<&Poly<Eval>>,
    ) -> Outcome {
        let Some(secret) = secret else {
            return Outcome::Skip("no secret key".into());
        };
        let seed = match seed(set.get("evaluation_key_seed").and_then(Value::as_str)) {
            Ok(s) => s,
            Err(o) => return o,
        };
        let bytes = match self.read("evaluation_key.binpb") {
            Ok(b) => b,
            Err(o) => return o,
        };
        let elements = u64s(set.get("galois_elements"));
        let mut stream = NistAes128Ctr::new(&seed);
        match he::keygen::evaluation_key(&self.all, levels, secret, &elements, true, &mut stream) {
            Ok(key) if key.encode_to_vec() == bytes => Outcome::Pass,
            Ok(_) => Outcome::Fail("evaluation key from the seed differs".into()),
            Err(e) => fail(e),
        }
    }

    fn secret_key_from_seed(&self, hex_seed: Option<&str>) -> Outcome {
        let seed = match seed(hex_seed) {
            Ok(s) => s,
            Err(o) => return o,
        };
        let bin = match self.read("secret_key.bin") {
            Ok(b) => b,
            Err(o) => return o,
        };
        let mut rng = NistAes128Ctr::new(&seed);
        let made = sample::ternary(&self.all, &mut rng)
            .and_then(|sk| write_polys(&self.all, &[sk.ntt(&self.all)], &[]));
        match made {
            Ok(out) if out == bin => Outcome::Pass,
            Ok(_) => Outcome::Fail("secret key from the seed differs from secret_key.bin".into()),
            Err(e) => fail(e),
        }
    }

    pub(super) fn read(&self, name: &str) -> Result<Vec<u8>, Outcome> {
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
    fn deserialize(
        &self,
        result: &Value,
        secret: Option<&Poly<Eval>>,
    ) -> (Outcome, Outcome, Option<Loaded>) {
        let file = result.get("file").and_then(Value::as_str).unwrap_or("");
        let bytes = match super::read(self.root, file) {
            Ok(b) => b,
            Err(o) => return (o.clone(), o, None),
        };
        let moduli = result
            .get("moduli_count")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let eval = result.get("poly_format").and_then(Value::as_str) == Some("Eval format");
        let ct = match proto::SerializedCiphertext::decode(bytes.as_slice()) {
            Ok(ct) => ct,
            Err(e) => return (fail(e), Outcome::Skip("not deserialized".into()), None),
        };
        let ctx = match self.all.prefix(moduli) {
            Ok(c) => c,
            Err(e) => return (fail(e), Outcome::Skip("not deserialized".into()), None),
        };
        let seed = match &ct.serialized_ciphertext_type {
            Some(SerializedCiphertextType::Seeded(seeded)) => Some(seeded.seed.clone()),
            _ => None,
        };
        let polys = match ct.serialized_ciphertext_type {
            Some(SerializedCiphertextType::Full(full)) => load_full(&ctx, &full, eval),
            Some(SerializedCiphertextType::Seeded(seeded)) => load_seeded(&ctx, &seeded, eval),
            None => Err(Outcome::Fail("no ciphertext in the message".into())),
        };
        let polys = match polys {
            Ok(p) => p,
            Err(o) => return (o, Outcome::Skip("not deserialized".into()), None),
        };
        let decrypted = match secret {
            Some(secret) => self.decrypt(&ctx, secret, &polys, result),
            None => Outcome::Skip("no secret key".into()),
        };
        let object = Loaded {
            ctx,
            polys,
            seed,
            bytes,
        };
        (Outcome::Pass, decrypted, Some(object))
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

/// Loads a full ciphertext and checks it re-serializes to the same bytes; returns Coeff polys.
fn load_full(
    ctx: &PolyContext,
    full: &proto::SerializedFullCiphertext,
    eval: bool,
) -> Result<Vec<Poly<Coeff>>, Outcome> {
    let same = |bytes: Result<Vec<u8>, he::Error>| match bytes {
        Ok(b) if b == full.polys => Ok(()),
        Ok(_) => Err(Outcome::Fail("re-serialization differs".into())),
        Err(e) => Err(fail(e)),
    };
    if eval {
        let p = read_polys::<Eval>(ctx, &full.polys, &full.skip_lsbs).map_err(fail)?;
        same(write_polys(ctx, &p, &full.skip_lsbs))?;
        Ok(p.into_iter().map(|p| p.intt(ctx)).collect())
    } else {
        let p = read_polys::<Coeff>(ctx, &full.polys, &full.skip_lsbs).map_err(fail)?;
        same(write_polys(ctx, &p, &full.skip_lsbs))?;
        Ok(p)
    }
}

/// Loads a seeded ciphertext: `c0` as recorded, `c1` expanded from the seed (§6.4).
fn load_seeded(
    ctx: &PolyContext,
    seeded: &proto::SerializedSeededCiphertext,
    eval: bool,
) -> Result<Vec<Poly<Coeff>>, Outcome> {
    let seed: [u8; SEED_LEN] = seeded
        .seed
        .as_slice()
        .try_into()
        .map_err(|_| Outcome::Fail("seed is not 32 bytes".into()))?;
    let a = sample::uniform_eval(ctx, &mut NistAes128Ctr::new(&seed)).map_err(fail)?;
    let check = |p: &dyn Fn(&mut Vec<u8>) -> Result<(), he::Error>| {
        let mut out = Vec::new();
        p(&mut out).map_err(fail)?;
        if out == seeded.poly0 {
            Ok(())
        } else {
            Err(Outcome::Fail("re-serialization differs".into()))
        }
    };
    if eval {
        let c0 = Poly::<Eval>::from_bytes(ctx, &seeded.poly0, 0).map_err(fail)?;
        check(&|out| c0.write(ctx, 0, out))?;
        Ok(vec![c0.intt(ctx), a.intt(ctx)])
    } else {
        let c0 = Poly::<Coeff>::from_bytes(ctx, &seeded.poly0, 0).map_err(fail)?;
        check(&|out| c0.write(ctx, 0, out))?;
        Ok(vec![c0, a.intt(ctx)])
    }
}
