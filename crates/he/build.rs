//! Compiles the transcribed Apple HE protobuf messages with prost, using protox (no `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = "proto/apple/swift_homomorphic_encryption/v1/he.proto";
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile([file], ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
