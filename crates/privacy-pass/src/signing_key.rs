//! An issuer's RSA-2048 signing key and RFC 9474 BlindSign (spec §5.3, §6.3): RSABSSA-SHA384-
//! PSS-Deterministic through `blind-rsa-signatures`, which blinds the private operation and
//! verifies after signing.

use blind_rsa_signatures::{KeyPairSha384PSSDeterministic, SecretKeySha384PSSDeterministic};
use rand_core::CryptoRng;

use crate::token_type::NK;
use crate::{Error, PublicKey, Result};

/// A signing key with its public half.
#[derive(Debug, Clone)]
pub struct SigningKey {
    secret: SecretKeySha384PSSDeterministic,
    public: PublicKey,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key with e = 65537.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<SigningKey> {
        let kp = KeyPairSha384PSSDeterministic::generate(rng, 2048)
            .map_err(|_| Error::Key("RSA key generation failed"))?;
        Ok(SigningKey {
            public: PublicKey::from_inner(kp.pk)?,
            secret: kp.sk,
        })
    }

    /// Loads a PKCS#8 (or PKCS#1) DER private key; it must be RSA-2048, e = 65537.
    pub fn from_der(der: &[u8]) -> Result<SigningKey> {
        let secret = SecretKeySha384PSSDeterministic::from_der(der)
            .map_err(|_| Error::Key("bad private key DER"))?;
        Self::from_secret(secret)
    }

    /// Loads a PEM private key (the RFC 9578 vectors' form).
    pub fn from_pem(pem: &str) -> Result<SigningKey> {
        let secret = SecretKeySha384PSSDeterministic::from_pem(pem)
            .map_err(|_| Error::Key("bad private key PEM"))?;
        Self::from_secret(secret)
    }

    fn from_secret(secret: SecretKeySha384PSSDeterministic) -> Result<SigningKey> {
        let pk = secret
            .public_key()
            .map_err(|_| Error::Key("unsupported RSA key"))?;
        Ok(SigningKey {
            public: PublicKey::from_inner(pk)?,
            secret,
        })
    }

    /// The PKCS#8 DER encoding, for a key store.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        self.secret
            .to_der()
            .map_err(|_| Error::Key("cannot encode private key"))
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// RFC 9474 BlindSign; `rng` feeds the RSA blinding of the private operation.
    pub fn blind_sign<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        blinded_msg: &[u8; NK],
    ) -> Result<[u8; NK]> {
        let sig = self
            .secret
            .blind_sign_with_rng(rng, blinded_msg)
            .map_err(|_| Error::BlindedMessage)?;
        <[u8; NK]>::try_from(sig.0.as_slice()).map_err(|_| Error::Key("blind signature length"))
    }
}
