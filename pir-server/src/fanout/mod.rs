//! `pir-server serve --role router` (issue #10 "Beyond one node"): a stateless front for a
//! database split over replica groups, each holding a slice of the shards. It serves the device
//! endpoints of pir-protocol.md §1.2 and forwards them:
//!
//! - `/queries` (§1.6): the body's requests are split by shard into one body per group (each
//!   request unchanged), sent to all groups concurrently, and the replies merged back into one
//!   `Responses` in request order.
//! - `/key` (§1.5): to every group (evaluation keys are read where queries are computed), or to
//!   one when `shared_key_store` says the groups share one Redis key store.
//! - `/config` (§1.4), `/report` (§1.7), `/prefilter`: to one group; every group serves the use
//!   case's whole config (all shards' params), so any one answers the same.
//!
//! Privacy Pass (§1.8): a token is single-use, so it cannot be redeemed by every group a body
//! fans out to. The router redeems it (the same `[auth]` and `[issuer_keys]` as a service) and
//! does not forward `Authorization`; the groups run with `[auth] enabled = false` on a network
//! only the router reaches.
//!
//! Statuses: a group's 4xx is the answer (the first in group order: the client must act on it,
//! e.g. refetch `/config` on 410); a group down after its retry gives 503 with `Retry-After`;
//! a group's 5xx after its retry is passed on.

pub mod metrics;
pub mod topology;
pub mod upstream;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pir::proto::api;
use prost::Message as _;
use tower_http::trace::TraceLayer;

use self::metrics::RouterMetrics;
pub use self::topology::{Topology, TopologyError};
use self::upstream::{Call, Outcome, Reply, Upstream};
use crate::api_error::ApiError;
use crate::extract::{ClientPlatform, Protobuf, UserIdentifier, body_bytes};
use crate::metrics::EndpointLabels;
use crate::server_config::RouterConfig;
use crate::state::Limits;
use crate::token_auth::TokenAuth;

/// The router's state.
#[derive(Debug, Clone)]
pub struct Fanout(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    topology: Topology,
    upstream: Upstream,
    auth: Option<Arc<TokenAuth>>,
    limits: Limits,
    shared_key_store: bool,
    retry_after_secs: u64,
    metrics: RouterMetrics,
}

impl Fanout {
    /// A router for `config`; `auth` `None` forwards without token checks (local testing only).
    ///
    /// # Errors
    /// [`TopologyError`] for a section that cannot work.
    pub fn new(
        config: &RouterConfig,
        auth: Option<Arc<TokenAuth>>,
        limits: Limits,
    ) -> Result<Self, TopologyError> {
        let topology = Topology::from_config(config)?;
        let metrics = RouterMetrics::default();
        Ok(Self(Arc::new(Inner {
            topology,
            upstream: Upstream::new(
                Duration::from_millis(config.group_timeout_ms),
                config.http2,
                metrics.clone(),
            ),
            auth,
            limits,
            shared_key_store: config.shared_key_store,
            retry_after_secs: config.retry_after_secs,
            metrics,
        })))
    }

    /// Makes every `(group, call)` concurrently; outcomes in the same order.
    async fn call_groups(&self, calls: Vec<(usize, Call)>) -> Vec<Outcome> {
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|(group, call)| {
                let this = self.clone();
                tokio::spawn(async move {
                    let group = &this.0.topology.groups[group];
                    this.0.upstream.call_group(group, &call).await
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            outcomes.push(
                task.await
                    .unwrap_or_else(|e| Outcome::Down(format!("call task failed: {e}"))),
            );
        }
        outcomes
    }

    /// One call to one group, trying the next group when a whole group is down or fails (for
    /// the endpoints any group answers).
    async fn call_any(&self, call: Call) -> Response {
        let mut last = Outcome::Down(String::new());
        for group in &self.0.topology.groups {
            last = self.0.upstream.call_group(group, &call).await;
            if matches!(&last, Outcome::Answered(r) if !r.status.is_server_error()) {
                break;
            }
        }
        match last {
            Outcome::Answered(reply) => passthrough(reply),
            Outcome::Down(_) => self.unavailable().into_response(),
        }
    }

    fn unavailable(&self) -> ApiError {
        ApiError::Busy {
            retry_after_secs: self.0.retry_after_secs,
        }
    }

    /// The successful replies, in order, or the one response the device gets instead: the first
    /// 4xx, else 503 when a group is down, else the first 5xx.
    fn combine(&self, outcomes: Vec<Outcome>) -> Combined {
        let status = |o: &Outcome| match o {
            Outcome::Answered(r) => Some(r.status),
            Outcome::Down(_) => None,
        };
        if let Some(i) = outcomes
            .iter()
            .position(|o| status(o).is_some_and(|s| s.is_client_error()))
        {
            return Combined::Respond(answer(outcomes, i));
        }
        if outcomes.iter().any(|o| matches!(o, Outcome::Down(_))) {
            return Combined::Respond(self.unavailable().into_response());
        }
        if let Some(i) = outcomes
            .iter()
            .position(|o| status(o).is_some_and(|s| !s.is_success()))
        {
            return Combined::Respond(answer(outcomes, i));
        }
        Combined::Replies(
            outcomes
                .into_iter()
                .filter_map(|o| match o {
                    Outcome::Answered(r) => Some(r),
                    Outcome::Down(_) => None,
                })
                .collect(),
        )
    }
}

/// What the groups' outcomes of one device request come to.
enum Combined {
    /// Every group answered 2xx: their replies, in call order.
    Replies(Vec<Reply>),
    /// What the device gets instead.
    Respond(Response),
}

/// The `i`-th outcome as the device's response (it is an answer: the callers checked).
fn answer(outcomes: Vec<Outcome>, i: usize) -> Response {
    match outcomes.into_iter().nth(i) {
        Some(Outcome::Answered(reply)) => passthrough(reply),
        _ => ApiError::Internal("no answer to pass on".into()).into_response(),
    }
}

/// A group's answer as is: status, the forwarded headers, body.
fn passthrough(reply: Reply) -> Response {
    let mut response = (reply.status, reply.body).into_response();
    response.headers_mut().extend(reply.headers);
    response
}

/// The token check, before every other check as in the service (§1.2).
struct Redeemed;

impl FromRequestParts<Fanout> for Redeemed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Fanout) -> Result<Self, ApiError> {
        match &state.0.auth {
            None => Ok(Self),
            Some(auth) => auth
                .redeem(parts.headers.get(AUTHORIZATION))
                .await
                .map(|_| Self),
        }
    }
}

