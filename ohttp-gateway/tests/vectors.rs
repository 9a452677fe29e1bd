//! Known-answer tests from vectors/ohttp/ohttp.json: RFC 9458 Appendix A, the ohttp crate's
//! derive vector, RFC 9292 §5 examples and the Apple-style request.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::io::Cursor;

use aes_gcm::aead::{Aead as _, KeyInit as _};
use hpke::{Deserializable as _, Kem as _, Serializable as _};
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::hpke::ReceiverKey;
use ohttp_gateway::inner::{InnerRequest, InnerResponse};
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState, derive_config};
use serde_json::Value;

type Kem = hpke::kem::X25519HkdfSha256;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/ohttp/ohttp.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hx(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))).unwrap()
}

/// RFC 9458 Appendix A, every intermediate value, with an HPKE implementation driven directly
/// (the ohttp crate cannot import a raw secret key).
#[test]
fn rfc9458_appendix_a() {
    let v = &vectors()["rfc9458_appendix_a"];
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(&hx(v, "gateway_x25519_secret_key_hex"))
        .unwrap();
    let pk = Kem::sk_to_pk(&sk);
    assert_eq!(
        pk.to_bytes().to_vec(),
        hx(v, "gateway_x25519_public_key_hex")
    );

    // The key config: id, KEM, pk, then both suites we also offer, in the same order.
    let mut config = vec![1, 0x00, 0x20];
    config.extend_from_slice(&pk.to_bytes());
    config.extend_from_slice(&[0, 8, 0, 1, 0, 1, 0, 1, 0, 3]);
    assert_eq!(config, hx(v, "key_config_hex"));
    let decoded = ohttp::KeyConfig::decode(&config).unwrap();
    assert_eq!(decoded.encode().unwrap(), config);

    let enc_request = hx(v, "encapsulated_request_hex");
    assert_eq!(enc_request.len(), 80);
    let header = ohttp_gateway::header::RequestHeader::parse(&enc_request).unwrap();
    assert_eq!(header.key_id, KeyId(1));
    let (hdr, rest) = enc_request.split_at(7);
    let (enc, ct) = rest.split_at(32);
    assert_eq!(enc, hx(v, "client_ephemeral_public_key_enc_hex"));
    let mut info = b"message/bhttp request\0".to_vec();
    info.extend_from_slice(hdr);
    assert_eq!(info, hx(v, "hpke_info_hex"));

    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).unwrap();
    let mut ctx = hpke::setup_receiver::<hpke::aead::AesGcm128, hpke::kdf::HkdfSha256, Kem>(
        &hpke::OpModeR::Base,
        &sk,
        &encapped,
        &info,
    )
    .unwrap();
    let inner = ctx.open(ct, b"").unwrap();
    assert_eq!(inner, hx(v, "inner_request_bhttp_hex"));
    let request = InnerRequest::decode(&inner).unwrap();
    assert_eq!(
        (
            request.method.as_str(),
            request.authority.as_str(),
            request.path.as_str()
        ),
        ("GET", "example.com", "/")
    );

    let mut secret = [0u8; 16];
    ctx.export(b"message/bhttp response", &mut secret).unwrap();
    assert_eq!(secret.to_vec(), hx(v, "exported_secret_hex"));

    let enc_response = hx(v, "encapsulated_response_hex");
    assert_eq!(enc_response.len(), 35);
    let (nonce, sealed) = enc_response.split_at(16);
    assert_eq!(nonce, hx(v, "response_nonce_hex"));
    let salt = [enc, nonce].concat();
    assert_eq!(salt, hx(v, "hkdf_salt_hex"));
    let (prk, hk) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(&salt), &secret);
    assert_eq!(prk.to_vec(), hx(v, "prk_hex"));
    let mut key = [0u8; 16];
    let mut aead_nonce = [0u8; 12];
    hk.expand(b"key", &mut key).unwrap();
    hk.expand(b"nonce", &mut aead_nonce).unwrap();
    assert_eq!(key.to_vec(), hx(v, "aead_key_hex"));
    assert_eq!(aead_nonce.to_vec(), hx(v, "aead_nonce_hex"));
    let cipher = aes_gcm::Aes128Gcm::new_from_slice(&key).unwrap();
    let plain = cipher.decrypt(&aead_nonce.into(), sealed).unwrap();
    assert_eq!(plain, hx(v, "inner_response_bhttp_hex"));
    assert_eq!(InnerResponse::decode(&plain).unwrap().status, 200);
}

