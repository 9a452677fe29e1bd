//! The admin listener's endpoints (loopback by default): liveness, readiness (every configured
//! use case served), Prometheus metrics, and hot reload of use-case versions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "loading\n").into_response()
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    state
        .metrics
        .compute_queue_depth
        .set(i64::try_from(state.pool.queue_depth()).unwrap_or(i64::MAX));
    state
        .metrics
        .compute_in_flight
        .set(i64::try_from(state.pool.in_flight()).unwrap_or(i64::MAX));
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `POST /admin/reload`: re-reads every use-case directory; answers the versions now served.
pub async fn reload(State(state): State<AppState>) -> Response {
    match state.reload().await {
        Ok(()) => {
            let store = state.usecases.load();
            let versions: serde_json::Map<String, serde_json::Value> = store
                .names()
                .map(|n| (n.to_owned(), store.version_count(n).into()))
                .collect();
            (
                StatusCode::OK,
                Json(serde_json::json!({ "versions": versions })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reload failed; still serving the previous versions");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": { "message": e.to_string() } })),
            )
                .into_response()
        }
    }
}
