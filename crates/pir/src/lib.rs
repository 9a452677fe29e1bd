//! Apple-compatible keyword PIR (MulPIR), the layer above BFV (spec/pir-protocol.md §2–§5).
//!
//! What is here: keyword hashing and candidate buckets ([`keyword`]), sharding ([`sharding`],
//! [`keyword_database`]), hash buckets ([`bucket`]), cuckoo tables ([`cuckoo`]), coefficient
//! packing ([`packing`]), MulPIR parameters ([`index_pir`]) and evaluation-key configs
//! ([`evaluation_key`]), and Apple's `PIRProcessDatabase` JSON config ([`process_config`]).
//! Everything that needs BFV arithmetic (the Eval-form database, query expansion, response
//! computation, the client) builds on these in modules of its own.
//!
//! ```
//! use pir::keyword::hash_indices;
//! use pir::sharding::ShardingFunction;
//!
//! // Where "example.com" lives in a one-shard database with 7 buckets per table.
//! let shard = ShardingFunction::Sha256.shard_index(b"example.com", 1)?;
//! assert_eq!(shard, 0);
//! assert_eq!(hash_indices(b"example.com", 7, 2), [4, 6]);
//! # Ok::<(), pir::PirError>(())
//! ```

pub mod bucket;
pub mod cuckoo;
mod error;
pub mod evaluation_key;
pub mod index_pir;
pub mod keyword;
pub mod keyword_database;
pub mod keyword_pir;
pub mod packing;
pub mod process_config;
pub mod sharding;

pub use error::PirError;
