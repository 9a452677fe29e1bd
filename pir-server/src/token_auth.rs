//! Privacy Pass redemption on the PIR endpoints (pir-protocol.md §1.8 "Token verification";
//! ohttp-privacy-pass.md §5.4): `Authorization: PrivateToken token=...` is parsed, verified
//! against the issuer's public keys and its nonce spent in the configured store, so a token works
//! once across every replica sharing the store.

use axum::http::HeaderValue;
use privacy_pass::{
    ChallengePolicy, Error as PpError, MemoryNonceStore, NonceStore, PublicKey, RedisNonceStore,
    Tier, TokenKeyId, Verifier,
};

use crate::api_error::ApiError;
use crate::key_store::Clock;

/// Where spent nonces are remembered.
pub enum NonceBackend {
    /// This process only (lost on restart: tokens redeemed before it could be replayed after).
    Memory(MemoryNonceStore),
    /// Shared by replicas, survives restarts.
    Redis(RedisNonceStore),
}

impl NonceStore for NonceBackend {
    async fn reserve(
        &self,
        key_id: &TokenKeyId,
        nonce: &[u8; 32],
        now: u64,
        expires_at: u64,
    ) -> privacy_pass::Result<bool> {
        match self {
            NonceBackend::Memory(s) => s.reserve(key_id, nonce, now, expires_at).await,
            NonceBackend::Redis(s) => s.reserve(key_id, nonce, now, expires_at).await,
        }
    }
}

/// Verifies and spends tokens.
pub struct TokenAuth {
    verifier: Verifier<NonceBackend>,
    clock: Clock,
}

impl std::fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuth").finish_non_exhaustive()
    }
}

impl TokenAuth {
    /// Accepts tokens signed by any of `keys`; nonces are kept `nonce_ttl_secs`, which must cover
    /// the longest a key stays accepted.
    pub fn new(
        keys: Vec<(PublicKey, Tier)>,
        nonces: NonceBackend,
        nonce_ttl_secs: u64,
        clock: Clock,
    ) -> Self {
        Self {
            verifier: Verifier::new(keys, ChallengePolicy::Any, nonces, nonce_ttl_secs),
            clock,
        }
    }

    /// Redeems the `Authorization` header's token, returning its tier.
    ///
    /// # Errors
    /// 401 for no PrivateToken credential, an unknown key, a bad signature or a spent token;
    /// 400 for a credential that does not parse.
    pub async fn redeem(&self, authorization: Option<&HeaderValue>) -> Result<Tier, ApiError> {
        let Some(value) = authorization else {
            return Err(ApiError::NoPrivateToken);
        };
        let bytes = value.as_bytes();
        // Another scheme (e.g. a Bearer user token sent to the wrong host) is "no private token",
        // as Apple's service answers.
        let scheme = bytes.split(|b| *b == b' ').next().unwrap_or_default();
        if !scheme.eq_ignore_ascii_case(b"PrivateToken") {
            return Err(ApiError::NoPrivateToken);
        }
        let token =
            privacy_pass::parse_private_token(bytes).map_err(|_| ApiError::MalformedToken)?;
        let truncated = token.token_key_id.truncated();
        self.verifier
            .redeem(token, (self.clock)())
            .await
            .map_err(|e| match e {
                PpError::UnknownKey => ApiError::UnknownTokenKey(vec![truncated]),
                PpError::BadSignature | PpError::Challenge | PpError::DoubleSpend => {
                    ApiError::TokenVerification
                }
                PpError::Store(cause) => ApiError::Internal(format!("nonce store: {cause}")),
                _ => ApiError::MalformedToken,
            })
    }
}
