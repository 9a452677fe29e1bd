//! What devices will send and receive for a use case (issue #7 "`pir-server build` prints … the
//! evaluation-key, query and response sizes"), computed from its shard parameters. Apple's relay
//! enforces the sizes declared at onboarding, so operators need these before deploying.
//!
//! Sizes are of the ciphertext payloads (pir-protocol.md §4.5, §4.8; bfv.md serialization): a
//! seeded ciphertext is one polynomial over every ciphertext modulus plus a 32-byte seed; each
//! key-switching key holds `L − 1` seeded ciphertexts; a response ciphertext is two polynomials
//! over the first modulus, before skip-LSB trimming (so that figure is an upper bound).

use pir::params_file::{RingShape, from_pir_parameters};
use pir::proto::pir as pir_proto;

/// Sizes in bytes, for the largest shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireSizes {
    /// One `/key` upload's key material.
    pub evaluation_key: usize,
    /// One keyword's query ciphertexts.
    pub query: usize,
    /// One keyword's reply ciphertexts, at most.
    pub response_max: usize,
}

const SEED_BYTES: usize = 32;

fn modulus_bits(q: u64) -> usize {
    (64 - q.leading_zeros()) as usize
}

impl WireSizes {
    /// The sizes for a use case's shards (the maximum over shards).
    ///
    /// # Errors
    /// The params error of a shard whose parameters are unusable.
    pub fn of(shards: &[pir_proto::PirParameters]) -> Result<Self, pir::PirError> {
        let mut sizes = Self {
            evaluation_key: 0,
            query: 0,
            response_max: 0,
        };
        for params in shards {
            let encryption = params.encryption_parameters.clone().unwrap_or_default();
            let shape = RingShape::of(&encryption)?;
            let (index, _) = from_pir_parameters(params)?;
            let n = shape.degree;
            let all_bits: usize = encryption
                .coefficient_moduli
                .iter()
                .map(|&q| modulus_bits(q))
                .sum();
            let first_bits = encryption
                .coefficient_moduli
                .first()
                .map_or(0, |&q| modulus_bits(q));
            let seeded = n * all_bits / 8 + SEED_BYTES;
            let levels = encryption.coefficient_moduli.len().saturating_sub(1).max(1);
            let key_count = index.evaluation_key_config.galois_elements.len()
                + usize::from(index.evaluation_key_config.has_relin_key);
            let query_count = index.query_ciphertext_count(index.batch_size, n);
            let replies = index.batch_size * index.chunk_count(shape.bytes_per_plaintext);
            sizes.evaluation_key = sizes.evaluation_key.max(key_count * levels * seeded);
            sizes.query = sizes.query.max(query_count * seeded);
            sizes.response_max = sizes.response_max.max(replies * 2 * n * first_bits / 8);
        }
        Ok(sizes)
    }
}
