//! Request extractors (pir-protocol.md §1.3, §1.8): `User-Identifier`, the `User-Agent` platform,
//! the Privacy Pass token, and protobuf bodies. Each turns a bad request into its [`ApiError`].

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use privacy_pass::Tier;
use prost::Message;

use crate::api_error::ApiError;
use crate::platform::Platform;
use crate::state::AppState;

/// A required header's value: absent or empty is missing, as in Apple's service.
fn required<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, ApiError> {
    let value = headers
        .get(name)
        .filter(|v| !v.as_bytes().is_empty())
        .ok_or(ApiError::MissingHeader(name))?;
    value.to_str().map_err(|_| ApiError::InvalidHeader {
        header: name,
        reason: "not visible ASCII",
    })
}

/// The `User-Identifier` header: the key-store namespace. Never logged.
#[derive(Debug, Clone)]
pub struct UserIdentifier(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserIdentifier {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        required(&parts.headers, "User-Identifier").map(|v| Self(v.to_owned()))
    }
}

/// The client platform from `User-Agent` (required); `None` inside means "no rewriting".
#[derive(Debug, Clone, Copy)]
pub struct ClientPlatform(pub Option<Platform>);

impl<S: Send + Sync> FromRequestParts<S> for ClientPlatform {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let ua = required(&parts.headers, USER_AGENT.as_str()).map_err(|e| match e {
            // Report Apple's header spelling.
            ApiError::MissingHeader(_) => ApiError::MissingHeader("User-Agent"),
            other => other,
        })?;
        Ok(Self(Platform::from_user_agent(ua)))
    }
}

/// A redeemed Privacy Pass token's tier; `None` when auth is disabled.
#[derive(Debug, Clone)]
pub struct Authorized(pub Option<Tier>);

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match &state.auth {
            None => Ok(Self(None)),
            Some(auth) => auth
                .redeem(parts.headers.get(AUTHORIZATION))
                .await
                .map(|tier| Self(Some(tier))),
        }
    }
}

/// Reads the whole body, at most `limit` bytes (the body-limit layer enforces the same limit
/// earlier; this names it in the error).
pub async fn body_bytes(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| {
            if is_length_limit(&e) {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::BadRequest("could not read request body".into())
            }
        })
}

fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A protobuf request body or response.
#[derive(Debug, Clone)]
pub struct Protobuf<T>(pub T);

impl<T: Message + Default> FromRequest<AppState> for Protobuf<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state.limits.max_body_bytes).await?;
        T::decode(bytes)
            .map(Self)
            .map_err(|e| ApiError::BadRequest(format!("Malformed protobuf body: {e}")))
    }
}

impl<T: Message> IntoResponse for Protobuf<T> {
    fn into_response(self) -> Response {
        (
            StatusCode::OK,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            self.0.encode_to_vec(),
        )
            .into_response()
    }
}
