//! The MulPIR server computation for one shard (spec/pir-protocol.md §4.6 expansion, §4.7
//! response computation, §4.8 serialization; Apple's `PirUtil.computeResponse`,
//! `computeResponseForOneChunk`, `KeywordPirServer`): a query's selectors are expanded, dotted
//! with the first dimension of each table, combined over the second dimension with ct×ct
//! products and one relinearization, switched down to one modulus and serialized for
//! decryption, giving exactly the bytes Apple's server gives.
//!
//! A server made [`ShardServer::with_threads`] spreads one query over its own thread pool: the
//! halves of every expansion split, the first-dimension columns, and parts of the ct×ct sum
//! (exact sums, so the bytes do not depend on the thread count).
//!
//! Everything that arrives from the network (ciphertext counts, sizes, the key's elements) is
//! checked and reported as a [`ServeError`].

use std::sync::Arc;

use he::behz::Scalar;
use he::dot::{self, CtCtDot};
use he::keyswitch::{KeySwitchKey, relinearize};
use he::modswitch::{mod_switch_down_to_single, skip_lsbs_for_decryption};
use he::poly::{Coeff, Eval, Poly, PolyContext, read_polys, write_polys};
use he::proto as he_proto;
use he::proto::serialized_ciphertext::SerializedCiphertextType;
use he::rng::{NistAes128Ctr, SEED_LEN};
use rayon::prelude::*;

use crate::database::{DatabaseError, ProcessedShard};
use crate::expand::{Ciphertext, ExpandError, GaloisKeys, expand};
use crate::proto::api_pir::PirResponse;
use crate::proto::pir::EncryptedIndices;

