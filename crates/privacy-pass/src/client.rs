//! The client half of RFC 9578 §6.1 and §6.3 (spec §5.3): what a device does to get a token —
//! blind the token input for the issuer's key, send the TokenRequest, unblind the TokenResponse.
//! Used by the device simulator and tests; the service never runs it.

use blind_rsa_signatures::{BlindSignature, BlindingResult};
use rand_core::CryptoRng;

use crate::token_type::NK;
use crate::{
    Error, PublicKey, Result, Token, TokenChallenge, TokenRequest, TokenResponse, token_input,
};

/// A token request in flight: finish it with the issuer's answer.
#[derive(Debug)]
pub struct PendingToken {
    key: PublicKey,
    nonce: [u8; 32],
    challenge_digest: [u8; 32],
    blinding: BlindingResult,
}

/// Starts a token for `challenge` under `key`: returns the TokenRequest to `POST /issue` and the
/// state needed to finish it.
pub fn begin_token<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    challenge: &TokenChallenge,
) -> Result<(TokenRequest, PendingToken)> {
    let mut nonce = [0u8; 32];
    rng.fill_bytes(&mut nonce);
    let challenge_digest = challenge.digest()?;
    let input = token_input(&nonce, &challenge_digest, &key.key_id());
    let blinding = key
        .inner()
        .blind(rng, &input)
        .map_err(|_| Error::Key("blinding failed"))?;
    let blinded_msg = <[u8; NK]>::try_from(blinding.blind_message.0.as_slice())
        .map_err(|_| Error::Key("blinded message length"))?;
    let request = TokenRequest {
        truncated_token_key_id: key.key_id().truncated(),
        blinded_msg,
    };
    Ok((
        request,
        PendingToken {
            key: key.clone(),
            nonce,
            challenge_digest,
            blinding,
        },
    ))
}

impl PendingToken {
    /// Unblinds the issuer's TokenResponse (the 256 raw bytes) into a token, verifying the
    /// signature: a response made with another key fails here, not at redemption.
    pub fn finish(self, response: &[u8]) -> Result<Token> {
        let blind_sig = <[u8; NK]>::try_from(response).map_err(|_| Error::Length {
            what: "token response",
            expected: NK,
            got: response.len(),
        })?;
        let response = TokenResponse { blind_sig };
        let input = token_input(&self.nonce, &self.challenge_digest, &self.key.key_id());
        let sig = self
            .key
            .inner()
            .finalize(
                &BlindSignature(response.blind_sig.to_vec()),
                &self.blinding,
                &input,
            )
            .map_err(|_| Error::BadSignature)?;
        let authenticator =
            <[u8; NK]>::try_from(sig.0.as_slice()).map_err(|_| Error::BadSignature)?;
        Ok(Token {
            nonce: self.nonce,
            challenge_digest: self.challenge_digest,
            token_key_id: self.key.key_id(),
            authenticator,
        })
    }
}
