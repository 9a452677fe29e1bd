//! The gateway's OHTTP step (RFC 9458 §4.3, §4.4; spec §1.9): peek the header, pick the key,
//! decapsulate, and hand back a response context that can be used exactly once.

use std::num::NonZeroUsize;

use crate::codepoints::KeyId;
use crate::error::GatewayError;
use crate::header::{MIN_REQUEST_LEN, RequestHeader};
use crate::hpke::ResponseContext;
use crate::inner::InnerResponse;
use crate::keys::KeyRing;

/// A decapsulated request: the Binary HTTP bytes and the one-shot reply context.
#[derive(Debug)]
pub struct Opened {
    /// The key that decrypted it (for per-key metrics during rotation).
    pub key_id: KeyId,
    /// The inner Binary HTTP request.
    pub inner: Vec<u8>,
    /// Seals the answer.
    pub reply: Reply,
}

/// The response context; consumed by [`Reply::seal`].
#[derive(Debug)]
pub struct Reply(ResponseContext);

impl Reply {
    /// Encapsulates an inner response as `message/ohttp-res`.
    pub fn seal(self, response: &InnerResponse) -> Result<Vec<u8>, GatewayError> {
        self.seal_padded(response, None)
    }

    /// Encapsulates an inner response whose Binary HTTP is zero-padded (RFC 9292 §3.8) up to
    /// the next multiple of `pad_to` bytes, hiding its exact length from the relay.
    pub fn seal_padded(
        self,
        response: &InnerResponse,
        pad_to: Option<NonZeroUsize>,
    ) -> Result<Vec<u8>, GatewayError> {
        let mut bhttp = response.encode()?;
        if let Some(pad_to) = pad_to {
            let padded = bhttp
                .len()
                .checked_next_multiple_of(pad_to.get())
                .ok_or_else(|| GatewayError::Internal("padded length overflows".into()))?;
            bhttp.resize(padded, 0);
        }
        self.0.seal(&bhttp)
    }
}

/// Decapsulates an Encapsulated Request against the ring.
pub fn open(ring: &KeyRing, body: &[u8]) -> Result<Opened, GatewayError> {
    let header = RequestHeader::parse(body)?;
    let key = ring.key_for(&header)?;
    if body.len() < MIN_REQUEST_LEN {
        return Err(GatewayError::Malformed);
    }
    let (inner, response) = key.open(&header, body)?;
    Ok(Opened {
        key_id: header.key_id,
        inner,
        reply: Reply(response),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::inner::InnerRequest;
    use crate::keys::{KeySeed, KeySpec, KeyState};

    #[test]
    fn padded_responses_fill_their_bucket_and_still_parse() {
        let ring = KeyRing::new(vec![KeySpec {
            id: KeyId(1),
            seed: KeySeed::new(vec![3; 32]).unwrap(),
            state: KeyState::Current,
        }])
        .unwrap();
        let client = Client::from_key_list(&ring.encoded_configs()).unwrap();
        let response = InnerResponse {
            status: 200,
            headers: vec![("content-type".into(), b"text/plain".to_vec())],
            body: b"hello".to_vec(),
        };
        let unpadded = response.encode().unwrap().len();
        // Nonce (16) + Binary HTTP + tag (16) for AES-128-GCM.
        for (pad, expected) in [(None, unpadded), (NonZeroUsize::new(512), 512)] {
            let request = InnerRequest::get("service.example.net", "/");
            let (wire, pending) = client
                .encapsulate(&request, bhttp::Mode::KnownLength)
                .unwrap();
            let opened = open(&ring, &wire).unwrap();
            let sealed = opened.reply.seal_padded(&response, pad).unwrap();
            assert_eq!(sealed.len(), 16 + expected + 16);
            assert_eq!(pending.open(&sealed).unwrap(), response);
        }
    }
}
