//! The router's calls to replica groups (issue #10 "Beyond one node"): one pooled HTTP client
//! (HTTP/1.1 keep-alive, or HTTP/2 prior knowledge), a timeout per attempt, and one retry on the
//! group's next replica after a connect error, a timeout or a 5xx.
//!
//! Retrying is safe for every endpoint forwarded: `/queries` and `/config` have no side effect,
//! `/key` overwrites the same record, and the Privacy Pass token was already spent by the router.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::metrics::RouterMetrics;
use super::topology::Group;

/// Largest answer read from a group. PIR responses are tens of KiB per request and a body holds
/// at most `limits.max_requests_per_body` requests; this bounds the router's memory per call.
const MAX_REPLY_BYTES: usize = 256 << 20;

/// Request headers the service reads (pir-protocol.md §1.3, §1.7; `/prefilter`'s ETag).
/// `Authorization` is not among them: the router redeems the token itself.
const FORWARDED_REQUEST: [HeaderName; 5] = [
    HeaderName::from_static("user-identifier"),
    header::USER_AGENT,
    header::CONTENT_TYPE,
    header::ACCEPT_ENCODING,
    header::IF_NONE_MATCH,
];

/// Answer headers passed back to the device.
pub const FORWARDED_REPLY: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::RETRY_AFTER,
    header::ETAG,
    header::CACHE_CONTROL,
    header::VARY,
];

/// One call to forward: method, path (with query) and the device's headers and body.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    /// A call carrying the forwarded subset of `headers`.
    pub fn new(method: Method, path_and_query: String, headers: &HeaderMap, body: Bytes) -> Self {
        let mut kept = HeaderMap::new();
        for name in FORWARDED_REQUEST {
            for value in headers.get_all(&name) {
                kept.append(name.clone(), value.clone());
            }
        }
        Self {
            method,
            path_and_query,
            headers: kept,
            body,
        }
    }
}

/// A group's HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What calling a group came to, after its retry.
#[derive(Debug)]
pub enum Outcome {
    /// The group answered (the last answer, if both attempts got a 5xx).
    Answered(Reply),
    /// No replica of the group answered: connect error, reset or timeout on both attempts.
    Down(String),
}

/// The pooled client.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    metrics: RouterMetrics,
}

impl Upstream {
    /// A client whose attempts last at most `timeout` each; `http2` speaks HTTP/2 with prior
    /// knowledge (h2c), so one connection per replica multiplexes every call.
    pub fn new(timeout: Duration, http2: bool, metrics: RouterMetrics) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_only(http2)
            .build(connector);
        Self {
            client,
            timeout,
            metrics,
        }
    }

    /// Sends `call` to `group`: its next replica round robin, and once more to the replica after
    /// it when the first attempt failed to connect, timed out or got a 5xx.
    pub async fn call_group(&self, group: &Group, call: &Call) -> Outcome {
        let mut last = Outcome::Down(String::new());
        for replica in group.attempt_order() {
            match self.attempt(replica, call).await {
                Ok(reply) if !reply.status.is_server_error() => {
                    self.metrics.attempt(&group.name, "ok");
                    return Outcome::Answered(reply);
                }
                Ok(reply) => {
                    self.metrics.attempt(&group.name, "5xx");
                    tracing::warn!(group = %group.name, %replica, status = %reply.status, "replica answered 5xx");
                    last = Outcome::Answered(reply);
                }
                Err(reason) => {
                    self.metrics.attempt(&group.name, "unreachable");
                    tracing::warn!(group = %group.name, %replica, %reason, "replica unreachable");
                    last = Outcome::Down(reason);
                }
            }
        }
        last
    }

    async fn attempt(&self, replica: &Uri, call: &Call) -> Result<Reply, String> {
        let uri = format!(
            "{}://{}{}",
            replica.scheme_str().unwrap_or("http"),
            replica.authority().map_or("", |a| a.as_str()),
            call.path_and_query
        );
        let mut request = Request::builder()
            .method(call.method.clone())
            .uri(uri)
            .body(Full::new(call.body.clone()))
            .map_err(|e| format!("building the request: {e}"))?;
        *request.headers_mut() = call.headers.clone();
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("{e}"))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_REPLY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            let mut headers = HeaderMap::new();
            for name in FORWARDED_REPLY {
                for value in parts.headers.get_all(&name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            Ok(Reply {
                status: parts.status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {} ms", self.timeout.as_millis()))?
    }
}
