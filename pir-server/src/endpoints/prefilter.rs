//! `GET /prefilter[?usecase=<name>][&format=raw]`: the newest version's Bloom prefilter, as
//! bloom-gen's `filter.json` or the bare bitmap, with `ETag` = the filter's tag and 304 when the
//! client's `If-None-Match` already names it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::prefilter::Prefilter;
use crate::state::AppState;

pub async fn prefilter(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let store = state.usecases.load();
    let name = match query.get("usecase") {
        Some(name) => name.clone(),
        None => {
            let mut names = store.names();
            match (names.next(), names.next()) {
                (Some(only), None) => only.to_owned(),
                _ => {
                    return Err(ApiError::BadRequest(
                        "several use cases are served: name one with ?usecase=".into(),
                    ));
                }
            }
        }
    };
    let (_, usecase) = store
        .latest(&name)
        .ok_or_else(|| ApiError::UnknownUsecase(name.clone()))?;
    let Some(filter) = usecase.prefilter.as_ref() else {
        return Err(ApiError::BadRequest(format!(
            "use case {name} has no prefilter"
        )));
    };
    let raw = match query.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("raw") => true,
        Some(_) => return Err(ApiError::BadRequest("format must be json or raw".into())),
    };
    let etag = filter.etag();
    let cache = [(ETAG, etag.clone()), (CACHE_CONTROL, "no-cache".to_owned())];
    if matches(&headers, filter) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let (content_type, body) = if raw {
        ("application/octet-stream", filter.raw.clone())
    } else {
        ("application/json", filter.json.clone())
    };
    Ok((StatusCode::OK, cache, [(CONTENT_TYPE, content_type)], body).into_response())
}

/// `If-None-Match` lists the current tag (quoted or bare, weak or strong) or is `*`.
fn matches(headers: &HeaderMap, filter: &Prefilter) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t.eq_ignore_ascii_case(&filter.tag))
}
