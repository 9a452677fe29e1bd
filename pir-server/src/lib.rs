//! `pir-server`: the PIR service Apple devices talk to for NEURLFilter (spec: pir-protocol.md §1).
//!
//! The pieces so far:
//! - [`api_error`]: the one error type and its mapping to status codes and Apple's JSON body (§1.9).
//! - [`platform`]: the `User-Agent` → platform parse that drives old-OS compatibility (§1.3, §1.4.2).
//! - [`key_store`]: where uploaded evaluation keys live between `/key` and `/queries` (§1.5), with
//!   an embedded file-backed backend and a Redis backend for replicas.
//! - [`usecase_store`]: use cases by name, each with its last few database versions (§1.10).

pub mod api_error;
pub mod key_store;
pub mod platform;
pub mod usecase_store;
