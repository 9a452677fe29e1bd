//! Forwarding a decrypted request to its allow-listed upstream (spec §1.7, §6.2): a pooled
//! HTTP client (cleartext, or TLS with rustls for `https://` upstreams, verified against the
//! webpki roots plus any configured CA), a bound on requests in flight per upstream, a deadline,
//! and a response size cap.
//! No redirects are followed and content codings pass through untouched.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use tokio::sync::Semaphore;

use crate::allow_list::{AllowList, Upstream};
use crate::error::GatewayError;
use crate::inner::{InnerRequest, InnerResponse, is_forwardable};

/// Limits of the forwarding client.
#[derive(Debug, Clone)]
pub struct ForwardLimits {
    /// TCP connect deadline.
    pub connect_timeout: Duration,
    /// Deadline for the whole exchange with the upstream, body included.
    pub request_timeout: Duration,
    /// Largest upstream response body accepted.
    pub max_response_bytes: usize,
    /// Idle connections kept per upstream.
    pub pool_idle_per_upstream: usize,
    /// Requests in flight per upstream; further requests wait (within the deadline).
    pub max_in_flight_per_upstream: usize,
    /// CA certificates trusted for `https://` upstreams besides the webpki roots (a private CA).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl Default for ForwardLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            max_response_bytes: 4 << 20,
            pool_idle_per_upstream: 32,
            max_in_flight_per_upstream: 256,
            extra_roots: Vec::new(),
        }
    }
}

/// The forwarding client, shared by all requests.
#[derive(Debug)]
pub struct Forwarder {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    in_flight: BTreeMap<String, Semaphore>,
    limits: ForwardLimits,
}

impl Forwarder {
    /// A client for the upstreams of an allow-list; fails on an unusable extra root.
    pub fn new(allow: &AllowList, limits: ForwardLimits) -> Result<Self, GatewayError> {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(limits.connect_timeout));
        connector.set_nodelay(true);
        // The https connector hands http:// URIs to this one too.
        connector.enforce_http(false);
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for ca in &limits.extra_roots {
            roots
                .add(ca.clone())
                .map_err(|e| GatewayError::Config(format!("upstream CA: {e}")))?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| GatewayError::Config(format!("tls: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(limits.pool_idle_per_upstream)
            .build(connector);
        let in_flight = allow
            .upstreams()
            .map(|u| {
                (
                    u.origin().to_owned(),
                    Semaphore::new(limits.max_in_flight_per_upstream),
                )
            })
            .collect();
        Ok(Self {
            client,
            in_flight,
            limits,
        })
    }

    /// Sends the request and returns the target's response, or the error to encapsulate.
    pub async fn forward(
        &self,
        upstream: &Upstream,
        request: InnerRequest,
    ) -> Result<InnerResponse, GatewayError> {
        let outgoing = build_request(upstream, request)?;
        let exchange = async {
            // Closed never happens (the semaphores live as long as self); treat it as a failure.
            let _permit = match self.in_flight.get(upstream.origin()) {
                Some(s) => Some(
                    s.acquire()
                        .await
                        .map_err(|_| GatewayError::UpstreamFailed)?,
                ),
                None => None,
            };
            let response = self
                .client
                .request(outgoing)
                .await
                .map_err(|_| GatewayError::UpstreamFailed)?;
            let (parts, body) = response.into_parts();
            let limit = self.limits.max_response_bytes;
            let body = Limited::new(body, limit).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    GatewayError::ResponseTooLarge { limit }
                } else {
                    GatewayError::UpstreamFailed
                }
            })?;
            let headers = parts
                .headers
                .iter()
                .filter(|(name, _)| is_forwardable(name.as_str()))
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            Ok(InnerResponse {
                status: parts.status.as_u16(),
                headers,
                body: body.to_bytes().to_vec(),
            })
        };
        tokio::time::timeout(self.limits.request_timeout, exchange)
            .await
            .map_err(|_| GatewayError::UpstreamTimeout)?
    }
}

fn build_request(
    upstream: &Upstream,
    request: InnerRequest,
) -> Result<http::Request<Full<Bytes>>, GatewayError> {
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| GatewayError::BadInnerRequest("bad method"))?;
    let uri: http::Uri = upstream
        .url_for(&request.path)
        .parse()
        .map_err(|_| GatewayError::BadInnerRequest("bad path"))?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in &request.headers {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| GatewayError::BadInnerRequest("bad field name"))?;
        let value = http::HeaderValue::from_bytes(value)
            .map_err(|_| GatewayError::BadInnerRequest("bad field value"))?;
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|_| GatewayError::BadInnerRequest("unbuildable request"))
}
