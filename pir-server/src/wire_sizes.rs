//! What devices will send and receive for a use case (issue #7 "`pir-server build` prints … the
//! evaluation-key, query and response sizes"), computed exactly from its shard parameters.
//! Apple's relay enforces the sizes declared at onboarding on the HTTP bodies, so these are body
//! sizes: the protobuf messages of pir-protocol.md §2.4–§2.5 with their framing.
//!
//! Rather than re-deriving byte counts, each figure is the encoded length of a message shaped like
//! the device's (spec §7, as `pir::client` builds it): ciphertext payloads sized by the `he`
//! crate's serialization (seeded query ciphertexts over the ciphertext moduli, §4.5; key-switching
//! digits over all moduli, bfv.md §5.2; replies mod-switched to q0 with skip-LSBs, §4.8), zeroed,
//! inside the real wire types. Every field the device fills has a fixed length except varints, for
//! which the largest value in use is taken (see [`KEY_TIMESTAMP`]).

use he::modswitch::skip_lsbs_for_decryption;
use he::poly::{Coeff, Poly, PolyContext, write_polys};
use he::proto::serialized_ciphertext::SerializedCiphertextType;
use he::rng::SEED_LEN;
use pir::client::KeywordQuery;
use pir::evaluation_key::EvaluationKeyConfig;
use pir::params_file::{RingShape, from_pir_parameters};
use pir::proto::{api, api_pir, api_shared, he as he_proto, pir as pir_proto};
use prost::Message as _;

/// Body sizes in bytes (the largest over shards where shards differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireSizes {
    /// A `/key` body: `EvaluationKeys` with the use case's one key (the union over shards).
    pub evaluation_key: usize,
    /// A `/queries` body asking for one keyword; each further keyword in the body adds as much.
    pub query: usize,
    /// The `/queries` answer to one keyword; each further keyword adds as much.
    pub response: usize,
}

/// Why sizes could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum WireSizeError {
    /// No shard parameters were given.
    #[error("a use case without shards has no wire sizes")]
    NoShards,
    /// A shard's parameters are not usable MulPIR parameters.
    #[error("shard {shard}: {source}")]
    Params {
        /// The shard's index.
        shard: usize,
        /// What is wrong with them.
        source: pir::PirError,
    },
    /// A shard's ring cannot be built.
    #[error("shard {shard}: {source}")]
    Ring {
        /// The shard's index.
        shard: usize,
        /// The `he` crate's error.
        source: he::Error,
    },
}

/// The key timestamp assumed (seconds since the epoch): the largest 5-byte varint. Devices send
/// their key-generation time, a 5-byte varint from 1978 until the year 3058.
pub const KEY_TIMESTAMP: u64 = (1 << 35) - 1;

/// `evaluation_key_config_hash` and `config_id` are SHA-256 digests (§1.4.1).
const DIGEST_BYTES: usize = 32;

impl WireSizes {
    /// The sizes for use case `usecase` (the name devices send) with these shards' parameters.
    ///
    /// # Errors
    /// [`WireSizeError`] for no shards or parameters that are unusable.
    pub fn of(usecase: &str, shards: &[pir_proto::PirParameters]) -> Result<Self, WireSizeError> {
        let metadata = api_shared::EvaluationKeyMetadata {
            timestamp: KEY_TIMESTAMP,
            identifier: vec![0; DIGEST_BYTES],
        };
        let mut query = 0;
        let mut response = 0;
        let mut key_configs = Vec::with_capacity(shards.len());
        // Shards of a use case share their encryption parameters: build the ring once.
        let mut rings: Vec<Ring> = Vec::with_capacity(1);
        for (shard, params) in shards.iter().enumerate() {
            let ring = match rings
                .iter()
                .position(|r| Some(&r.parameters) == params.encryption_parameters.as_ref())
            {
                Some(i) => &rings[i],
                None => {
                    rings.push(Ring::of(params).map_err(|e| e.at(shard))?);
                    &rings[rings.len() - 1]
                }
            };
            let (index, _) = from_pir_parameters(params)
                .map_err(|source| WireSizeError::Params { shard, source })?;
            let shape = RingShape::of(&ring.parameters)
                .map_err(|source| WireSizeError::Params { shard, source })?;

            let seeded = seeded_ciphertext(&ring.ciphertext);
            let keyword = KeywordQuery {
                shard_index: shard,
                bucket_indices: vec![0; index.batch_size],
                encrypted: pir_proto::EncryptedIndices {
                    ciphertexts: vec![
                        seeded;
                        index.query_ciphertext_count(index.batch_size, shape.degree)
                    ],
                    num_pir_calls: index.batch_size as u64,
                },
            };
            let request = keyword
                .to_pir_request(metadata.clone(), &[0; DIGEST_BYTES])
                .map_err(|e| WireSizeError::Params {
                    shard,
                    source: pir::PirError::InvalidParameters(e.to_string()),
                })?;
            let body = api::Requests {
                requests: vec![api::Request {
                    usecase: usecase.to_owned(),
                    request: Some(api::request::Request::PirRequest(request)),
                }],
            };
            query = query.max(body.encoded_len());

            let reply = ring
                .reply()
                .map_err(|source| WireSizeError::Ring { shard, source })?;
            let replies = he_proto::SerializedCiphertextVec {
                ciphertexts: vec![reply; index.chunk_count(shape.bytes_per_plaintext)],
            };
            let body = api::Responses {
                responses: vec![api::Response {
                    response: Some(api::response::Response::PirResponse(api_pir::PirResponse {
                        replies: vec![replies; index.batch_size],
                        stash: None,
                    })),
                }],
            };
            response = response.max(body.encoded_len());

            key_configs.push(index.evaluation_key_config);
        }
        let Some(first) = rings.first() else {
            return Err(WireSizeError::NoShards);
        };
        // One key serves every shard (§1.4.1): the union config, over the first shard's ring
        // (a use case has one set of encryption parameters).
        let config = EvaluationKeyConfig::union(&key_configs);
        let body = api_shared::EvaluationKeys {
            keys: vec![api_shared::EvaluationKey {
                metadata: Some(metadata),
                evaluation_key: Some(evaluation_key(&first.all, &config)),
            }],
        };
        Ok(Self {
            evaluation_key: body.encoded_len(),
            query,
            response,
        })
    }
}

