//! The gateway's one error type and where each variant goes on the wire (RFC 9458 §5.2, §5.3,
//! §6.4; spec §1.9): errors found before decryption are sent in the clear, errors found after
//! decryption travel as the status of an encrypted inner response.

/// How an error is reported to the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Plaintext outer response with this status.
    Plain(u16),
    /// Plaintext 400 with the `ohttp-key` problem type (RFC 9458 §5.3).
    KeyProblem,
    /// Outer 200 `message/ohttp-res`; this status inside the encrypted BHTTP response.
    Encrypted(u16),
}

/// Everything that can go wrong between the relay and the target. Messages are for logs only;
/// the peer sees [`GatewayError::wire`] and a generic body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// Outer method other than the resource allows.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Outer `Content-Type` is not `message/ohttp-req`.
    #[error("content type is not message/ohttp-req")]
    UnsupportedMediaType,
    /// Outer body is larger than the configured request limit.
    #[error("request body exceeds the limit of {limit} bytes")]
    RequestTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The relay did not deliver the body in time.
    #[error("request body not received in time")]
    RequestTimeout,
    /// Outer body too short or not an Encapsulated Request.
    #[error("encapsulated request is malformed or shorter than 55 bytes")]
    Malformed,
    /// No key with this identifier is accepted.
    #[error("unknown key identifier {0}")]
    UnknownKey(u8),
    /// The key exists but the KEM, KDF or AEAD named in the header is not offered for it.
    #[error("KEM/KDF/AEAD not offered for this key")]
    UnsupportedSuite,
    /// HPKE open failed: tampered or truncated ciphertext.
    #[error("decryption failed")]
    DecryptFailed,
    /// The decrypted Binary HTTP request is malformed or not forwardable.
    #[error("inner request invalid: {0}")]
    BadInnerRequest(&'static str),
    /// The inner authority is not on the allow-list.
    #[error("target not allowed")]
    TargetForbidden,
    /// The target could not be reached or answered badly.
    #[error("upstream failed")]
    UpstreamFailed,
    /// The target's response exceeded the response limit.
    #[error("upstream response exceeds the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The target did not answer in time.
    #[error("upstream timed out")]
    UpstreamTimeout,
    /// Operator configuration is unusable: a key seed (too short, bad hex), a key list, a key
    /// file, a target, TLS material.
    #[error("configuration invalid: {0}")]
    Config(String),
    /// The OHTTP or BHTTP library failed where it should not have (encoding, sealing).
    #[error("internal error: {0}")]
    Internal(String),
}

impl GatewayError {
    /// Where this error goes on the wire.
    #[must_use]
    pub fn wire(&self) -> Wire {
        match self {
            Self::MethodNotAllowed => Wire::Plain(405),
            Self::UnsupportedMediaType => Wire::Plain(415),
            Self::RequestTooLarge { .. } => Wire::Plain(413),
            Self::RequestTimeout => Wire::Plain(408),
            Self::Malformed => Wire::Plain(400),
            Self::UnknownKey(_) | Self::UnsupportedSuite => Wire::KeyProblem,
            // §6.4: the server has the key but cannot decrypt.
            Self::DecryptFailed => Wire::Plain(422),
            Self::BadInnerRequest(_) => Wire::Encrypted(400),
            Self::TargetForbidden => Wire::Encrypted(403),
            Self::UpstreamFailed | Self::ResponseTooLarge { .. } => Wire::Encrypted(502),
            Self::UpstreamTimeout => Wire::Encrypted(504),
            Self::Config(_) | Self::Internal(_) => Wire::Plain(500),
        }
    }

    /// The status to put inside the encrypted response when this error happens after
    /// decryption; a plaintext-class error there (a bug) becomes 500.
    #[must_use]
    pub fn inner_status(&self) -> u16 {
        match self.wire() {
            Wire::Encrypted(status) => status,
            Wire::Plain(_) | Wire::KeyProblem => 500,
        }
    }

    /// Short label for the outcome metric (no request content).
    #[must_use]
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RequestTooLarge { .. } => "request_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::Malformed => "malformed",
            Self::UnknownKey(_) => "config_mismatch",
            Self::UnsupportedSuite => "unsupported_suite",
            Self::DecryptFailed => "decapsulation_failed",
            Self::BadInnerRequest(_) => "inner_invalid",
            Self::TargetForbidden => "request_forbidden",
            Self::UpstreamFailed => "upstream_failed",
            Self::ResponseTooLarge { .. } => "response_too_large",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::Config(_) | Self::Internal(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_wire_status() {
        let table: Vec<(GatewayError, Wire)> = vec![
            (GatewayError::MethodNotAllowed, Wire::Plain(405)),
            (GatewayError::UnsupportedMediaType, Wire::Plain(415)),
            (GatewayError::RequestTooLarge { limit: 1 }, Wire::Plain(413)),
            (GatewayError::RequestTimeout, Wire::Plain(408)),
            (GatewayError::Malformed, Wire::Plain(400)),
            (GatewayError::UnknownKey(9), Wire::KeyProblem),
            (GatewayError::UnsupportedSuite, Wire::KeyProblem),
            (GatewayError::DecryptFailed, Wire::Plain(422)),
            (GatewayError::BadInnerRequest("x"), Wire::Encrypted(400)),
            (GatewayError::TargetForbidden, Wire::Encrypted(403)),
            (GatewayError::UpstreamFailed, Wire::Encrypted(502)),
            (
                GatewayError::ResponseTooLarge { limit: 1 },
                Wire::Encrypted(502),
            ),
            (GatewayError::UpstreamTimeout, Wire::Encrypted(504)),
            (GatewayError::Config("x".into()), Wire::Plain(500)),
            (GatewayError::Internal("x".into()), Wire::Plain(500)),
        ];
        for (error, wire) in table {
            assert_eq!(error.wire(), wire, "{error:?}");
        }
    }
}
