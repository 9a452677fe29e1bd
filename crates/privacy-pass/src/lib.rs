//! Privacy Pass publicly verifiable tokens (RFC 9578, type 0x0002, Blind RSA 2048,
//! RSABSSA-SHA384-PSS-Deterministic) as Apple's NEURLFilter uses them:
//! spec/ohttp-privacy-pass.md §5–§6.
//!
//! The library does no implicit I/O: RNGs and the clock (`now`, UNIX seconds) are parameters; the
//! only I/O is in the explicit store backends ([`FileNonceStore`], [`RedisNonceStore`],
//! [`FileKeyStore`], [`RedisKeyStore`]). Issuer keys that survive restarts: see [`key_store`].
//!
//! ```
//! use privacy_pass::{Issuer, IssuerKey, SigningKey, Tier};
//! # fn main() -> Result<(), privacy_pass::Error> {
//! let mut rng = privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng);
//! let key = SigningKey::generate(&mut rng)?;
//! let issuer = Issuer::new(vec![IssuerKey { tier: Tier::from("tier1"), key, not_before: None }])?;
//! assert_eq!(issuer.token_key(&Tier::from("tier1"))?.spki().len(), 342);
//! # Ok(()) }
//! ```

mod challenge;
mod client;
mod directory;
mod error;
mod file_key_store;
mod file_nonce_store;
mod header;
mod issuer;
mod key_id;
mod key_rotation;
mod key_set;
pub mod key_store;
mod nonce_store;
mod public_key;
mod redis_key_store;
mod redis_nonce_store;
mod signing_key;
mod tier;
mod token;
mod token_request;
mod token_response;
mod token_type;
mod user_auth;
mod verifier;

pub use blind_rsa_signatures::DefaultRng as SysRng;
pub use challenge::TokenChallenge;
pub use client::{PendingToken, begin_token};
pub use directory::{DIRECTORY_MEDIA_TYPE, DirectoryKey, IssuerDirectory};
pub use error::{Error, Result};
pub use file_key_store::FileKeyStore;
pub use file_nonce_store::FileNonceStore;
pub use header::{format_private_token, parse_bearer, parse_private_token};
pub use issuer::{Issuer, IssuerKey};
pub use key_id::TokenKeyId;
pub use key_set::{KeyRecord, KeySet, KeyState};
pub use key_store::KeyStore;
pub use nonce_store::{MemoryNonceStore, NonceStore};
pub use public_key::{PublicKey, SPKI_LEN};
pub use rand_core;
pub use redis_key_store::RedisKeyStore;
pub use redis_nonce_store::RedisNonceStore;
pub use signing_key::SigningKey;
pub use tier::Tier;
pub use token::{TOKEN_LEN, Token, token_input};
pub use token_request::{TOKEN_REQUEST_LEN, TokenRequest};
pub use token_response::TokenResponse;
pub use token_type::{NID, NK, TokenType};
pub use user_auth::{HashedUserTokens, UserAuthenticator};
pub use verifier::{ChallengePolicy, Verifier};
