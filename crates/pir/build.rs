//! Compiles our transcription of Apple's PIR protobuf files with prost, parsed by protox (no
//! `protoc`). The HE messages (`apple.swift_homomorphic_encryption.v1`) come from crates/he, so
//! both crates share one set of types. The full descriptor set (HE files included) is kept for
//! the text format.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "apple/swift_homomorphic_encryption/pir/v1/pir_algorithm.proto",
    "apple/swift_homomorphic_encryption/pir/v1/pir.proto",
    "apple/swift_homomorphic_encryption/pir/v1/pir_database.proto",
    "apple/swift_homomorphic_encryption/api/shared/v1/api_shared.proto",
    "apple/swift_homomorphic_encryption/api/pir/v1/pir.proto",
    "apple/swift_homomorphic_encryption/api/pnns/v1/pnns.proto",
    "apple/swift_homomorphic_encryption/api/v1/api.proto",
    "apple/swift_homomorphic_encryption/pnns/v1/pnns.proto",
    "apple/swift_homomorphic_encryption/pnns/v1/pnns_matrix_packing.proto",
    "apple/swift_homomorphic_encryption/pnns/v1/pnns_distance_metric.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=../he/proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let full = protox::Compiler::new(["proto", "../he/proto"])?
        .include_imports(true)
        .open_files(FILES)?
        .file_descriptor_set();
    std::fs::write(
        out.join("file_descriptor_set.bin"),
        prost::Message::encode_to_vec(&full),
    )?;

    // prost-build generates nothing for the extern HE package or the well-known types; it only
    // reads their descriptors.
    prost_build::Config::new()
        .extern_path(".apple.swift_homomorphic_encryption.v1", "::he::proto")
        // Sorted map entries, so encoding is deterministic (as SwiftProtobuf's is for hashing).
        .btree_map(["."])
        .include_file("protos.rs")
        .compile_fds(full)?;
    Ok(())
}
