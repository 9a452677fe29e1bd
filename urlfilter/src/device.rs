//! A device in a terminal: what NEURLFilter does for one URL, step by step, against a real
//! deployment (pir-protocol.md §7, the reference client flow, and bloom-prefilter.md §4 for the
//! sub-URLs). Prefilter, sub-URLs, Bloom check; then for the positives Privacy Pass tokens,
//! `/config`, `/key` when the server lacks our key, `/queries`, and decryption.
//!
//! The device's long-lived state (user id, cached configs, secret keys and their upload times)
//! is a value the caller keeps (and `urlfilter check --state` saves), so a second run behaves like
//! the same phone: no re-configuration while the server still holds its key.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bloom_gen::{BloomFilter, Os};
use he::rng::NistAes128Ctr;
use pir::client::{KeywordPirClient, SecretKey};
use pir::evaluation_key::EvaluationKeyConfig;
use pir::proto::{api, api_pir, api_shared, he as he_proto};
use privacy_pass::{PublicKey, Token, TokenChallenge};
use prost::Message;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::transport::{Request, Response, Role, Transport, TransportError};

/// The User-Agent of an up-to-date iPhone (iOS ≥ 18.2 gets the modern config, §1.4.2).
pub const DEFAULT_USER_AGENT: &str = "com.apple.ciphermld/1.0 iOS/26.1 (iPhone)";

/// Tokens fetched at once when the queue is empty (as Apple's client does).
const TOKEN_BATCH: usize = 4;

/// Attempts per service request when the answer is retryable.
const MAX_ATTEMPTS: u32 = 4;
/// Back-off after the first failed attempt (grows linearly).
const RETRY_BACKOFF: Duration = Duration::from_millis(250);

/// What went wrong, by step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The request could not be made.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with an error status.
    #[error("{step}: HTTP {status}: {body}")]
    Status {
        /// Which step.
        step: &'static str,
        /// The status.
        status: u16,
        /// The answer's body, as text.
        body: String,
    },
    /// The server's answer could not be understood.
    #[error("{step}: {message}")]
    Protocol {
        /// Which step.
        step: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The URL cannot be checked (no host, not a URL).
    #[error("{0}")]
    Url(String),
}

fn protocol(step: &'static str, message: impl std::fmt::Display) -> DeviceError {
    DeviceError::Protocol {
        step,
        message: message.to_string(),
    }
}

/// One cached use-case configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedConfig {
    /// The `PIRConfig`, protobuf, base64.
    pub pir_config: String,
    /// Its `config_id`, base64.
    pub config_id: String,
}

/// One secret key and when its evaluation key was uploaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedKey {
    /// `SerializedSecretKey`, protobuf, base64.
    pub secret_key: String,
    /// Upload time, UNIX seconds (the key's identity for the server's key status).
    pub timestamp: u64,
}

/// The device's long-lived state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceState {
    /// `User-Identifier`.
    pub user_id: String,
    /// Use case → config.
    #[serde(default)]
    pub configs: BTreeMap<String, CachedConfig>,
    /// `evaluation_key_config_hash` (hex) → key.
    #[serde(default)]
    pub keys: BTreeMap<String, CachedKey>,
}

impl DeviceState {
    /// A new device with a random UUIDv4 user id.
    pub fn fresh() -> Self {
        let mut b = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex_encode(&b);
        Self {
            user_id: format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ),
            configs: BTreeMap::new(),
            keys: BTreeMap::new(),
        }
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a device is set up (what `NEURLFilterManager.setConfiguration` gives it).
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// The PIR use case (the app's bundle-derived name).
    pub usecase: String,
    /// The long-lived user token for the issuer; `None` when the service runs without Privacy Pass.
    pub user_token: Option<String>,
    /// Issuer name in the token challenge.
    pub issuer_name: String,
    /// `User-Agent`.
    pub user_agent: String,
    /// Which sub-URL rules to emulate.
    pub os: Os,
}

/// The outcome for one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every sub-URL was negative in the Bloom filter, or no PIR answer held it.
    Allowed,
    /// The PIR database holds this sub-URL with this value.
    Blocked {
        /// The matching sub-URL (the blocklist entry).
        entry: String,
        /// The value stored with it.
        value: Vec<u8>,
    },
}

/// What one check did, for the report.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The URL checked.
    pub url: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Sub-URLs derived.
    pub sub_urls: Vec<String>,
    /// Those the Bloom filter flagged (each one went to PIR).
    pub positives: Vec<String>,
    /// Per step, in order.
    pub timings: Vec<(&'static str, Duration)>,
    /// Whether the evaluation key had to be (re-)uploaded.
    pub uploaded_key: bool,
}

