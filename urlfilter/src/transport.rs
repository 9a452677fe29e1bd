//! How the simulated device reaches the operator (spec/ohttp-privacy-pass.md §1, pir-protocol.md
//! §1.1): straight to the service and issuer over HTTP, or as a real device does, every request
//! sealed in Oblivious HTTP and posted to the gateway, which forwards it by its inner authority.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ohttp_gateway::inner::InnerRequest;

/// Which of the operator's two hosts a request is for (Apple wants one per role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The PIR service (`/config`, `/key`, `/queries`, `/prefilter`).
    Service,
    /// The Privacy Pass issuer.
    Issuer,
}

/// One request as the device means it; the transport decides how it travels.
#[derive(Debug, Clone)]
pub struct Request {
    /// Target host.
    pub role: Role,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// Header fields, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Content.
    pub body: Vec<u8>,
}

/// The answer: status, header fields (lower-case names) and content.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Content.
    pub body: Vec<u8>,
}

impl Response {
    /// First value of a header field, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Why a request did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A base URL is not `http://host[:port][/path]`.
    #[error("bad URL {0:?}: expected http://host[:port][/path]")]
    Url(String),
    /// The connection or exchange failed.
    #[error("{what} {url}: {message}")]
    Http {
        /// What was being done.
        what: &'static str,
        /// Where to.
        url: String,
        /// The underlying error.
        message: String,
    },
    /// The exchange took longer than the deadline.
    #[error("{0}: no answer within the deadline")]
    Timeout(String),
    /// The gateway's key configuration or the OHTTP exchange failed.
    #[error("oblivious HTTP: {0}")]
    Ohttp(String),
}

/// A base URL split into what requests need: `http://authority` and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `host[:port]`, also the inner authority when going through the gateway.
    pub authority: String,
    /// Path prefix without a trailing `/`.
    pub prefix: String,
    /// `http` or `https` (https only through the gateway, which owns TLS to the relay).
    pub scheme: String,
}

impl BaseUrl {
    /// Parses `http(s)://host[:port][/prefix]`.
    pub fn parse(url: &str) -> Result<Self, TransportError> {
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| *s == "http" || *s == "https")
            .ok_or_else(|| TransportError::Url(url.to_owned()))?;
        let (authority, prefix) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        if authority.is_empty() || authority.parse::<http::uri::Authority>().is_err() {
            return Err(TransportError::Url(url.to_owned()));
        }
        Ok(Self {
            authority: authority.to_ascii_lowercase(),
            prefix: prefix.trim_end_matches('/').to_owned(),
            scheme: scheme.to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}://{}{}{}",
            self.scheme, self.authority, self.prefix, path
        )
    }
}

/// Sends the device's requests.
#[derive(Debug, Clone)]
pub struct Transport {
    http: Client<HttpConnector, Full<Bytes>>,
    service: BaseUrl,
    issuer: BaseUrl,
    gateway: Option<String>,
    timeout: Duration,
}

impl Transport {
    /// Talks to `service` and `issuer` directly (plain HTTP, e.g. on loopback), or, with
    /// `gateway`, through the OHTTP gateway at that URL, naming `service` and `issuer` as inner
    /// authorities exactly as a device configured with them would.
    pub fn new(
        service: BaseUrl,
        issuer: BaseUrl,
        gateway: Option<String>,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        if gateway.is_none() && (service.scheme != "http" || issuer.scheme != "http") {
            return Err(TransportError::Url(
                "https targets are reached through --via-gateway; direct mode speaks http".into(),
            ));
        }
        if let Some(g) = &gateway {
            BaseUrl::parse(g).and_then(|b| {
                if b.scheme == "http" {
                    Ok(b)
                } else {
                    Err(TransportError::Url(g.clone()))
                }
            })?;
        }
        Ok(Self {
            http: Client::builder(TokioExecutor::new()).build_http(),
            service,
            issuer,
            gateway,
            timeout,
        })
    }

    /// Whether requests are sealed for the gateway.
    pub fn via_gateway(&self) -> bool {
        self.gateway.is_some()
    }

    fn base(&self, role: Role) -> &BaseUrl {
        match role {
            Role::Service => &self.service,
            Role::Issuer => &self.issuer,
        }
    }

    /// Sends one request and waits for its answer (any status).
    pub async fn send(&self, request: Request) -> Result<Response, TransportError> {
        match &self.gateway {
            None => {
                let url = self.base(request.role).url(&request.path);
                self.exchange(
                    request.method,
                    &url,
                    &request.headers,
                    request.body,
                    "request",
                )
                .await
            }
            Some(gateway) => self.send_oblivious(gateway, request).await,
        }
    }

    async fn send_oblivious(
        &self,
        gateway: &str,
        request: Request,
    ) -> Result<Response, TransportError> {
        let gateway = gateway.trim_end_matches('/');
        let keys = self
            .exchange(
                "GET",
                &format!("{gateway}/ohttp-keys"),
                &[],
                Vec::new(),
                "key configuration",
            )
            .await?;
        if keys.status != 200 {
            return Err(TransportError::Ohttp(format!(
                "GET {gateway}/ohttp-keys answered {}",
                keys.status
            )));
        }
        let client = ohttp_gateway::client::Client::from_key_list(&keys.body)
            .map_err(|e| TransportError::Ohttp(e.to_string()))?;
        let base = self.base(request.role);
        let inner = InnerRequest {
            method: request.method.to_owned(),
            authority: base.authority.clone(),
            path: format!("{}{}", base.prefix, request.path),
            headers: request
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
                .collect(),
            body: request.body,
        };
        let (wire, pending) = client
            .encapsulate(&inner, bhttp::Mode::KnownLength)
            .map_err(|e| TransportError::Ohttp(e.to_string()))?;
        let sealed = self
            .exchange(
                "POST",
                &format!("{gateway}/"),
                &[("content-type".into(), "message/ohttp-req".into())],
                wire,
                "gateway request",
            )
            .await?;
        if sealed.status != 200 {
            return Err(TransportError::Ohttp(format!(
                "gateway answered {} before decryption: {}",
                sealed.status,
                String::from_utf8_lossy(&sealed.body)
            )));
        }
        let opened = pending
            .open(&sealed.body)
            .map_err(|e| TransportError::Ohttp(e.to_string()))?;
        Ok(Response {
            status: opened.status,
            headers: opened.headers,
            body: opened.body,
        })
    }

    async fn exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        what: &'static str,
    ) -> Result<Response, TransportError> {
        let fail = |message: String| TransportError::Http {
            what,
            url: url.to_owned(),
            message,
        };
        let mut builder = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let req = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| fail(e.to_string()))?;
        let exchange = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| fail(e.to_string()))?
                .to_bytes()
                .to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| TransportError::Timeout(format!("{method} {url}")))?
    }
}
