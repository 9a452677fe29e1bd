//! The router's Prometheus metrics (`/metrics` on its admin listener; issue #10 "Beyond one
//! node"): device answers by endpoint and status, and every attempt at a replica group by result,
//! so a group that keeps failing over shows before it goes down.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::metrics::EndpointLabels;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub group: String,
    /// `ok` (answered below 500), `5xx`, `unreachable` (connect error, reset, timeout).
    pub result: &'static str,
}

/// One registry per router value.
#[derive(Clone)]
pub struct RouterMetrics {
    registry: Arc<Registry>,
    pub requests: Family<EndpointLabels, Counter>,
    pub attempts: Family<AttemptLabels, Counter>,
}

impl std::fmt::Debug for RouterMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterMetrics").finish_non_exhaustive()
    }
}

impl Default for RouterMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "pir_router_http_requests",
            "Device requests answered by the router, by endpoint and status",
            requests.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "pir_router_group_attempts",
            "Calls to a replica group's replicas, by group and result (ok, 5xx, unreachable)",
            attempts.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            attempts,
        }
    }
}

impl RouterMetrics {
    /// Counts one attempt at `group`.
    pub fn attempt(&self, group: &str, result: &'static str) {
        self.attempts
            .get_or_create(&AttemptLabels {
                group: group.to_owned(),
                result,
            })
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
