//! Keyword hashing and candidate bucket indices (spec/pir-protocol.md §3.1, §3.3).
//!
//! Apple's `HashKeyword`: the keyword hash is the first 8 bytes of SHA-256(keyword) read
//! little-endian; the bucket index hashes that u64 **big-endian** plus a counter byte.

use sha2::{Digest, Sha256};

/// How many times the counter is bumped while a candidate repeats an earlier one.
const MAX_RETRIES: u8 = 10;

/// The truncated keyword hash `u64::from_le_bytes(SHA256(keyword)[0..8])` (§3.1).
///
/// Used for sharding, bucket indices, and (as its little-endian bytes) as the tag in buckets.
pub fn keyword_hash(keyword: &[u8]) -> u64 {
    digest_prefix(Sha256::digest(keyword).into())
}

/// The candidate bucket of each hash function, `i` in `0..hash_function_count` (§3.3).
///
/// `bucket_count` is the number of buckets **per table** (the index-PIR entry count). Candidate
/// `i` lives in table `i`. Repeats are avoided by bumping a counter (at most 10 times), exactly
/// as Apple does, although each candidate goes to a different table.
/// A `bucket_count` of 0 yields an empty list.
pub fn hash_indices(keyword: &[u8], bucket_count: usize, hash_function_count: usize) -> Vec<usize> {
    let mut candidates = Vec::with_capacity(hash_function_count);
    hash_indices_of_hash(
        keyword_hash(keyword),
        bucket_count,
        hash_function_count,
        &mut candidates,
    );
    candidates
}

/// [`hash_indices`] from a precomputed [`keyword_hash`], written into `out` (cleared first).
pub fn hash_indices_of_hash(
    hash: u64,
    bucket_count: usize,
    hash_function_count: usize,
    out: &mut Vec<usize>,
) {
    hash_indices_with(
        |counter| index_hash(hash, counter),
        bucket_count,
        hash_function_count,
        out,
    );
}

/// [`hash_indices`] given `raw(counter)` = [`index_hash`]`(hash, counter)`, so callers can
/// cache the SHA-256 outputs, which do not depend on the bucket count.
pub fn hash_indices_with(
    mut raw: impl FnMut(u8) -> u64,
    bucket_count: usize,
    hash_function_count: usize,
    out: &mut Vec<usize>,
) {
    out.clear();
    if bucket_count == 0 {
        return;
    }
    // The remainder is below `bucket_count`, so it fits in usize.
    let mut index_at = |counter: u8| (raw(counter) % bucket_count as u64) as usize;
    for _ in 0..hash_function_count {
        let mut counter = 0u8;
        let mut index = index_at(counter);
        while out.contains(&index) && counter < MAX_RETRIES {
            counter += 1;
            index = index_at(counter);
        }
        out.push(index);
    }
}

/// `u64::from_le_bytes(SHA256(BE64(hash) || counter)[0..8])`, before reduction modulo the
/// bucket count.
pub fn index_hash(hash: u64, counter: u8) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(hash.to_be_bytes());
    hasher.update([counter]);
    digest_prefix(hasher.finalize().into())
}

fn digest_prefix(digest: [u8; 32]) -> u64 {
    let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = digest;
    u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
}
