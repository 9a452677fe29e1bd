//! Fuzzes query decoding and answering (`ShardServer::respond` on an `EncryptedIndices` from
//! arbitrary bytes) on Apple's url-1shard database with its uploaded evaluation key.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pir::database::ProcessedShard;
use pir::proto::api_shared::EvaluationKeys;
use pir::proto::pir::{EncryptedIndices, PirParameters};
use pir::server::{PreparedEvaluationKey, ShardServer};
use prost::Message;

const PARAMS: &[u8] = include_bytes!("../../../../vectors/apple/pir/url-1shard/url-0.params.binpb");
const BIN: &[u8] = include_bytes!("../../../../vectors/apple/pir/url-1shard/url-0.bin");
const KEYS: &[u8] =
    include_bytes!("../../../../vectors/apple/pir/url-1shard/api/evaluation-keys.binpb");

fn fixture() -> Option<&'static (ShardServer, PreparedEvaluationKey)> {
    static FIXTURE: OnceLock<Option<(ShardServer, PreparedEvaluationKey)>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let params = PirParameters::decode(PARAMS).ok()?;
            let server =
                ShardServer::new(ProcessedShard::from_apple_bin(params, BIN).ok()?).ok()?;
            let keys = EvaluationKeys::decode(KEYS).ok()?;
            let key = keys.keys.first()?.evaluation_key.as_ref()?;
            let key = PreparedEvaluationKey::from_proto(&server, key).ok()?;
            Some((server, key))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some((server, key)) = fixture() else {
        return;
    };
    if let Ok(query) = EncryptedIndices::decode(data) {
        let _ = server.respond(&query, key);
    }
});
