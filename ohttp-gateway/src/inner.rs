//! Binary HTTP (RFC 9292) translation of the inner request and response (spec §1.6, §1.7):
//! both framings, truncation and zero padding on input; hop-by-hop and framing fields dropped;
//! known-length output.

use std::io::Cursor;

use bhttp::{Message, Mode, StatusCode};

use crate::error::GatewayError;

/// Header fields never forwarded in either direction (spec §1.7).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Whether a header field name may cross the gateway.
#[must_use]
pub fn is_forwardable(name: &str) -> bool {
    !HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
        && !name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("proxy-"))
}

/// A decrypted inner request, validated for forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerRequest {
    /// Request method, e.g. `POST`.
    pub method: String,
    /// Target authority, lower-cased (from `:authority`, or `Host` when that is empty).
    pub authority: String,
    /// Path and query.
    pub path: String,
    /// Forwardable header fields, in order, names lower-cased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Content.
    pub body: Vec<u8>,
}

impl InnerRequest {
    /// A bodiless `GET https://{authority}{path}`.
    #[must_use]
    pub fn get(authority: &str, path: &str) -> Self {
        Self {
            method: "GET".into(),
            authority: authority.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Parses and validates a Binary HTTP request.
    pub fn decode(bytes: &[u8]) -> Result<Self, GatewayError> {
        let msg = Message::read_bhttp(&mut Cursor::new(bytes))
            .map_err(|_| GatewayError::BadInnerRequest("not a binary HTTP message"))?;
        let control = msg.control();
        // bhttp reports an empty authority as absent; Host then names the target.
        let authority = control.authority().unwrap_or_default();
        let (Some(method), Some(scheme), Some(path)) =
            (control.method(), control.scheme(), control.path())
        else {
            return Err(GatewayError::BadInnerRequest("not a request"));
        };
        if scheme != b"https" {
            // RFC 9458 §6.3: do not forward non-https requests across origins.
            return Err(GatewayError::BadInnerRequest("scheme is not https"));
        }
        let text = |b: &[u8], what: &'static str| {
            std::str::from_utf8(b)
                .map(str::to_owned)
                .map_err(|_| GatewayError::BadInnerRequest(what))
        };
        let method = text(method, "method is not text")?;
        let path = text(path, "path is not text")?;
        if method.is_empty() || !path.starts_with('/') {
            return Err(GatewayError::BadInnerRequest("empty method or bad path"));
        }
        let mut authority = text(authority, "authority is not text")?;
        let mut headers = Vec::new();
        for field in msg.header().fields() {
            let name = text(field.name(), "field name is not text")?.to_ascii_lowercase();
            if name.starts_with(':') {
                return Err(GatewayError::BadInnerRequest("pseudo-header among fields"));
            }
            if name == "host" && authority.is_empty() {
                authority = text(field.value(), "host is not text")?;
            }
            if name == "expect" {
                return Err(GatewayError::BadInnerRequest("expect is not supported"));
            }
            if is_forwardable(&name) {
                headers.push((name, field.value().to_vec()));
            }
        }
        if authority.is_empty() {
            return Err(GatewayError::BadInnerRequest("no authority"));
        }
        Ok(Self {
            method,
            authority: authority.to_ascii_lowercase(),
            path,
            headers,
            body: msg.content().to_vec(),
        })
    }

    /// Encodes as Binary HTTP in the given framing (the client side).
    pub fn encode(&self, mode: Mode) -> Result<Vec<u8>, GatewayError> {
        let mut msg = Message::request(
            self.method.clone().into_bytes(),
            b"https".to_vec(),
            self.authority.clone().into_bytes(),
            self.path.clone().into_bytes(),
        );
        for (name, value) in &self.headers {
            msg.put_header(name.as_bytes(), value.as_slice());
        }
        msg.write_content(&self.body);
        let mut out = Vec::new();
        msg.write_bhttp(mode, &mut out)
            .map_err(|e| GatewayError::Internal(format!("bhttp encode: {e}")))?;
        Ok(out)
    }
}

/// An inner response: the target's answer, or the gateway's own error status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerResponse {
    /// Final status code.
    pub status: u16,
    /// Forwardable header fields, names lower-cased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Content.
    pub body: Vec<u8>,
}

impl InnerResponse {
    /// A response with a status and nothing else.
    #[must_use]
    pub fn status_only(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Encodes as known-length Binary HTTP (spec §1.6: one buffer, Apple parses both).
    pub fn encode(&self) -> Result<Vec<u8>, GatewayError> {
        let status = StatusCode::try_from(self.status)
            .map_err(|_| GatewayError::Internal("status out of range".into()))?;
        let mut msg = Message::response(status);
        for (name, value) in &self.headers {
            msg.put_header(name.as_bytes(), value.as_slice());
        }
        msg.write_content(&self.body);
        let mut out = Vec::new();
        msg.write_bhttp(Mode::KnownLength, &mut out)
            .map_err(|e| GatewayError::Internal(format!("bhttp encode: {e}")))?;
        Ok(out)
    }

    /// Parses a Binary HTTP response (the client side); informational responses are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Self, GatewayError> {
        let msg = Message::read_bhttp(&mut Cursor::new(bytes))
            .map_err(|_| GatewayError::BadInnerRequest("not a binary HTTP response"))?;
        let status = msg
            .control()
            .status()
            .ok_or(GatewayError::BadInnerRequest("not a response"))?;
        let headers = msg
            .header()
            .fields()
            .iter()
            .map(|f| {
                (
                    String::from_utf8_lossy(f.name()).to_ascii_lowercase(),
                    f.value().to_vec(),
                )
            })
            .collect();
        Ok(Self {
            status: status.code(),
            headers,
            body: msg.content().to_vec(),
        })
    }

    /// First value of a header field.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}
