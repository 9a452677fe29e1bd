//! `POST /key` (pir-protocol.md §1.5): stores each uploaded evaluation key under
//! `<User-Identifier>/<base64(metadata.identifier)>`, replacing an older one.

use axum::extract::State;
use axum::http::StatusCode;
use pir::proto::api_shared;
use prost::Message as _;

use crate::api_error::ApiError;
use crate::extract::{Authorized, ClientPlatform, Protobuf, UserIdentifier};
use crate::key_store::{StoredKey, key_name};
use crate::state::AppState;

pub async fn key(
    State(state): State<AppState>,
    _auth: Authorized,
    UserIdentifier(user): UserIdentifier,
    _platform: ClientPlatform,
    Protobuf(keys): Protobuf<api_shared::EvaluationKeys>,
) -> Result<StatusCode, ApiError> {
    // Check every key before storing any, so a bad upload changes nothing.
    let mut records = Vec::with_capacity(keys.keys.len());
    for key in &keys.keys {
        let (Some(metadata), Some(_)) = (&key.metadata, &key.evaluation_key) else {
            return Err(ApiError::EvaluationKeyUnsetFields);
        };
        records.push((
            key_name(&user, &metadata.identifier),
            StoredKey {
                timestamp: metadata.timestamp,
                message: key.encode_to_vec(),
            },
        ));
    }
    for (name, record) in &records {
        state
            .keys
            .put(name, record)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    Ok(StatusCode::OK)
}
