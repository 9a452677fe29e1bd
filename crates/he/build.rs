//! Compiles the transcribed Apple HE protobuf messages with prost, using protox (no `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = "proto/apple/swift_homomorphic_encryption/v1/he.proto";
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile([file], ["proto"])?;
    // Ordered maps: SwiftProtobuf's deterministic encoding writes map entries sorted by key.
    prost_build::Config::new()
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
