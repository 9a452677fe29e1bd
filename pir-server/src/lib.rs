//! `pir-server`: the PIR service Apple devices talk to for NEURLFilter (spec: pir-protocol.md §1),
//! with its Privacy Pass issuer (§1.8), the Bloom prefilter endpoint and an admin listener.
//!
//! The service is a value: build an [`AppState`], then [`router`] (device-facing, per [`Role`])
//! and [`admin_router`] (operators). `main` only reads the config file and binds listeners.
//!
//! - Wire and rules: [`api_error`] (status table, Apple's JSON body), [`extract`] (headers,
//!   token, protobuf bodies), [`platform`] and [`compat`] (old-OS rewrites), [`endpoints`].
//! - Data: [`usecase`] (one loaded version), [`usecase_store`] (versions, 410s),
//!   [`usecase_loader`] (directories → store, reload), [`reload_watch`] (reload on file
//!   change), [`shard`] and [`shard_loader`] (the PIR computation per shard), [`prefilter`].
//! - State that survives: [`key_store`] (evaluation keys), [`issuer_state`] (issuer keys),
//!   [`token_auth`] (token redemption, nonce stores).
//! - Operation: [`compute_pool`] (bounded compute, 503), [`metrics`], [`server_config`] (the TOML
//!   file), [`apple_service_config`] (Apple's service-config.json, migration), [`state`].
//! - Beyond one node: [`fanout`] (`--role router`: shards fanned out to replica groups).

pub mod api_error;
pub mod apple_service_config;
pub mod compat;
pub mod compute_pool;
pub mod endpoints;
pub mod extract;
pub mod fanout;
pub mod issuer_state;
pub mod key_store;
pub mod metrics;
pub mod platform;
pub mod prefilter;
pub mod reload_watch;
pub mod router;
pub mod server_config;
pub mod shard;
pub mod shard_loader;
pub mod state;
pub mod token_auth;
pub mod usecase;
pub mod usecase_loader;
pub mod usecase_store;
pub mod wire_sizes;

pub use router::{Role, admin_router, router};
pub use state::{AppState, Limits};