/// The gateway's own HPKE (src/hpke.rs) on RFC 9458 Appendix A: the public key, the decrypted
/// request and, with the vector's response nonce, the Encapsulated Response byte for byte.
#[test]
fn rfc9458_appendix_a_through_the_gateway_hpke() {
    let v = &vectors()["rfc9458_appendix_a"];
    let secret: [u8; 32] = hx(v, "gateway_x25519_secret_key_hex").try_into().unwrap();
    let key = ReceiverKey::from_secret(secret);
    assert_eq!(
        key.public_key().to_vec(),
        hx(v, "gateway_x25519_public_key_hex")
    );
    let enc_request = hx(v, "encapsulated_request_hex");
    let header = ohttp_gateway::header::RequestHeader::parse(&enc_request).unwrap();
    let (inner, reply) = key.open(&header, &enc_request).unwrap();
    assert_eq!(inner, hx(v, "inner_request_bhttp_hex"));
    let sealed = reply
        .seal_with_nonce(
            &hx(v, "response_nonce_hex"),
            &hx(v, "inner_response_bhttp_hex"),
        )
        .unwrap();
    assert_eq!(sealed, hx(v, "encapsulated_response_hex"));

    // One flipped bit anywhere after the header fails (tag, enc or ciphertext).
    for i in [7, 20, 38, 50, enc_request.len() - 1] {
        let mut bad = enc_request.clone();
        bad[i] ^= 1;
        assert!(key.open(&header, &bad).is_err(), "byte {i}");
    }
}

#[test]
fn ohttp_crate_derive_vector() {
    let v = &vectors()["ohttp_crate_derive"];
    let config = derive_config(KeyId(1), &hx(v, "ikm_hex")).unwrap();
    assert_eq!(config.encode().unwrap(), hx(v, "expected_key_config_hex"));
    // RFC 9180 DeriveKeyPair as the gateway's HPKE does it gives the same public key.
    let key = ReceiverKey::derive(&hx(v, "ikm_hex")).unwrap();
    assert_eq!(
        key.public_key().as_slice(),
        &hx(v, "expected_key_config_hex")[3..35]
    );
    assert_eq!(
        ohttp::KeyConfig::encode_list(&[config]).unwrap(),
        hx(v, "expected_ohttp_keys_hex")
    );
}

#[test]
fn key_ring_publishes_length_prefixed_current_keys_in_order() {
    let seed = |b: u8| KeySeed::new(vec![b; 32]).unwrap();
    let ring = KeyRing::new(vec![
        KeySpec {
            id: KeyId(2),
            seed: seed(2),
            state: KeyState::Current,
        },
        KeySpec {
            id: KeyId(1),
            seed: seed(1),
            state: KeyState::Retiring,
        },
        KeySpec {
            id: KeyId(3),
            seed: seed(3),
            state: KeyState::Current,
        },
    ])
    .unwrap();
    let c2 = derive_config(KeyId(2), &[2; 32]).unwrap().encode().unwrap();
    let c3 = derive_config(KeyId(3), &[3; 32]).unwrap().encode().unwrap();
    let expected = [&[0, 45][..], &c2, &[0, 45], &c3].concat();
    assert_eq!(ring.encoded_configs(), expected);
    assert_eq!(
        ring.accepted_ids().collect::<Vec<_>>(),
        vec![KeyId(1), KeyId(2), KeyId(3)]
    );
}

