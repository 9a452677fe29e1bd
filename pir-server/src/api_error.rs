//! The service's one error type and its one mapping to the wire (pir-protocol.md §1.9): a status
//! code and Apple's JSON body `{"error":{"message":"..."}}`, which device logs show.
//!
//! Messages sent to the peer are the ones the protocol defines; internal causes (store failures,
//! I/O) are logged and answered with a generic 500 or 503, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Everything an endpoint can answer other than success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("Missing '{0}' header")]
    MissingHeader(&'static str),
    #[error("Invalid '{header}' header: {reason}")]
    InvalidHeader {
        header: &'static str,
        reason: &'static str,
    },
    #[error("Invalid existingConfigIds count {got}. Expected 0 or {expected}.")]
    ExistingConfigIdsCount { got: usize, expected: usize },
    #[error(
        "One or more usecases not found. Requested usecases: {requested:?}.\nUsecases available on the server: {available:?}."
    )]
    UsecasesNotFound {
        requested: Vec<String>,
        available: Vec<String>,
    },
    #[error("Platform {platform} does not support sharding functions other than SHA256.")]
    UnsupportedSharding { platform: String },
    #[error("Evaluation key has unset fields")]
    EvaluationKeyUnsetFields,
    #[error("Evaluation key not found")]
    EvaluationKeyNotFound,
    #[error("Unknown usecase: {0}")]
    UnknownUsecase(String),
    #[error("Configuration id: {config_id} is not available for usecase {usecase}.")]
    ConfigGone { config_id: String, usecase: String },
    #[error("overloading shard index with ShardID is not supported")]
    ShardIdUnsupported,
    #[error("Shard index {index} out of range: usecase {usecase} has {count} shards.")]
    ShardOutOfRange {
        usecase: String,
        index: u64,
        count: usize,
    },
    #[error("Unknown request type.")]
    UnknownRequestType,
    #[error("SymmetricPIR not configured.")]
    SymmetricPirNotConfigured,
    /// A body that does not decode as the endpoint's message, or ciphertexts/keys that do not fit
    /// the use case's parameters.
    #[error("{0}")]
    BadRequest(String),
    #[error("Too many requests in one body: {got} (at most {max}).")]
    TooManyRequests { got: usize, max: usize },
    #[error("No private token")]
    NoPrivateToken,
    #[error("Malformed private token")]
    MalformedToken,
    #[error("No token key found with key id: {0:?}")]
    UnknownTokenKey(Vec<u8>),
    #[error("Token did not pass verification")]
    TokenVerification,
    #[error("User token is unauthorized")]
    UnauthorizedUserToken,
    #[error("{0}")]
    UnprocessableTokenRequest(String),
    #[error("Request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Load shedding: the compute pool is full. Devices retry.
    #[error("Server is busy; retry later")]
    Busy { retry_after_secs: u64 },
    /// A failure of ours (store unreachable, I/O). The cause is logged here, not sent.
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    /// The status code the protocol gives this error.
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            MissingHeader(_)
            | InvalidHeader { .. }
            | ExistingConfigIdsCount { .. }
            | EvaluationKeyUnsetFields
            | EvaluationKeyNotFound
            | UnknownUsecase(_)
            | ShardOutOfRange { .. }
            | UnknownRequestType
            | SymmetricPirNotConfigured
            | BadRequest(_)
            | MalformedToken => StatusCode::BAD_REQUEST,
            UsecasesNotFound { .. } => StatusCode::NOT_FOUND,
            UnsupportedSharding { .. } | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ConfigGone { .. } => StatusCode::GONE,
            ShardIdUnsupported => StatusCode::NOT_IMPLEMENTED,
            TooManyRequests { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            NoPrivateToken | UnknownTokenKey(_) | TokenVerification | UnauthorizedUserToken => {
                StatusCode::UNAUTHORIZED
            }
            UnprocessableTokenRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                self.to_string()
            }
            _ => self.to_string(),
        };
        let body = Json(serde_json::json!({ "error": { "message": message } }));
        let mut response = (status, body).into_response();
        if let ApiError::Busy { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_the_protocol_status() {
        let table: Vec<(ApiError, u16)> = vec![
            (ApiError::MissingHeader("User-Identifier"), 400),
            (
                ApiError::InvalidHeader {
                    header: "User-Agent",
                    reason: "not UTF-8",
                },
                400,
            ),
            (
                ApiError::ExistingConfigIdsCount {
                    got: 2,
                    expected: 1,
                },
                400,
            ),
            (
                ApiError::UsecasesNotFound {
                    requested: vec![],
                    available: vec![],
                },
                404,
            ),
            (
                ApiError::UnsupportedSharding {
                    platform: "iOS 18.1".into(),
                },
                500,
            ),
            (ApiError::EvaluationKeyUnsetFields, 400),
            (ApiError::EvaluationKeyNotFound, 400),
            (ApiError::UnknownUsecase("x".into()), 400),
            (
                ApiError::ConfigGone {
                    config_id: "ab".into(),
                    usecase: "x".into(),
                },
                410,
            ),
            (ApiError::ShardIdUnsupported, 501),
            (
                ApiError::ShardOutOfRange {
                    usecase: "x".into(),
                    index: 9,
                    count: 1,
                },
                400,
            ),
            (ApiError::UnknownRequestType, 400),
            (ApiError::SymmetricPirNotConfigured, 400),
            (ApiError::BadRequest("bad".into()), 400),
            (
                ApiError::TooManyRequests {
                    got: 2000,
                    max: 1000,
                },
                413,
            ),
            (ApiError::NoPrivateToken, 401),
            (ApiError::MalformedToken, 400),
            (ApiError::UnknownTokenKey(vec![7]), 401),
            (ApiError::TokenVerification, 401),
            (ApiError::UnauthorizedUserToken, 401),
            (ApiError::UnprocessableTokenRequest("type".into()), 422),
            (ApiError::PayloadTooLarge { limit: 10 << 20 }, 413),
            (
                ApiError::Busy {
                    retry_after_secs: 1,
                },
                503,
            ),
            (ApiError::Internal("redis down".into()), 500),
        ];
        for (error, status) in table {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[tokio::test]
    async fn body_is_apples_json_and_internal_causes_stay_inside() {
        let response = ApiError::Internal("redis at 10.0.0.7 refused".into()).into_response();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"message": "Internal server error"}})
        );

        let response = ApiError::EvaluationKeyNotFound.into_response();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(
            &body[..],
            br#"{"error":{"message":"Evaluation key not found"}}"#
        );

        let response = ApiError::Busy {
            retry_after_secs: 2,
        }
        .into_response();
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "2");
    }
}
