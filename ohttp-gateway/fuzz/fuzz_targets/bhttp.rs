//! Fuzz the Binary HTTP translation of inner requests and responses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ohttp_gateway::inner::InnerRequest::decode(data);
    let _ = ohttp_gateway::inner::InnerResponse::decode(data);
});
