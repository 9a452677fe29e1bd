//! `POST /report` (pir-protocol.md §1.7, NEURLFilter only): a supervised device reports the
//! dataset keys that matched, as a JSON array of strings (`Content-Type: application/json`) or a
//! `URLFilterReport` protobuf. Stored as a `URLFilterReportWithMetadata` text proto, one file per
//! report, when a report directory is configured; dropped otherwise. Never logged.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use prost::Message;

use crate::api_error::ApiError;
use crate::extract::{Authorized, body_bytes};
use crate::state::AppState;

/// `URLFilterReport { repeated string urls = 1; }` (apple/pir-service-example's own proto).
#[derive(Clone, PartialEq, Message)]
pub struct UrlFilterReport {
    #[prost(string, repeated, tag = "1")]
    pub urls: Vec<String>,
}

pub async fn report(
    State(state): State<AppState>,
    _auth: Authorized,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/json"));
    let user_agent = request
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = body_bytes(request, state.limits.max_body_bytes).await?;
    let urls = if is_json {
        serde_json::from_slice::<Vec<String>>(&body).ok()
    } else {
        UrlFilterReport::decode(body).ok().map(|r| r.urls)
    };
    // Apple answers a malformed report with 400 and an empty body.
    let Some(urls) = urls else {
        return Ok(StatusCode::BAD_REQUEST);
    };
    if let Some(dir) = state.report_dir.clone() {
        let text = report_text(&user_agent, SystemTime::now(), &urls);
        let name = format!("{}.txtpb", hex::encode(rand::random::<[u8; 16]>()));
        tokio::task::spawn_blocking(move || std::fs::write(dir.join(name), text))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::Internal(format!("writing report: {e}")))?;
    }
    Ok(StatusCode::OK)
}

/// `URLFilterReportWithMetadata` in protobuf text format.
pub fn report_text(user_agent: &str, received: SystemTime, urls: &[String]) -> String {
    let since = received.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "user_agent: \"{}\"", escape(user_agent));
    let _ = writeln!(
        out,
        "received_at {{\n  seconds: {}\n  nanos: {}\n}}",
        since.as_secs(),
        since.subsec_nanos()
    );
    out.push_str("report {\n");
    for url in urls {
        let _ = writeln!(out, "  urls: \"{}\"", escape(url));
    }
    out.push_str("}\n");
    out
}

/// Text-format string escaping: quotes, backslashes and control bytes; UTF-8 kept as is.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_escapes_and_nests() {
        let t = UNIX_EPOCH + std::time::Duration::new(1_767_225_600, 5);
        let text = report_text("ua \"x\"", t, &["a.com/p?q=\"1\"\n".into(), "b.com".into()]);
        assert_eq!(
            text,
            "user_agent: \"ua \\\"x\\\"\"\nreceived_at {\n  seconds: 1767225600\n  nanos: 5\n}\n\
             report {\n  urls: \"a.com/p?q=\\\"1\\\"\\n\"\n  urls: \"b.com\"\n}\n"
        );
        assert_eq!(escape("\u{1}"), "\\001");
    }
}
