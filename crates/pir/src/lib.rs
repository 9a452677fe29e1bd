//! Apple-compatible keyword PIR (MulPIR), the layer above BFV (spec/pir-protocol.md §2–§5).
//!
//! - Wire types: [`proto`] (our transcription of Apple's `.proto` files, prost, sharing the HE
//!   messages of `he::proto`), the ids over them ([`canonical`]), text format ([`text_format`]).
//! - Keyword PIR: keyword hashing and candidate buckets ([`keyword`]), sharding ([`sharding`],
//!   [`keyword_database`]), hash buckets ([`bucket`]), cuckoo tables ([`cuckoo`]), a shard's
//!   buckets and parameters ([`keyword_pir`]).
//! - MulPIR parameters: dimensions and coordinates ([`index_pir`]), evaluation-key configs
//!   ([`evaluation_key`]), coefficient packing ([`packing`]) and the coefficients of each
//!   database plaintext ([`plaintext_layout`]).
//! - Files and service config: params files ([`params_file`]), Apple's `PIRProcessDatabase`
//!   JSON ([`process_config`]), a usecase's `PIRConfig` and `config_id` ([`usecase_config`]).
//!
//! What needs BFV arithmetic (the Eval-form database, query expansion, response computation,
//! the client) builds on these in modules of its own. No I/O here: callers pass bytes, text and
//! RNGs.
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
pub mod canonical;
pub mod client;
pub mod cuckoo;
pub mod database;
mod error;
pub mod evaluation_key;
pub mod expand;
pub mod index_pir;
pub mod keyword;
pub mod keyword_database;
pub mod keyword_pir;
pub mod packing;
pub mod params_file;
pub mod plaintext_layout;
pub mod process;
pub mod process_config;
pub mod processed_file;
pub mod proto;
pub mod server;
pub mod sharding;
pub mod spir;
pub mod text_format;
pub mod usecase_config;

pub use error::PirError;
