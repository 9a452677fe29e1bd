//! Bad input gives the error (and HTTP status) the spec names, never a panic; decoders are fed
//! arbitrary bytes by proptest.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns unwrap checked-in vectors"
)]

use privacy_pass::{
    ChallengePolicy, Error, HashedUserTokens, Issuer, IssuerKey, MemoryNonceStore, PublicKey,
    SigningKey, Tier, Token, TokenRequest, UserAuthenticator, Verifier, parse_bearer,
    parse_private_token,
};
use proptest::prelude::*;

#[derive(serde::Deserialize)]
#[allow(non_snake_case)]
struct V {
    skS: String,
    pkS: String,
    token_request: String,
    token: String,
}

fn vector() -> V {
    let mut vs: Vec<V> = serde_json::from_str(include_str!(
        "../../../vectors/privacy-pass/PrivacyPassPublicTokens.json"
    ))
    .unwrap();
    vs.remove(0)
}

fn issuer(v: &V) -> Issuer {
    let key =
        SigningKey::from_pem(std::str::from_utf8(&hex::decode(&v.skS).unwrap()).unwrap()).unwrap();
    Issuer::new(vec![IssuerKey {
        tier: Tier::from("t"),
        key,
        not_before: None,
    }])
    .unwrap()
}

#[test]
fn issuer_rejections_are_422() {
    let v = vector();
    let iss = issuer(&v);
    let mut rng = rand10::rng();
    let req = hex::decode(&v.token_request).unwrap();
    let t = Tier::from("t");
    let mut wrong_type = req.clone();
    wrong_type[1] = 1;
    let e = iss.issue(&mut rng, &t, &wrong_type).unwrap_err();
    assert_eq!((e.clone(), e.http_status()), (Error::TokenType(1), 422));
    let mut wrong_id = req.clone();
    wrong_id[2] ^= 1;
    let e = iss.issue(&mut rng, &t, &wrong_id).unwrap_err();
    assert_eq!((e.clone(), e.http_status()), (Error::UnknownKey, 422));
    let e = iss.issue(&mut rng, &t, &req[..258]).unwrap_err();
    assert_eq!(e.http_status(), 422);
    let mut big = req.clone();
    big[3..].fill(0xff);
    let e = iss.issue(&mut rng, &t, &big).unwrap_err();
    assert_eq!((e.clone(), e.http_status()), (Error::BlindedMessage, 422));
    assert!(iss.issue(&mut rng, &Tier::from("other"), &req).is_err());
}

#[tokio::test]
async fn verifier_rejections_are_401() {
    let v = vector();
    let pk = PublicKey::from_spki(&hex::decode(&v.pkS).unwrap()).unwrap();
    let verifier = Verifier::new(
        vec![(pk, Tier::from("t"))],
        ChallengePolicy::Any,
        MemoryNonceStore::new(),
        60,
    );
    let good = hex::decode(&v.token).unwrap();
    let mut tampered = good.clone();
    tampered[353] ^= 1;
    let e = verifier
        .redeem(Token::decode(&tampered).unwrap(), 0)
        .await
        .unwrap_err();
    assert_eq!((e.clone(), e.http_status()), (Error::BadSignature, 401));
    let mut unknown = good.clone();
    unknown[97] ^= 1;
    let e = verifier
        .redeem(Token::decode(&unknown).unwrap(), 0)
        .await
        .unwrap_err();
    assert_eq!(e, Error::UnknownKey);
    // Same truncated id, different full id.
    let mut full = good.clone();
    full[66] ^= 1;
    let e = verifier
        .redeem(Token::decode(&full).unwrap(), 0)
        .await
        .unwrap_err();
    assert_eq!(e, Error::UnknownKey);
    let strict = Verifier::new(
        vec![(
            PublicKey::from_spki(&hex::decode(&v.pkS).unwrap()).unwrap(),
            Tier::from("t"),
        )],
        ChallengePolicy::Digests(vec![[0; 32]]),
        MemoryNonceStore::new(),
        60,
    );
    let e = strict
        .redeem(Token::decode(&good).unwrap(), 0)
        .await
        .unwrap_err();
    assert_eq!((e.clone(), e.http_status()), (Error::Challenge, 401));
    let e = Token::decode(&good[..353]).unwrap_err();
    assert_eq!(e.http_status(), 400);
}

#[test]
fn header_variants() {
    let v = vector();
    let bytes = hex::decode(&v.token).unwrap();
    use base64::Engine as _;
    let unpadded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    let padded = base64::engine::general_purpose::URL_SAFE.encode(&bytes);
    for h in [
        format!("PrivateToken token={unpadded}"),
        format!("privatetoken token=\"{unpadded}\""),
        format!("PRIVATETOKEN  foo=bar, token={padded}, x=y"),
    ] {
        assert_eq!(
            parse_private_token(h.as_bytes()).unwrap().encode(),
            bytes,
            "{h}"
        );
    }
    for h in [
        "",
        "Bearer abc",
        "PrivateToken",
        "PrivateToken token=***",
        "PrivateToken x=1",
    ] {
        assert!(parse_private_token(h.as_bytes()).is_err(), "{h}");
    }
    assert_eq!(parse_bearer(b"Bearer abc"), Some("abc"));
    assert_eq!(parse_bearer(b"Basic abc"), None);
}

#[tokio::test]
async fn hashed_user_tokens() {
    let cfg = format!(
        r#"{{"user-tokens":[{{"sha256":"{}","tier":"tier2"}}]}}"#,
        hex::encode(HashedUserTokens::hash("secret"))
    );
    let auth = HashedUserTokens::from_json(&cfg).unwrap();
    assert_eq!(
        auth.authenticate("secret").await.unwrap(),
        Some(Tier::from("tier2"))
    );
    assert_eq!(auth.authenticate("secreT").await.unwrap(), None);
    assert!(
        HashedUserTokens::from_json(r#"{"user-tokens":[{"sha256":"zz","tier":"a"}]}"#).is_err()
    );
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Token::decode(&bytes);
        let _ = TokenRequest::decode(&bytes);
        let _ = parse_private_token(&bytes);
        let _ = PublicKey::from_spki(&bytes);
        let _ = parse_bearer(&bytes);
    }
}
