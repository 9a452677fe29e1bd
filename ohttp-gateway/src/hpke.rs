//! The gateway's HPKE (RFC 9180 §4.1, §5.1, §5.3 base mode, receiver side) for
//! DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM or ChaCha20-Poly1305, and the
//! Encapsulated Response of RFC 9458 §4.4 (spec §1.4, §1.9).
//!
//! Written by hand because it is the hot path: the `ohttp` crate's rust-hpke backend recomputes
//! the recipient's public key (a fixed-base scalar multiplication, about 40 % of the KEM's cost)
//! on every request; here it is computed once per key. `tests/vectors.rs` checks every step
//! against RFC 9458 Appendix A, and [`ReceiverKey::derive`] against the `ohttp` crate's
//! `KeyConfig::derive` (the ring refuses a key whose public key differs).

use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{AeadInOut as _, KeyInit as _};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::{Hkdf, HkdfExtract};
use rand::RngCore as _;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::codepoints::AeadId;
use crate::error::GatewayError;
use crate::header::{AEAD_TAG_LEN, HEADER_LEN, RequestHeader, X25519_ENC_LEN};

/// RFC 9180 §4: the version label of every labeled KDF call.
const HPKE_V1: &[u8] = b"HPKE-v1";
/// `suite_id` of the KEM: "KEM" || I2OSP(0x0020, 2).
const KEM_SUITE: &[u8] = b"KEM\x00\x20";
/// Length of an AEAD nonce (Nn) for both AEADs.
const NONCE_LEN: usize = 12;
/// Nh of HKDF-SHA256.
const HASH_LEN: usize = 32;
/// RFC 9458 §4.3: the request's HPKE info starts with this label and a zero byte.
const REQUEST_INFO_LABEL: &[u8] = b"message/bhttp request\x00";
/// RFC 9458 §4.4: the exporter context of the response secret.
const RESPONSE_LABEL: &[u8] = b"message/bhttp response";

/// The AEADs offered, with their key length Nk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    Aes128Gcm,
    ChaCha20Poly1305,
}

impl Cipher {
    fn from_id(id: AeadId) -> Result<Self, GatewayError> {
        match id {
            AeadId::AES_128_GCM => Ok(Self::Aes128Gcm),
            AeadId::CHACHA20_POLY1305 => Ok(Self::ChaCha20Poly1305),
            _ => Err(GatewayError::UnsupportedSuite),
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::ChaCha20Poly1305 => 32,
        }
    }

    /// RFC 9458 §4.4: the response secret and nonce are max(Nn, Nk) bytes long.
    fn response_secret_len(self) -> usize {
        self.key_len().max(NONCE_LEN)
    }

    /// Decrypts `buf` (ciphertext then tag) in place and drops the tag.
    fn open_in_place(
        self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        buf: &mut Vec<u8>,
    ) -> Result<(), GatewayError> {
        let done = match self {
            Self::Aes128Gcm => Aes128Gcm::new_from_slice(key)
                .map_err(|_| GatewayError::DecryptFailed)?
                .decrypt_in_place(&(*nonce).into(), b"", buf),
            Self::ChaCha20Poly1305 => ChaCha20Poly1305::new_from_slice(key)
                .map_err(|_| GatewayError::DecryptFailed)?
                .decrypt_in_place(&(*nonce).into(), b"", buf),
        };
        done.map_err(|_| GatewayError::DecryptFailed)
    }

    /// Encrypts `buf` in place and returns the tag.
    fn seal_in_place(
        self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        buf: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], GatewayError> {
        let failed = |_| GatewayError::Internal("response encryption failed".into());
        let tag: [u8; AEAD_TAG_LEN] = match self {
            Self::Aes128Gcm => Aes128Gcm::new_from_slice(key)
                .map_err(|_| GatewayError::Internal("bad AEAD key".into()))?
                .encrypt_inout_detached(&(*nonce).into(), b"", buf.into())
                .map_err(failed)?
                .into(),
            Self::ChaCha20Poly1305 => ChaCha20Poly1305::new_from_slice(key)
                .map_err(|_| GatewayError::Internal("bad AEAD key".into()))?
                .encrypt_inout_detached(&(*nonce).into(), b"", buf.into())
                .map_err(failed)?
                .into(),
        };
        Ok(tag)
    }
}

/// RFC 9180 §4 LabeledExtract.
fn labeled_extract(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; HASH_LEN] {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    for part in [HPKE_V1, suite, label, ikm] {
        extract.input_ikm(part);
    }
    let (prk, _) = extract.finalize();
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(&prk);
    out
}

/// RFC 9180 §4 LabeledExpand into `out`.
fn labeled_expand(
    suite: &[u8],
    prk: &[u8; HASH_LEN],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), GatewayError> {
    let len = u16::try_from(out.len())
        .map_err(|_| GatewayError::Internal("expand too long".into()))?
        .to_be_bytes();
    let failed = |_| GatewayError::Internal("HKDF expand failed".into());
    Hkdf::<Sha256>::from_prk(prk)
        .map_err(|_| GatewayError::Internal("bad PRK".into()))?
        .expand_multi_info(&[&len, HPKE_V1, suite, label, info], out)
        .map_err(failed)
}

