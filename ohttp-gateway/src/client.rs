//! The OHTTP client (RFC 9458 §4.3, §4.4, client side): used by tests and the device simulator.

use bhttp::Mode;
use ohttp::{ClientRequest, KeyConfig};

use crate::codepoints::KemId;
use crate::error::GatewayError;
use crate::inner::{InnerRequest, InnerResponse};

/// A client bound to one key configuration.
#[derive(Debug, Clone)]
pub struct Client {
    config: KeyConfig,
}

/// Waits for the Encapsulated Response of one request; consumed by [`Pending::open`].
pub struct Pending(ohttp::ClientResponse);

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl Client {
    /// Picks the first X25519 config from an `application/ohttp-keys` list (the gateway lists
    /// its preferred key first, spec §1.8).
    pub fn from_key_list(list: &[u8]) -> Result<Self, GatewayError> {
        let configs = KeyConfig::decode_list(list)
            .map_err(|e| GatewayError::Config(format!("bad key list: {e}")))?;
        let config = configs
            .into_iter()
            .find(|c| {
                // Bytes 1..3 of an encoded config are the KEM id (RFC 9458 §3.1).
                c.encode()
                    .is_ok_and(|b| b.get(1..3) == Some(&KemId::X25519_SHA256.0.to_be_bytes()))
            })
            .ok_or_else(|| GatewayError::Config("no X25519 config".into()))?;
        Ok(Self { config })
    }

    /// Encapsulates an inner request in the given Binary HTTP framing.
    pub fn encapsulate(
        &self,
        request: &InnerRequest,
        mode: Mode,
    ) -> Result<(Vec<u8>, Pending), GatewayError> {
        self.encapsulate_bhttp(&request.encode(mode)?)
    }

    /// Encapsulates raw Binary HTTP bytes (for tests of malformed inner messages).
    pub fn encapsulate_bhttp(&self, bhttp: &[u8]) -> Result<(Vec<u8>, Pending), GatewayError> {
        let mut config = self.config.clone();
        let request = ClientRequest::from_config(&mut config)
            .map_err(|e| GatewayError::Config(format!("client setup: {e}")))?;
        let (wire, response) = request
            .encapsulate(bhttp)
            .map_err(|e| GatewayError::Internal(format!("encapsulate: {e}")))?;
        Ok((wire, Pending(response)))
    }
}

impl Pending {
    /// Decrypts and parses the Encapsulated Response.
    pub fn open(self, wire: &[u8]) -> Result<InnerResponse, GatewayError> {
        let bhttp = self
            .0
            .decapsulate(wire)
            .map_err(|_| GatewayError::DecryptFailed)?;
        InnerResponse::decode(&bhttp)
    }
}
