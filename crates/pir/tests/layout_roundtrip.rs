//! Property: for any database shape, every entry is read back from the plaintext layout at its
//! coordinates, as a noise-free MulPIR client would (spec/pir-protocol.md §4.4, §4.9).

use pir::evaluation_key::KeyCompression;
use pir::index_pir::{IndexPirConfig, IndexPirParameter};
use pir::packing::coefficients_to_bytes;
use pir::plaintext_layout::{plaintext_position, table_plaintexts};
use proptest::prelude::*;

/// The unit-test ring N = 16, t = 1153: 10 bits per coefficient, 20 bytes per plaintext.
const N: usize = 16;
const BITS: u32 = 10;
const BPP: usize = 20;

proptest! {
    #[test]
    fn every_entry_reads_back(
        sizes in proptest::collection::vec(0usize..60, 1..40),
        fill in any::<u8>(),
        dimension_count in 1usize..=2,
        uneven in any::<bool>(),
        encoding_entry_size in any::<bool>(),
    ) {
        let entries: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| (0..s).map(|j| fill ^ (i as u8).wrapping_mul(31) ^ j as u8).collect())
            .collect();
        let entry_size = sizes.iter().copied().max().unwrap_or(0).max(1);
        let config = IndexPirConfig {
            entry_count: entries.len(),
            entry_size,
            dimension_count,
            batch_size: 2,
            uneven_dimensions: uneven,
            key_compression: KeyCompression::NoCompression,
            encoding_entry_size,
        };
        let index = IndexPirParameter::generate(&config, N, BPP).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let layout = table_plaintexts(&entries, &index, BITS, BPP).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let chunks = index.chunk_count(BPP);
        prop_assert_eq!(layout.len(), chunks * index.plaintexts_per_chunk());
        let width = index.entry_size_encoding_width();
        let per_plaintext = index.entries_per_plaintext(BPP);
        for (i, entry) in entries.iter().enumerate() {
            let coordinates = index.coordinates(i, BPP).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut bytes = Vec::new();
            for chunk in 0..chunks {
                let position = plaintext_position(&index, &coordinates, chunk).ok_or_else(|| TestCaseError::fail("position"))?;
                let mut part = match &layout[position] {
                    Some(coeffs) => coefficients_to_bytes(coeffs, BITS).map_err(|e| TestCaseError::fail(e.to_string()))?,
                    None => Vec::new(),
                };
                part.resize(BPP, 0);
                bytes.extend(part);
            }
            let start = (i % per_plaintext) * index.encoded_entry_size();
            let encoded = &bytes[start..start + index.encoded_entry_size()];
            if width > 0 {
                let mut len = [0u8; 8];
                len[..width].copy_from_slice(&encoded[..width]);
                prop_assert_eq!(u64::from_le_bytes(len) as usize, entry.len());
            }
            prop_assert_eq!(&encoded[width..width + entry.len()], entry.as_slice());
            prop_assert!(encoded[width + entry.len()..].iter().all(|&b| b == 0));
        }
    }
}
