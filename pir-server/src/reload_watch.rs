//! Hot reload on file change (issue #7 "hot reload on SIGHUP / admin endpoint / file change";
//! pir-protocol.md §1.10 versions): every few seconds, list each use case's version directories
//! and, when the list differs from the one last loaded, reload exactly as SIGHUP does.
//!
//! Polling with std only, no file-system notification crate: version directories appear by an
//! atomic rename (`pir-server build` writes `.NAME.partial` first, and hidden names are never
//! listed), so a listing either shows a complete version or not at all, and a tick of a few
//! seconds costs one `read_dir` per use case. A version rewritten in place under the same
//! directory name is not noticed; SIGHUP still reloads it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;
use crate::usecase_loader::{UsecaseSource, version_dirs};

/// What a tick compares: each source's served version directories, or why they cannot be listed.
type Listing = Vec<Result<Vec<PathBuf>, String>>;

fn listing(sources: &[UsecaseSource]) -> Listing {
    sources
        .iter()
        .map(|s| version_dirs(s).map_err(|e| e.to_string()))
        .collect()
}

/// Polls `state`'s use-case directories every `every` and reloads when their version lists
/// change. The baseline listing is taken now, when called, not when the future first runs: call it
/// right after loading, so a version that appears in between is not mistaken for loaded. Runs
/// until dropped. A failed reload is logged and retried on the next tick, because the cause (a
/// full disk, a bad version an operator then removes) may pass.
pub fn watch(state: AppState, every: Duration) -> impl Future<Output = ()> + Send + 'static {
    let mut loaded = listing(&state.sources);
    async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let sources = Arc::clone(&state.sources);
            let Ok(now) = tokio::task::spawn_blocking(move || listing(&sources)).await else {
                return;
            };
            if now == loaded {
                continue;
            }
            match state.reload().await {
                Ok(()) => {
                    tracing::info!("use-case directories changed; reloaded");
                    loaded = now;
                }
                Err(e) => tracing::error!(error = %e, "reload failed; previous versions kept"),
            }
        }
    }
}