/// A simulated device.
pub struct Device {
    transport: Transport,
    config: DeviceConfig,
    state: DeviceState,
    prefilter: Option<(String, BloomFilter)>,
    tokens: VecDeque<Token>,
}

impl Device {
    /// A device with the given state (use [`DeviceState::fresh`] for a new one).
    pub fn new(transport: Transport, config: DeviceConfig, state: DeviceState) -> Self {
        Self {
            transport,
            config,
            state,
            prefilter: None,
            tokens: VecDeque::new(),
        }
    }

    /// The state to keep for the next run.
    pub fn state(&self) -> &DeviceState {
        &self.state
    }

    /// Checks one URL as the device does on a page load.
    pub async fn check(&mut self, url: &str) -> Result<CheckReport, DeviceError> {
        let mut timings = Vec::new();
        let started = Instant::now();
        self.fetch_prefilter().await?;
        timings.push(("prefilter", started.elapsed()));

        let t = Instant::now();
        let sub_urls = bloom_gen::sub_urls(url, self.config.os)
            .map_err(|e| DeviceError::Url(format!("{url}: {e}")))?;
        let filter = self
            .prefilter
            .as_ref()
            .map(|(_, f)| f)
            .ok_or_else(|| protocol("prefilter", "no filter"))?;
        let positives: Vec<String> = sub_urls
            .iter()
            .filter(|s| filter.contains(s.as_bytes()))
            .cloned()
            .collect();
        timings.push(("bloom", t.elapsed()));

        let mut report = CheckReport {
            url: url.to_owned(),
            verdict: Verdict::Allowed,
            sub_urls,
            positives: positives.clone(),
            timings,
            uploaded_key: false,
        };
        if positives.is_empty() {
            return Ok(report);
        }

        let t = Instant::now();
        let (config, config_id, key_status) = self.fetch_config().await?;
        report.timings.push(("config", t.elapsed()));

        let t = Instant::now();
        let (secret_key, timestamp, uploaded) = self.ensure_key(&config, &key_status).await?;
        report.uploaded_key = uploaded;
        report.timings.push(("key", t.elapsed()));

        let t = Instant::now();
        let client = KeywordPirClient::from_pir_config(&config, secret_key)
            .map_err(|e| protocol("config", e))?;
        let metadata = api_shared::EvaluationKeyMetadata {
            timestamp,
            identifier: config.evaluation_key_config_hash.clone(),
        };
        let mut requests = Vec::with_capacity(positives.len());
        for keyword in &positives {
            let query = client
                .query(keyword.as_bytes(), &mut NistAes128Ctr::new(&random_seed()))
                .map_err(|e| protocol("query", e))?;
            let pir_request = query
                .to_pir_request(metadata.clone(), &config_id)
                .map_err(|e| protocol("query", e))?;
            requests.push(api::Request {
                usecase: self.config.usecase.clone(),
                request: Some(api::request::Request::PirRequest(pir_request)),
            });
        }
        report.timings.push(("encrypt", t.elapsed()));

        let t = Instant::now();
        let body = api::Requests { requests }.encode_to_vec();
        let resp = self.post_service("/queries", body, "queries").await?;
        let responses =
            api::Responses::decode(resp.body.as_slice()).map_err(|e| protocol("queries", e))?;
        report.timings.push(("queries", t.elapsed()));
        if responses.responses.len() != positives.len() {
            return Err(protocol(
                "queries",
                format!(
                    "{} responses for {} requests",
                    responses.responses.len(),
                    positives.len()
                ),
            ));
        }

        let t = Instant::now();
        for (keyword, response) in positives.iter().zip(&responses.responses) {
            let Some(api::response::Response::PirResponse(pir_response)) = &response.response
            else {
                return Err(protocol("queries", "a response is not a PIR response"));
            };
            if let Some(value) = client
                .decrypt(keyword.as_bytes(), pir_response)
                .map_err(|e| protocol("decrypt", e))?
            {
                report.verdict = Verdict::Blocked {
                    entry: keyword.clone(),
                    value,
                };
                break;
            }
        }
        report.timings.push(("decrypt", t.elapsed()));
        Ok(report)
    }

