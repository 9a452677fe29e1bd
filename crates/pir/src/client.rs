//! The client side of keyword PIR, as Apple's devices run it: keyword → shard → candidate
//! buckets → encrypted MulPIR query, evaluation-key generation, and response decryption with
//! the lookup in the decrypted buckets (spec/pir-protocol.md §3.7, §4.5, §4.9, §7; Apple's
//! `KeywordPirClient`, `MulPirClient`, `PirUtil.compressBinaryInputs`, PIRServiceTesting's
//! `PIRClient.request`).
//!
//! Randomness is the caller's: every query and key is drawn from a [`NistAes128Ctr`] stream the
//! caller seeds, so that seeded transcripts can be reproduced byte for byte. No I/O here.

use std::sync::Arc;

use he::poly::{Coeff, Eval, Poly, PolyContext, read_polys, write_polys};
use he::proto::serialized_ciphertext::SerializedCiphertextType;
use he::rng::NistAes128Ctr;
use thiserror::Error;

use crate::PirError;
use crate::bucket::HashBucket;
use crate::evaluation_key::EvaluationKeyConfig;
use crate::index_pir::IndexPirParameter;
use crate::keyword::{hash_indices, keyword_hash};
use crate::keyword_pir::KeywordPirParameter;
use crate::packing::{bits_per_coeff, bytes_per_plaintext, coefficients_to_bytes};
use crate::params_file::from_pir_parameters;
use crate::proto::{api_pir, api_shared, he as he_proto, pir};

/// What can go wrong on the client side.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// Parameters, a keyword index or a bucket were invalid.
    #[error(transparent)]
    Pir(#[from] PirError),
    /// The HE layer refused an input (a malformed ciphertext or key).
    #[error("homomorphic encryption: {0}")]
    He(#[from] he::Error),
    /// The encryption parameters cannot be used by a client.
    #[error("invalid encryption parameters: {0}")]
    InvalidEncryptionParameters(String),
    /// The configuration has no shards, or its keyword parameters are missing.
    #[error("invalid PIR configuration: {0}")]
    InvalidConfig(String),
    /// A response does not have the shape its query asks for (§4.9).
    #[error("invalid response: {0}")]
    InvalidResponse(String),
}

/// The ring of an `EncryptionParameters` message, as the client uses it.
#[derive(Debug, Clone)]
struct Ring {
    parameters: he_proto::EncryptionParameters,
    /// Every modulus (the secret key's context).
    all: Arc<PolyContext>,
    /// The ciphertext moduli: all but the special key-switching modulus.
    ciphertext: Arc<PolyContext>,
    /// The first modulus alone: responses are switched down to it.
    response: Arc<PolyContext>,
    plaintext_modulus: u64,
    bits_per_coeff: u32,
    bytes_per_plaintext: usize,
}

impl Ring {
    fn new(parameters: &he_proto::EncryptionParameters) -> Result<Self, ClientError> {
        let invalid = |m: String| ClientError::InvalidEncryptionParameters(m);
        let degree = usize::try_from(parameters.polynomial_degree)
            .map_err(|_| invalid(format!("degree {}", parameters.polynomial_degree)))?;
        let t = parameters.plaintext_modulus;
        if t < 3 || t.is_multiple_of(2) {
            return Err(invalid(format!(
                "plaintext modulus {t} must be odd and ≥ 3"
            )));
        }
        let moduli = &parameters.coefficient_moduli;
        if moduli.is_empty() || moduli.iter().any(|&q| q <= t) {
            return Err(invalid(format!(
                "coefficient moduli {moduli:?} must be non-empty and each above t = {t}"
            )));
        }
        let all = PolyContext::new(degree, moduli)?;
        // With one modulus there is no special modulus (Apple's context does the same).
        let ciphertext = all.prefix(moduli.len().saturating_sub(1).max(1))?;
        let response = all.prefix(1)?;
        Ok(Self {
            parameters: parameters.clone(),
            all,
            ciphertext,
            response,
            plaintext_modulus: t,
            bits_per_coeff: bits_per_coeff(t)?,
            bytes_per_plaintext: bytes_per_plaintext(degree, t)?,
        })
    }

    fn degree(&self) -> usize {
        self.all.degree()
    }
}

/// A BFV secret key (ternary, stored in Eval form over every modulus).
#[derive(Clone)]
pub struct SecretKey {
    ring: Ring,
    poly: Poly<Eval>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SecretKey").finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A fresh key for `parameters`, drawn from `stream` as Apple's `generateSecretKey` does
    /// (manifest `rng.secret_key`).
    ///
    /// # Errors
    /// [`ClientError::InvalidEncryptionParameters`] or [`ClientError::He`] for parameters the
    /// HE layer cannot use.
    pub fn generate(
        parameters: &he_proto::EncryptionParameters,
        stream: &mut NistAes128Ctr,
    ) -> Result<Self, ClientError> {
        let ring = Ring::new(parameters)?;
        let poly = he::sample::ternary(&ring.all, stream)?.ntt(&ring.all);
        Ok(Self { ring, poly })
    }

    /// Loads a `SerializedSecretKey` (the Eval polynomial over every modulus).
    ///
    /// # Errors
    /// As [`SecretKey::generate`], and [`ClientError::He`] for malformed key bytes.
    pub fn from_proto(
        parameters: &he_proto::EncryptionParameters,
        key: &he_proto::SerializedSecretKey,
    ) -> Result<Self, ClientError> {
        let ring = Ring::new(parameters)?;
        let mut polys = read_polys::<Eval>(&ring.all, &key.polys, &[])?;
        let poly = match (polys.pop(), polys.is_empty()) {
            (Some(poly), true) => poly,
            _ => {
                return Err(ClientError::InvalidEncryptionParameters(
                    "a secret key holds exactly one polynomial".into(),
                ));
            }
        };
        Ok(Self { ring, poly })
    }

    /// The `SerializedSecretKey` message.
    ///
    /// # Errors
    /// [`ClientError::He`] if the polynomial cannot be serialized.
    pub fn to_proto(&self) -> Result<he_proto::SerializedSecretKey, ClientError> {
        Ok(he_proto::SerializedSecretKey {
            polys: write_polys(&self.ring.all, std::slice::from_ref(&self.poly), &[])?,
        })
    }

    /// The encryption parameters this key belongs to.
    pub fn encryption_parameters(&self) -> &he_proto::EncryptionParameters {
        &self.ring.parameters
    }

    /// The evaluation key for `config`, drawn from `stream` (Galois keys in the config's
    /// order, then the relinearization key; spec bfv.md §5.2).
    ///
    /// # Errors
    /// [`ClientError::He`] for a Galois element the ring rejects.
    pub fn evaluation_key(
        &self,
        config: &EvaluationKeyConfig,
        stream: &mut NistAes128Ctr,
    ) -> Result<he_proto::SerializedEvaluationKey, ClientError> {
        let elements: Vec<u64> = config.galois_elements.iter().map(|&g| g.into()).collect();
        Ok(he::keygen::evaluation_key(
            &self.ring.all,
            self.ring.ciphertext.len(),
            &self.poly,
            &elements,
            config.has_relin_key,
            stream,
        )?)
    }
}

/// One shard as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShardShape {
    index: IndexPirParameter,
}