fn example(id: &str) -> Value {
    vectors()["rfc9292_examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
        .clone()
}

fn check_hello_request(bytes: &[u8], e: &Value) {
    let msg = bhttp::Message::read_bhttp(&mut Cursor::new(bytes)).unwrap();
    let x = &e["expected"];
    assert_eq!(
        msg.control().method().unwrap(),
        x["method"].as_str().unwrap().as_bytes()
    );
    assert_eq!(msg.control().scheme().unwrap(), b"https");
    // bhttp reports an empty authority as absent.
    assert!(msg.control().authority().is_none_or(<[u8]>::is_empty));
    assert_eq!(
        msg.control().path().unwrap(),
        x["path"].as_str().unwrap().as_bytes()
    );
    let fields: Vec<(String, String)> = msg
        .header()
        .fields()
        .iter()
        .map(|f| {
            (
                String::from_utf8(f.name().to_vec()).unwrap(),
                String::from_utf8(f.value().to_vec()).unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = x["header_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect();
    assert_eq!(fields, expected);
    assert!(msg.content().is_empty());

    // Our translation: the empty authority falls back to Host, which itself is not forwarded.
    let request = InnerRequest::decode(bytes).unwrap();
    assert_eq!(request.authority, "www.example.com");
    assert_eq!(request.path, "/hello.txt");
    assert_eq!(request.headers.len(), 2);
    assert!(request.headers.iter().all(|(n, _)| n != "host"));
}

#[test]
fn rfc9292_known_length_request() {
    let e = example("known-length-request");
    let bytes = hx(&e, "hex");
    assert_eq!(bytes.len(), 135);
    check_hello_request(&bytes, &e);
}

#[test]
fn rfc9292_indeterminate_length_request_with_padding() {
    let e = example("indeterminate-length-request-padded");
    let bytes = hx(&e, "hex");
    assert_eq!(bytes.len(), 144);
    check_hello_request(&bytes, &example("known-length-request"));
    let known = InnerRequest::decode(&hx(&example("known-length-request"), "hex")).unwrap();
    assert_eq!(InnerRequest::decode(&bytes).unwrap(), known);
}

#[test]
fn rfc9292_known_length_response_with_trailer() {
    let e = example("known-length-response-with-trailer");
    let bytes = hx(&e, "hex");
    assert_eq!(bytes.len(), 48);
    let msg = bhttp::Message::read_bhttp(&mut Cursor::new(&bytes[..])).unwrap();
    assert_eq!(msg.trailer().get(b"trailer"), Some(&b"text"[..]));
    let response = InnerResponse::decode(&bytes).unwrap();
    assert_eq!(response.status, 200);
    assert!(response.headers.is_empty());
    assert_eq!(
        response.body,
        e["expected"]["content_utf8"].as_str().unwrap().as_bytes()
    );
}

#[test]
fn rfc9292_indeterminate_response_prefix_is_truncated_not_a_panic() {
    // Only the prefix is in the vector file; it cuts a field in two and must be refused.
    let e = example("indeterminate-length-response");
    let bytes = hx(&e, "prefix_hex");
    assert_eq!(bytes.first(), Some(&3));
    assert!(InnerResponse::decode(&bytes).is_err());
}

#[test]
fn apple_style_request_both_framings() {
    let v = &vectors()["apple_style_bhttp"];
    let m = &v["message"];
    let indeterminate = hx(v, "indeterminate_length_hex");
    let known = hx(v, "known_length_hex");
    let a = InnerRequest::decode(&indeterminate).unwrap();
    let b = InnerRequest::decode(&known).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.method, m["method"].as_str().unwrap());
    assert_eq!(a.authority, m["authority"].as_str().unwrap());
    assert_eq!(a.path, m["path"].as_str().unwrap());
    assert_eq!(a.body, hx(m, "content_hex"));
    assert_eq!(a.headers.len(), 2);
    // Re-encoding reproduces the derived bytes exactly.
    assert_eq!(
        a.encode(bhttp::Mode::IndeterminateLength).unwrap(),
        indeterminate
    );
    assert_eq!(a.encode(bhttp::Mode::KnownLength).unwrap(), known);
}
