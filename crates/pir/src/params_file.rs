//! `PirParameters`, the params file of a processed shard, to and from our native parameter
//! types (spec/pir-protocol.md §2.2, §3.6 step 6, §5.2; Apple's `ProcessedDatabaseWithParameters
//! .proto`, `PirParameters.native`).
//!
//! Written the way Apple's tool writes it: `algorithm = MUL_PIR`,
//! `key_compression_strategy = UNSPECIFIED` whatever the compression used (the Galois elements
//! already say it), and the evaluation-key config carrying the encryption parameters.

use crate::PirError;
use crate::evaluation_key::EvaluationKeyConfig;
use crate::index_pir::IndexPirParameter;
use crate::keyword_pir::KeywordPirParameter;
use crate::packing::bytes_per_plaintext;
use crate::proto::{he, pir};
use crate::sharding::ShardingFunction;

/// The ring a parameter set describes, as the PIR layer needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingShape {
    /// Polynomial degree N.
    pub degree: usize,
    /// Bytes one plaintext carries.
    pub bytes_per_plaintext: usize,
}

impl RingShape {
    /// The shape of `EncryptionParameters`.
    ///
    /// # Errors
    /// [`PirError::InvalidParameters`] for a degree that is not a power of two ≥ 2 or a
    /// plaintext modulus below 2.
    pub fn of(parameters: &he::EncryptionParameters) -> Result<Self, PirError> {
        let degree = usize::try_from(parameters.polynomial_degree)
            .ok()
            .filter(|d| d.is_power_of_two() && *d >= 2)
            .ok_or_else(|| {
                PirError::InvalidParameters(format!(
                    "polynomial degree {} must be a power of two ≥ 2",
                    parameters.polynomial_degree
                ))
            })?;
        Ok(Self {
            degree,
            bytes_per_plaintext: bytes_per_plaintext(degree, parameters.plaintext_modulus)?,
        })
    }
}

impl EvaluationKeyConfig {
    /// The wire form, carrying `encryption_parameters` as Apple's does.
    pub fn to_proto(
        &self,
        encryption_parameters: &he::EncryptionParameters,
    ) -> he::EvaluationKeyConfig {
        he::EvaluationKeyConfig {
            encryption_parameters: Some(encryption_parameters.clone()),
            galois_elements: self.galois_elements.clone(),
            has_relin_key: self.has_relin_key,
        }
    }

    /// From the wire form (the encryption parameters are dropped).
    pub fn from_proto(config: &he::EvaluationKeyConfig) -> Self {
        Self {
            galois_elements: config.galois_elements.clone(),
            has_relin_key: config.has_relin_key,
        }
    }
}

impl ShardingFunction {
    /// The wire form; Apple always sets it.
    pub fn to_proto(self) -> pir::PirShardingFunction {
        use pir::pir_sharding_function::Function;
        let function = match self {
            Self::Sha256 => Function::Sha256(pir::PirShardingFunctionSha256 {}),
            Self::DoubleMod { other_shard_count } => {
                Function::DoubleMod(pir::PirShardingFunctionDoubleMod { other_shard_count })
            }
        };
        pir::PirShardingFunction {
            function: Some(function),
        }
    }

    /// From the wire form; unset means SHA-256, as in Apple's client.
    pub fn from_proto(function: Option<&pir::PirShardingFunction>) -> Self {
        use pir::pir_sharding_function::Function;
        match function.and_then(|f| f.function.as_ref()) {
            Some(Function::DoubleMod(d)) => Self::DoubleMod {
                other_shard_count: d.other_shard_count,
            },
            Some(Function::Sha256(_)) | None => Self::Sha256,
        }
    }
}

impl KeywordPirParameter {
    /// The wire form (no symmetric-PIR part).
    pub fn to_proto(&self) -> pir::KeywordPirParameters {
        pir::KeywordPirParameters {
            num_hash_functions: self.hash_function_count as u64,
            symmetric_pir_client_config: None,
            sharding_function: Some(self.sharding_function.to_proto()),
        }
    }

