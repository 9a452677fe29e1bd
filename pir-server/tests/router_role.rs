//! `--role router` end to end (issue #10 "Beyond one node"): a 4-shard use case built with
//! `pir::process`, two replica groups on 127.0.0.1 each able to answer only its half of the
//! shards, the router in front, and a device-side `KeywordPirClient`. Results through the router
//! must equal those of one server holding every shard; a group's replica down is retried on the
//! other, a whole group down gives 503, a group's 4xx is the answer, and the router (not the
//! groups) redeems the Privacy Pass token, once per body however many groups it reaches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{UA_MODERN, USER, embedded_keys};
use he::rng::NistAes128Ctr;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pir::client::{KeywordPirClient, SecretKey};
use pir::evaluation_key::EvaluationKeyConfig;
use pir::keyword_database::KeywordValuePair;
use pir::process::process;
use pir::process_config::ProcessConfig;
use pir::proto::{api, api_shared, he as he_proto, pir as pir_proto};
use pir_server::compute_pool::ComputePool;
use pir_server::fanout::{self, Fanout};
use pir_server::issuer_state::{IssuerKeys, IssuerState, issuer_from};
use pir_server::key_store::system_clock;
use pir_server::server_config::{GroupConfig, RouterConfig};
use pir_server::shard::{RespondError, Shard, ShardResponder};
use pir_server::token_auth::{NonceBackend, TokenAuth};
use pir_server::usecase::{Layout, Usecase};
use pir_server::usecase_loader::UsecaseSource;
use pir_server::usecase_store::UsecaseStore;
use pir_server::{AppState, Limits, Role};
use privacy_pass::{
    HashedUserTokens, MemoryNonceStore, PublicKey, Tier, TokenChallenge, begin_token,
    format_private_token, rand_core::UnwrapErr,
};
use prost::Message as _;
use rand::SeedableRng as _;
use tower::ServiceExt as _;

const USECASE: &str = "com.example.split.url.filtering";
const SHARDS: usize = 4;
const ROWS: usize = 48;

fn keyword(i: usize) -> Vec<u8> {
    format!("site-{i}.example/path").into_bytes()
}

fn value(i: usize) -> Vec<u8> {
    format!("value {i}").into_bytes()
}

/// A 4-shard version directory as `pir-server build` writes it (native layout).
fn build_database(root: &Path) -> PathBuf {
    let rows = (0..ROWS)
        .map(|i| KeywordValuePair {
            keyword: keyword(i),
            value: value(i),
        })
        .collect();
    let config = ProcessConfig::from_json(
        &serde_json::json!({
            "inputDatabase": "",
            "outputDatabase": "url-SHARD_ID.bin",
            "outputPirParameters": "url-SHARD_ID.params.txtpb",
            "rlweParameters": "n_4096_logq_27_28_28_logt_5",
            "databaseType": "keyword",
            "sharding": { "shardCount": SHARDS },
        })
        .to_string(),
    )
    .unwrap();
    let database = process(
        rows,
        &config,
        &mut rand::rngs::StdRng::seed_from_u64(10),
        &|_| {},
    )
    .unwrap();
    assert_eq!(database.shards.len(), SHARDS);
    let dir = root.join("db");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, shard) in database.shards.iter().enumerate() {
        std::fs::write(
            dir.join(format!("shard-{i}.pirdb")),
            pir::processed_file::write(shard).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("shard-{i}.params.binpb")),
            shard.parameters().encode_to_vec(),
        )
        .unwrap();
    }
    dir
}

/// Stands in for a shard a group does not hold: a request routed to the wrong group fails.
struct NotHeld;

impl ShardResponder for NotHeld {
    fn respond(
        &self,
        _: &pir_proto::EncryptedIndices,
        _: &he_proto::SerializedEvaluationKey,
    ) -> Result<Vec<he_proto::SerializedCiphertextVec>, RespondError> {
        Err(RespondError::BadInput(
            "shard not held by this group".into(),
        ))
    }
}

