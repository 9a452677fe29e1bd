//! The Privacy Pass issuer endpoints (pir-protocol.md §1.8; ohttp-privacy-pass.md §5–§6): the key
//! directory, the tier key for a user token, and blind issuance.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use privacy_pass::{Tier, UserAuthenticator as _};

use crate::api_error::ApiError;
use crate::issuer_state::IssuerState;
use crate::state::AppState;

fn issuer(state: &AppState) -> Result<&IssuerState, ApiError> {
    state
        .issuer
        .as_deref()
        .ok_or_else(|| ApiError::Internal("issuer routes mounted without issuer state".into()))
}

async fn user_tier(issuer: &IssuerState, headers: &HeaderMap) -> Result<Tier, ApiError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| privacy_pass::parse_bearer(v.as_bytes()))
        .ok_or(ApiError::UnauthorizedUserToken)?;
    issuer
        .users
        .authenticate(token)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::UnauthorizedUserToken)
}

/// `GET /.well-known/private-token-issuer-directory`.
pub async fn directory(State(state): State<AppState>) -> Result<Response, ApiError> {
    let issuer = issuer(&state)?;
    let json = issuer.issuer.directory(&issuer.request_uri).to_json();
    // Apple's service serves the directory as plain JSON; devices accept it.
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}

/// `GET /token-key-for-user-token`: the caller's tier key as DER SPKI.
pub async fn token_key(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let issuer = issuer(&state)?;
    let tier = user_tier(issuer, &headers).await?;
    let key = issuer
        .issuer
        .token_key(&tier)
        .map_err(|_| ApiError::UnauthorizedUserToken)?;
    Ok((
        [(CONTENT_TYPE, "application/octet-stream")],
        key.spki().to_vec(),
    )
        .into_response())
}

/// `POST /issue`: blind-signs a 259-byte TokenRequest with the caller's tier key.
pub async fn issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(shared) = state.issuer.clone() else {
        return Err(ApiError::Internal(
            "issuer routes mounted without issuer state".into(),
        ));
    };
    let tier = user_tier(&shared, &headers).await?;
    // A body of the wrong size is malformed (400); the issuer's own checks give 422s.
    if body.len() != privacy_pass::TOKEN_REQUEST_LEN {
        return Err(ApiError::BadRequest(format!(
            "TokenRequest must be {} bytes, got {}",
            privacy_pass::TOKEN_REQUEST_LEN,
            body.len()
        )));
    }
    // RSA blind signing takes milliseconds: off the reactor.
    let signed = tokio::task::spawn_blocking(move || {
        let mut rng = privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng);
        shared.issuer.issue(&mut rng, &tier, &body)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match signed {
        Ok(response) => Ok((
            StatusCode::OK,
            [(CONTENT_TYPE, "application/private-token-response")],
            response.encode(),
        )
            .into_response()),
        Err(e) => Err(match e.http_status() {
            422 => ApiError::UnprocessableTokenRequest(e.to_string()),
            400 => ApiError::BadRequest(e.to_string()),
            _ => ApiError::Internal(e.to_string()),
        }),
    }
}