/// `suite_id` of the HPKE context: "HPKE" || kem || kdf || aead.
fn hpke_suite(header: &RequestHeader) -> [u8; 10] {
    let mut id = *b"HPKE\x00\x20\x00\x00\x00\x00";
    id[6..8].copy_from_slice(&header.kdf.0.to_be_bytes());
    id[8..10].copy_from_slice(&header.aead.0.to_be_bytes());
    id
}

/// One X25519 key pair; the public key is kept so decapsulation need not recompute it.
pub struct ReceiverKey {
    secret: StaticSecret,
    public: [u8; X25519_ENC_LEN],
}

impl std::fmt::Debug for ReceiverKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReceiverKey(public {})", hex::encode(self.public))
    }
}

impl ReceiverKey {
    /// RFC 9180 §7.1.3 DeriveKeyPair for X25519 from input keying material.
    pub fn derive(ikm: &[u8]) -> Result<Self, GatewayError> {
        let prk = labeled_extract(KEM_SUITE, b"", b"dkp_prk", ikm);
        let mut sk = [0u8; 32];
        labeled_expand(KEM_SUITE, &prk, b"sk", b"", &mut sk)?;
        Ok(Self::from_secret(sk))
    }

    /// A key from its raw secret scalar bytes (known-answer tests).
    #[must_use]
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let secret = StaticSecret::from(secret);
        let public = PublicKey::from(&secret).to_bytes();
        Self { secret, public }
    }

    /// The public key (`pkR`), as published in the key configuration.
    #[must_use]
    pub fn public_key(&self) -> &[u8; X25519_ENC_LEN] {
        &self.public
    }

    /// Decapsulates an Encapsulated Request whose header has been checked against this key's
    /// configuration: returns the Binary HTTP request and the response context.
    pub fn open(
        &self,
        header: &RequestHeader,
        request: &[u8],
    ) -> Result<(Vec<u8>, ResponseContext), GatewayError> {
        let cipher = Cipher::from_id(header.aead)?;
        let (hdr, rest) = request
            .split_at_checked(HEADER_LEN)
            .ok_or(GatewayError::Malformed)?;
        let (enc, ct) = rest
            .split_first_chunk::<X25519_ENC_LEN>()
            .ok_or(GatewayError::Malformed)?;
        if ct.len() < AEAD_TAG_LEN {
            return Err(GatewayError::Malformed);
        }

        // DHKEM Decap (RFC 9180 §4.1); an all-zero shared secret (low-order enc) is refused.
        let dh = self.secret.diffie_hellman(&PublicKey::from(*enc));
        if !dh.was_contributory() {
            return Err(GatewayError::DecryptFailed);
        }
        let eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh.as_bytes());
        let mut kem_context = [0u8; 2 * X25519_ENC_LEN];
        kem_context[..X25519_ENC_LEN].copy_from_slice(enc);
        kem_context[X25519_ENC_LEN..].copy_from_slice(&self.public);
        let mut shared_secret = [0u8; HASH_LEN];
        labeled_expand(
            KEM_SUITE,
            &eae_prk,
            b"shared_secret",
            &kem_context,
            &mut shared_secret,
        )?;

        // KeySchedule in base mode (RFC 9180 §5.1): empty psk and psk_id; info per RFC 9458 §4.3.
        let suite = hpke_suite(header);
        let psk_id_hash = labeled_extract(&suite, b"", b"psk_id_hash", b"");
        let mut info = [0u8; REQUEST_INFO_LABEL.len() + HEADER_LEN];
        info[..REQUEST_INFO_LABEL.len()].copy_from_slice(REQUEST_INFO_LABEL);
        info[REQUEST_INFO_LABEL.len()..].copy_from_slice(hdr);
        let info_hash = labeled_extract(&suite, b"", b"info_hash", &info);
        let mut context = [0u8; 1 + 2 * HASH_LEN];
        context[1..=HASH_LEN].copy_from_slice(&psk_id_hash);
        context[1 + HASH_LEN..].copy_from_slice(&info_hash);
        let secret = labeled_extract(&suite, &shared_secret, b"secret", b"");
        let mut key = [0u8; 32];
        let key = &mut key[..cipher.key_len()];
        labeled_expand(&suite, &secret, b"key", &context, key)?;
        let mut nonce = [0u8; NONCE_LEN];
        labeled_expand(&suite, &secret, b"base_nonce", &context, &mut nonce)?;
        let mut exporter = [0u8; HASH_LEN];
        labeled_expand(&suite, &secret, b"exp", &context, &mut exporter)?;

        // The first (and only) message uses sequence number 0: the nonce is base_nonce.
        let mut plain = ct.to_vec();
        cipher.open_in_place(key, &nonce, &mut plain)?;

        // Export(exporter_context = "message/bhttp response", L = max(Nn, Nk)) (RFC 9458 §4.4).
        let mut response_secret = [0u8; 32];
        labeled_expand(
            &suite,
            &exporter,
            b"sec",
            RESPONSE_LABEL,
            &mut response_secret[..cipher.response_secret_len()],
        )?;
        Ok((
            plain,
            ResponseContext {
                cipher,
                secret: response_secret,
                enc: *enc,
            },
        ))
    }
}

