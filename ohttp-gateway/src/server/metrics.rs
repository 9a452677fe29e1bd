//! Prometheus counters for the gateway (spec §6.2 "observability without identifiers"):
//! outcomes in Cloudflare's taxonomy, requests per key id (to watch rotation) and a latency
//! histogram. Nothing from the inner request is recorded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::codepoints::KeyId;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
];

#[derive(Debug, Default)]
struct Inner {
    outcomes: BTreeMap<&'static str, u64>,
    keys: BTreeMap<u8, u64>,
    bucket_counts: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// The gateway's metrics.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Inner>);

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // A panic while holding the lock cannot leave the counters inconsistent enough to matter.
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Records one gateway request.
    pub fn observe(&self, outcome: &'static str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        self.with(|m| {
            *m.outcomes.entry(outcome).or_default() += 1;
            for (bound, count) in BUCKETS.iter().zip(m.bucket_counts.iter_mut()) {
                if seconds <= *bound {
                    *count += 1;
                }
            }
            m.count += 1;
            m.sum_seconds += seconds;
        });
    }

    /// Records a request decrypted with this key.
    pub fn key_used(&self, id: KeyId) {
        self.with(|m| *m.keys.entry(id.0).or_default() += 1);
    }

    /// Count for one outcome (for tests and readiness checks).
    #[must_use]
    pub fn outcome_count(&self, outcome: &str) -> u64 {
        self.with(|m| m.outcomes.get(outcome).copied().unwrap_or(0))
    }

    /// The Prometheus text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            out.push_str("# TYPE ohttp_gateway_requests_total counter\n");
            for (outcome, n) in &m.outcomes {
                let _ = writeln!(
                    out,
                    "ohttp_gateway_requests_total{{outcome=\"{outcome}\"}} {n}"
                );
            }
            out.push_str("# TYPE ohttp_gateway_key_requests_total counter\n");
            for (id, n) in &m.keys {
                let _ = writeln!(
                    out,
                    "ohttp_gateway_key_requests_total{{key_id=\"{id}\"}} {n}"
                );
            }
            out.push_str("# TYPE ohttp_gateway_request_duration_seconds histogram\n");
            for (bound, n) in BUCKETS.iter().zip(m.bucket_counts.iter()) {
                let _ = writeln!(
                    out,
                    "ohttp_gateway_request_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "ohttp_gateway_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
                m.count
            );
            let _ = writeln!(
                out,
                "ohttp_gateway_request_duration_seconds_sum {}",
                m.sum_seconds
            );
            let _ = writeln!(
                out,
                "ohttp_gateway_request_duration_seconds_count {}",
                m.count
            );
            out
        })
    }
}
