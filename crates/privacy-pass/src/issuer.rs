//! The issuer (RFC 9578 §6.2; spec §5.2): tier → key for `token-key-for-user-token`, blind signing
//! for `/issue`, and the directory.

use base64::Engine as _;
use rand_core::CryptoRng;

use crate::{
    DirectoryKey, Error, IssuerDirectory, PublicKey, Result, SigningKey, Tier, TokenRequest,
    TokenResponse, TokenType,
};

/// One tier's issuing key and when clients may start using it.
#[derive(Debug, Clone)]
pub struct IssuerKey {
    /// The tier this key signs for.
    pub tier: Tier,
    /// The key.
    pub key: SigningKey,
    /// UNIX seconds; published as `not-before`.
    pub not_before: Option<u64>,
}

/// Issues tokens for a fixed set of tiers.
#[derive(Debug, Clone)]
pub struct Issuer {
    keys: Vec<IssuerKey>,
}

impl Issuer {
    /// Builds an issuer; truncated key ids must be distinct (devices name keys by them) and each
    /// tier must have one key.
    pub fn new(keys: Vec<IssuerKey>) -> Result<Issuer> {
        for (i, a) in keys.iter().enumerate() {
            for b in keys.iter().skip(i + 1) {
                if a.tier == b.tier
                    || a.key.public_key().key_id().truncated()
                        == b.key.public_key().key_id().truncated()
                {
                    return Err(Error::Key("duplicate tier or truncated key id"));
                }
            }
        }
        Ok(Issuer { keys })
    }

    fn key_for(&self, tier: &Tier) -> Result<&IssuerKey> {
        self.keys
            .iter()
            .find(|k| &k.tier == tier)
            .ok_or(Error::Key("no key for tier"))
    }

    /// The tier's public key (`GET /token-key-for-user-token` returns its SPKI).
    pub fn token_key(&self, tier: &Tier) -> Result<&PublicKey> {
        Ok(self.key_for(tier)?.key.public_key())
    }

    /// Decodes a TokenRequest and blind-signs it with the tier's key. Wrong type, a truncated id
    /// other than the tier's key, a wrong length or a blinded message ≥ n give 422 errors.
    pub fn issue<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        tier: &Tier,
        request: &[u8],
    ) -> Result<TokenResponse> {
        let request = TokenRequest::decode(request)?;
        let key = &self.key_for(tier)?.key;
        if request.truncated_token_key_id != key.public_key().key_id().truncated() {
            return Err(Error::UnknownKey);
        }
        Ok(TokenResponse {
            blind_sig: key.blind_sign(rng, &request.blinded_msg)?,
        })
    }

    /// The directory listing every tier's key.
    pub fn directory(&self, issuer_request_uri: &str) -> IssuerDirectory {
        IssuerDirectory {
            issuer_request_uri: issuer_request_uri.to_owned(),
            token_keys: self
                .keys
                .iter()
                .map(|k| DirectoryKey {
                    token_type: TokenType::BLIND_RSA_2048.0,
                    token_key: base64::engine::general_purpose::URL_SAFE
                        .encode(k.key.public_key().spki()),
                    not_before: k.not_before,
                })
                .collect(),
        }
    }
}
