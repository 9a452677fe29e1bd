//! Opening a shard's database file (memory-mapped) and turning it into the computation that
//! answers its queries (pir-protocol.md §5.1 for Apple's `.bin`; `pir::processed_file` for ours).

use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use pir::database::ProcessedShard;
use pir::proto::{he, pir as pir_proto};
use pir::server::{PreparedEvaluationKey, ServeError, ShardServer};

use crate::shard::{RespondError, ShardResponder};
use crate::usecase::LoadError;

/// How a shard's database file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// `pir::processed_file`, written by `pir-server build`.
    Native,
    /// Apple's processed `.bin` (migration).
    AppleBin,
}

/// Maps `path` read-only.
#[expect(
    unsafe_code,
    reason = "memory-mapping is unsafe if another process truncates the file; database versions \
              are immutable files, replaced by new versions, never rewritten in place"
)]
fn map(path: &Path) -> Result<Mmap, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    // SAFETY: see the reason above; the mapping is only read.
    unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))
}

/// Loads the database at `path` for the shard with `params`.
///
/// # Errors
/// [`LoadError`] when the file cannot be read or does not match `params`.
pub fn load(
    path: &Path,
    format: DataFormat,
    params: &pir_proto::PirParameters,
) -> Result<Arc<dyn ShardResponder>, LoadError> {
    let data = map(path)?;
    let shard = match format {
        DataFormat::AppleBin => ProcessedShard::from_apple_bin(params.clone(), &data)
            .map_err(|e| LoadError::invalid(path, e))?,
        DataFormat::Native => {
            let shard = pir::processed_file::shard_from_bytes(data)
                .map_err(|e| LoadError::invalid(path, e))?;
            if shard.parameters() != params {
                return Err(LoadError::invalid(
                    path,
                    "the shard's parameters differ from its params file",
                ));
            }
            shard
        }
    };
    let server = ShardServer::new(shard).map_err(|e| LoadError::invalid(path, e))?;
    Ok(Arc::new(server))
}

impl ShardResponder for ShardServer {
    fn respond(
        &self,
        query: &pir_proto::EncryptedIndices,
        key: &he::SerializedEvaluationKey,
    ) -> Result<Vec<he::SerializedCiphertextVec>, RespondError> {
        let classify = |e: ServeError| match e {
            ServeError::Database(_) | ServeError::He(_) => RespondError::Internal(e.to_string()),
            _ => RespondError::BadInput(e.to_string()),
        };
        let key = PreparedEvaluationKey::from_proto(self, key).map_err(classify)?;
        ShardServer::respond(self, query, &key)
            .map(|r| r.replies)
            .map_err(classify)
    }
}
