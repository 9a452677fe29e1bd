//! Fuzzes SerializedEvaluationKey decoding and key-switching-key loading.
#![no_main]

use he::poly::PolyContext;
use he::proto::SerializedEvaluationKey;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(ctx) = PolyContext::new(64, &[12289, 40961, 65537]) else {
        return;
    };
    let Ok(key) = SerializedEvaluationKey::decode(data) else {
        return;
    };
    for ksk in key.galois_key.iter().flat_map(|g| g.key_switch_keys.values()) {
        let _ = he::serialize::key_switch_key(&ctx, ksk);
    }
    if let Some(relin) = key.relin_key.and_then(|r| r.relin_key) {
        let _ = he::serialize::key_switch_key(&ctx, &relin);
    }
});