/// The device-facing router of `--role router`.
pub fn router(state: Fanout) -> Router {
    Router::new()
        .route("/config", post(config))
        .route("/key", post(key))
        .route("/queries", post(queries))
        .route("/report", post(report))
        .route("/prefilter", get(prefilter))
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The router's admin listener: `/healthz` and `/readyz` (it holds no state, so it is ready as
/// soon as it listens; each group's readiness is its own probe's business) and `/metrics`.
pub fn admin_router(state: Fanout) -> Router {
    Router::new()
        .route("/healthz", get(|| async { StatusCode::OK }))
        .route("/readyz", get(|| async { StatusCode::OK }))
        .route("/metrics", get(render_metrics))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn render_metrics(State(state): State<Fanout>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.0.metrics.render(),
    )
        .into_response()
}

/// Counts each device answer under its route (never the raw path: no client data in labels).
async fn record(State(state): State<Fanout>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state
        .0
        .metrics
        .requests
        .get_or_create(&EndpointLabels {
            endpoint,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

async fn read_body(state: &Fanout, request: Request) -> Result<(HeaderMap, Bytes), ApiError> {
    let headers = request.headers().clone();
    let body = body_bytes(request, state.0.limits.max_body_bytes).await?;
    Ok((headers, body))
}

async fn config(
    State(state): State<Fanout>,
    _auth: Redeemed,
    _user: UserIdentifier,
    _platform: ClientPlatform,
    request: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = read_body(&state, request).await?;
    Ok(state
        .call_any(Call::new(Method::POST, "/config".into(), &headers, body))
        .await)
}

async fn report(
    State(state): State<Fanout>,
    _auth: Redeemed,
    request: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = read_body(&state, request).await?;
    Ok(state
        .call_any(Call::new(Method::POST, "/report".into(), &headers, body))
        .await)
}

async fn prefilter(State(state): State<Fanout>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/prefilter".to_owned(), |p| p.as_str().to_owned());
    let call = Call::new(Method::GET, path, request.headers(), Bytes::new());
    state.call_any(call).await
}

async fn key(
    State(state): State<Fanout>,
    _auth: Redeemed,
    _user: UserIdentifier,
    _platform: ClientPlatform,
    request: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = read_body(&state, request).await?;
    let call = Call::new(Method::POST, "/key".into(), &headers, body);
    if state.0.shared_key_store {
        return Ok(state.call_any(call).await);
    }
    let calls = (0..state.0.topology.groups.len())
        .map(|g| (g, call.clone()))
        .collect();
    let outcomes = state.call_groups(calls).await;
    Ok(match state.combine(outcomes) {
        Combined::Replies(mut replies) => replies
            .pop()
            .map_or_else(|| StatusCode::OK.into_response(), passthrough),
        Combined::Respond(response) => response,
    })
}

async fn queries(
    State(state): State<Fanout>,
    _auth: Redeemed,
    _user: UserIdentifier,
    _platform: ClientPlatform,
    request: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = read_body(&state, request).await?;
    let requests = api::Requests::decode(body)
        .map_err(|e| ApiError::BadRequest(format!("Malformed protobuf body: {e}")))?;
    let total = requests.requests.len();
    let max = state.0.limits.max_requests_per_body;
    if total > max {
        return Err(ApiError::TooManyRequests { got: total, max });
    }
    if total == 0 {
        return Ok(Protobuf(api::Responses::default()).into_response());
    }
    let parts = state.0.topology.split(requests.requests);
    let calls = parts
        .iter()
        .map(|p| {
            let body = Bytes::from(p.body.encode_to_vec());
            (
                p.group,
                Call::new(Method::POST, "/queries".into(), &headers, body),
            )
        })
        .collect();
    let outcomes = state.call_groups(calls).await;
    let replies = match state.combine(outcomes) {
        Combined::Replies(replies) => replies,
        Combined::Respond(response) => return Ok(response),
    };
    let mut decoded = Vec::with_capacity(parts.len());
    for (part, reply) in parts.into_iter().zip(replies) {
        let responses = api::Responses::decode(reply.body).map_err(|e| {
            ApiError::Internal(format!(
                "group {} answered an undecodable body: {e}",
                state.0.topology.groups[part.group].name
            ))
        })?;
        decoded.push((part.positions, responses));
    }
    let merged = topology::merge(total, decoded).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Protobuf(merged).into_response())
}
