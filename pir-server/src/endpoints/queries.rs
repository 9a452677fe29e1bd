//! `POST /queries` (pir-protocol.md §1.6): one `Response` per `Request`, in order. Every request is
//! resolved first (evaluation key, use-case version, shard), then the PIR computations of the
//! whole body run as one job on the bounded compute pool.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use pir::proto::{api, api_pir, api_shared, he, pir as pir_proto};
use prost::Message as _;

use crate::api_error::ApiError;
use crate::extract::{Authorized, ClientPlatform, Protobuf, UserIdentifier};
use crate::key_store::key_name;
use crate::metrics::UsecaseLabels;
use crate::shard::{RespondError, ShardResponder};
use crate::state::AppState;
use crate::usecase_store::Lookup;

/// One PIR computation, ready to run.
struct Job {
    usecase: String,
    responder: Arc<dyn ShardResponder>,
    query: pir_proto::EncryptedIndices,
    key: he::SerializedEvaluationKey,
}

pub async fn queries(
    State(state): State<AppState>,
    _auth: Authorized,
    UserIdentifier(user): UserIdentifier,
    _platform: ClientPlatform,
    Protobuf(requests): Protobuf<api::Requests>,
) -> Result<Protobuf<api::Responses>, ApiError> {
    let max = state.limits.max_requests_per_body;
    if requests.requests.len() > max {
        return Err(ApiError::TooManyRequests {
            got: requests.requests.len(),
            max,
        });
    }
    let mut jobs = Vec::with_capacity(requests.requests.len());
    for request in requests.requests {
        jobs.push(resolve(&state, &user, request).await?);
    }
    if jobs.is_empty() {
        return Ok(Protobuf(api::Responses::default()));
    }
    let metrics = state.metrics.clone();
    let pool = state.pool.clone();
    let result = pool
        .run(move || {
            let mut responses = Vec::with_capacity(jobs.len());
            for job in jobs {
                let started = Instant::now();
                let replies = job.responder.respond(&job.query, &job.key);
                let labels = UsecaseLabels {
                    usecase: job.usecase,
                };
                metrics.pir_requests.get_or_create(&labels).inc();
                metrics
                    .pir_compute_seconds
                    .get_or_create(&labels)
                    .observe(started.elapsed().as_secs_f64());
                responses.push(api::Response {
                    response: Some(api::response::Response::PirResponse(api_pir::PirResponse {
                        replies: replies?,
                        stash: None,
                    })),
                });
            }
            Ok::<_, RespondError>(responses)
        })
        .await;
    let responses = match result {
        Ok(Ok(responses)) => responses,
        Ok(Err(RespondError::BadInput(message))) => return Err(ApiError::BadRequest(message)),
        Ok(Err(e @ RespondError::Internal(_))) => return Err(ApiError::Internal(e.to_string())),
        Err(e @ ApiError::Busy { .. }) => {
            state.metrics.compute_rejected.inc();
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    Ok(Protobuf(api::Responses { responses }))
}

/// Finds the key, the version and the shard one request names, in Apple's order of checks.
async fn resolve(state: &AppState, user: &str, request: api::Request) -> Result<Job, ApiError> {
    let pir_request = match request.request {
        Some(api::request::Request::PirRequest(r)) => r,
        Some(api::request::Request::OprfRequest(_)) => {
            return if state.usecases.load().latest(&request.usecase).is_some() {
                Err(ApiError::SymmetricPirNotConfigured)
            } else {
                Err(ApiError::UnknownUsecase(request.usecase))
            };
        }
        Some(api::request::Request::PnnsRequest(_)) => {
            return Err(ApiError::BadRequest(
                "PNNS requests are not supported".into(),
            ));
        }
        None => return Err(ApiError::UnknownRequestType),
    };
    let key = match pir_request.evaluation_key {
        Some(inline) => inline,
        None => {
            let identifier = pir_request
                .evaluation_key_metadata
                .as_ref()
                .map(|m| m.identifier.as_slice())
                .unwrap_or_default();
            let stored = state
                .keys
                .get(&key_name(user, identifier))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            state.metrics.key_lookup(stored.is_some());
            let stored = stored.ok_or(ApiError::EvaluationKeyNotFound)?;
            api_shared::EvaluationKey::decode(stored.message.as_slice())
                .map_err(|e| ApiError::Internal(format!("stored key does not decode: {e}")))?
        }
    };
    let store = state.usecases.load();
    let usecase = match store.get(&request.usecase, &pir_request.configuration_hash) {
        Lookup::Found(u) => Arc::clone(u),
        Lookup::UnknownConfig => {
            return Err(ApiError::ConfigGone {
                config_id: format!("{:?}", pir_request.configuration_hash),
                usecase: request.usecase,
            });
        }
        Lookup::UnknownUsecase => return Err(ApiError::UnknownUsecase(request.usecase)),
    };
    if pir_request.shard_id.is_some() {
        return Err(ApiError::ShardIdUnsupported);
    }
    let index = pir_request.shard_index;
    let shard = usize::try_from(index)
        .ok()
        .and_then(|i| usecase.shards.get(i))
        .ok_or_else(|| ApiError::ShardOutOfRange {
            usecase: request.usecase.clone(),
            index: u64::from(index),
            count: usecase.shards.len(),
        })?;
    let query = pir_request
        .query
        .ok_or_else(|| ApiError::BadRequest("PIR request has no query".into()))?;
    let key = key
        .evaluation_key
        .ok_or_else(|| ApiError::BadRequest("evaluation key has no key material".into()))?;
    Ok(Job {
        usecase: request.usecase,
        responder: Arc::clone(&shard.responder),
        query,
        key,
    })
}
