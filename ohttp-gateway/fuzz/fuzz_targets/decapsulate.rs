//! Fuzz the pre-decryption path: header peek, key dispatch and decapsulation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};

fuzz_target!(|data: &[u8]| {
    let Ok(seed) = KeySeed::new(vec![1; 32]) else {
        return;
    };
    let Ok(ring) = KeyRing::new(vec![KeySpec {
        id: KeyId(1),
        seed,
        state: KeyState::Current,
    }]) else {
        return;
    };
    let _ = ohttp_gateway::gateway::open(&ring, data);
});
