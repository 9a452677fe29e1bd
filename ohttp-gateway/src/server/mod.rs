//! The gateway service (spec §1.3, §1.9, §6.2): the public router with the gateway and
//! key-configuration resources, the admin router, and what they share. Handlers are thin: the
//! OHTTP work is the library's ([`crate::gateway`]), forwarding is [`forward`]'s.

pub mod admin;
pub mod forward;
pub mod key_store;
pub mod key_store_file;
pub mod key_store_redis;
pub mod keyfile;
pub mod listen;
pub mod metrics;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt as _, Limited};

use crate::allow_list::AllowList;
use crate::codepoints::{MEDIA_OHTTP_KEYS, MEDIA_OHTTP_REQ, MEDIA_OHTTP_RES, PROBLEM_OHTTP_KEY};
use crate::error::{GatewayError, Wire};
use crate::gateway::open;
use crate::inner::{InnerRequest, InnerResponse};
use crate::keys::KeyRing;
use forward::{ForwardLimits, Forwarder};
use metrics::Metrics;

/// The RFC 9540 well-known gateway path: keys on GET, requests on POST.
pub const WELL_KNOWN_PATH: &str = "/.well-known/ohttp-gateway";
/// The key-configuration resource.
pub const KEYS_PATH: &str = "/ohttp-keys";

/// Limits on the outer exchange.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest Encapsulated Request accepted (above the biggest evaluation-key upload).
    pub max_request_bytes: usize,
    /// Deadline for receiving the request body.
    pub body_timeout: Duration,
    /// The forwarding client's limits.
    pub forward: ForwardLimits,
    /// Zero-pad every inner response (RFC 9292 §3.8) to a multiple of this many bytes, so
    /// Encapsulated Response lengths reveal only the bucket; `None`: no padding.
    pub response_pad_to: Option<NonZeroUsize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 12 << 20,
            body_timeout: Duration::from_secs(30),
            forward: ForwardLimits::default(),
            response_pad_to: None,
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct GatewayState {
    keys: RwLock<Arc<KeyRing>>,
    allow: AllowList,
    forwarder: Forwarder,
    limits: Limits,
    gateway_path: String,
    ready: AtomicBool,
    /// Counters for the admin listener.
    pub metrics: Metrics,
}

impl GatewayState {
    /// Builds the state. `gateway_path` is where requests are POSTed (`/` by default).
    pub fn new(
        keys: KeyRing,
        allow: AllowList,
        limits: Limits,
        gateway_path: &str,
    ) -> Result<Self, GatewayError> {
        if !gateway_path.starts_with('/') || gateway_path == KEYS_PATH {
            return Err(GatewayError::Config(format!(
                "gateway path {gateway_path:?} must start with / and differ from {KEYS_PATH}"
            )));
        }
        Ok(Self {
            keys: RwLock::new(Arc::new(keys)),
            forwarder: Forwarder::new(&allow, limits.forward.clone())?,
            allow,
            limits,
            gateway_path: gateway_path.to_owned(),
            ready: AtomicBool::new(false),
            metrics: Metrics::default(),
        })
    }

    /// The key ring in force.
    #[must_use]
    pub fn keys(&self) -> Arc<KeyRing> {
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replaces the key ring (rotation); requests in flight finish with the ring they started on.
    pub fn set_keys(&self, ring: KeyRing) {
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(ring);
    }

    /// Marks the gateway ready (after its listeners are bound) or not (while draining).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether `/readyz` says ready.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// The public router: gateway resource and key configuration resource.
pub fn router(state: Arc<GatewayState>) -> Router {
    let mut app = Router::new()
        .route(KEYS_PATH, get(keys_get))
        .route(WELL_KNOWN_PATH, get(keys_get).post(gateway_post));
    if state.gateway_path != WELL_KNOWN_PATH {
        app = app.route(&state.gateway_path, post(gateway_post));
    }
    app.method_not_allowed_fallback(|| async { GatewayError::MethodNotAllowed.into_response() })
        .with_state(state)
}

impl IntoResponse for GatewayError {
    /// The plaintext answer for errors found before decryption; generic bodies only.
    fn into_response(self) -> Response {
        match self.wire() {
            Wire::KeyProblem => (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/problem+json")],
                format!(r#"{{"type":"{PROBLEM_OHTTP_KEY}","title":"key identifier unknown"}}"#),
            )
                .into_response(),
            Wire::Plain(code) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
                (status, status.canonical_reason().unwrap_or("error")).into_response()
            }
            // Only reachable if an after-decryption error escaped without its reply context.
            Wire::Encrypted(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

async fn keys_get(State(state): State<Arc<GatewayState>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, MEDIA_OHTTP_KEYS),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        state.keys().encoded_configs(),
    )
        .into_response()
}

async fn gateway_post(
    State(state): State<Arc<GatewayState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let start = Instant::now();
    let (outcome, response) = match exchange(&state, &headers, body).await {
        Ok(done) => done,
        Err(e) => (e.outcome(), e.into_response()),
    };
    state.metrics.observe(outcome, start.elapsed());
    response
}

/// One OHTTP exchange; `Err` only for errors answered in plaintext.
async fn exchange(
    state: &GatewayState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(&'static str, Response), GatewayError> {
    let is_ohttp = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(MEDIA_OHTTP_REQ));
    if !is_ohttp {
        return Err(GatewayError::UnsupportedMediaType);
    }
    let limit = state.limits.max_request_bytes;
    let collected = tokio::time::timeout(
        state.limits.body_timeout,
        Limited::new(body, limit).collect(),
    )
    .await
    .map_err(|_| GatewayError::RequestTimeout)?
    .map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            GatewayError::RequestTooLarge { limit }
        } else {
            GatewayError::Malformed
        }
    })?
    .to_bytes();
    let ring = state.keys();
    let opened = open(&ring, &collected)?;
    state.metrics.key_used(opened.key_id);

    let (outcome, inner) = match route_and_forward(state, &opened.inner).await {
        Ok(response) => ("success", response),
        Err(e) => (e.outcome(), InnerResponse::status_only(e.inner_status())),
    };
    let sealed = opened
        .reply
        .seal_padded(&inner, state.limits.response_pad_to)?;
    let response = (
        [
            (header::CONTENT_TYPE, MEDIA_OHTTP_RES),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        sealed,
    )
        .into_response();
    Ok((outcome, response))
}

async fn route_and_forward(
    state: &GatewayState,
    inner: &[u8],
) -> Result<InnerResponse, GatewayError> {
    let request = InnerRequest::decode(inner)?;
    let upstream = state.allow.resolve(&request.authority)?;
    state.forwarder.forward(upstream, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plaintext_errors_map_to_their_status() {
        let table = [
            (GatewayError::MethodNotAllowed, 405),
            (GatewayError::UnsupportedMediaType, 415),
            (GatewayError::RequestTooLarge { limit: 1 }, 413),
            (GatewayError::RequestTimeout, 408),
            (GatewayError::Malformed, 400),
            (GatewayError::UnknownKey(3), 400),
            (GatewayError::UnsupportedSuite, 400),
            (GatewayError::DecryptFailed, 422),
            (GatewayError::Config("x".into()), 500),
            (GatewayError::Internal("x".into()), 500),
            (GatewayError::TargetForbidden, 500),
        ];
        for (error, status) in table {
            let problem = matches!(error.wire(), Wire::KeyProblem);
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            if problem {
                assert_eq!(content_type.unwrap(), "application/problem+json");
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(json["type"], PROBLEM_OHTTP_KEY);
            }
        }
    }
}