    /// From the wire form.
    ///
    /// # Errors
    /// [`PirError::InvalidParameters`] for no hash function or a count beyond `usize`.
    pub fn from_proto(params: &pir::KeywordPirParameters) -> Result<Self, PirError> {
        let hash_function_count = usize::try_from(params.num_hash_functions)
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                PirError::InvalidParameters(format!(
                    "num_hash_functions {} must be at least 1",
                    params.num_hash_functions
                ))
            })?;
        Ok(Self {
            hash_function_count,
            sharding_function: ShardingFunction::from_proto(params.sharding_function.as_ref()),
        })
    }
}

/// A shard's params file as Apple's `PIRProcessDatabase` writes it.
pub fn to_pir_parameters(
    encryption_parameters: &he::EncryptionParameters,
    index: &IndexPirParameter,
    keyword: Option<&KeywordPirParameter>,
) -> pir::PirParameters {
    pir::PirParameters {
        encryption_parameters: Some(encryption_parameters.clone()),
        num_entries: index.entry_count as u64,
        entry_size: index.entry_size as u64,
        dimensions: index.dimensions.iter().map(|&d| d as u64).collect(),
        keyword_pir_params: keyword.map(KeywordPirParameter::to_proto),
        algorithm: pir::PirAlgorithm::MulPir as i32,
        batch_size: index.batch_size as u64,
        evaluation_key_config: Some(index.evaluation_key_config.to_proto(encryption_parameters)),
        key_compression_strategy: pir::KeyCompressionStrategy::Unspecified as i32,
        encoding_entry_size: index.encoding_entry_size,
    }
}

/// The index-PIR and keyword-PIR parameters of a params file.
///
/// # Errors
/// [`PirError::InvalidParameters`]: an algorithm other than MulPIR, missing encryption
/// parameters or key config, no entries, a dimension count other than 1 or 2, a zero
/// dimension, dimensions whose product overflows, a batch size of 0, or sizes beyond `usize`.
pub fn from_pir_parameters(
    params: &pir::PirParameters,
) -> Result<(IndexPirParameter, Option<KeywordPirParameter>), PirError> {
    let invalid = |m: String| PirError::InvalidParameters(m);
    if params.algorithm != pir::PirAlgorithm::MulPir as i32 {
        return Err(invalid(format!(
            "algorithm {} is not PIR_ALGORITHM_MUL_PIR",
            params.algorithm
        )));
    }
    if params.encryption_parameters.is_none() {
        return Err(invalid("encryption_parameters missing".into()));
    }
    let key_config = params
        .evaluation_key_config
        .as_ref()
        .ok_or_else(|| invalid("evaluation_key_config missing".into()))?;
    let to_usize = |name: &str, v: u64| {
        usize::try_from(v).map_err(|_| invalid(format!("{name} {v} does not fit this platform")))
    };
    let entry_count = to_usize("num_entries", params.num_entries)?;
    let entry_size = to_usize("entry_size", params.entry_size)?;
    let batch_size = to_usize("batch_size", params.batch_size)?;
    let dimensions = params
        .dimensions
        .iter()
        .map(|&d| to_usize("dimension", d))
        .collect::<Result<Vec<_>, _>>()?;
    if entry_count == 0 || batch_size == 0 {
        return Err(invalid(format!(
            "num_entries {entry_count} and batch_size {batch_size} must be ≥ 1"
        )));
    }
    if !(1..=2).contains(&dimensions.len()) || dimensions.contains(&0) {
        return Err(invalid(format!(
            "dimensions {dimensions:?}: one or two, each ≥ 1"
        )));
    }
    if dimensions
        .iter()
        .try_fold(1usize, |p, &d| p.checked_mul(d))
        .is_none()
    {
        return Err(invalid(format!("dimensions {dimensions:?} overflow")));
    }
    let keyword = params
        .keyword_pir_params
        .as_ref()
        .map(KeywordPirParameter::from_proto)
        .transpose()?;
    Ok((
        IndexPirParameter {
            entry_count,
            entry_size,
            dimensions,
            batch_size,
            evaluation_key_config: EvaluationKeyConfig::from_proto(key_config),
            encoding_entry_size: params.encoding_entry_size,
        },
        keyword,
    ))
}
