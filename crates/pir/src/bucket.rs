//! Hash buckets: the index-PIR entries of a keyword database (spec/pir-protocol.md §3.4;
//! Apple's `HashBucket`).
//!
//! ```text
//! bucket := u8 count || entry * count
//! entry  := SHA256(keyword)[0..8] || u16_le value_length || value
//! ```
//! Trailing bytes (the zero padding up to the entry size) are ignored when parsing.

use crate::PirError;
use crate::keyword::keyword_hash;

/// Most entries a bucket can hold (the count is one byte).
pub const MAX_SLOT_COUNT: usize = 255;
/// Largest value (the length is a u16).
pub const MAX_VALUE_SIZE: usize = u16::MAX as usize;
/// Bytes an entry adds besides its value: the 8-byte tag and the 2-byte length.
pub const ENTRY_OVERHEAD: usize = 10;

/// One entry: the keyword's truncated hash and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEntry {
    /// [`keyword_hash`] of the keyword; serialized little-endian (the raw digest bytes).
    pub keyword_hash: u64,
    /// The value.
    pub value: Vec<u8>,
}

/// A parsed or to-be-serialized hash bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HashBucket {
    entries: Vec<BucketEntry>,
}

impl HashBucket {
    /// A bucket holding these entries.
    ///
    /// # Errors
    /// [`PirError::BucketSlotCount`] above 255 entries; [`PirError::ValueTooLarge`] for a value
    /// above 65535 bytes.
    pub fn new(entries: Vec<BucketEntry>) -> Result<Self, PirError> {
        if entries.len() > MAX_SLOT_COUNT {
            return Err(PirError::BucketSlotCount {
                count: entries.len(),
            });
        }
        if let Some(entry) = entries.iter().find(|e| e.value.len() > MAX_VALUE_SIZE) {
            return Err(PirError::ValueTooLarge {
                size: entry.value.len(),
            });
        }
        Ok(Self { entries })
    }

    /// The entries, in slot order.
    pub fn entries(&self) -> &[BucketEntry] {
        &self.entries
    }

    /// Parses a bucket; bytes after the last entry are ignored.
    ///
    /// # Errors
    /// [`PirError::CorruptedBucket`] for an empty or truncated buffer.
    pub fn parse(bytes: &[u8]) -> Result<Self, PirError> {
        let (&count, mut rest) = bytes
            .split_first()
            .ok_or(PirError::CorruptedBucket("empty buffer"))?;
        let mut entries = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let (tag, after_tag) = rest
                .split_first_chunk::<8>()
                .ok_or(PirError::CorruptedBucket("truncated keyword hash"))?;
            let (len, after_len) = after_tag
                .split_first_chunk::<2>()
                .ok_or(PirError::CorruptedBucket("truncated value length"))?;
            let len = usize::from(u16::from_le_bytes(*len));
            let (value, after_value) = after_len
                .split_at_checked(len)
                .ok_or(PirError::CorruptedBucket("truncated value"))?;
            entries.push(BucketEntry {
                keyword_hash: u64::from_le_bytes(*tag),
                value: value.to_vec(),
            });
            rest = after_value;
        }
        Ok(Self { entries })
    }

    /// The serialized bytes (no padding).
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.serialized_size());
        // `new`/`parse` keep the count ≤ 255 and each value ≤ 65535 bytes.
        out.push(self.entries.len() as u8);
        for entry in &self.entries {
            out.extend_from_slice(&entry.keyword_hash.to_le_bytes());
            out.extend_from_slice(&(entry.value.len() as u16).to_le_bytes());
            out.extend_from_slice(&entry.value);
        }
        out
    }

    /// `1 + Σ (10 + |value|)`.
    pub fn serialized_size(&self) -> usize {
        serialized_size(self.entries.iter().map(|e| e.value.len()))
    }

    /// The value stored for `keyword`, matched by its truncated hash (a 64-bit tag collision
    /// would return the wrong value; accepted by design, §3.7).
    pub fn find(&self, keyword: &[u8]) -> Option<&[u8]> {
        self.find_hash(keyword_hash(keyword))
    }

    /// The value stored under a truncated keyword hash.
    pub fn find_hash(&self, hash: u64) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|e| e.keyword_hash == hash)
            .map(|e| e.value.as_slice())
    }
}

/// Serialized size of a bucket holding values of these sizes: `1 + Σ (10 + size)`.
pub fn serialized_size(value_sizes: impl IntoIterator<Item = usize>) -> usize {
    1 + value_sizes
        .into_iter()
        .map(|size| ENTRY_OVERHEAD + size)
        .sum::<usize>()
}
