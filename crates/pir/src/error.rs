//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in this crate. Messages state the allowed range.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PirError {
    /// A serialized hash bucket is malformed (§3.4).
    #[error("corrupted hash bucket: {0}")]
    CorruptedBucket(&'static str),
    /// A bucket would hold more than 255 entries (§3.4).
    #[error("hash bucket has {count} entries; at most 255 allowed")]
    BucketSlotCount {
        /// Entries requested.
        count: usize,
    },
    /// A value is longer than the u16 length prefix allows (§3.4).
    #[error("value of {size} bytes; at most 65535 allowed")]
    ValueTooLarge {
        /// Value size in bytes.
        size: usize,
    },
    /// The cuckoo table configuration is invalid (§3.5).
    #[error("invalid cuckoo table config: {0}")]
    InvalidCuckooConfig(&'static str),
    /// The cuckoo table could not be built (§3.5).
    #[error("failed to construct cuckoo table: {0}")]
    CuckooConstruction(String),
    /// The sharding configuration is invalid (§3.2).
    #[error("invalid sharding: {0}")]
    InvalidSharding(String),
    /// A keyword occurs twice in one shard (§3.2).
    #[error("duplicate keyword {keyword_hex} in one shard")]
    DuplicateKeyword {
        /// The keyword, hex-encoded.
        keyword_hex: String,
    },
    /// Index-PIR parameters are out of range (§4.2).
    #[error("invalid PIR parameters: {0}")]
    InvalidParameters(String),
    /// An entry index is outside the database (§4.4).
    #[error("index {index} out of range; the database has {entry_count} entries")]
    IndexOutOfRange {
        /// Requested index.
        index: usize,
        /// Number of entries.
        entry_count: usize,
    },
    /// The PIRProcessDatabase JSON configuration is invalid (§5.4).
    #[error("invalid processing config: {0}")]
    InvalidProcessConfig(String),
    /// A protobuf message did not decode.
    #[error("protobuf decode: {0}")]
    ProtoDecode(String),
    /// A protobuf text-format document did not parse, or a message could not be printed.
    #[error("protobuf text format: {0}")]
    TextFormat(String),
}
