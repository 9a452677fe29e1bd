//! The issuer directory served at `/.well-known/private-token-issuer-directory`
//! (RFC 9578 §4; spec §5.2, §5.6).

use serde::{Deserialize, Serialize};

/// The directory's media type per RFC 9578 (Apple's example serves `application/json`).
pub const DIRECTORY_MEDIA_TYPE: &str = "application/private-token-issuer-directory";

/// The directory JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerDirectory {
    /// Where token requests go (absolute URL recommended).
    #[serde(rename = "issuer-request-uri")]
    pub issuer_request_uri: String,
    /// Keys in order of preference.
    #[serde(rename = "token-keys")]
    pub token_keys: Vec<DirectoryKey>,
}

/// One key entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryKey {
    /// Always 2.
    #[serde(rename = "token-type")]
    pub token_type: u16,
    /// base64url (padded) DER SPKI.
    #[serde(rename = "token-key")]
    pub token_key: String,
    /// UNIX seconds from which clients may use the key; absent means now.
    #[serde(
        rename = "not-before",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub not_before: Option<u64>,
}

impl IssuerDirectory {
    /// The JSON body.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
