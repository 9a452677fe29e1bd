//! One shard of a loaded use-case version: its params and the PIR computation that answers
//! queries against it (pir-protocol.md §1.6 step 5, §4.6–§4.8).
//!
//! The computation is behind [`ShardResponder`] so the service's routing, key handling and load
//! shedding do not depend on how the answer is computed, and tests can hold a computation open to
//! fill the pool.

use std::sync::Arc;

use pir::proto::{he, pir as pir_proto};

/// Why a shard could not answer a query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RespondError {
    /// The query or key does not fit the shard's parameters (the client's fault: 400).
    #[error("{0}")]
    BadInput(String),
    /// The computation failed on well-formed input (our fault: 500).
    #[error("shard computation failed: {0}")]
    Internal(String),
}

/// Answers PIR queries for one shard. Runs on the compute pool, never on the reactor.
pub trait ShardResponder: Send + Sync {
    /// One reply per query index (`PIRResponse.replies`), in order.
    ///
    /// # Errors
    /// [`RespondError::BadInput`] for ciphertexts or keys that do not match the parameters.
    fn respond(
        &self,
        query: &pir_proto::EncryptedIndices,
        key: &he::SerializedEvaluationKey,
    ) -> Result<Vec<he::SerializedCiphertextVec>, RespondError>;
}

/// A shard as served: the params file's contents and its responder.
#[derive(Clone)]
pub struct Shard {
    pub params: pir_proto::PirParameters,
    pub responder: Arc<dyn ShardResponder>,
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("num_entries", &self.params.num_entries)
            .field("entry_size", &self.params.entry_size)
            .finish_non_exhaustive()
    }
}