/// What the Encapsulated Response needs from its request; consumed by one seal.
pub struct ResponseContext {
    cipher: Cipher,
    secret: [u8; 32],
    enc: [u8; X25519_ENC_LEN],
}

impl std::fmt::Debug for ResponseContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseContext")
    }
}

impl ResponseContext {
    /// Encapsulates a Binary HTTP response with a fresh random response nonce.
    pub fn seal(self, response: &[u8]) -> Result<Vec<u8>, GatewayError> {
        let mut nonce = [0u8; 32];
        let nonce = &mut nonce[..self.cipher.response_secret_len()];
        rand::rngs::OsRng
            .try_fill_bytes(nonce)
            .map_err(|_| GatewayError::Internal("no randomness".into()))?;
        self.seal_with_nonce(nonce, response)
    }

    /// Encapsulates with the given response nonce (max(Nn, Nk) bytes): known-answer tests only,
    /// a repeated nonce would repeat the AEAD key and nonce.
    pub fn seal_with_nonce(
        self,
        response_nonce: &[u8],
        response: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let n = self.cipher.response_secret_len();
        if response_nonce.len() != n {
            return Err(GatewayError::Internal("bad response nonce length".into()));
        }
        let mut salt = [0u8; X25519_ENC_LEN + 32];
        salt[..X25519_ENC_LEN].copy_from_slice(&self.enc);
        salt[X25519_ENC_LEN..X25519_ENC_LEN + n].copy_from_slice(response_nonce);
        let kdf = Hkdf::<Sha256>::new(Some(&salt[..X25519_ENC_LEN + n]), &self.secret[..n]);
        let mut key = [0u8; 32];
        let key = &mut key[..self.cipher.key_len()];
        let mut nonce = [0u8; NONCE_LEN];
        kdf.expand(b"key", key)
            .and_then(|()| kdf.expand(b"nonce", &mut nonce))
            .map_err(|_| GatewayError::Internal("HKDF expand failed".into()))?;
        let mut out = Vec::with_capacity(n + response.len() + AEAD_TAG_LEN);
        out.extend_from_slice(response_nonce);
        out.extend_from_slice(response);
        let tag = self
            .cipher
            .seal_in_place(key, &nonce, out.get_mut(n..).unwrap_or_default())?;
        out.extend_from_slice(&tag);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use ohttp::hpke::{Aead, Kdf, Kem};
    use ohttp::{ClientRequest, KeyConfig, SymmetricSuite};

    use super::*;

    /// Both AEADs against the `ohttp` crate's client, both directions.
    #[test]
    fn both_aeads_interoperate_with_the_ohttp_crate() {
        let ikm = [7u8; 32];
        let key = ReceiverKey::derive(&ikm).unwrap();
        for aead in [Aead::Aes128Gcm, Aead::ChaCha20Poly1305] {
            let suites = vec![SymmetricSuite::new(Kdf::HkdfSha256, aead)];
            let mut config = KeyConfig::derive(1, Kem::X25519Sha256, suites, &ikm).unwrap();
            for body in [&b""[..], b"hello", &[0x5a; 40_000]] {
                let (wire, pending) = ClientRequest::from_config(&mut config)
                    .unwrap()
                    .encapsulate(body)
                    .unwrap();
                let header = RequestHeader::parse(&wire).unwrap();
                assert_eq!(header.aead.0, u16::from(aead));
                let (plain, reply) = key.open(&header, &wire).unwrap();
                assert_eq!(plain, body);
                let sealed = reply.seal(b"world").unwrap();
                assert_eq!(pending.decapsulate(&sealed).unwrap(), b"world");
            }
        }
    }

    #[test]
    fn low_order_enc_and_short_input_are_refused() {
        let key = ReceiverKey::derive(&[9u8; 32]).unwrap();
        let mut request = vec![1, 0, 0x20, 0, 1, 0, 1];
        request.extend_from_slice(&[0u8; 32]); // the all-zero point: a zero shared secret
        request.extend_from_slice(&[0u8; 16]);
        let header = RequestHeader::parse(&request).unwrap();
        assert!(matches!(
            key.open(&header, &request),
            Err(GatewayError::DecryptFailed)
        ));
        assert!(matches!(
            key.open(&header, &request[..HEADER_LEN + 40]),
            Err(GatewayError::Malformed)
        ));
    }
}
