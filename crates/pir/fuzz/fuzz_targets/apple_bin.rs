//! Fuzzes Apple's processed-database decoding (`ProcessedShard::from_apple_bin`) under the
//! url-1shard parameters (N=4096, two ciphertext moduli, 8 plaintexts).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pir::database::ProcessedShard;
use pir::proto::pir::PirParameters;
use prost::Message;

const PARAMS: &[u8] = include_bytes!("../../../../vectors/apple/pir/url-1shard/url-0.params.binpb");

fuzz_target!(|data: &[u8]| {
    let Ok(params) = PirParameters::decode(PARAMS) else {
        return;
    };
    if let Ok(shard) = ProcessedShard::from_apple_bin(params, data) {
        // Whatever loads must write back to the same bytes.
        assert_eq!(shard.to_apple_bin().ok().as_deref(), Some(data));
    }
});
