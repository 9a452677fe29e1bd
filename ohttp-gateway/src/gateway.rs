//! The gateway's OHTTP step (RFC 9458 §4.3, §4.4; spec §1.9): peek the header, pick the key,
//! decapsulate, and hand back a response context that can be used exactly once.

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
        self.0.seal(&response.encode()?)
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
