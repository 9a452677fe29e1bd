//! `pir-server` binary.
fn main() {}
