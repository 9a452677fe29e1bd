//! The issuer (RFC 9578 §6.2; spec §5.2): tier → key for `token-key-for-user-token`, blind signing
//! for `/issue`, and the directory.

use base64::Engine as _;
use rand_core::CryptoRng;

use crate::{
    DirectoryKey, Error, IssuerDirectory, KeyRecord, KeyState, PublicKey, Result, SigningKey, Tier,
    TokenRequest, TokenResponse, TokenType,
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
    /// One signing key per tier.
    keys: Vec<IssuerKey>,
    /// Listed in the directory only: staged (with `not-before`) and retiring keys.
    listed: Vec<(PublicKey, Option<u64>)>,
}

impl Issuer {
    /// Builds an issuer; truncated key ids must be distinct (devices name keys by them) and each
    /// tier must have one key.
    pub fn new(keys: Vec<IssuerKey>) -> Result<Issuer> {
        Issuer::with_listed(keys, Vec::new())
    }

    /// Builds the issuer from a key set's records: active keys sign and are served by
    /// `token-key-for-user-token`; the directory lists them first, then staged keys with their
    /// `not-before`, then retiring keys. Retired keys are left out.
    pub fn from_records(records: &[KeyRecord]) -> Result<Issuer> {
        let in_state = |state: KeyState| records.iter().filter(move |r| r.state == state);
        let keys = in_state(KeyState::Active)
            .map(|r| IssuerKey {
                tier: r.tier.clone(),
                key: r.key.clone(),
                not_before: None,
            })
            .collect();
        let listed = in_state(KeyState::Staged)
            .map(|r| (r.key.public_key().clone(), Some(r.not_before)))
            .chain(in_state(KeyState::Retiring).map(|r| (r.key.public_key().clone(), None)))
            .collect();
        Issuer::with_listed(keys, listed)
    }

    fn with_listed(keys: Vec<IssuerKey>, listed: Vec<(PublicKey, Option<u64>)>) -> Result<Issuer> {
        for (i, a) in keys.iter().enumerate() {
            if keys.iter().skip(i + 1).any(|b| a.tier == b.tier) {
                return Err(Error::Key("duplicate tier"));
            }
        }
        let ids: Vec<u8> = keys
            .iter()
            .map(|k| k.key.public_key())
            .chain(listed.iter().map(|(k, _)| k))
            .map(|k| k.key_id().truncated())
            .collect();
        for (i, a) in ids.iter().enumerate() {
            if ids.iter().skip(i + 1).any(|b| a == b) {
                return Err(Error::Key("duplicate truncated key id"));
            }
        }
        Ok(Issuer { keys, listed })
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

    /// The directory: every tier's key, then the staged and retiring keys.
    pub fn directory(&self, issuer_request_uri: &str) -> IssuerDirectory {
        let entry = |key: &PublicKey, not_before: Option<u64>| DirectoryKey {
            token_type: TokenType::BLIND_RSA_2048.0,
            token_key: base64::engine::general_purpose::URL_SAFE.encode(key.spki()),
            not_before,
        };
        IssuerDirectory {
            issuer_request_uri: issuer_request_uri.to_owned(),
            token_keys: self
                .keys
                .iter()
                .map(|k| entry(k.key.public_key(), k.not_before))
                .chain(self.listed.iter().map(|(k, nb)| entry(k, *nb)))
                .collect(),
        }
    }
}
