//! Decoders of file and network input, fed arbitrary bytes: errors, never panics.

use pir::bucket::{BucketEntry, HashBucket};
use pir::packing::{bytes_to_coefficients, coefficients_to_bytes};
use proptest::prelude::*;

proptest! {
    #[test]
    fn bucket_parse_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(bucket) = HashBucket::parse(&raw) {
            // What parsed re-serializes to a prefix of the input (the rest was padding).
            let bytes = bucket.serialize();
            prop_assert!(raw.starts_with(&bytes));
        }
    }

    #[test]
    fn bucket_round_trips(entries in proptest::collection::vec(
        (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..20)
    ) {
        let entries: Vec<BucketEntry> = entries
            .into_iter()
            .map(|(keyword_hash, value)| BucketEntry { keyword_hash, value })
            .collect();
        let bucket = HashBucket::new(entries).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bytes = bucket.serialize();
        prop_assert_eq!(bytes.len(), bucket.serialized_size());
        bytes.extend_from_slice(&[0; 7]);
        prop_assert_eq!(HashBucket::parse(&bytes), Ok(bucket));
    }

    #[test]
    fn packing_round_trips(raw in proptest::collection::vec(any::<u8>(), 0..200), bits in 1u32..=64) {
        let coeffs = bytes_to_coefficients(&raw, bits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(coeffs.len(), (8 * raw.len()).div_ceil(bits as usize));
        let back = coefficients_to_bytes(&coeffs, bits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The last coefficient may carry padding bits, which come back as extra zero bytes.
        prop_assert!(back.starts_with(&raw));
        prop_assert!(back[raw.len()..].iter().all(|&b| b == 0));
    }
}
