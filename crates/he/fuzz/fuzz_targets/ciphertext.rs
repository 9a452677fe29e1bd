//! Fuzzes SerializedCiphertext decoding and loading (seeded and full) at N=4096.
#![no_main]

use he::poly::PolyContext;
use he::proto::SerializedCiphertext;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(ctx) = PolyContext::new(4096, &[134176769, 268369921, 268361729]) else {
        return;
    };
    if let Ok(ct) = SerializedCiphertext::decode(data) {
        let _ = he::serialize::ciphertext_eval(&ctx, &ct);
    }
});
