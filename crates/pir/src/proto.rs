//! The wire types: prost code generated from our transcription of Apple's `.proto` files
//! (`proto/`, spec/pir-protocol.md §2), with the HE messages taken from [`::he::proto`].
//!
//! Packages, message names and field numbers are Apple's. prost's encoding is what Apple's
//! hashes need (fields ascending, defaults dropped, packed repeated scalars, presence fields
//! written when set, map entries sorted by key: maps are `BTreeMap`s), so
//! [`crate::canonical`] hashes messages as encoded here.
#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/protos.rs"));

pub use apple::swift_homomorphic_encryption::api::pir::v1 as api_pir;
pub use apple::swift_homomorphic_encryption::api::shared::v1 as api_shared;
pub use apple::swift_homomorphic_encryption::api::v1 as api;
pub use apple::swift_homomorphic_encryption::pir::v1 as pir;
pub use he::proto as he;

/// The encoded `FileDescriptorSet` of every file above, HE and well-known imports included.
pub(crate) const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));
