//! Privacy Pass on (pir-protocol.md §1.8): the device's token flow against our issuer endpoints,
//! then redemption on the PIR endpoints: one token per request, a spent token is refused, a
//! missing, foreign-scheme or garbage credential gets Apple's status and body. Issuer keys
//! survive a restart (same key directory, same key), unlike Apple's example.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use pir_server::issuer_state::{IssuerKeys, IssuerState, issuer_from};
use pir_server::key_store::system_clock;
use pir_server::token_auth::{NonceBackend, TokenAuth};
use privacy_pass::{
    HashedUserTokens, IssuerDirectory, MemoryNonceStore, PublicKey, Tier, TokenChallenge,
    begin_token, format_private_token, rand_core::UnwrapErr,
};

async fn secured(dir: &std::path::Path) -> Router {
    let tiers = [Tier::from("tier1")];
    let keys = IssuerKeys::file(dir.join("issuer/keys.json")).unwrap();
    let set = keys.open_or_create(&tiers, 1_767_225_600).await.unwrap();
    let users = HashedUserTokens::from_json(&format!(
        r#"{{"user-tokens":[{{"sha256":"{}","tier":"tier1"}}]}}"#,
        hex::encode(HashedUserTokens::hash("AAAA"))
    ))
    .unwrap();
    let mut state = state(dir);
    state.auth = Some(Arc::new(TokenAuth::new(
        keys.verifier_keys().await.unwrap(),
        NonceBackend::Memory(MemoryNonceStore::new()),
        3600,
        system_clock(),
    )));
    state.issuer = Some(Arc::new(IssuerState {
        issuer: issuer_from(&set).unwrap(),
        users,
        request_uri: "https://issuer.example.net/issue".into(),
    }));
    service(state)
}

fn get(uri: &str, bearer: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(token) = bearer {
        b = b.header("Authorization", format!("Bearer {token}"));
    }
    b.body(Body::empty()).unwrap()
}

/// What a device does: fetch the tier key, check it is in the directory, get one token.
async fn fetch_token(router: &Router) -> String {
    let (status, spki) = call(router, get("/token-key-for-user-token", Some("AAAA"))).await;
    assert_eq!(status, StatusCode::OK);
    let key = PublicKey::from_spki(&spki).unwrap();
    let (_, directory) = call(
        router,
        get("/.well-known/private-token-issuer-directory", None),
    )
    .await;
    let directory: IssuerDirectory = serde_json::from_slice(&directory).unwrap();
    assert_eq!(
        directory.issuer_request_uri,
        "https://issuer.example.net/issue"
    );
    let published = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, &spki);
    assert!(
        directory
            .token_keys
            .iter()
            .any(|k| k.token_key == published)
    );

    let mut rng = UnwrapErr(privacy_pass::SysRng);
    let (request, pending) =
        begin_token(&mut rng, &key, &TokenChallenge::apple("issuer.example.net")).unwrap();
    let issue = Request::post("/issue")
        .header("Authorization", "Bearer AAAA")
        .header("Content-Type", "application/private-token-request")
        .body(Body::from(request.encode()))
        .unwrap();
    let (status, response) = send(router, issue).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/private-token-response"
    );
    let token = pending.finish(&body(response).await).unwrap();
    format_private_token(&token)
}

fn config_with(authorization: Option<&str>) -> Request<Body> {
    post_with("/config", &[("Authorization", authorization)])
        .body(Body::from(api("config-request.binpb")))
        .unwrap()
}

#[tokio::test]
async fn tokens_work_once_and_bad_credentials_get_apples_answers() {
    let dir = tempfile::tempdir().unwrap();
    let router = secured(dir.path()).await;
    let token = fetch_token(&router).await;

    let (status, body) = call(&router, config_with(Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, api("config-response.binpb"));

    // Spent: Apple's 401 and body.
    let (status, body) = call(&router, config_with(Some(&token))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        read(service_vectors().join("responses/probe.queries.reused-token.binpb"))
    );
    // None at all, or a Bearer user token on a PIR endpoint: "No private token".
    for authorization in [None, Some("Bearer AAAA")] {
        let (status, body) = call(&router, config_with(authorization)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(
            body,
            read(service_vectors().join("responses/probe.config.no-authorization.binpb"))
        );
    }
    // Garbage: 400 (with a JSON body, where Apple sends plain text).
    let (status, body) = call(&router, config_with(Some("PrivateToken token=AAAA"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, br#"{"error":{"message":"Malformed private token"}}"#);
    // /key and /queries are behind the same check.
    let key = post_with("/key", &[("Authorization", None)])
        .body(Body::from(api("evaluation-keys.binpb")))
        .unwrap();
    assert_eq!(call(&router, key).await.0, StatusCode::UNAUTHORIZED);
    let token = fetch_token(&router).await;
    let key = post_with("/key", &[("Authorization", Some(&token))])
        .body(Body::from(api("evaluation-keys.binpb")))
        .unwrap();
    assert_eq!(call(&router, key).await.0, StatusCode::OK);
}

#[tokio::test]
async fn issuer_refuses_unknown_users_and_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let router = secured(dir.path()).await;
    for bearer in [None, Some("BBBB")] {
        let (status, body) = call(&router, get("/token-key-for-user-token", bearer)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            br#"{"error":{"message":"User token is unauthorized"}}"#
        );
    }
    let issue = |body: Vec<u8>| {
        Request::post("/issue")
            .header("Authorization", "Bearer AAAA")
            .body(Body::from(body))
            .unwrap()
    };
    // Wrong size: 400. Right size, wrong token type: 422.
    assert_eq!(
        call(&router, issue(vec![0; 10])).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut wrong_type = vec![0u8; 259];
    wrong_type[1] = 1;
    assert_eq!(
        call(&router, issue(wrong_type)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn issuer_keys_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = call(
        &secured(dir.path()).await,
        get("/token-key-for-user-token", Some("AAAA")),
    )
    .await
    .1;
    let token = fetch_token(&secured(dir.path()).await).await;
    // A third "process": the same key, and a token from the second one still redeems.
    let router = secured(dir.path()).await;
    let again = call(&router, get("/token-key-for-user-token", Some("AAAA")))
        .await
        .1;
    assert_eq!(first, again);
    assert_eq!(
        call(&router, config_with(Some(&token))).await.0,
        StatusCode::OK
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("issuer/keys.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
