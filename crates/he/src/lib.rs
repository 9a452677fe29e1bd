//! he: RNS-BFV homomorphic encryption byte-compatible with Apple's swift-homomorphic-encryption
//! (spec: bfv.md).
//!
//! Residues are stored as u64 for every parameter set. Apple's `Bfv<UInt32>` and `Bfv<UInt64>`
//! differ only where a result is not exact modular arithmetic: the BEHZ auxiliary base (29- vs
//! 61-bit Bsk primes, m̃ = 2^16 vs 2^32), selected by [`behz::Scalar`]. Everything else (NTT, key
//! switching, mod switch, sampling, serialization) is exact and so identical for both, which the
//! u32 and u64 transcripts confirm.

pub mod behz;
pub mod decrypt;
pub mod dot;
pub mod encoding;
pub mod encrypt;
mod error;
pub mod galois;
pub mod kernel;
pub mod keygen;
pub mod keyswitch;
pub mod modswitch;
pub mod modulus;
pub mod noise;
pub mod ntt;
pub mod packing;
pub mod params;
pub mod poly;
pub mod proto;
pub mod rng;
pub mod sample;
pub mod serialize;

pub use error::Error;
