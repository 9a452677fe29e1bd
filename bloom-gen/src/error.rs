//! The library's one error type.

/// What can go wrong building, reading or checking a filter. Messages state the allowed range.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// `murmurSeed` 0 is rejected by the device.
    #[error(
        "seed 0 is not allowed: the device rejects a filter whose murmurSeed is 0 (use 1..=4294967295)"
    )]
    ZeroSeed,
    /// `bitCount` must be a non-zero `u32`.
    #[error(
        "bit count {bits} is out of range: it must be 1..=4294967295 (the device stores it as u32)"
    )]
    BitsOutOfRange {
        /// The rejected value.
        bits: u64,
    },
    /// `hashCount` must be 1..=[`crate::MAX_HASHES`].
    #[error("hash count {hashes} is out of range: it must be 1..={max}", max = crate::MAX_HASHES)]
    HashesOutOfRange {
        /// The rejected value.
        hashes: u64,
    },
    /// The target false-positive rate must lie strictly between 0 and 1.
    #[error("false-positive rate {fpr} is out of range: it must be > 0 and < 1 (e.g. 0.001)")]
    FprOutOfRange {
        /// The rejected value.
        fpr: f64,
    },
    /// Sizing needs at least one entry.
    #[error("no entries: a filter needs at least one entry to size it")]
    NoEntries,
    /// The sized bit count does not fit in a `u32`.
    #[error(
        "{n} entries at false-positive rate {fpr} need 2^32 bits or more; raise the rate or split the list"
    )]
    TooManyEntries {
        /// Entries.
        n: u64,
        /// Target rate.
        fpr: f64,
    },
    /// A bitmap whose length does not match `ceil(bits/8)`.
    #[error("bitmap is {actual} bytes, but bit count needs exactly {expected}")]
    BitmapLength {
        /// `ceil(bits/8)`.
        expected: usize,
        /// What was given.
        actual: usize,
    },
    /// A filter file (JSON or plist) that could not be read.
    #[error("filter file: {0}")]
    FilterFile(String),
    /// A URL the device would not derive any sub-URL for.
    #[error("no sub-URLs: {0}")]
    Url(String),
}