/// The contexts a shard's ciphertexts live in.
struct Ring {
    parameters: he_proto::EncryptionParameters,
    /// Every modulus, the key-switching one last: key-switching keys.
    all: std::sync::Arc<PolyContext>,
    /// The ciphertext moduli (all but the last, as `pir::client` and Apple's context): queries.
    ciphertext: std::sync::Arc<PolyContext>,
}

/// A ring error not yet tied to a shard.
enum RingError {
    Params(pir::PirError),
    He(he::Error),
}

impl RingError {
    fn at(self, shard: usize) -> WireSizeError {
        match self {
            Self::Params(source) => WireSizeError::Params { shard, source },
            Self::He(source) => WireSizeError::Ring { shard, source },
        }
    }
}

impl Ring {
    fn of(params: &pir_proto::PirParameters) -> Result<Self, RingError> {
        let parameters = params.encryption_parameters.clone().ok_or_else(|| {
            RingError::Params(pir::PirError::InvalidParameters(
                "encryption_parameters missing".into(),
            ))
        })?;
        let degree = usize::try_from(parameters.polynomial_degree).map_err(|_| {
            RingError::Params(pir::PirError::InvalidParameters(format!(
                "degree {}",
                parameters.polynomial_degree
            )))
        })?;
        let moduli = &parameters.coefficient_moduli;
        let all = PolyContext::new(degree, moduli).map_err(RingError::He)?;
        let ciphertext = all
            .prefix(moduli.len().saturating_sub(1).max(1))
            .map_err(RingError::He)?;
        Ok(Self {
            parameters,
            all,
            ciphertext,
        })
    }

    /// One reply ciphertext: mod-switched to q0, both polynomials with their skip-LSBs (§4.8).
    fn reply(&self) -> Result<he_proto::SerializedCiphertext, he::Error> {
        let single = self.all.prefix(1)?;
        let q0 = single.moduli().next().map_or(0, |q| q.value());
        let skips =
            skip_lsbs_for_decryption(q0, self.parameters.plaintext_modulus, single.degree());
        let zero = Poly::<Coeff>::from_rows(&single, vec![vec![0; single.degree()]])?;
        let polys = write_polys(&single, &[zero.clone(), zero], &skips)?;
        Ok(he_proto::SerializedCiphertext {
            serialized_ciphertext_type: Some(SerializedCiphertextType::Full(
                he_proto::SerializedFullCiphertext {
                    polys,
                    skip_lsbs: skips.to_vec(),
                    // What the server sends (pir::server): no correction after mod switch.
                    correction_factor: 1,
                },
            )),
        })
    }
}

/// A seeded ciphertext over `ctx`: `c0` in full, `c1` as its seed (bfv.md §6.4).
fn seeded_ciphertext(ctx: &PolyContext) -> he_proto::SerializedCiphertext {
    // The serialized length of a full-width polynomial cannot fail for a context that exists.
    let poly0 = vec![0; ctx.serialized_len(0).unwrap_or_default()];
    he_proto::SerializedCiphertext {
        serialized_ciphertext_type: Some(SerializedCiphertextType::Seeded(
            he_proto::SerializedSeededCiphertext {
                poly0,
                seed: vec![0; SEED_LEN],
            },
        )),
    }
}

/// The evaluation key for `config` as `he::keygen::evaluation_key` lays it out: per key one
/// seeded ciphertext over every modulus per ciphertext modulus (the RNS gadget's digits).
fn evaluation_key(
    all: &PolyContext,
    config: &EvaluationKeyConfig,
) -> he_proto::SerializedEvaluationKey {
    let digits = all.len().saturating_sub(1).max(1);
    let key = he_proto::SerializedKeySwitchKey {
        key_switch_key: Some(he_proto::SerializedCiphertextVec {
            ciphertexts: vec![seeded_ciphertext(all); digits],
        }),
    };
    he_proto::SerializedEvaluationKey {
        galois_key: (!config.galois_elements.is_empty()).then(|| he_proto::SerializedGaloisKey {
            key_switch_keys: config
                .galois_elements
                .iter()
                .map(|&g| (u64::from(g), key.clone()))
                .collect(),
        }),
        relin_key: config.has_relin_key.then(|| he_proto::SerializedRelinKey {
            relin_key: Some(key.clone()),
        }),
    }
}
