//! The online OPRF round of symmetric PIR (spec/pir-protocol.md §3.8 "Online", §1.6
//! `oprf_request`, §7 `symmetricPirRequest`; RFC 9497 §3.3.2 VOPRF `Blind`, `BlindEvaluate`,
//! `Finalize`, `Evaluate`): the client blinds its keyword into an `OPRFRequest`, the server
//! answers with the evaluated element and a DLEQ proof in an `OPRFResponse`, and the client
//! verifies the proof and unblinds to the keyword's [`OprfOutput`].
//!
//! Wire encodings are Apple's: elements are 49-byte compressed points, the proof is `c ‖ s`.
//! Every field is length-checked before it is parsed, so no trailing bytes are ignored.

use rand::{CryptoRng, RngCore};
use voprf::{BlindedElement, EvaluationElement, Proof, VoprfClient};

use super::entry::OprfOutput;
use super::key::{ServerPublicKey, ServerSecretKey};
use super::{ELEMENT_SIZE, PROOF_SIZE, SpirError, Suite, voprf_error};
use crate::proto::{api_pir, pir};

/// Checks that `bytes` has exactly `expected` bytes.
fn check_len(what: &'static str, bytes: &[u8], expected: usize) -> Result<(), SpirError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(SpirError::Length {
            what,
            len: bytes.len(),
            expected,
        })
    }
}

/// A blinded element from the wire.
fn blinded_element(bytes: &[u8]) -> Result<BlindedElement<Suite>, SpirError> {
    const WHAT: &str = "query_element";
    check_len(WHAT, bytes, ELEMENT_SIZE)?;
    BlindedElement::deserialize(bytes).map_err(|_| SpirError::InvalidElement { what: WHAT })
}

/// An evaluated element from the wire.
fn evaluation_element(bytes: &[u8]) -> Result<EvaluationElement<Suite>, SpirError> {
    const WHAT: &str = "evaluated_element";
    check_len(WHAT, bytes, ELEMENT_SIZE)?;
    EvaluationElement::deserialize(bytes).map_err(|_| SpirError::InvalidElement { what: WHAT })
}

/// A proof from the wire.
fn proof(bytes: &[u8]) -> Result<Proof<Suite>, SpirError> {
    check_len("proof", bytes, PROOF_SIZE)?;
    Proof::deserialize(bytes).map_err(|_| SpirError::InvalidProof)
}

impl ServerSecretKey {
    /// The server's answer to an `oprf_request` (RFC 9497 `BlindEvaluate` with its proof):
    /// `rng` draws the proof's random scalar.
    ///
    /// # Errors
    /// [`SpirError::Length`] or [`SpirError::InvalidElement`] for a `query_element` that is
    /// not a 49-byte compressed point other than the identity. `config_id` is ignored, as in
    /// Apple's service.
    pub fn blind_evaluate(
        &self,
        request: &api_pir::OprfRequest,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<api_pir::OprfResponse, SpirError> {
        let blinded = blinded_element(&request.query_element)?;
        let result = self.server.blind_evaluate(rng, &blinded);
        Ok(api_pir::OprfResponse {
            evaluated_element: result.message.serialize().to_vec(),
            proof: result.proof.serialize().to_vec(),
        })
    }

    /// The keyword's output without blinding (RFC 9497 `Evaluate`), as database processing
    /// computes it for every row.
    ///
    /// # Errors
    /// [`SpirError::InvalidKeyword`] for a keyword longer than 65535 bytes.
    pub fn evaluate(&self, keyword: &[u8]) -> Result<OprfOutput, SpirError> {
        let output = self
            .server
            .evaluate(keyword)
            .map_err(|e| voprf_error(e, keyword.len()))?;
        Ok(OprfOutput::from_bytes(output.into()))
    }
}

/// A keyword blinded for one OPRF round; [`OprfClient::finalize`] consumes it.
pub struct BlindedKeyword {
    keyword: Vec<u8>,
    state: VoprfClient<Suite>,
}

impl std::fmt::Debug for BlindedKeyword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keyword and blind are what the protocol hides; do not print them.
        f.debug_struct("BlindedKeyword").finish_non_exhaustive()
    }
}

/// The client side of the OPRF round, for one server public key (Apple's `OprfClient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OprfClient {
    public_key: ServerPublicKey,
}

impl OprfClient {
    /// A client verifying against `public_key`.
    pub fn new(public_key: ServerPublicKey) -> Self {
        Self { public_key }
    }

    /// A client for the key a usecase's `symmetric_pir_client_config` carries.
    ///
    /// # Errors
    /// As [`ServerPublicKey::from_client_config`].
    pub fn from_client_config(config: &pir::SymmetricPirClientConfig) -> Result<Self, SpirError> {
        Ok(Self::new(ServerPublicKey::from_client_config(config)?))
    }

    /// The server public key.
    pub fn public_key(&self) -> &ServerPublicKey {
        &self.public_key
    }

    /// Blinds `keyword` with a scalar drawn from `rng`: the state to keep and the
    /// `OPRFRequest` to send (`config_id` left empty, as Apple's client does).
    ///
    /// # Errors
    /// [`SpirError::InvalidKeyword`] for a keyword longer than 65535 bytes.
    pub fn blind(
        &self,
        keyword: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(BlindedKeyword, api_pir::OprfRequest), SpirError> {
        let result =
            VoprfClient::<Suite>::blind(keyword, rng).map_err(|e| voprf_error(e, keyword.len()))?;
        let request = api_pir::OprfRequest {
            query_element: result.message.serialize().to_vec(),
            config_id: Vec::new(),
        };
        Ok((
            BlindedKeyword {
                keyword: keyword.to_vec(),
                state: result.state,
            },
            request,
        ))
    }

    /// Verifies the server's proof and unblinds its answer to the keyword's output.
    ///
    /// # Errors
    /// [`SpirError::Length`], [`SpirError::InvalidElement`] or [`SpirError::InvalidProof`] for
    /// malformed fields; [`SpirError::ProofVerification`] when the proof does not hold for this
    /// client's public key and blinded element.
    pub fn finalize(
        &self,
        blinded: BlindedKeyword,
        response: &api_pir::OprfResponse,
    ) -> Result<OprfOutput, SpirError> {
        let element = evaluation_element(&response.evaluated_element)?;
        let proof = proof(&response.proof)?;
        let output = blinded
            .state
            .finalize(
                &blinded.keyword,
                &element,
                &proof,
                self.public_key.key.to_projective(),
            )
            .map_err(|e| voprf_error(e, blinded.keyword.len()))?;
        Ok(OprfOutput::from_bytes(output.into()))
    }
}
