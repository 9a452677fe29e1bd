//! `urlfilter`: the whole URL-filter stack in one command, and a device in a terminal.
//!
//! - [`device`]: what NEURLFilter does for a URL — prefilter, sub-URLs, Bloom check, Privacy Pass
//!   tokens, `/config`, `/key`, `/queries`, decryption — against a real deployment
//!   (`urlfilter check`).
//! - [`transport`]: how it reaches the operator: directly, or sealed in Oblivious HTTP through the
//!   gateway as a real device does.
//! - [`stack`]: `urlfilter up` — prefilter and PIR database built from one blocklist, pir-server
//!   (service + issuer) and ohttp-gateway started on loopback.

pub mod device;
pub mod stack;
pub mod transport;
