//! Evaluation-key configurations: which Galois keys a MulPIR query needs, and the union over
//! shards (spec/pir-protocol.md §4.3; Apple's `MulPir.evaluationKeyConfig`,
//! `Sequence<EvaluationKeyConfig>.union`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::PirError;

/// How many Galois keys the client generates: fewer keys, more automorphisms per expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyCompression {
    /// A key for every expansion level (`KEY_COMPRESSION_STRATEGY_UNSPECIFIED`).
    #[default]
    NoCompression,
    /// Maximum compression plus one key (`..._HYBRID_COMPRESSION`).
    HybridCompression,
    /// Keys up to `2^ceil((log2 N + 1) / 2) + 1` only (`..._MAXIMUM_COMPRESSION`).
    MaxCompression,
}

/// The keys a client must upload: Galois elements (ascending) and the relinearization key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EvaluationKeyConfig {
    /// Galois elements, sorted ascending, each `2^k + 1`.
    pub galois_elements: Vec<u32>,
    /// Whether a relinearization key is needed.
    pub has_relin_key: bool,
}

impl EvaluationKeyConfig {
    /// The keys MulPIR needs to expand `expanded_query_count` inputs (the sum of the dimensions
    /// times the batch size) in a ring of degree `degree` (a power of two).
    ///
    /// # Errors
    /// [`PirError::InvalidParameters`] for `expanded_query_count` < 2 (nothing to expand; Apple
    /// traps) or a degree that is not a power of two in 2..=2^30.
    pub fn for_mul_pir(
        expanded_query_count: usize,
        degree: usize,
        compression: KeyCompression,
    ) -> Result<Self, PirError> {
        if !degree.is_power_of_two() || !(2..=1 << 30).contains(&degree) {
            return Err(PirError::InvalidParameters(format!(
                "polynomial degree {degree} must be a power of two in 2..=2^30"
            )));
        }
        if expanded_query_count < 2 {
            return Err(PirError::InvalidParameters(format!(
                "expanded query count {expanded_query_count} must be at least 2"
            )));
        }
        let log_n = degree.ilog2();
        let depth = ceil_log2(expanded_query_count.min(degree));
        let smallest = log_n - depth + 1;
        let largest = match compression {
            KeyCompression::NoCompression => log_n,
            KeyCompression::HybridCompression | KeyCompression::MaxCompression => {
                smallest.max((log_n + 1).div_ceil(2))
            }
        };
        let mut galois_elements: Vec<u32> = (smallest..=largest).map(|l| (1 << l) + 1).collect();
        if compression == KeyCompression::HybridCompression {
            let extra = (1 << largest.max((log_n + largest).div_ceil(2))) + 1;
            if !galois_elements.contains(&extra) {
                galois_elements.push(extra);
            }
        }
        Ok(Self {
            galois_elements,
            has_relin_key: true,
        })
    }

    /// The union: all Galois elements, sorted and deduplicated; relinearization if any needs it.
    pub fn union<'a>(configs: impl IntoIterator<Item = &'a Self>) -> Self {
        let mut elements = BTreeSet::new();
        let mut has_relin_key = false;
        for config in configs {
            elements.extend(config.galois_elements.iter().copied());
            has_relin_key |= config.has_relin_key;
        }
        Self {
            galois_elements: elements.into_iter().collect(),
            has_relin_key,
        }
    }
}

/// `ceil(log2 x)` for `x` ≥ 1.
pub(crate) fn ceil_log2(x: usize) -> u32 {
    x.next_power_of_two().ilog2()
}
