//! he: RNS-BFV homomorphic encryption byte-compatible with Apple's swift-homomorphic-encryption
//! (spec: bfv.md).

pub mod proto;
