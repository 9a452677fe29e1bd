//! he: RNS-BFV homomorphic encryption byte-compatible with Apple's swift-homomorphic-encryption
//! (spec: bfv.md).

pub mod behz;
pub mod decrypt;
pub mod encrypt;
mod error;
pub mod galois;
pub mod keygen;
pub mod keyswitch;
pub mod modswitch;
pub mod modulus;
pub mod ntt;
pub mod packing;
pub mod poly;
pub mod proto;
pub mod rng;
pub mod sample;
pub mod serialize;

pub use error::Error;