/// The shards of a usecase: one shape per shard, or one shape repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shards {
    Each(Vec<ShardShape>),
    Repeated { shape: ShardShape, count: usize },
}

impl Shards {
    fn count(&self) -> usize {
        match self {
            Self::Each(shapes) => shapes.len(),
            Self::Repeated { count, .. } => *count,
        }
    }

    fn get(&self, shard: usize) -> Option<&ShardShape> {
        match self {
            Self::Each(shapes) => shapes.get(shard),
            Self::Repeated { shape, count } => (shard < *count).then_some(shape),
        }
    }
}

/// An encrypted query for one keyword, and what the client needs to read its response.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordQuery {
    /// The shard the keyword lives in.
    pub shard_index: usize,
    /// The candidate bucket of each table (the index-PIR indices queried, §3.3).
    pub bucket_indices: Vec<usize>,
    /// The wire query: seeded ciphertexts and `num_pir_calls`.
    pub encrypted: pir::EncryptedIndices,
}

impl KeywordQuery {
    /// The `PIRRequest` the reference client sends (§7): shard index, query, the key's
    /// metadata (upload timestamp, `evaluation_key_config_hash`) and the cached `config_id`.
    ///
    /// # Errors
    /// [`ClientError::InvalidConfig`] for a shard index beyond u32.
    pub fn to_pir_request(
        &self,
        evaluation_key_metadata: api_shared::EvaluationKeyMetadata,
        configuration_hash: &[u8],
    ) -> Result<api_pir::PirRequest, ClientError> {
        let shard_index = u32::try_from(self.shard_index).map_err(|_| {
            ClientError::InvalidConfig(format!("shard index {} exceeds u32", self.shard_index))
        })?;
        Ok(api_pir::PirRequest {
            shard_index,
            query: Some(self.encrypted.clone()),
            evaluation_key_metadata: Some(evaluation_key_metadata),
            configuration_hash: configuration_hash.to_vec(),
            shard_id: None,
            evaluation_key: None,
        })
    }
}