    /// `GET /prefilter`, conditional on the tag already held (a cheap 304 on every later check).
    async fn fetch_prefilter(&mut self) -> Result<(), DeviceError> {
        let mut headers = Vec::new();
        if let Some((tag, _)) = &self.prefilter {
            headers.push(("if-none-match".to_owned(), format!("\"{tag}\"")));
        }
        let resp = self
            .transport
            .send(Request {
                role: Role::Service,
                method: "GET",
                path: "/prefilter".into(),
                headers,
                body: Vec::new(),
            })
            .await?;
        if resp.status == 304 && self.prefilter.is_some() {
            return Ok(());
        }
        let resp = ok("prefilter", resp)?;
        let parsed = bloom_gen::format::parse(&resp.body).map_err(|e| protocol("prefilter", e))?;
        self.prefilter = Some((parsed.filter.tag_hex(), parsed.filter));
        Ok(())
    }

    /// `POST /config` with the cached config id; keeps the cached config on `reuse_existing_config`
    /// (the reference test client's bug, §7, is not copied).
    async fn fetch_config(
        &mut self,
    ) -> Result<(api_pir::PirConfig, Vec<u8>, api_shared::KeyStatus), DeviceError> {
        let usecase = self.config.usecase.clone();
        let cached = self.state.configs.get(&usecase).cloned();
        let existing = cached
            .as_ref()
            .and_then(|c| STANDARD.decode(&c.config_id).ok())
            .unwrap_or_default();
        let body = api::ConfigRequest {
            usecases: vec![usecase.clone()],
            existing_config_ids: vec![existing],
        }
        .encode_to_vec();
        let resp = self.post_service("/config", body, "config").await?;
        let mut response =
            api::ConfigResponse::decode(resp.body.as_slice()).map_err(|e| protocol("config", e))?;
        let config = response
            .configs
            .remove(&usecase)
            .ok_or_else(|| protocol("config", format!("no config for use case {usecase:?}")))?;
        let key_status = response
            .key_info
            .into_iter()
            .next()
            .ok_or_else(|| protocol("config", "no key status"))?;
        let (pir_config, config_id) = if config.reuse_existing_config {
            let cached = cached
                .ok_or_else(|| protocol("config", "server reused a config we do not hold"))?;
            let bytes = STANDARD
                .decode(&cached.pir_config)
                .map_err(|e| protocol("config", e))?;
            let id = STANDARD
                .decode(&cached.config_id)
                .map_err(|e| protocol("config", e))?;
            (
                api_pir::PirConfig::decode(bytes.as_slice()).map_err(|e| protocol("config", e))?,
                id,
            )
        } else {
            let Some(api::config::Config::PirConfig(pir_config)) = config.config else {
                return Err(protocol("config", "not a PIR config"));
            };
            self.state.configs.insert(
                usecase,
                CachedConfig {
                    pir_config: STANDARD.encode(pir_config.encode_to_vec()),
                    config_id: STANDARD.encode(&config.config_id),
                },
            );
            (pir_config, config.config_id)
        };
        Ok((pir_config, config_id, key_status))
    }

    /// Uses the stored secret key when the server's key status names its upload time; otherwise
    /// makes a new key and uploads its evaluation key.
    async fn ensure_key(
        &mut self,
        config: &api_pir::PirConfig,
        status: &api_shared::KeyStatus,
    ) -> Result<(SecretKey, u64, bool), DeviceError> {
        let hash = hex_encode(&config.evaluation_key_config_hash);
        let parameters = config
            .encryption_parameters
            .as_ref()
            .ok_or_else(|| protocol("config", "no encryption parameters"))?;
        if let Some(cached) = self.state.keys.get(&hash)
            && cached.timestamp == status.timestamp
        {
            let bytes = STANDARD
                .decode(&cached.secret_key)
                .map_err(|e| protocol("key", e))?;
            let proto = he_proto::SerializedSecretKey::decode(bytes.as_slice())
                .map_err(|e| protocol("key", e))?;
            let key = SecretKey::from_proto(parameters, &proto).map_err(|e| protocol("key", e))?;
            return Ok((key, cached.timestamp, false));
        }
        let key_config = status
            .key_config
            .as_ref()
            .ok_or_else(|| protocol("config", "key status without a key config"))?;
        let secret = SecretKey::generate(parameters, &mut NistAes128Ctr::new(&random_seed()))
            .map_err(|e| protocol("key", e))?;
        let evaluation_key = secret
            .evaluation_key(
                &EvaluationKeyConfig::from_proto(key_config),
                &mut NistAes128Ctr::new(&random_seed()),
            )
            .map_err(|e| protocol("key", e))?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = api_shared::EvaluationKeys {
            keys: vec![api_shared::EvaluationKey {
                metadata: Some(api_shared::EvaluationKeyMetadata {
                    timestamp,
                    identifier: config.evaluation_key_config_hash.clone(),
                }),
                evaluation_key: Some(evaluation_key),
            }],
        }
        .encode_to_vec();
        self.post_service("/key", body, "key").await?;
        let proto = secret.to_proto().map_err(|e| protocol("key", e))?;
        self.state.keys.insert(
            hash,
            CachedKey {
                secret_key: STANDARD.encode(proto.encode_to_vec()),
                timestamp,
            },
        );
        Ok((secret, timestamp, true))
    }

