//! The service over a real 127.0.0.1:0 socket (Apple's `/config` bytes, admin endpoints, a
//! reload), and load shedding: with the compute pool full, `/queries` gets 503 + `Retry-After`
//! at once and the service recovers when the computation ends. The PIR computation is replaced by
//! a responder the test holds open, since what is under test is the pool, not the arithmetic.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use std::sync::{Arc, Mutex, mpsc};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt as _;
use pir::proto::{api, he, pir as pir_proto};
use pir_server::compute_pool::ComputePool;
use pir_server::shard::{RespondError, Shard, ShardResponder};
use pir_server::usecase::{Layout, Usecase};
use pir_server::usecase_store::UsecaseStore;
use prost::Message as _;

type Client =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Body>;

fn client() -> Client {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

async fn over_socket(client: &Client, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = client.request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

#[tokio::test]
async fn config_admin_and_reload_over_a_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let service_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service_url = format!("http://{}", service_listener.local_addr().unwrap());
    let admin_url = format!("http://{}", admin_listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let serve = |listener, router, mut stop: tokio::sync::watch::Receiver<bool>| {
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        })
    };
    let service_task = serve(service_listener, service(state.clone()), stop_rx.clone());
    let admin_task = serve(admin_listener, pir_server::admin_router(state), stop_rx);
    let client = client();

    let request = post(&format!("{service_url}/config"))
        .body(Body::from(api("config-request.binpb")))
        .unwrap();
    assert_eq!(
        over_socket(&client, request).await,
        (StatusCode::OK, api("config-response.binpb"))
    );
    // Oversized by Content-Length: refused before the body is read, with a JSON error.
    let request = post(&format!("{service_url}/key"))
        .body(Body::from(vec![0u8; (10 << 20) + 1]))
        .unwrap();
    let (status, body) = over_socket(&client, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        br#"{"error":{"message":"Request body is larger than 10485760 bytes"}}"#
    );

    let get = |path: &str| {
        Request::get(format!("{admin_url}{path}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        over_socket(&client, get("/healthz")).await.0,
        StatusCode::OK
    );
    assert_eq!(over_socket(&client, get("/readyz")).await.0, StatusCode::OK);
    let (status, metrics) = over_socket(&client, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = String::from_utf8(metrics).unwrap();
    for line in [
        r#"pir_http_requests_total{endpoint="/config",status="200"} 1"#,
        r#"pir_http_requests_total{endpoint="/key",status="413"} 1"#,
        r#"pir_key_store_lookups_total{result="miss"} 1"#,
        "pir_compute_queue_depth 0",
        &format!(r#"pir_usecase_versions{{usecase="{USECASE}"}} 1"#),
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }
    assert!(metrics.contains("pir_http_request_duration_seconds_bucket"));
    let reload = Request::post(format!("{admin_url}/admin/reload"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = over_socket(&client, reload).await;
    assert_eq!(status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["versions"][USECASE], 1);

    stop_tx.send(true).unwrap();
    service_task.await.unwrap().unwrap();
    admin_task.await.unwrap().unwrap();
}

/// A computation that signals when it starts and finishes when the test says so.
struct Gate {
    started: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl ShardResponder for Gate {
    fn respond(
        &self,
        query: &pir_proto::EncryptedIndices,
        _key: &he::SerializedEvaluationKey,
    ) -> Result<Vec<he::SerializedCiphertextVec>, RespondError> {
        let _ = self.started.lock().unwrap().send(());
        let _ = self.release.lock().unwrap().recv();
        // One reply per query ciphertext, so the test can see whose answer it got.
        Ok(query
            .ciphertexts
            .iter()
            .map(|_| he::SerializedCiphertextVec::default())
            .collect())
    }
}

#[tokio::test]
async fn full_pool_answers_503_with_retry_after_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = state(dir.path());
    state.pool = ComputePool::new(1, 0, 7);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        started: Mutex::new(started_tx),
        release: Mutex::new(release_rx),
    });
    // The transcript's use case, with the gate as its shard's computation.
    let loaded = Usecase::load(
        &transcript(),
        &Layout::Apple {
            file_stem: "url".into(),
        },
    )
    .unwrap();
    let usecase = Usecase {
        shards: loaded
            .shards
            .iter()
            .map(|s| Shard {
                params: s.params.clone(),
                responder: gate.clone(),
            })
            .collect(),
        ..loaded
    };
    let mut store = UsecaseStore::default();
    store.insert(USECASE, usecase.config.config_id, Arc::new(usecase), 2);
    state.usecases.store(Arc::new(store));
    let router = service(state);
    let (status, _) = call(&router, device_post("/key", api("evaluation-keys.binpb"))).await;
    assert_eq!(status, StatusCode::OK);

    let first = {
        let router = router.clone();
        tokio::spawn(async move {
            call(&router, device_post("/queries", api("requests.A.binpb"))).await
        })
    };
    tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    let (status, response) = send(&router, device_post("/queries", api("requests.A.binpb"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(
        body(response).await,
        br#"{"error":{"message":"Server is busy; retry later"}}"#
    );

    // Release every computation of the first body (one per request in it).
    let requests = api::Requests::decode(api("requests.A.binpb").as_slice()).unwrap();
    for _ in 0..requests.requests.len() {
        release_tx.send(()).unwrap();
    }
    let (status, body) = first.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let responses = api::Responses::decode(body.as_slice()).unwrap();
    assert_eq!(responses.responses.len(), requests.requests.len());

    // Free again: the next body is computed (released ahead of time).
    for _ in 0..requests.requests.len() {
        release_tx.send(()).unwrap();
    }
    let (status, _) = call(&router, device_post("/queries", api("requests.A.binpb"))).await;
    assert_eq!(status, StatusCode::OK);
}
