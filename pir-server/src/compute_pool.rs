//! The bounded pool PIR computation runs on (DESIGN.md "compute off the reactor"; issue #7):
//! at most `workers` computations at once on tokio's blocking threads, at most `queue` more
//! waiting, and beyond that an immediate 503 with `Retry-After` instead of an unbounded queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::api_error::ApiError;

/// Admission control and execution for CPU-bound work.
#[derive(Debug, Clone)]
pub struct ComputePool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    workers: usize,
    capacity: usize,
    retry_after_secs: u64,
    permits: Arc<Semaphore>,
    /// Running plus waiting.
    admitted: AtomicUsize,
}

/// Decrements the admitted count however the job ends (done, panicked, or its request dropped
/// while it waited).
struct Admission(Arc<Inner>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ComputePool {
    /// `workers` ≥ 1 concurrent jobs, `queue` waiting jobs; rejected requests are told to retry
    /// after `retry_after_secs`.
    pub fn new(workers: usize, queue: usize, retry_after_secs: u64) -> Self {
        let workers = workers.max(1);
        Self {
            inner: Arc::new(Inner {
                workers,
                capacity: workers.saturating_add(queue),
                retry_after_secs,
                permits: Arc::new(Semaphore::new(workers)),
                admitted: AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `job` on a blocking thread once a worker is free.
    ///
    /// # Errors
    /// [`ApiError::Busy`] when `workers + queue` jobs are already admitted;
    /// [`ApiError::Internal`] if the job panicked.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let before = self.inner.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(Arc::clone(&self.inner));
        if before >= self.inner.capacity {
            return Err(ApiError::Busy {
                retry_after_secs: self.inner.retry_after_secs,
            });
        }
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal("compute pool closed".into()))?;
        // Permit and admission move into the job: if the request goes away, the slot stays taken
        // until the computation really ends.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _admission = admission;
            job()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("compute job failed: {e}")))
    }

    /// Jobs running now.
    pub fn in_flight(&self) -> usize {
        self.inner
            .workers
            .saturating_sub(self.inner.permits.available_permits())
    }

    /// Jobs admitted and waiting for a worker.
    pub fn queue_depth(&self) -> usize {
        self.inner
            .admitted
            .load(Ordering::Acquire)
            .saturating_sub(self.in_flight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rejects_beyond_workers_plus_queue_and_recovers() {
        let pool = ComputePool::new(1, 1, 3);
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let running = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                    1
                })
                .await
            })
        };
        started_rx.recv().await.unwrap();
        assert_eq!(pool.in_flight(), 1);
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| 2).await })
        };
        // The second job is admitted to the queue; wait (bounded) until it is counted.
        for _ in 0..1000 {
            if pool.queue_depth() == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.queue_depth(), 1);
        match pool.run(|| 3).await {
            Err(ApiError::Busy { retry_after_secs }) => assert_eq!(retry_after_secs, 3),
            other => panic!("expected Busy, got {other:?}"),
        }
        release_tx.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), 1);
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        assert_eq!(pool.run(|| 4).await.unwrap(), 4);
        assert_eq!((pool.in_flight(), pool.queue_depth()), (0, 0));
    }
}
