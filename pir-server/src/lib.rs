//! `pir-server`: the PIR service Apple devices talk to for NEURLFilter (spec: pir-protocol.md §1).
//!
//! The pieces so far:
//! - [`platform`]: the `User-Agent` → platform parse that drives old-OS compatibility (§1.3, §1.4.2).
//! - [`key_store`]: where uploaded evaluation keys live between `/key` and `/queries` (§1.5), with
//!   an embedded file-backed backend and a Redis backend for replicas.
//! - [`usecase_store`]: use cases by name, each with its last few database versions (§1.10).

pub mod key_store;
pub mod platform;
pub mod usecase_store;
