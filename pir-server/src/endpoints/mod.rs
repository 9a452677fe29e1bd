//! The HTTP handlers, one module per endpoint group (pir-protocol.md §1).

pub mod admin;
pub mod config;
pub mod issuer;
pub mod key;
pub mod prefilter;
pub mod queries;
pub mod report;
