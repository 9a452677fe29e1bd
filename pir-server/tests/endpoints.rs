//! Endpoint rules not covered by Apple's probes: `/report` in both encodings (stored as text
//! proto, malformed → empty 400), OPRF and empty requests in `/queries`, the per-body request cap,
//! `/config` with unknown or mismatched use cases, readiness before a use case is served.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use pir::proto::{api, api_pir};
use prost::Message as _;

#[tokio::test]
async fn reports_are_stored_as_text_proto_and_malformed_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let mut state = state(dir.path());
    state.report_dir = Some(reports.clone());
    let router = service(state);

    let json = Request::post("/report")
        .header("Content-Type", "application/json")
        .header("User-Agent", UA_MODERN)
        .body(Body::from(r#"["example.com/bad","other.example"]"#))
        .unwrap();
    assert_eq!(call(&router, json).await, (StatusCode::OK, vec![]));
    let proto = pir_server::endpoints::report::UrlFilterReport {
        urls: vec!["third.example".into()],
    };
    let binary = Request::post("/report")
        .body(Body::from(proto.encode_to_vec()))
        .unwrap();
    assert_eq!(call(&router, binary).await.0, StatusCode::OK);
    let malformed = Request::post("/report")
        .header("Content-Type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(
        call(&router, malformed).await,
        (StatusCode::BAD_REQUEST, vec![])
    );

    let mut texts: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    texts.sort_by_key(|t| t.contains("third.example"));
    assert_eq!(texts.len(), 2);
    assert!(texts[0].starts_with(&format!("user_agent: \"{UA_MODERN}\"\n")));
    assert!(texts[0].contains("  urls: \"example.com/bad\"\n  urls: \"other.example\"\n"));
    assert!(texts[1].contains("user_agent: \"\"") && texts[1].contains("third.example"));
}

#[tokio::test]
async fn queries_refuse_oprf_unknown_types_and_too_many_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = state(dir.path());
    state.limits.max_requests_per_body = 2;
    let router = service(state);
    let body = |requests: Vec<api::Request>| api::Requests { requests }.encode_to_vec();
    let oprf = api::Request {
        usecase: USECASE.into(),
        request: Some(api::request::Request::OprfRequest(
            api_pir::OprfRequest::default(),
        )),
    };
    let cases = [
        (
            vec![oprf.clone()],
            400,
            r#"{"error":{"message":"SymmetricPIR not configured."}}"#,
        ),
        (
            vec![api::Request {
                usecase: "nope".into(),
                ..oprf.clone()
            }],
            400,
            r#"{"error":{"message":"Unknown usecase: nope"}}"#,
        ),
        (
            vec![api::Request {
                usecase: USECASE.into(),
                request: None,
            }],
            400,
            r#"{"error":{"message":"Unknown request type."}}"#,
        ),
        (
            vec![oprf.clone(), oprf.clone(), oprf],
            413,
            r#"{"error":{"message":"Too many requests in one body: 3 (at most 2)."}}"#,
        ),
    ];
    for (requests, status, message) in cases {
        let (got, bytes) = call(&router, device_post("/queries", body(requests))).await;
        assert_eq!(got.as_u16(), status, "{message}");
        assert_eq!(String::from_utf8(bytes).unwrap(), message);
    }
}

#[tokio::test]
async fn config_of_unknown_or_several_usecases() {
    let dir = tempfile::tempdir().unwrap();
    let sources = vec![
        apple_source("a.url.filtering", transcript()),
        apple_source("b.url.filtering", transcript()),
    ];
    let state = pir_server::AppState::new(
        sources,
        embedded_keys(dir.path()),
        pir_server::compute_pool::ComputePool::new(1, 1, 1),
    )
    .unwrap();
    let router = service(state.clone());
    let request = |usecases: &[&str], ids: Vec<Vec<u8>>| {
        device_post(
            "/config",
            api::ConfigRequest {
                usecases: usecases.iter().map(|s| (*s).to_owned()).collect(),
                existing_config_ids: ids,
            }
            .encode_to_vec(),
        )
    };
    // Ids pair by request position: b is cached, a is not.
    let id = state
        .usecases
        .load()
        .latest("b.url.filtering")
        .map(|(id, _)| id.to_vec())
        .unwrap();
    let (status, bytes) = call(
        &router,
        request(&["a.url.filtering", "b.url.filtering"], vec![vec![], id]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = api::ConfigResponse::decode(bytes.as_slice()).unwrap();
    assert!(!response.configs["a.url.filtering"].reuse_existing_config);
    assert!(response.configs["b.url.filtering"].reuse_existing_config);
    assert_eq!(response.key_info.len(), 2);

    let (status, bytes) = call(&router, request(&["a.url.filtering", "zzz"], vec![])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        r#"{"error":{"message":"One or more usecases not found. Requested usecases: [\"a.url.filtering\", \"zzz\"].\nUsecases available on the server: [\"a.url.filtering\", \"b.url.filtering\"]."}}"#
    );
}

#[tokio::test]
async fn not_ready_until_every_usecase_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let admin = pir_server::admin_router(state.clone());
    let readyz = || Request::get("/readyz").body(Body::empty()).unwrap();
    assert_eq!(call(&admin, readyz()).await.0, StatusCode::OK);
    state.usecases.store(std::sync::Arc::new(
        pir_server::usecase_store::UsecaseStore::default(),
    ));
    assert_eq!(
        call(&admin, readyz()).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
