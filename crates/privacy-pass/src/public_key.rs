//! Issuer public keys and their SPKI encoding with the id-RSASSA-PSS OID (RFC 9578 §6.5; spec §5.3),
//! and RSASSA-PSS-SHA384 verification of token authenticators.

use blind_rsa_signatures::{PublicKeySha384PSSDeterministic, Signature};

use crate::{Error, Result, TokenKeyId};

/// The fixed 81-byte SPKI prefix for RSA-2048, e = 65537, RSASSA-PSS(SHA-384, MGF1-SHA-384, salt 48).
const SPKI_PREFIX: [u8; 81] = [
    0x30, 0x82, 0x01, 0x52, 0x30, 0x3d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
    0x0a, 0x30, 0x30, 0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
    0x02, 0x02, 0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
    0x08, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0xa2, 0x03,
    0x02, 0x01, 0x30, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01,
    0x00,
];
const SPKI_SUFFIX: [u8; 5] = [0x02, 0x03, 0x01, 0x00, 0x01];
/// Length of the DER SPKI of every key this crate accepts.
pub const SPKI_LEN: usize = 342;

/// An issuer public key with its SPKI bytes and key id precomputed.
#[derive(Debug, Clone)]
pub struct PublicKey {
    inner: PublicKeySha384PSSDeterministic,
    spki: Vec<u8>,
    id: TokenKeyId,
}

impl PublicKey {
    /// Parses a DER SPKI, accepting only the exact RFC 9578 encoding (as Apple's parser does):
    /// any other parameter set would change the key id.
    pub fn from_spki(spki: &[u8]) -> Result<PublicKey> {
        let malformed = Error::Malformed("SPKI");
        if spki.len() != SPKI_LEN
            || !spki.starts_with(&SPKI_PREFIX)
            || !spki.ends_with(&SPKI_SUFFIX)
            // The modulus must really be 2048 bits: its top byte is non-zero.
            || spki.get(SPKI_PREFIX.len()).is_none_or(|b| *b == 0)
        {
            return Err(malformed);
        }
        let inner = PublicKeySha384PSSDeterministic::from_spki(spki).map_err(|_| malformed)?;
        Ok(PublicKey {
            inner,
            spki: spki.to_vec(),
            id: TokenKeyId::of_spki(spki),
        })
    }

    pub(crate) fn from_inner(inner: PublicKeySha384PSSDeterministic) -> Result<PublicKey> {
        let spki = inner
            .to_spki()
            .map_err(|_| Error::Key("cannot encode SPKI"))?;
        // Round-trip through the strict parser so every key we hold has the canonical encoding.
        let pk = PublicKey::from_spki(&spki)?;
        Ok(PublicKey { inner, ..pk })
    }

    pub(crate) fn inner(&self) -> &PublicKeySha384PSSDeterministic {
        &self.inner
    }

    /// The 342-byte DER SPKI (served by `token-key-for-user-token` and in the directory).
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// SHA-256 of the SPKI.
    pub fn key_id(&self) -> TokenKeyId {
        self.id
    }

    /// RSASSA-PSS-VERIFY(pk, token_input, authenticator) with SHA-384, MGF1-SHA-384, salt 48.
    pub fn verify(&self, token_input: &[u8], authenticator: &[u8]) -> Result<()> {
        self.inner
            .verify(&Signature(authenticator.to_vec()), None, token_input)
            .map_err(|_| Error::BadSignature)
    }
}
