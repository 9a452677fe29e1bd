//! Property tests: the decoders of network input return errors, never panic, on arbitrary
//! bytes and on mutations of valid messages.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use bhttp::Mode;
use ohttp_gateway::client::Client;
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::gateway::open;
use ohttp_gateway::header::RequestHeader;
use ohttp_gateway::inner::{InnerRequest, InnerResponse};
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};
use proptest::prelude::*;

fn ring() -> KeyRing {
    KeyRing::new(vec![KeySpec {
        id: KeyId(1),
        seed: KeySeed::new(vec![1; 32]).unwrap(),
        state: KeyState::Current,
    }])
    .unwrap()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let ring = ring();
        let _ = RequestHeader::parse(&bytes);
        prop_assert!(open(&ring, &bytes).is_err());
        let _ = InnerRequest::decode(&bytes);
        let _ = InnerResponse::decode(&bytes);
        let _ = Client::from_key_list(&bytes);
    }

    #[test]
    fn header_with_our_key_id_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let ring = ring();
        let mut bytes = vec![1, 0x00, 0x20, 0x00, 0x01, 0x00, 0x01];
        bytes.extend_from_slice(&tail);
        prop_assert!(open(&ring, &bytes).is_err());
    }

    #[test]
    fn mutated_requests_are_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let ring = ring();
        let client = Client::from_key_list(&ring.encoded_configs()).unwrap();
        let (mut wire, _) = client.encapsulate(&InnerRequest::get("a.example", "/"), Mode::KnownLength).unwrap();
        let i = index.index(wire.len());
        wire[i] ^= flip;
        prop_assert!(open(&ring, &wire).is_err());
    }

    #[test]
    fn truncated_bhttp_never_panics(cut in 0usize..200) {
        let request = InnerRequest {
            method: "POST".into(),
            authority: "a.example".into(),
            path: "/q".into(),
            headers: vec![("x".into(), b"y".to_vec())],
            body: vec![7; 100],
        };
        for mode in [Mode::KnownLength, Mode::IndeterminateLength] {
            let bytes = request.encode(mode).unwrap();
            let _ = InnerRequest::decode(&bytes[..cut.min(bytes.len())]);
        }
    }
}
