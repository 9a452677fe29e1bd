//! The service's Prometheus metrics (issue #7, `/metrics` on the admin listener): requests and
//! latency per endpoint and status, PIR compute latency per use case, key-store hits and misses,
//! compute queue depth and rejections, and versions loaded per use case.
//!
//! One registry per service value (no global recorder), so several routers in one test process
//! count separately.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub endpoint: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointOnly {
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UsecaseLabels {
    pub usecase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LookupLabels {
    pub result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~32 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric the service records.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<EndpointLabels, Counter>,
    pub request_seconds: HistogramFamily<EndpointOnly>,
    pub pir_requests: Family<UsecaseLabels, Counter>,
    pub pir_compute_seconds: HistogramFamily<UsecaseLabels>,
    pub key_lookups: Family<LookupLabels, Counter>,
    pub compute_rejected: Counter,
    pub compute_queue_depth: Gauge,
    pub compute_in_flight: Gauge,
    pub usecase_versions: Family<UsecaseLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "pir_http_requests",
            "HTTP requests by endpoint and status",
            requests.clone(),
        );
        let request_seconds = HistogramFamily::<EndpointOnly>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "pir_http_request_duration_seconds",
            "HTTP request latency by endpoint",
            request_seconds.clone(),
        );
        let pir_requests = Family::<UsecaseLabels, Counter>::default();
        registry.register(
            "pir_queries",
            "PIR requests (one per Request in /queries) by use case",
            pir_requests.clone(),
        );
        let pir_compute_seconds = HistogramFamily::<UsecaseLabels>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "pir_query_compute_duration_seconds",
            "PIR response computation time by use case",
            pir_compute_seconds.clone(),
        );
        let key_lookups = Family::<LookupLabels, Counter>::default();
        registry.register(
            "pir_key_store_lookups",
            "Evaluation-key store lookups by result (hit, miss)",
            key_lookups.clone(),
        );
        let compute_rejected = Counter::default();
        registry.register(
            "pir_compute_rejected",
            "Requests answered 503 because the compute pool was full",
            compute_rejected.clone(),
        );
        let compute_queue_depth = Gauge::default();
        registry.register(
            "pir_compute_queue_depth",
            "PIR computations waiting for a worker",
            compute_queue_depth.clone(),
        );
        let compute_in_flight = Gauge::default();
        registry.register(
            "pir_compute_in_flight",
            "PIR computations running",
            compute_in_flight.clone(),
        );
        let usecase_versions = Family::<UsecaseLabels, Gauge>::default();
        registry.register(
            "pir_usecase_versions",
            "Database versions served per use case",
            usecase_versions.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            request_seconds,
            pir_requests,
            pir_compute_seconds,
            key_lookups,
            compute_rejected,
            compute_queue_depth,
            compute_in_flight,
            usecase_versions,
        }
    }
}

impl Metrics {
    /// Counts a key-store lookup.
    pub fn key_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.key_lookups
            .get_or_create(&LookupLabels { result })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
