//! Feeds arbitrary bytes to every network decoder: Token, TokenRequest, the Authorization header,
//! SPKI. Run with `cargo fuzz run decoders` from crates/privacy-pass/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = privacy_pass::Token::decode(data);
    let _ = privacy_pass::TokenRequest::decode(data);
    let _ = privacy_pass::parse_private_token(data);
    let _ = privacy_pass::PublicKey::from_spki(data);
    let _ = privacy_pass::parse_bearer(data);
});