/// A keyword-PIR client for one usecase: its shards' parameters and the secret key.
#[derive(Debug, Clone)]
pub struct KeywordPirClient {
    secret_key: SecretKey,
    shards: Shards,
    keyword: KeywordPirParameter,
}

impl KeywordPirClient {
    /// A client for the usecase a `/config` `PIRConfig` describes (shard configs or one
    /// repeated shard config; the sharding function defaults to SHA-256, as in Apple's client).
    ///
    /// # Errors
    /// [`ClientError::InvalidConfig`] for no shards or no keyword parameters;
    /// [`ClientError::InvalidEncryptionParameters`] when the key belongs to other parameters;
    /// [`ClientError::Pir`] for invalid shard parameters.
    pub fn from_pir_config(
        config: &api_pir::PirConfig,
        secret_key: SecretKey,
    ) -> Result<Self, ClientError> {
        use api_pir::pir_shard_configs::ShardConfigs;
        let encryption_parameters = config
            .encryption_parameters
            .as_ref()
            .ok_or_else(|| ClientError::InvalidConfig("encryption_parameters missing".into()))?;
        let keyword_pir_params = config
            .keyword_pir_params
            .as_ref()
            .ok_or_else(|| ClientError::InvalidConfig("keyword_pir_params missing".into()))?;
        let as_params = |shard: &api_pir::PirShardConfig| pir::PirParameters {
            encryption_parameters: Some(encryption_parameters.clone()),
            num_entries: shard.num_entries,
            entry_size: shard.entry_size,
            dimensions: shard.dimensions.clone(),
            keyword_pir_params: Some(keyword_pir_params.clone()),
            algorithm: config.algorithm,
            batch_size: config.batch_size,
            // The client only needs the shape; the keys it uploads follow `KeyStatus`.
            evaluation_key_config: Some(he_proto::EvaluationKeyConfig::default()),
            key_compression_strategy: 0,
            encoding_entry_size: config.encoding_entry_size.unwrap_or(false),
        };
        let repeated = config
            .pir_shard_configs
            .as_ref()
            .and_then(|c| c.shard_configs.as_ref());
        let params: Vec<pir::PirParameters> = match repeated {
            Some(ShardConfigs::RepeatedShardConfig(fixed)) => {
                let shard = fixed.shard_config.as_ref().ok_or_else(|| {
                    ClientError::InvalidConfig("repeated shard config missing".into())
                })?;
                let count = usize::try_from(fixed.shard_count)
                    .ok()
                    .filter(|&c| c >= 1)
                    .ok_or_else(|| ClientError::InvalidConfig("shard count 0".into()))?;
                let mut client = Self::from_shard_parameters(&[as_params(shard)], secret_key)?;
                let shape = match client.shards {
                    Shards::Each(mut shapes) => shapes.pop(),
                    Shards::Repeated { shape, .. } => Some(shape),
                }
                .ok_or_else(|| ClientError::InvalidConfig("no shard".into()))?;
                client.shards = Shards::Repeated { shape, count };
                return Ok(client);
            }
            None => config.shard_configs.iter().map(as_params).collect(),
        };
        Self::from_shard_parameters(&params, secret_key)
    }

    /// A client for a database whose shards have these params files, in shard order (the
    /// processing output, §5.2).
    ///
    /// # Errors
    /// As [`KeywordPirClient::from_pir_config`].
    pub fn from_shard_parameters(
        shards: &[pir::PirParameters],
        secret_key: SecretKey,
    ) -> Result<Self, ClientError> {
        let mut keyword = None;
        let mut shapes = Vec::with_capacity(shards.len());
        for (i, params) in shards.iter().enumerate() {
            if params.encryption_parameters.as_ref() != Some(&secret_key.ring.parameters) {
                return Err(ClientError::InvalidEncryptionParameters(format!(
                    "shard {i} uses other encryption parameters than the secret key"
                )));
            }
            let (index, shard_keyword) = from_pir_parameters(params)?;
            let shard_keyword = shard_keyword.ok_or_else(|| {
                ClientError::InvalidConfig(format!("shard {i} has no keyword_pir_params"))
            })?;
            check_shape(&index, shard_keyword.hash_function_count, &secret_key.ring)?;
            // Apple's client takes the usecase's keyword parameters; shard 0 stands for them.
            keyword.get_or_insert(shard_keyword);
            shapes.push(ShardShape { index });
        }
        let keyword = keyword.ok_or_else(|| ClientError::InvalidConfig("no shards".into()))?;
        Ok(Self {
            secret_key,
            shards: Shards::Each(shapes),
            keyword,
        })
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.count()
    }

