//! Known-answer tests: RFC 9578 A.2 (= Apple's PrivacyPassPublicTokens.json), RFC 9577 A.1
//! (= Apple's PrivacyPassChallengeAndRedemptionStructure.json), and the challenge vectors in
//! privacy-pass.json. Loaded from the repo's vectors/privacy-pass/.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns unwrap checked-in vectors"
)]

use privacy_pass::{
    ChallengePolicy, Issuer, IssuerKey, MemoryNonceStore, PublicKey, SigningKey, Tier, Token,
    TokenChallenge, TokenKeyId, TokenType, Verifier, format_private_token, parse_private_token,
    token_input,
};
use serde::Deserialize;

const PUBLIC_TOKENS: &str =
    include_str!("../../../vectors/privacy-pass/PrivacyPassPublicTokens.json");
const STRUCTURE: &str =
    include_str!("../../../vectors/privacy-pass/PrivacyPassChallengeAndRedemptionStructure.json");
const SUMMARY: &str = include_str!("../../../vectors/privacy-pass/privacy-pass.json");

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct PublicTokenVector {
    skS: String,
    pkS: String,
    token_challenge: String,
    nonce: String,
    token_request: String,
    token_response: String,
    token: String,
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn public_vectors() -> Vec<PublicTokenVector> {
    serde_json::from_str(PUBLIC_TOKENS).unwrap()
}

fn vector_key(v: &PublicTokenVector) -> SigningKey {
    SigningKey::from_pem(std::str::from_utf8(&h(&v.skS)).unwrap()).unwrap()
}

#[test]
fn rfc9578_a2_spki_and_key_id() {
    let vs = public_vectors();
    assert_eq!(vs.len(), 5);
    for v in &vs {
        let key = vector_key(v);
        assert_eq!(key.public_key().spki(), h(&v.pkS).as_slice());
        let parsed = PublicKey::from_spki(&h(&v.pkS)).unwrap();
        assert_eq!(parsed.key_id(), key.public_key().key_id());
        assert_eq!(parsed.key_id().truncated(), 0x08);
        // The token carries the full id.
        assert_eq!(&h(&v.token)[66..98], parsed.key_id().0.as_slice());
    }
}

#[test]
fn rfc9578_a2_issue_matches_token_response() {
    let mut rng = rand10::rng();
    for v in public_vectors() {
        let tier = Tier::from("tier1");
        let issuer = Issuer::new(vec![IssuerKey {
            tier: tier.clone(),
            key: vector_key(&v),
            not_before: None,
        }])
        .unwrap();
        let resp = issuer.issue(&mut rng, &tier, &h(&v.token_request)).unwrap();
        assert_eq!(resp.encode(), h(&v.token_response));
    }
}

#[tokio::test]
async fn rfc9578_a2_tokens_verify_once() {
    for v in public_vectors() {
        let token = Token::decode(&h(&v.token)).unwrap();
        assert_eq!(token.encode(), h(&v.token));
        assert_eq!(token.nonce.to_vec(), h(&v.nonce));
        let digest: [u8; 32] = sha2_digest(&h(&v.token_challenge));
        assert_eq!(token.challenge_digest, digest);
        // Round trip through the Authorization header.
        let header = format_private_token(&token);
        assert_eq!(header.len(), "PrivateToken token=".len() + 472);
        let token = parse_private_token(header.as_bytes()).unwrap();

        let pk = PublicKey::from_spki(&h(&v.pkS)).unwrap();
        let verifier = Verifier::new(
            vec![(pk, Tier::from("tier1"))],
            ChallengePolicy::Digests(vec![digest]),
            MemoryNonceStore::new(),
            3600,
        );
        assert_eq!(
            verifier.redeem(token.clone(), 1000).await,
            Ok(Tier::from("tier1"))
        );
        assert_eq!(
            verifier.redeem(token, 1001).await,
            Err(privacy_pass::Error::DoubleSpend)
        );
    }
}

fn sha2_digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

#[derive(Deserialize)]
struct StructureVector {
    test_vector: u32,
    token_type: String,
    #[serde(default)]
    issuer_name: String,
    #[serde(default)]
    origin_info: String,
    #[serde(default)]
    redemption_context: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    token_key_id: String,
    token_authenticator_input: String,
}

#[test]
fn rfc9577_a1_challenge_and_token_input() {
    let vs: Vec<StructureVector> = serde_json::from_str(STRUCTURE).unwrap();
    assert_eq!(vs.len(), 6);
    let mut checked = 0;
    for v in vs {
        if v.token_type != "0002" {
            // Vector 6 is token type 0x0000, which a type-2 verifier must refuse.
            let input = h(&v.token_authenticator_input);
            assert_eq!(&input[..2], &[0, 0]);
            continue;
        }
        let challenge = TokenChallenge {
            token_type: TokenType::BLIND_RSA_2048,
            issuer_name: h(&v.issuer_name),
            redemption_context: h(&v.redemption_context),
            origin_info: h(&v.origin_info),
        };
        let digest = challenge.digest().unwrap();
        let nonce: [u8; 32] = h(&v.nonce).try_into().unwrap();
        let id = TokenKeyId(h(&v.token_key_id).try_into().unwrap());
        assert_eq!(
            token_input(&nonce, &digest, &id),
            h(&v.token_authenticator_input),
            "vector {}",
            v.test_vector
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[derive(Deserialize)]
struct Summary {
    token_challenges: Vec<ChallengeVector>,
    spki_template: SpkiTemplate,
}

#[derive(Deserialize)]
struct ChallengeVector {
    issuer_name_utf8: String,
    expected_hex: String,
    expected_sha256_hex: Option<String>,
}

#[derive(Deserialize)]
struct SpkiTemplate {
    prefix_hex: String,
    suffix_hex: String,
}

#[test]
fn apple_device_challenges() {
    let s: Summary = serde_json::from_str(SUMMARY).unwrap();
    assert_eq!(s.token_challenges.len(), 3);
    for c in &s.token_challenges {
        let ch = TokenChallenge::apple(&c.issuer_name_utf8);
        assert_eq!(ch.to_bytes().unwrap(), h(&c.expected_hex));
        if let Some(d) = &c.expected_sha256_hex {
            assert_eq!(ch.digest().unwrap().to_vec(), h(d));
        }
    }
}

#[test]
fn spki_template_matches_generated_keys() {
    let s: Summary = serde_json::from_str(SUMMARY).unwrap();
    let v = &public_vectors()[0];
    let spki = vector_key(v).public_key().spki().to_vec();
    assert!(spki.starts_with(&h(&s.spki_template.prefix_hex)));
    assert!(spki.ends_with(&h(&s.spki_template.suffix_hex)));
    assert_eq!(spki.len(), 342);
}