/// A service (no auth) over `db` answering only the shards in `held`; it still serves the whole
/// config, as a group loading every params file does.
fn service_state(db: &Path, keys: &Path, held: std::ops::Range<usize>) -> AppState {
    let source = UsecaseSource {
        name: USECASE.into(),
        directory: db.to_owned(),
        layout: Layout::Native,
        versions: 2,
    };
    let state = AppState::new(
        vec![source],
        embedded_keys(keys),
        ComputePool::new(2, 16, 1),
    )
    .unwrap();
    let full = Usecase::load(db, &Layout::Native).unwrap();
    let shards = full
        .shards
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            if held.contains(&i) {
                s
            } else {
                Shard {
                    params: s.params,
                    responder: Arc::new(NotHeld),
                }
            }
        })
        .collect();
    let config_id = full.config.config_id;
    let usecase = Usecase { shards, ..full };
    let mut store = UsecaseStore::default();
    store.insert(USECASE, config_id, Arc::new(usecase), 2);
    state.usecases.store(Arc::new(store));
    state
}

async fn listen(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// An address nothing listens on (bound, then closed).
async fn dead_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

fn router_config(groups: &[(&[SocketAddr], &str)], http2: bool) -> RouterConfig {
    RouterConfig {
        group_timeout_ms: 30_000,
        shared_key_store: false,
        http2,
        retry_after_secs: 2,
        groups: groups
            .iter()
            .enumerate()
            .map(|(i, (replicas, shards))| GroupConfig {
                name: format!("g{i}"),
                replicas: replicas.iter().map(|a| format!("http://{a}")).collect(),
                shards: BTreeMap::from([(USECASE.to_owned(), (*shards).to_owned())]),
            })
            .collect(),
    }
}

async fn router(config: &RouterConfig) -> SocketAddr {
    router_with_auth(config, None).await
}

async fn router_with_auth(config: &RouterConfig, auth: Option<Arc<TokenAuth>>) -> SocketAddr {
    let fanout = Fanout::new(config, auth, Limits::default()).unwrap();
    listen(fanout::router(fanout)).await
}

struct Http(Client<HttpConnector, Full<Bytes>>);

impl Http {
    fn new() -> Self {
        Self(Client::builder(TokioExecutor::new()).build_http())
    }

    async fn post(
        &self,
        addr: SocketAddr,
        path: &str,
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        self.post_as(addr, path, body, None).await
    }

    async fn post_as(
        &self,
        addr: SocketAddr,
        path: &str,
        body: Vec<u8>,
        authorization: Option<&str>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = Request::post(format!("http://{addr}{path}"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let request = request
            .header("User-Identifier", USER)
            .header("User-Agent", UA_MODERN)
            .header("Content-Type", "application/octet-stream")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = self.0.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }
}

/// The device: config, secret key, uploaded evaluation key, queries.
struct Device {
    client: KeywordPirClient,
    config_id: Vec<u8>,
    metadata: api_shared::EvaluationKeyMetadata,
    upload: Vec<u8>,
}

impl Device {
    async fn new(http: &Http, service: SocketAddr) -> Self {
        let request = api::ConfigRequest {
            usecases: vec![USECASE.into()],
            existing_config_ids: vec![],
        };
        let (status, _, body) = http.post(service, "/config", request.encode_to_vec()).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        let response = api::ConfigResponse::decode(body).unwrap();
        let config = &response.configs[USECASE];
        let Some(api::config::Config::PirConfig(pir_config)) = &config.config else {
            panic!("no PIR config");
        };
        let key_config = response.key_info[0].key_config.clone().unwrap();
        let secret = SecretKey::generate(
            pir_config.encryption_parameters.as_ref().unwrap(),
            &mut NistAes128Ctr::new(&[1; 32]),
        )
        .unwrap();
        let evaluation_key = secret
            .evaluation_key(
                &EvaluationKeyConfig::from_proto(&key_config),
                &mut NistAes128Ctr::new(&[2; 32]),
            )
            .unwrap();
        let metadata = api_shared::EvaluationKeyMetadata {
            timestamp: 1_700_000_000,
            identifier: pir_config.evaluation_key_config_hash.clone(),
        };
        let upload = api_shared::EvaluationKeys {
            keys: vec![api_shared::EvaluationKey {
                metadata: Some(metadata.clone()),
                evaluation_key: Some(evaluation_key),
            }],
        }
        .encode_to_vec();
        Self {
            client: KeywordPirClient::from_pir_config(pir_config, secret).unwrap(),
            config_id: config.config_id.clone(),
            metadata,
            upload,
        }
    }

    fn request(&self, keyword: &[u8], seed: u8, config_id: &[u8]) -> api::Request {
        let query = self
            .client
            .query(keyword, &mut NistAes128Ctr::new(&[seed; 32]))
            .unwrap();
        api::Request {
            usecase: USECASE.into(),
            request: Some(api::request::Request::PirRequest(
                query
                    .to_pir_request(self.metadata.clone(), config_id)
                    .unwrap(),
            )),
        }
    }

    fn body(&self, keywords: &[Vec<u8>]) -> Vec<u8> {
        api::Requests {
            requests: keywords
                .iter()
                .enumerate()
                .map(|(i, k)| self.request(k, 10 + i as u8, &self.config_id))
                .collect(),
        }
        .encode_to_vec()
    }

    fn decrypt(&self, keywords: &[Vec<u8>], body: Bytes) -> Vec<Option<Vec<u8>>> {
        let responses = api::Responses::decode(body).unwrap();
        assert_eq!(responses.responses.len(), keywords.len());
        keywords
            .iter()
            .zip(&responses.responses)
            .map(|(k, r)| {
                let Some(api::response::Response::PirResponse(p)) = &r.response else {
                    panic!("not a PIR response");
                };
                self.client.decrypt(k, p).unwrap()
            })
            .collect()
    }
}

fn message(body: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    json["error"]["message"].as_str().unwrap().to_owned()
}

/// The deployment every test uses: one server with all shards, group 0 answering shards 0–1,
/// group 1 answering shards 2–3.
struct Split {
    _dir: tempfile::TempDir,
    full: SocketAddr,
    group0: SocketAddr,
    group1: SocketAddr,
}

async fn split() -> Split {
    let dir = tempfile::tempdir().unwrap();
    let db = build_database(dir.path());
    let full = listen(pir_server::router(
        service_state(&db, &dir.path().join("keys-full"), 0..SHARDS),
        Role::Service,
    ))
    .await;
    let group0 = listen(pir_server::router(
        service_state(&db, &dir.path().join("keys-g0"), 0..2),
        Role::Service,
    ))
    .await;
    let group1 = listen(pir_server::router(
        service_state(&db, &dir.path().join("keys-g1"), 2..SHARDS),
        Role::Service,
    ))
    .await;
    Split {
        _dir: dir,
        full,
        group0,
        group1,
    }
}

/// Present and absent keywords of every shard, interleaved so consecutive requests go to
/// different groups and each group gets several.
fn keywords(client: &KeywordPirClient) -> (Vec<Vec<u8>>, Vec<Option<Vec<u8>>>) {
    type Lookup = (Vec<u8>, Option<Vec<u8>>);
    let mut by_shard: Vec<Vec<Lookup>> = vec![Vec::new(); SHARDS];
    for i in 0..ROWS {
        let k = keyword(i);
        let s = client.shard_index(&k).unwrap();
        if by_shard[s].len() < 2 {
            by_shard[s].push((k, Some(value(i))));
        }
    }
    for i in ROWS..ROWS + 200 {
        let k = keyword(i);
        let s = client.shard_index(&k).unwrap();
        if by_shard[s].len() < 3 {
            by_shard[s].push((k, None));
        }
    }
    assert!(by_shard.iter().all(|s| s.len() == 3), "every shard covered");
    let mut rounds: Vec<_> = by_shard.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    for _ in 0..3 {
        for shard in [0, 2, 1, 3] {
            out.extend(rounds[shard].next());
        }
    }
    out.into_iter().unzip()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_results_equal_one_server_in_request_order() {
    let s = split().await;
    let http = Http::new();
    for http2 in [false, true] {
        let front = router(&router_config(
            &[(&[s.group0], "0-1"), (&[s.group1], "2-3")],
            http2,
        ))
        .await;
        let device = Device::new(&http, front).await;
        let direct = Device::new(&http, s.full).await;
        assert_eq!(
            device.config_id, direct.config_id,
            "any group answers the whole config"
        );

        // The key goes to both groups through the router, and to the single server.
        let (status, _, _) = http.post(front, "/key", device.upload.clone()).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = http.post(s.full, "/key", device.upload.clone()).await;
        assert_eq!(status, StatusCode::OK);

        let (keywords, expected) = keywords(&device.client);
        let body = device.body(&keywords);
        let (status, _, routed) = http.post(front, "/queries", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{routed:?}");
        let (status, _, single) = http.post(s.full, "/queries", body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            device.decrypt(&keywords, routed.clone()),
            expected,
            "http2 {http2}"
        );
        assert_eq!(device.decrypt(&keywords, single.clone()), expected);
        assert_eq!(routed, single, "the same bytes as one server");

        // A body for one group only reaches that group.
        let one = vec![keywords[1].clone(), keywords[3].clone()];
        let (status, _, routed) = http.post(front, "/queries", device.body(&one)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            device.decrypt(&one, routed),
            vec![expected[1].clone(), expected[3].clone()]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replica_is_retried_and_a_dead_group_is_503() {
    let s = split().await;
    let http = Http::new();
    let dead = dead_addr().await;
    // Group 1's first replica refuses connections; every call must land on the second.
    let fanout = Fanout::new(
        &router_config(&[(&[s.group0], "0-1"), (&[dead, s.group1], "2-3")], false),
        None,
        Limits::default(),
    )
    .unwrap();
    let front = listen(fanout::router(fanout.clone())).await;
    let admin = fanout::admin_router(fanout);
    let device = Device::new(&http, front).await;
    for _ in 0..2 {
        let (status, _, _) = http.post(front, "/key", device.upload.clone()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (keywords, expected) = keywords(&device.client);
    for _ in 0..3 {
        let (status, _, routed) = http.post(front, "/queries", device.body(&keywords)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(device.decrypt(&keywords, routed), expected);
    }
    let metrics = admin
        .oneshot(
            Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let metrics = metrics.into_body().collect().await.unwrap().to_bytes();
    let metrics = String::from_utf8_lossy(&metrics);
    for line in [
        r#"pir_router_group_attempts_total{group="g1",result="unreachable"}"#,
        r#"pir_router_group_attempts_total{group="g1",result="ok"}"#,
        r#"pir_router_http_requests_total{endpoint="/queries",status="200"} 3"#,
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // Group 1 entirely down: its shards' requests get 503 + Retry-After; group 0's still work.
    let front = router(&router_config(
        &[(&[s.group0], "0-1"), (&[dead], "2-3")],
        false,
    ))
    .await;
    let (status, headers, body) = http.post(front, "/queries", device.body(&keywords)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body:?}");
    assert_eq!(headers["retry-after"], "2");
    let (status, _, _) = http.post(front, "/key", device.upload.clone()).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a key must reach every group"
    );
    let group0_only: Vec<Vec<u8>> = keywords
        .iter()
        .filter(|k| device.client.shard_index(k).unwrap() < 2)
        .cloned()
        .collect();
    let (status, _, routed) = http
        .post(front, "/queries", device.body(&group0_only))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        device
            .decrypt(&group0_only, routed)
            .iter()
            .any(Option::is_some)
    );
    // /config is answered by any group that is up.
    let front = router(&router_config(
        &[(&[dead], "0-1"), (&[s.group1], "2-3")],
        false,
    ))
    .await;
    let (status, _, _) = http
        .post(
            front,
            "/config",
            api::ConfigRequest::default().encode_to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groups_4xx_is_the_answer() {
    let s = split().await;
    let http = Http::new();
    let front = router(&router_config(
        &[(&[s.group0], "0-1"), (&[s.group1], "2-3")],
        false,
    ))
    .await;
    let device = Device::new(&http, front).await;

    // No key uploaded yet: Apple's 400, from whichever group.
    let (keywords, _) = keywords(&device.client);
    let (status, _, body) = http.post(front, "/queries", device.body(&keywords)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&body), "Evaluation key not found");
    let (status, _, _) = http.post(front, "/key", device.upload.clone()).await;
    assert_eq!(status, StatusCode::OK);

    // Group 1's request names a dropped config: the device must see 410 and refetch.
    let group1_kw = keywords
        .iter()
        .find(|k| device.client.shard_index(k).unwrap() >= 2)
        .unwrap();
    let body = api::Requests {
        requests: vec![
            device.request(&keywords[0], 1, &device.config_id),
            device.request(group1_kw, 2, &[7; 32]),
        ],
    };
    let (status, _, body) = http.post(front, "/queries", body.encode_to_vec()).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(message(&body).starts_with("Configuration id:"), "{body:?}");

    // A shard no group holds goes to the use case's first group, which bounds-checks it.
    let mut request = device.request(&keywords[0], 3, &device.config_id);
    if let Some(api::request::Request::PirRequest(r)) = &mut request.request {
        r.shard_index = 9;
    }
    let body = api::Requests {
        requests: vec![request],
    };
    let (status, _, body) = http.post(front, "/queries", body.encode_to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&body),
        format!("Shard index 9 out of range: usecase {USECASE} has {SHARDS} shards.")
    );

    // The router's own checks: headers before the body, as the service orders them.
    let (status, _, body) = http.post(front, "/queries", vec![0xff, 0xff]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).starts_with("Malformed protobuf body"));
    let request = Request::post(format!("http://{front}/queries"))
        .header("User-Agent", UA_MODERN)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = http.0.request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(message(&body), "Missing 'User-Identifier' header");
}

/// An issuer (oneshot router) and the verifier of its keys, as `--role router` builds it.
async fn issuer_and_auth(dir: &Path) -> (axum::Router, Arc<TokenAuth>) {
    let keys = IssuerKeys::file(dir.join("issuer-keys.json")).unwrap();
    let set = keys
        .open_or_create(&[Tier::from("tier1")], 1_767_225_600)
        .await
        .unwrap();
    let users = HashedUserTokens::from_json(&format!(
        r#"{{"user-tokens":[{{"sha256":"{}","tier":"tier1"}}]}}"#,
        hex::encode(HashedUserTokens::hash("AAAA"))
    ))
    .unwrap();
    let mut state = service_state(&build_database(dir), &dir.join("keys-issuer"), 0..SHARDS);
    state.issuer = Some(Arc::new(IssuerState {
        issuer: issuer_from(&set).unwrap(),
        users,
        request_uri: "/issue".into(),
    }));
    let auth = Arc::new(TokenAuth::new(
        keys.verifier_keys().await.unwrap(),
        NonceBackend::Memory(MemoryNonceStore::new()),
        3600,
        system_clock(),
    ));
    (pir_server::router(state, Role::Issuer), auth)
}

/// One fresh `Authorization: PrivateToken ...` value from `issuer`.
async fn token(issuer: &axum::Router) -> String {
    let bytes = |r: axum::response::Response| async move {
        r.into_body().collect().await.unwrap().to_bytes()
    };
    let spki = issuer
        .clone()
        .oneshot(
            Request::get("/token-key-for-user-token")
                .header("Authorization", "Bearer AAAA")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let key = PublicKey::from_spki(&bytes(spki).await).unwrap();
    let mut rng = UnwrapErr(privacy_pass::SysRng);
    let (request, pending) =
        begin_token(&mut rng, &key, &TokenChallenge::apple("issuer.example.net")).unwrap();
    let response = issuer
        .clone()
        .oneshot(
            Request::post("/issue")
                .header("Authorization", "Bearer AAAA")
                .header("Content-Type", "application/private-token-request")
                .body(axum::body::Body::from(request.encode()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    format_private_token(&pending.finish(&bytes(response).await).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_redeems_each_token_once_for_all_groups() {
    let s = split().await;
    let http = Http::new();
    let issuer_dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = issuer_and_auth(issuer_dir.path()).await;
    let front = router_with_auth(
        &router_config(&[(&[s.group0], "0-1"), (&[s.group1], "2-3")], false),
        Some(auth),
    )
    .await;
    // The device against the groups' own config (they run without auth), then via the router.
    let device = Device::new(&http, s.group0).await;
    let (status, _, body) = http.post(front, "/key", device.upload.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&body), "No private token");

    let key_token = token(&issuer).await;
    let (status, _, _) = http
        .post_as(front, "/key", device.upload.clone(), Some(&key_token))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "one token stores the key in both groups"
    );

    let (keywords, expected) = keywords(&device.client);
    let query_token = token(&issuer).await;
    let (status, _, routed) = http
        .post_as(
            front,
            "/queries",
            device.body(&keywords),
            Some(&query_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{routed:?}");
    assert_eq!(device.decrypt(&keywords, routed), expected);

    let (status, _, body) = http
        .post_as(
            front,
            "/queries",
            device.body(&keywords),
            Some(&query_token),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a spent token");
    assert_eq!(message(&body), "Token did not pass verification");
}

#[test]
fn serve_role_router_checks_its_section_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let run = |toml: &str| {
        let path = dir.path().join("router.toml");
        std::fs::write(&path, toml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pir-server"))
            .args(["serve", "--role", "router", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let overlap = r#"
[router]
[[router.group]]
name = "a"
replicas = ["http://127.0.0.1:1"]
shards = { "u" = "0-4" }
[[router.group]]
name = "b"
replicas = ["http://127.0.0.1:2"]
shards = { "u" = "4-7" }
"#;
    let (code, stderr) = run(overlap);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("shard 4 is held by both group a and group b"),
        "{stderr}"
    );

    let (code, stderr) = run("[auth]\nenabled = false\n");
    assert_eq!(code, Some(3), "no [router], no [[usecase]]: {stderr}");
}