/// Why a query could not be answered (or a shard or key not prepared).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The shard's parameters or contents are unusable.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// The query could not be expanded (ciphertext count, Galois keys).
    #[error(transparent)]
    Expand(#[from] ExpandError),
    /// `num_pir_calls` is outside 1..=tables (any count ≥ 1 for a one-table database).
    #[error("num_pir_calls {got}; this shard allows 1..={max}")]
    QueryCount {
        /// `num_pir_calls` of the query.
        got: u64,
        /// The largest count allowed.
        max: usize,
    },
    /// A query ciphertext is malformed.
    #[error("query ciphertext {index}: {reason}")]
    QueryCiphertext {
        /// Its position in the query.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The evaluation key is malformed.
    #[error("evaluation key: {0}")]
    EvaluationKey(String),
    /// A two-dimensional database needs the relinearization key.
    #[error("evaluation key has no relinearization key")]
    MissingRelinKey,
    /// The key was prepared for other encryption parameters.
    #[error("evaluation key was prepared for other encryption parameters")]
    KeyMismatch,
    /// The per-query thread pool could not be started.
    #[error("thread pool: {0}")]
    ThreadPool(String),
    /// The HE layer failed on well-formed input (a bug, not bad input).
    #[error("HE: {0}")]
    He(#[from] he::Error),
}

/// A client's evaluation key, parsed once against a shard's encryption parameters.
#[derive(Debug, Clone)]
pub struct PreparedEvaluationKey {
    moduli: Vec<u64>,
    galois: GaloisKeys,
    relin: Option<KeySwitchKey>,
}

impl PreparedEvaluationKey {
    /// Parses `key` for the encryption parameters of `server` (and every shard sharing them).
    ///
    /// # Errors
    /// [`ServeError::EvaluationKey`]: an invalid Galois element, a key-switching key with a
    /// digit count other than the ciphertext modulus count, or malformed polynomials.
    pub fn from_proto(
        server: &ShardServer,
        key: &he_proto::SerializedEvaluationKey,
    ) -> Result<Self, ServeError> {
        let levels = server.ctx.len();
        let bad = |what: String| ServeError::EvaluationKey(what);
        let load = |what: String, ksk: &he_proto::SerializedKeySwitchKey| {
            let k = he::serialize::key_switch_key(&server.all, ksk)
                .map_err(|e| bad(format!("{what}: {e}")))?;
            if k.digits.len() != levels {
                return Err(bad(format!(
                    "{what}: {} digits; {levels} expected",
                    k.digits.len()
                )));
            }
            Ok(k)
        };
        let two_n = 2 * server.ctx.degree() as u64;
        let mut galois = GaloisKeys::new();
        if let Some(g) = &key.galois_key {
            for (&element, ksk) in &g.key_switch_keys {
                if element.is_multiple_of(2) || element <= 1 || element >= two_n {
                    return Err(bad(format!(
                        "Galois element {element} must be odd and in (1, {two_n})"
                    )));
                }
                galois.insert(element, load(format!("Galois key {element}"), ksk)?);
            }
        }
        let relin = key
            .relin_key
            .as_ref()
            .and_then(|r| r.relin_key.as_ref())
            .map(|ksk| load("relinearization key".into(), ksk))
            .transpose()?;
        Ok(Self {
            moduli: server.all.moduli().map(|q| q.value()).collect(),
            galois,
            relin,
        })
    }

    /// The Galois elements present, ascending.
    pub fn galois_elements(&self) -> impl Iterator<Item = u64> + '_ {
        self.galois.keys().copied()
    }

    /// Whether a relinearization key is present.
    pub fn has_relin_key(&self) -> bool {
        self.relin.is_some()
    }
}

/// A table's first-dimension results: every column in Coeff form and in Eval form.
type Columns = (Vec<Ciphertext>, Vec<Vec<Poly<Eval>>>);

/// Answers MulPIR queries for one processed shard. Immutable; share it in an `Arc`.
pub struct ShardServer {
    shard: ProcessedShard,
    /// All moduli, the special modulus last (for key switching).
    all: Arc<PolyContext>,
    /// The ciphertext moduli.
    ctx: Arc<PolyContext>,
    ct_ct: CtCtDot,
    /// The threads one query runs on, when more than the caller's.
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for ShardServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardServer")
            .field("shard", &self.shard)
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

impl ShardServer {
    /// Prepares `shard` for answering: HE contexts and the BEHZ bases of Apple's engine for
    /// these parameters (`Bfv<UInt32>` when every modulus fits 32 bits, as Apple's server).
    ///
    /// # Errors
    /// [`ServeError::Database`] for encryption parameters the HE layer cannot use.
    pub fn new(shard: ProcessedShard) -> Result<Self, ServeError> {
        let enc_err = |e: he::Error| ServeError::Database(DatabaseError::Encryption(e.to_string()));
        let mut moduli: Vec<u64> = shard.moduli().to_vec();
        let special = shard
            .parameters()
            .encryption_parameters
            .as_ref()
            .and_then(|p| p.coefficient_moduli.last().copied())
            .ok_or_else(|| {
                ServeError::Database(DatabaseError::Encryption("no special modulus".into()))
            })?;
        moduli.push(special);
        let all = PolyContext::new(shard.degree(), &moduli).map_err(enc_err)?;
        let ctx = all.prefix(shard.moduli().len()).map_err(enc_err)?;
        let scalar = if moduli.iter().all(|&q| q < 1 << 32) {
            Scalar::U32
        } else {
            Scalar::U64
        };
        let ct_ct = CtCtDot::new(&ctx, shard.plaintext_modulus(), scalar).map_err(enc_err)?;
        Ok(Self {
            shard,
            all,
            ctx,
            ct_ct,
            pool: None,
        })
    }

    /// Answers each query on `threads` threads of a pool of its own (1: on the calling thread,
    /// the default); the answers are the same bytes for every count.
    ///
    /// # Errors
    /// [`ServeError::ThreadPool`] if the threads cannot be started.
    pub fn with_threads(mut self, threads: usize) -> Result<Self, ServeError> {
        self.pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("pir-query-{i}"))
                .build()
                .map_err(|e| ServeError::ThreadPool(e.to_string()))?;
            Some(pool)
        } else {
            None
        };
        Ok(self)
    }

    /// The threads one query runs on.
    pub fn threads(&self) -> usize {
        self.pool
            .as_ref()
            .map_or(1, rayon::ThreadPool::current_num_threads)
    }

    /// Runs `f` on the server's pool, if it has one.
    fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// `f` over `0..count`, on the pool's threads when there is one.
    fn map<R: Send>(&self, count: usize, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
        if self.pool.is_some() {
            (0..count).into_par_iter().map(f).collect()
        } else {
            (0..count).map(f).collect()
        }
    }

    /// The shard served.
    pub fn shard(&self) -> &ProcessedShard {
        &self.shard
    }

    /// Computes the reply to `query`: one `SerializedCiphertextVec` per query index, each with
    /// one ciphertext per chunk, as Apple's `KeywordPirServer.computeResponse`.
    ///
    /// # Errors
    /// [`ServeError`]: `num_pir_calls` out of range, a wrong ciphertext count, a malformed
    /// ciphertext, a key for other parameters, or a missing Galois or relinearization key.
    pub fn respond(
        &self,
        query: &EncryptedIndices,
        key: &PreparedEvaluationKey,
    ) -> Result<PirResponse, ServeError> {
        self.run(|| self.respond_here(query, key))
    }

    fn respond_here(
        &self,
        query: &EncryptedIndices,
        key: &PreparedEvaluationKey,
    ) -> Result<PirResponse, ServeError> {
        let expanded = self.expand_here(query, key)?;
        let per_index: usize = self.shard.index_parameter().dimensions.iter().sum();
        let replies = expanded
            .chunks(per_index)
            .enumerate()
            .map(|(i, selectors)| self.answer_index(i, selectors, key))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PirResponse {
            replies,
            stash: None,
        })
    }

    /// Checks `query` against the shard and the key, decodes its ciphertexts and expands them:
    /// `sum(dims)` selectors per query index, index after index.
    ///
    /// # Errors
    /// As [`ShardServer::respond`].
    pub fn expand_query(
        &self,
        query: &EncryptedIndices,
        key: &PreparedEvaluationKey,
    ) -> Result<Vec<Ciphertext>, ServeError> {
        self.run(|| self.expand_here(query, key))
    }

    fn expand_here(
        &self,
        query: &EncryptedIndices,
        key: &PreparedEvaluationKey,
    ) -> Result<Vec<Ciphertext>, ServeError> {
        self.check_key(key)?;
        let tables = self.shard.table_count();
        let calls = usize::try_from(query.num_pir_calls)
            .ok()
            .filter(|&c| c >= 1 && (tables == 1 || c <= tables))
            .ok_or(ServeError::QueryCount {
                got: query.num_pir_calls,
                max: if tables == 1 { usize::MAX } else { tables },
            })?;
        let dims = &self.shard.index_parameter().dimensions;
        let per_index: usize = dims.iter().sum();
        let outputs = per_index.checked_mul(calls).ok_or(ServeError::QueryCount {
            got: query.num_pir_calls,
            max: tables,
        })?;
        let expected = outputs.div_ceil(self.ctx.degree());
        if query.ciphertexts.len() != expected {
            return Err(ExpandError::CiphertextCount {
                got: query.ciphertexts.len(),
                expected,
                outputs,
            }
            .into());
        }
        if dims.len() > 1 && key.relin.is_none() {
            return Err(ServeError::MissingRelinKey);
        }
        let cts = self
            .map(query.ciphertexts.len(), |index| {
                self.load_query_ciphertext(index, &query.ciphertexts[index])
            })
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let parallel = self.pool.is_some();
        Ok(expand(
            &self.all,
            &self.ctx,
            &cts,
            outputs,
            &key.galois,
            parallel,
        )?)
    }

    fn check_key(&self, key: &PreparedEvaluationKey) -> Result<(), ServeError> {
        if key
            .moduli
            .iter()
            .copied()
            .ne(self.all.moduli().map(|q| q.value()))
        {
            return Err(ServeError::KeyMismatch);
        }
        Ok(())
    }

    /// One query ciphertext in Coeff form over the ciphertext moduli.
    fn load_query_ciphertext(
        &self,
        index: usize,
        ct: &he_proto::SerializedCiphertext,
    ) -> Result<Ciphertext, ServeError> {
        let bad = |reason: String| ServeError::QueryCiphertext { index, reason };
        match &ct.serialized_ciphertext_type {
            Some(SerializedCiphertextType::Seeded(s)) => {
                let seed: [u8; SEED_LEN] = s.seed.as_slice().try_into().map_err(|_| {
                    bad(format!(
                        "seed of {} bytes; {SEED_LEN} expected",
                        s.seed.len()
                    ))
                })?;
                let c0 = Poly::<Coeff>::from_bytes(&self.ctx, &s.poly0, 0)
                    .map_err(|e| bad(e.to_string()))?;
                let c1 = he::sample::uniform_eval(&self.ctx, &mut NistAes128Ctr::new(&seed))
                    .map_err(|e| bad(e.to_string()))?
                    .intt(&self.ctx);
                Ok(vec![c0, c1])
            }
            Some(SerializedCiphertextType::Full(f)) => {
                let polys = read_polys::<Coeff>(&self.ctx, &f.polys, &f.skip_lsbs)
                    .map_err(|e| bad(e.to_string()))?;
                if polys.len() != 2 {
                    return Err(bad(format!("{} polynomials; 2 expected", polys.len())));
                }
                Ok(polys)
            }
            None => Err(bad("no ciphertext".into())),
        }
    }

    /// The reply ciphertexts (one per chunk) of query index `i` from its expanded selectors.
    fn answer_index(
        &self,
        i: usize,
        selectors: &[Ciphertext],
        key: &PreparedEvaluationKey,
    ) -> Result<he_proto::SerializedCiphertextVec, ServeError> {
        let dims = &self.shard.index_parameter().dimensions;
        let d0 = dims.first().copied().unwrap_or(1);
        let (first, rest) = selectors.split_at(d0.min(selectors.len()));
        let first: Vec<Vec<Poly<Eval>>> = self.map(first.len(), |r| {
            first[r].iter().map(|p| p.clone().ntt(&self.ctx)).collect()
        });
        let table = if self.shard.table_count() == 1 { 0 } else { i };
        let per_chunk = self.shard.index_parameter().plaintexts_per_chunk();
        let columns = per_chunk / d0.max(1);
        let ciphertexts = (0..self.shard.chunk_count())
            .map(|chunk| {
                let base = (table * self.shard.chunk_count() + chunk) * per_chunk;
                let (column_results, column_evals) = self.first_dimension(&first, base, columns)?;
                let combined = match column_results.as_slice() {
                    [single] if dims.len() == 1 => single.clone(),
                    _ => {
                        let relin = key.relin.as_ref().ok_or(ServeError::MissingRelinKey)?;
                        let product =
                            self.second_dimension(rest, &column_results, &column_evals)?;
                        relinearize(&self.all, &self.ctx, &product, relin)?
                    }
                };
                self.serialize_reply(&combined)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(he_proto::SerializedCiphertextVec { ciphertexts })
    }

    /// `Σ_c rest[c] ⊗ columns[c]`: with a pool, one part of the sum per thread, merged before
    /// the one scale-down.
    fn second_dimension(
        &self,
        rest: &[Ciphertext],
        columns: &[Ciphertext],
        evals: &[Vec<Poly<Eval>>],
    ) -> Result<Ciphertext, ServeError> {
        let threads = self.threads().min(columns.len());
        if threads <= 1 || rest.len() != columns.len() {
            // (Mismatched lengths get the tensor sum's typed error.)
            let sum = self.ct_ct.tensor_sum(rest, columns, Some(evals))?;
            return Ok(self.ct_ct.finish(&self.ctx, sum)?);
        }
        let part = columns.len().div_ceil(threads);
        let sums = self
            .map(columns.len().div_ceil(part), |i| {
                let range = (i * part).min(columns.len())..((i + 1) * part).min(columns.len());
                let evals = evals.get(range.clone());
                self.ct_ct
                    .tensor_sum(&rest[range.clone()], &columns[range], evals)
            })
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let mut sums = sums.into_iter();
        let first = sums
            .next()
            .ok_or(ServeError::He(he::Error::Unsupported("no columns")))?;
        let sum = sums.fold(first, |acc, s| self.ct_ct.merge(acc, &s));
        Ok(self.ct_ct.finish(&self.ctx, sum)?)
    }

    /// Column c of `columns`: `Σ_r first[r] ⊙ P[base + c·d0 + r]` over the present plaintexts,
    /// in Coeff form and in Eval form (which the ct×ct lift can use). With a pool, each thread
    /// takes a run of columns.
    fn first_dimension(
        &self,
        first: &[Vec<Poly<Eval>>],
        base: usize,
        columns: usize,
    ) -> Result<Columns, ServeError> {
        let d0 = first.len();
        let part = columns.div_ceil(self.threads()).max(1);
        let parts = self.map(columns.div_ceil(part), |i| {
            let cols = (i * part)..((i + 1) * part).min(columns);
            let plaintexts: Vec<Vec<Option<&[u64]>>> = cols
                .map(|col| {
                    let start = base + col * d0;
                    (start..start + d0)
                        .map(|p| self.shard.plaintext(p))
                        .collect()
                })
                .collect();
            let refs: Vec<&[Option<&[u64]>]> = plaintexts.iter().map(Vec::as_slice).collect();
            let sums = dot::ct_pt_columns(&self.ctx, first, &refs, 2)?;
            let coeffs: Vec<Ciphertext> = sums
                .iter()
                .map(|sum| sum.iter().map(|p| p.clone().intt(&self.ctx)).collect())
                .collect();
            Ok::<_, ServeError>((coeffs, sums))
        });
        let (mut coeffs, mut evals) = (Vec::with_capacity(columns), Vec::with_capacity(columns));
        for part in parts {
            let (c, e) = part?;
            coeffs.extend(c);
            evals.extend(e);
        }
        Ok((coeffs, evals))
    }

    /// Mod-switches to the first modulus and serializes for decryption (skip-LSBs).
    fn serialize_reply(
        &self,
        ct: &Ciphertext,
    ) -> Result<he_proto::SerializedCiphertext, ServeError> {
        let (single, polys) = mod_switch_down_to_single(&self.ctx, ct)?;
        let q0 = single.moduli().next().map_or(0, |q| q.value());
        let skips = skip_lsbs_for_decryption(q0, self.shard.plaintext_modulus(), single.degree());
        let bytes = write_polys(&single, &polys, &skips)?;
        Ok(he_proto::SerializedCiphertext {
            serialized_ciphertext_type: Some(SerializedCiphertextType::Full(
                he_proto::SerializedFullCiphertext {
                    polys: bytes,
                    skip_lsbs: skips.to_vec(),
                    correction_factor: 1,
                },
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use prost::Message;

    use super::*;
    use crate::proto::api::{Requests, Response, Responses, request, response};
    use crate::proto::api_shared::EvaluationKeys;
    use crate::proto::pir::PirParameters;

    /// Every request of a one-shard transcript answered by a server on `threads` threads,
    /// encoded as the `/queries` response body.
    fn answer_all(dir: &std::path::Path, threads: usize) -> Vec<u8> {
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let params = PirParameters::decode(read("url-0.params.binpb").as_slice()).unwrap();
        let shard = ProcessedShard::from_apple_bin(params, &read("url-0.bin")).unwrap();
        let server = ShardServer::new(shard)
            .unwrap()
            .with_threads(threads)
            .unwrap();
        assert_eq!(server.threads(), threads);
        let keys = EvaluationKeys::decode(read("api/evaluation-keys.binpb").as_slice()).unwrap();
        let requests = Requests::decode(read("api/requests.A.binpb").as_slice()).unwrap();
        let responses = requests
            .requests
            .iter()
            .map(|r| {
                let Some(request::Request::PirRequest(pir)) = &r.request else {
                    panic!("not a PIR request");
                };
                let id = &pir.evaluation_key_metadata.as_ref().unwrap().identifier;
                let key = keys
                    .keys
                    .iter()
                    .find(|k| &k.metadata.as_ref().unwrap().identifier == id)
                    .and_then(|k| k.evaluation_key.as_ref())
                    .unwrap();
                let key = PreparedEvaluationKey::from_proto(&server, key).unwrap();
                let reply = server.respond(pir.query.as_ref().unwrap(), &key).unwrap();
                Response {
                    response: Some(response::Response::PirResponse(reply)),
                }
            })
            .collect();
        Responses { responses }.encode_to_vec()
    }

    #[test]
    fn every_thread_count_gives_apples_bytes() {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut dirs: Vec<PathBuf> = ["url-1shard", "url-maxcomp"]
            .iter()
            .map(|v| manifest.join("../../vectors/apple/pir").join(v))
            .collect();
        // The 50K-row transcript (dims [25, 6]) where the golden vectors are kept beside the
        // repository: uneven splits of the expansion, the columns and the ct×ct sum.
        let big = manifest.join("../../../shared/vectors/apple/pir/url-50k");
        if big.join("url-0.bin").exists() {
            dirs.push(big);
        }
        for dir in dirs {
            let want = std::fs::read(dir.join("api/responses.A.binpb")).unwrap();
            for threads in [1, 2, 3] {
                let got = answer_all(&dir, threads);
                assert!(got == want, "{} on {threads} threads", dir.display());
            }
        }
    }
}
