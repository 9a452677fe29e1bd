//! The `Authorization: PrivateToken token=...` credential (RFC 9577 §2.2.2; spec §5.4) and the
//! `Authorization: Bearer` user token sent to the issuer.
//!
//! Parsing is lenient as RFC 9577 allows: scheme case-insensitive, token or quoted-string value,
//! padded or unpadded base64url, unknown parameters ignored.

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::{Error, Result, Token};

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A 354-byte token is ~472 characters; anything far longer is not a token.
const MAX_HEADER_LEN: usize = 4096;

/// Parses an `Authorization` header value carrying a PrivateToken credential.
pub fn parse_private_token(value: &[u8]) -> Result<Token> {
    let bad = Error::Malformed("PrivateToken authorization");
    if value.len() > MAX_HEADER_LEN {
        return Err(bad);
    }
    let value = std::str::from_utf8(value).map_err(|_| bad.clone())?.trim();
    let (scheme, params) = value.split_once([' ', '\t']).ok_or(bad.clone())?;
    if !scheme.eq_ignore_ascii_case("PrivateToken") {
        return Err(bad);
    }
    let encoded = params
        .split(',')
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("token"))
        .map(|(_, v)| v.trim())
        .ok_or(bad.clone())?;
    let encoded = match encoded.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"').ok_or(bad.clone())?,
        None => encoded,
    };
    let bytes = LENIENT.decode(encoded).map_err(|_| bad)?;
    Token::decode(&bytes)
}

/// Formats a token the way Apple devices send it: `PrivateToken token=<base64url, no padding>`.
pub fn format_private_token(token: &Token) -> String {
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.encode());
    format!("PrivateToken token={encoded}")
}

/// Extracts the user token from `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn parse_bearer(value: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}
