//! The device side against our issuer and verifier: a token made with `begin_token` /
//! `PendingToken::finish` redeems once; answers under another key or of the wrong size fail.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use privacy_pass::{
    ChallengePolicy, Error, Issuer, IssuerKey, MemoryNonceStore, SigningKey, Tier, TokenChallenge,
    Verifier, begin_token, rand_core::UnwrapErr,
};

fn issuer(tier: &Tier) -> Issuer {
    let key = SigningKey::generate(&mut UnwrapErr(privacy_pass::SysRng)).unwrap();
    Issuer::new(vec![IssuerKey {
        tier: tier.clone(),
        key,
        not_before: None,
    }])
    .unwrap()
}

#[tokio::test]
async fn issued_token_redeems_once() {
    let mut rng = UnwrapErr(privacy_pass::SysRng);
    let tier = Tier::from("tier1");
    let issuer = issuer(&tier);
    let key = issuer.token_key(&tier).unwrap().clone();
    let challenge = TokenChallenge::apple("issuer.example.net");
    let (request, pending) = begin_token(&mut rng, &key, &challenge).unwrap();
    let response = issuer.issue(&mut rng, &tier, &request.encode()).unwrap();
    let token = pending.finish(&response.encode()).unwrap();
    assert_eq!(token.token_key_id, key.key_id());

    let verifier = Verifier::new(
        vec![(key, tier.clone())],
        ChallengePolicy::Digests(vec![challenge.digest().unwrap()]),
        MemoryNonceStore::new(),
        3600,
    );
    assert_eq!(verifier.redeem(token.clone(), 10).await, Ok(tier));
    assert_eq!(verifier.redeem(token, 11).await, Err(Error::DoubleSpend));
}

#[test]
fn answers_under_another_key_or_size_are_rejected() {
    let mut rng = UnwrapErr(privacy_pass::SysRng);
    let tier = Tier::from("tier1");
    let ours = issuer(&tier);
    let other = issuer(&tier);
    let key = ours.token_key(&tier).unwrap().clone();
    let challenge = TokenChallenge::apple("issuer.example.net");

    let (request, pending) = begin_token(&mut rng, &key, &challenge).unwrap();
    // The other issuer refuses the request (wrong truncated key id) unless the ids collide; sign
    // with its key directly to get a well-formed answer under the wrong key.
    let forged = match other.issue(&mut rng, &tier, &request.encode()) {
        Ok(r) => r.encode(),
        Err(_) => vec![0x5a; 256],
    };
    assert_eq!(pending.finish(&forged).err(), Some(Error::BadSignature));

    let (_, pending) = begin_token(&mut rng, &key, &challenge).unwrap();
    assert!(matches!(
        pending.finish(&[0u8; 255]),
        Err(Error::Length { .. })
    ));
}
