//! The service as a value (DESIGN.md practice 10): everything a handler needs, cloned cheaply
//! into each request. Built by `main` from the config file, or directly by tests.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::compute_pool::ComputePool;
use crate::issuer_state::IssuerState;
use crate::key_store::KeyStore;
use crate::metrics::Metrics;
use crate::token_auth::TokenAuth;
use crate::usecase::{LoadError, Usecase};
use crate::usecase_loader::{UsecaseSource, load_store};
use crate::usecase_store::UsecaseStore;

/// Request limits (issue #7: body limit 10 MiB, a cap on queries per request).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body accepted; larger gets 413.
    pub max_body_bytes: usize,
    /// Most `Request`s in one `/queries` body; more gets 413.
    pub max_requests_per_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            max_requests_per_body: 1024,
        }
    }
}

/// Shared service state.
#[derive(Clone)]
pub struct AppState {
    pub usecases: Arc<ArcSwap<UsecaseStore<Usecase>>>,
    /// What reload reads; readiness requires each of these to be served.
    pub sources: Arc<Vec<UsecaseSource>>,
    pub keys: KeyStore,
    /// `None` disables token checks (local testing only).
    pub auth: Option<Arc<TokenAuth>>,
    /// `None` when this process does not issue tokens.
    pub issuer: Option<Arc<IssuerState>>,
    pub pool: ComputePool,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Where `/report` writes reports; `None` drops them.
    pub report_dir: Option<PathBuf>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("sources", &self.sources)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// A state serving `sources` (loaded now), with default limits, no auth, no issuer.
    ///
    /// # Errors
    /// [`LoadError`] when a use case does not load.
    pub fn new(
        sources: Vec<UsecaseSource>,
        keys: KeyStore,
        pool: ComputePool,
    ) -> Result<Self, LoadError> {
        let store = load_store(&sources, &UsecaseStore::default())?;
        let state = Self {
            usecases: Arc::new(ArcSwap::from_pointee(store)),
            sources: Arc::new(sources),
            keys,
            auth: None,
            issuer: None,
            pool,
            metrics: Metrics::default(),
            limits: Limits::default(),
            report_dir: None,
        };
        state.record_versions();
        Ok(state)
    }

    /// Re-reads every source and swaps the new store in atomically; on error the old one stays.
    ///
    /// # Errors
    /// The [`LoadError`] that stopped the reload.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let sources = Arc::clone(&self.sources);
        let previous = self.usecases.load_full();
        let store = tokio::task::spawn_blocking(move || load_store(&sources, &previous))
            .await
            .map_err(|e| LoadError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other(e.to_string()),
            })??;
        self.usecases.store(Arc::new(store));
        self.record_versions();
        Ok(())
    }

    /// Ready when every configured use case has a version served.
    pub fn is_ready(&self) -> bool {
        let store = self.usecases.load();
        self.sources
            .iter()
            .all(|s| store.version_count(&s.name) > 0)
    }

    fn record_versions(&self) {
        let store = self.usecases.load();
        for source in self.sources.iter() {
            let count = i64::try_from(store.version_count(&source.name)).unwrap_or(i64::MAX);
            self.metrics
                .usecase_versions
                .get_or_create(&crate::metrics::UsecaseLabels {
                    usecase: source.name.clone(),
                })
                .set(count);
        }
    }
}
