//! Token redemption (RFC 9578 §6.4; spec §5.4): key by truncated then full id, optional challenge
//! check, signature, then an atomic nonce reserve.

use subtle::ConstantTimeEq;

use crate::{Error, NonceStore, PublicKey, Result, Tier, Token};

/// Which challenge digests are accepted.
#[derive(Debug, Clone)]
pub enum ChallengePolicy {
    /// Any digest (what Apple's example does; the device's issuer name is undocumented).
    Any,
    /// Only these digests, e.g. `TokenChallenge::apple(name).digest()` per issuer name.
    Digests(Vec<[u8; 32]>),
}

/// Verifies tokens against a set of keys and spends their nonces in a shared store.
pub struct Verifier<N> {
    keys: Vec<(PublicKey, Tier)>,
    challenge: ChallengePolicy,
    nonces: N,
    nonce_ttl: u64,
}

impl<N: NonceStore> Verifier<N> {
    /// `keys` are every key still accepted (active and retiring); nonces are kept `nonce_ttl`
    /// seconds, which should cover the longest a key stays accepted.
    pub fn new(
        keys: Vec<(PublicKey, Tier)>,
        challenge: ChallengePolicy,
        nonces: N,
        nonce_ttl: u64,
    ) -> Verifier<N> {
        Verifier {
            keys,
            challenge,
            nonces,
            nonce_ttl,
        }
    }

    /// Redeems a token at time `now` (UNIX seconds), returning the tier of its key. Consumes the
    /// token: a redeemed token is spent either way.
    pub async fn redeem(&self, token: Token, now: u64) -> Result<Tier> {
        let (key, tier) = self
            .keys
            .iter()
            .find(|(k, _)| {
                k.key_id().truncated() == token.token_key_id.truncated()
                    && k.key_id().ct_eq(&token.token_key_id)
            })
            .ok_or(Error::UnknownKey)?;
        if let ChallengePolicy::Digests(allowed) = &self.challenge {
            let ok = allowed.iter().fold(subtle::Choice::from(0), |acc, d| {
                acc | d.ct_eq(&token.challenge_digest)
            });
            if !bool::from(ok) {
                return Err(Error::Challenge);
            }
        }
        key.verify(&token.token_input(), &token.authenticator)?;
        let expires_at = now.saturating_add(self.nonce_ttl);
        if self
            .nonces
            .reserve(&token.token_key_id, &token.nonce, now, expires_at)
            .await?
        {
            Ok(tier.clone())
        } else {
            Err(Error::DoubleSpend)
        }
    }
}