    /// POSTs to the service, retrying what the protocol says is retryable (503 with
    /// Retry-After, a gateway's 502/504, a connection that failed) a bounded number of times,
    /// each attempt with a fresh token.
    async fn post_service(
        &mut self,
        path: &str,
        body: Vec<u8>,
        step: &'static str,
    ) -> Result<Response, DeviceError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result = self.post_service_once(path, body.clone()).await;
            let retryable = match &result {
                Ok(resp) => matches!(resp.status, 502..=504),
                Err(DeviceError::Transport(_)) => true,
                Err(_) => false,
            };
            if !retryable || attempt >= MAX_ATTEMPTS {
                return ok(step, result?);
            }
            let wait = match &result {
                Ok(resp) => resp
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(RETRY_BACKOFF * attempt, |s| Duration::from_secs(s.min(5))),
                Err(_) => RETRY_BACKOFF * attempt,
            };
            tracing::info!(step, attempt, ?wait, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn post_service_once(
        &mut self,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Response, DeviceError> {
        let mut headers = vec![
            ("user-identifier".to_owned(), self.state.user_id.clone()),
            ("user-agent".to_owned(), self.config.user_agent.clone()),
            (
                "content-type".to_owned(),
                "application/x-protobuf".to_owned(),
            ),
        ];
        if self.config.user_token.is_some() {
            let token = self.next_token().await?;
            headers.push((
                "authorization".to_owned(),
                privacy_pass::format_private_token(&token),
            ));
        }
        Ok(self
            .transport
            .send(Request {
                role: Role::Service,
                method: "POST",
                path: path.to_owned(),
                headers,
                body,
            })
            .await?)
    }

    /// One token per HTTP request; fetches a batch when the queue is empty.
    async fn next_token(&mut self) -> Result<Token, DeviceError> {
        if let Some(t) = self.tokens.pop_front() {
            return Ok(t);
        }
        let user_token = self
            .config
            .user_token
            .clone()
            .ok_or_else(|| protocol("token", "no user token"))?;
        let bearer = ("authorization".to_owned(), format!("Bearer {user_token}"));
        let resp = self
            .transport
            .send(Request {
                role: Role::Issuer,
                method: "GET",
                path: "/token-key-for-user-token".into(),
                headers: vec![bearer.clone()],
                body: Vec::new(),
            })
            .await?;
        let resp = ok("token key", resp)?;
        let key = PublicKey::from_spki(&resp.body).map_err(|e| protocol("token key", e))?;
        let challenge = TokenChallenge::apple(&self.config.issuer_name);
        for _ in 0..TOKEN_BATCH {
            let (request, pending) = privacy_pass::begin_token(
                &mut privacy_pass::rand_core::UnwrapErr(privacy_pass::SysRng),
                &key,
                &challenge,
            )
            .map_err(|e| protocol("issue", e))?;
            let resp = self
                .transport
                .send(Request {
                    role: Role::Issuer,
                    method: "POST",
                    path: "/issue".into(),
                    headers: vec![
                        bearer.clone(),
                        (
                            "content-type".to_owned(),
                            "application/private-token-request".to_owned(),
                        ),
                    ],
                    body: request.encode(),
                })
                .await?;
            let resp = ok("issue", resp)?;
            let token = pending
                .finish(&resp.body)
                .map_err(|e| protocol("issue", e))?;
            self.tokens.push_back(token);
        }
        self.tokens
            .pop_front()
            .ok_or_else(|| protocol("issue", "no token"))
    }
}

fn ok(step: &'static str, resp: Response) -> Result<Response, DeviceError> {
    if resp.status == 200 {
        Ok(resp)
    } else {
        Err(DeviceError::Status {
            step,
            status: resp.status,
            body: String::from_utf8_lossy(&resp.body).into_owned(),
        })
    }
}

fn random_seed() -> [u8; he::rng::SEED_LEN] {
    let mut seed = [0u8; he::rng::SEED_LEN];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    seed
}
