//! `/key` then `/queries` against Apple's transcript (pir-protocol.md §1.5, §1.6): the recorded
//! queries get Apple's responses byte for byte, computed by `pir::server::ShardServer` on the
//! memory-mapped `.bin`; Apple's truncated-half probe (a prefix that still decodes) gets what
//! Apple's running service answered; a query whose ciphertexts do not fit is a 400, and the
//! service keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use axum::http::StatusCode;
use common::*;
use pir::proto::api;
use prost::Message as _;

#[tokio::test]
async fn recorded_queries_get_apples_responses_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let router = service(state(dir.path()));
    let (status, _) = call(&router, device_post("/key", api("evaluation-keys.binpb"))).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = call(&router, device_post("/queries", api("requests.A.binpb"))).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, api("responses.A.binpb"));
    // Deterministic: the same body again gives the same bytes, as Apple's service does.
    let (_, again) = call(&router, device_post("/queries", api("requests.A.binpb"))).await;
    assert_eq!(again, body);

    let half = read(service_vectors().join("inputs/requests.A.truncated-half.bin"));
    let (status, body) = call(&router, device_post("/queries", half)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        read(service_vectors().join("responses/probe.queries.truncated-half.binpb"))
    );
}

#[tokio::test]
async fn inline_keys_work_and_mismatched_queries_are_400() {
    let dir = tempfile::tempdir().unwrap();
    let router = service(state(dir.path()));
    let keys =
        pir::proto::api_shared::EvaluationKeys::decode(api("evaluation-keys.binpb").as_slice())
            .unwrap();
    let mut requests = api::Requests::decode(api("requests.A.binpb").as_slice()).unwrap();
    // The key inline instead of uploaded: same answers.
    for request in &mut requests.requests {
        if let Some(api::request::Request::PirRequest(r)) = request.request.as_mut() {
            r.evaluation_key = keys.keys.first().cloned();
        }
    }
    let (status, body) = call(&router, device_post("/queries", requests.encode_to_vec())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, api("responses.A.binpb"));

    // One ciphertext dropped from the first query: the shard refuses it, typed, as a 400.
    if let Some(api::request::Request::PirRequest(r)) = requests.requests[0].request.as_mut() {
        r.query.as_mut().unwrap().ciphertexts.clear();
    }
    let (status, body) = call(&router, device_post("/queries", requests.encode_to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ciphertext"),
        "{json}"
    );
}
