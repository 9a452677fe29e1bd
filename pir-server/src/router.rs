//! The service's routers (pir-protocol.md §1.2; DESIGN.md practice 10): [`router`] for the
//! device-facing roles and [`admin_router`] for operators, each a plain value built from
//! [`AppState`]. Layers, outermost first: tracing (method, path, status, latency — never headers
//! or bodies), metrics, the body limit (413), and gzip on `/config` only.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate as _, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::api_error::ApiError;
use crate::endpoints::{admin, config, issuer, key, prefilter, queries, report};
use crate::metrics::{EndpointLabels, EndpointOnly};
use crate::state::AppState;

/// Which device-facing endpoints a listener serves (Apple wants one subdomain per role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// `/config`, `/key`, `/queries`, `/report`, `/prefilter`.
    Service,
    /// The Privacy Pass issuer endpoints.
    Issuer,
    /// Both on one listener.
    All,
}

/// Responses smaller than this go out uncompressed, as Apple's service does (its middleware's
/// threshold is 1 KiB).
const GZIP_MIN_BYTES: u16 = 1024;

fn service_routes() -> Router<AppState> {
    let gzip = CompressionLayer::new()
        .gzip(true)
        .no_br()
        .no_deflate()
        .no_zstd()
        .compress_when(
            SizeAbove::new(GZIP_MIN_BYTES)
                .and(tower_http::compression::predicate::NotForContentType::GRPC),
        );
    Router::new()
        .route("/config", post(config::config).layer(gzip))
        .route("/key", post(key::key))
        .route("/queries", post(queries::queries))
        .route("/report", post(report::report))
        .route("/prefilter", get(prefilter::prefilter))
}

fn issuer_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/private-token-issuer-directory",
            get(issuer::directory),
        )
        .route("/token-key-for-user-token", get(issuer::token_key))
        .route("/issue", post(issuer::issue))
}

/// The device-facing router for `role`.
pub fn router(state: AppState, role: Role) -> Router {
    let routes = match role {
        Role::Service => service_routes(),
        Role::Issuer => issuer_routes(),
        Role::All => service_routes().merge(issuer_routes()),
    };
    let limit = state.limits.max_body_bytes;
    routes
        // Apple's service answers a known path with the wrong method as an unknown route.
        .method_not_allowed_fallback(not_found)
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(middleware::map_response_with_state(
            limit,
            json_payload_too_large,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// The operator router: `/healthz`, `/readyz`, `/metrics`, `POST /admin/reload`.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/readyz", get(admin::readyz))
        .route("/metrics", get(admin::metrics))
        .route("/admin/reload", post(admin::reload))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The body-limit layer answers an oversized `Content-Length` with a bare 413; give it the same
/// JSON body as every other error.
async fn json_payload_too_large(State(limit): State<usize>, response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::PayloadTooLarge { limit }.into_response();
    }
    response
}

/// Counts the request and its latency under its route (not its raw path: no client data in
/// labels).
async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    state
        .metrics
        .requests
        .get_or_create(&EndpointLabels {
            endpoint: endpoint.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .request_seconds
        .get_or_create(&EndpointOnly { endpoint })
        .observe(elapsed);
    response
}
