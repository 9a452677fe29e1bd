//! Issue (blind sign of the RFC 9578 A.2 request) and verify (token signature check) throughput.
#![expect(clippy::unwrap_used, reason = "bench set-up on the checked-in vectors")]

use criterion::{Criterion, criterion_group, criterion_main};
use privacy_pass::{Issuer, IssuerKey, PublicKey, SigningKey, Tier, Token};

#[derive(serde::Deserialize)]
#[allow(non_snake_case)]
struct V {
    skS: String,
    pkS: String,
    token_request: String,
    token: String,
}

fn benches(c: &mut Criterion) {
    let vs: Vec<V> = serde_json::from_str(include_str!(
        "../../../vectors/privacy-pass/PrivacyPassPublicTokens.json"
    ))
    .unwrap();
    let v = &vs[0];
    let pem = String::from_utf8(hex::decode(&v.skS).unwrap()).unwrap();
    let tier = Tier::from("tier1");
    let issuer = Issuer::new(vec![IssuerKey {
        tier: tier.clone(),
        key: SigningKey::from_pem(&pem).unwrap(),
        not_before: None,
    }])
    .unwrap();
    let request = hex::decode(&v.token_request).unwrap();
    let mut rng = rand10::rng();
    c.bench_function("privacy_pass/issue", |b| {
        b.iter(|| issuer.issue(&mut rng, &tier, &request).unwrap())
    });
    let pk = PublicKey::from_spki(&hex::decode(&v.pkS).unwrap()).unwrap();
    let token = Token::decode(&hex::decode(&v.token).unwrap()).unwrap();
    let input = token.token_input();
    c.bench_function("privacy_pass/verify", |b| {
        b.iter(|| pk.verify(&input, &token.authenticator).unwrap())
    });
}

criterion_group!(name = g; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(g);