    /// The shard holding `keyword` (§3.2).
    ///
    /// # Errors
    /// [`ClientError::Pir`] for a `doubleMod` sharding with `other_shard_count` 0.
    pub fn shard_index(&self, keyword: &[u8]) -> Result<usize, ClientError> {
        Ok(self
            .keyword
            .sharding_function
            .shard_index(keyword, self.shards.count())?)
    }

    fn shard(&self, shard: usize) -> Result<&ShardShape, ClientError> {
        self.shards.get(shard).ok_or_else(|| {
            ClientError::InvalidConfig(format!(
                "shard {shard} out of range; {} shards",
                self.shards.count()
            ))
        })
    }

    /// The candidate buckets of `keyword` in its shard.
    fn locate(&self, keyword: &[u8]) -> Result<(usize, &ShardShape, Vec<usize>), ClientError> {
        let shard_index = self.shard_index(keyword)?;
        let shard = self.shard(shard_index)?;
        let indices = hash_indices(
            keyword,
            shard.index.entry_count,
            self.keyword.hash_function_count,
        );
        Ok((shard_index, shard, indices))
    }

    /// The encrypted query for `keyword` (§3.7, §4.5): one seeded ciphertext per block of
    /// `N` expanded inputs, all drawn in order from `stream`.
    ///
    /// # Errors
    /// [`ClientError::Pir`] or [`ClientError::He`] if the shard's parameters do not fit the ring.
    pub fn query(
        &self,
        keyword: &[u8],
        stream: &mut NistAes128Ctr,
    ) -> Result<KeywordQuery, ClientError> {
        let (shard_index, shard, bucket_indices) = self.locate(keyword)?;
        let ring = &self.secret_key.ring;
        let plaintexts = shard.index.query_plaintexts(
            &bucket_indices,
            ring.bytes_per_plaintext,
            ring.degree(),
            ring.plaintext_modulus,
        )?;
        let ctx = &ring.ciphertext;
        let ciphertexts = plaintexts
            .iter()
            .map(|values| {
                let fresh = he::encrypt::encrypt(
                    ctx,
                    &self.secret_key.poly,
                    values,
                    ring.plaintext_modulus,
                    stream,
                )?;
                let mut poly0 = Vec::new();
                if let Some(c0) = fresh.polys.first() {
                    c0.write(ctx, 0, &mut poly0)?;
                }
                Ok(he_proto::SerializedCiphertext {
                    serialized_ciphertext_type: Some(SerializedCiphertextType::Seeded(
                        he_proto::SerializedSeededCiphertext {
                            poly0,
                            seed: fresh.seed.to_vec(),
                        },
                    )),
                })
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        Ok(KeywordQuery {
            shard_index,
            encrypted: pir::EncryptedIndices {
                ciphertexts,
                num_pir_calls: bucket_indices.len() as u64,
            },
            bucket_indices,
        })
    }

    /// Decrypts the response to a query for `keyword` and looks the keyword up in the
    /// decrypted buckets, table by table (§3.7, §4.9): its value, or `None` if absent.
    ///
    /// # Errors
    /// [`ClientError::InvalidResponse`] for a reply count, ciphertext count or ciphertext form
    /// other than the query implies; [`ClientError::He`] for malformed ciphertext bytes;
    /// [`ClientError::Pir`] for a decrypted bucket that does not parse.
    pub fn decrypt(
        &self,
        keyword: &[u8],
        response: &api_pir::PirResponse,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        let (_, shard, indices) = self.locate(keyword)?;
        if response.replies.len() != indices.len() {
            return Err(ClientError::InvalidResponse(format!(
                "{} replies for {} indices",
                response.replies.len(),
                indices.len()
            )));
        }
        let hash = keyword_hash(keyword);
        for (reply, &index) in response.replies.iter().zip(&indices) {
            let entry = self.decrypt_entry(&shard.index, reply, index)?;
            if let Some(value) = HashBucket::parse(&entry)?.find_hash(hash) {
                return Ok(Some(value.to_vec()));
            }
        }
        Ok(None)
    }

    /// The entry at `index` from one reply (`chunk_count` ciphertexts at the first modulus).
    fn decrypt_entry(
        &self,
        index_parameter: &IndexPirParameter,
        reply: &he_proto::SerializedCiphertextVec,
        index: usize,
    ) -> Result<Vec<u8>, ClientError> {
        let ring = &self.secret_key.ring;
        let chunks = index_parameter.chunk_count(ring.bytes_per_plaintext);
        if reply.ciphertexts.len() != chunks {
            return Err(ClientError::InvalidResponse(format!(
                "{} ciphertexts in a reply; the entry size needs {chunks}",
                reply.ciphertexts.len()
            )));
        }
        let mut bytes = Vec::with_capacity(chunks * ring.bytes_per_plaintext);
        for ciphertext in &reply.ciphertexts {
            let Some(SerializedCiphertextType::Full(full)) = &ciphertext.serialized_ciphertext_type
            else {
                return Err(ClientError::InvalidResponse(
                    "reply ciphertexts must be full (not seeded) ciphertexts".into(),
                ));
            };
            let polys: Vec<Poly<Coeff>> = read_polys(&ring.response, &full.polys, &full.skip_lsbs)?;
            if polys.len() != 2 {
                return Err(ClientError::InvalidResponse(format!(
                    "a reply ciphertext has {} polynomials; 2 expected",
                    polys.len()
                )));
            }
            let t = ring.plaintext_modulus;
            let mut coefficients =
                he::decrypt::decrypt(&ring.response, &self.secret_key.poly, &polys, t)?;
            // Apple divides by the correction factor mod t; a fresh pipeline leaves it at 1.
            if full.correction_factor != 1 {
                let inverse = inverse_mod(full.correction_factor % t, t).ok_or_else(|| {
                    ClientError::InvalidResponse(format!(
                        "correction factor {} is not invertible mod {t}",
                        full.correction_factor
                    ))
                })?;
                for c in &mut coefficients {
                    *c = mul_mod(*c, inverse, t);
                }
            }
            let mut chunk = coefficients_to_bytes(&coefficients, ring.bits_per_coeff)?;
            chunk.resize(ring.bytes_per_plaintext, 0);
            bytes.extend_from_slice(&chunk);
        }
        let encoded = index_parameter.encoded_entry_size();
        let position = index % index_parameter.entries_per_plaintext(ring.bytes_per_plaintext);
        let entry = bytes
            .get(position * encoded..(position + 1) * encoded)
            .ok_or_else(|| ClientError::InvalidResponse("entry beyond the reply".into()))?;
        let width = index_parameter.entry_size_encoding_width();
        if width == 0 {
            return Ok(entry.to_vec());
        }
        let (prefix, body) = entry.split_at(width);
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(prefix);
        let length = usize::try_from(u64::from_le_bytes(le)).unwrap_or(usize::MAX);
        Ok(body.get(..length).unwrap_or(body).to_vec())
    }
}

/// Most ciphertexts a query may take (`MAX_QUERY_CIPHERTEXTS · N` expanded inputs): Apple's
/// configurations need one or two, so a larger shape is a misconfigured or hostile server.
pub const MAX_QUERY_CIPHERTEXTS: usize = 256;

/// Rejects shapes whose queries would fall outside the hypercube (so a query never drops a
/// one silently), whose dimensions exceed the plaintexts they address, or whose queries would
/// exceed [`MAX_QUERY_CIPHERTEXTS`].
fn check_shape(
    index: &IndexPirParameter,
    hash_function_count: usize,
    ring: &Ring,
) -> Result<(), ClientError> {
    let plaintexts = index
        .entry_count
        .div_ceil(index.entries_per_plaintext(ring.bytes_per_plaintext));
    let invalid = |why: &str| {
        ClientError::Pir(PirError::InvalidParameters(format!(
            "dimensions {:?} for {} entries of {} bytes: {why}",
            index.dimensions, index.entry_count, index.entry_size
        )))
    };
    if index.plaintexts_per_chunk() < plaintexts
        || index.dimensions.iter().any(|&d| d > plaintexts.max(1))
    {
        return Err(invalid("they do not fit the entries"));
    }
    let inputs = index
        .expanded_query_count()
        .checked_mul(hash_function_count)
        .ok_or_else(|| invalid("too many query inputs"))?;
    if inputs.div_ceil(ring.degree()) > MAX_QUERY_CIPHERTEXTS {
        return Err(invalid("a query would exceed 256 ciphertexts"));
    }
    Ok(())
}

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(m)) as u64
}

/// `a^-1 mod m` by the extended Euclidean algorithm, if it exists.
fn inverse_mod(a: u64, m: u64) -> Option<u64> {
    let (mut r0, mut r1) = (i128::from(m), i128::from(a));
    let (mut s0, mut s1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (s0, s1) = (s1, s0 - q * s1);
    }
    (r0 == 1).then(|| s0.rem_euclid(i128::from(m)) as u64)
}
