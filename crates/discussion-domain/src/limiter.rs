//! [`ProviderLimiter`]: the one process-wide cap on provider calls in flight
//! (INV-DISC-RATE-001), with optional per-provider caps and per-discussion lowering.
//!
//! Why a semaphore per process and not per discussion: the reference tool limited calls
//! only inside one discussion, so concurrent discussions of one MCP server, and the
//! sub-discussions of a recursive one, multiplied the load on each provider. Here every
//! provider call anywhere waits for a permit of the same limiter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

use crate::provider::ProviderInfo;

/// The process-wide limit when nothing else is configured.
pub const DEFAULT_MAX_CONCURRENT_PROVIDER_CALLS: usize = 5;

/// Current and highest number of calls in flight. Shared by the limiter (the whole
/// process) and by each discussion scope (one discussion tree).
#[derive(Debug, Default)]
pub struct InFlightGauge {
    current: AtomicUsize,
    max: AtomicUsize,
    waiting: AtomicUsize,
}

impl InFlightGauge {
    /// Calls running now.
    pub fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    /// The most calls that ran at once since creation or the last [`Self::reset_max`].
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    /// Calls waiting for a permit now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Start a new measurement of the maximum (benchmarks, tests).
    pub fn reset_max(&self) {
        self.max.store(self.current(), Ordering::SeqCst);
    }

    fn enter(&self) {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.current.fetch_sub(1, Ordering::SeqCst);
    }
}

struct LimiterInner {
    limit: usize,
    global: Arc<Semaphore>,
    per_provider: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Set once any provider has a cap. Why: without caps (the usual case) a call
    /// need not take the map's lock at all, and that lock was the one contended
    /// point of the limiter path between worker threads.
    any_cap: AtomicBool,
    gauge: InFlightGauge,
}

/// The process-wide provider-call limiter. Create ONE per process and clone it (an
/// `Arc` inside) into every discussion engine and service.
#[derive(Clone)]
pub struct ProviderLimiter {
    inner: Arc<LimiterInner>,
}

impl std::fmt::Debug for ProviderLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderLimiter")
            .field("limit", &self.inner.limit)
            .field("in_flight", &self.inner.gauge.current())
            .field("max_in_flight", &self.inner.gauge.max())
            .finish()
    }
}

impl Default for ProviderLimiter {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CONCURRENT_PROVIDER_CALLS)
    }
}

impl ProviderLimiter {
    /// A limiter allowing `limit` calls in flight in the whole process (at least 1).
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            inner: Arc::new(LimiterInner {
                limit,
                global: Arc::new(Semaphore::new(limit)),
                per_provider: Mutex::new(HashMap::new()),
                any_cap: AtomicBool::new(false),
                gauge: InFlightGauge::default(),
            }),
        }
    }

    /// A limiter with the per-provider caps (`max_concurrent`) of `providers`.
    pub fn with_providers(limit: usize, providers: &[ProviderInfo]) -> Self {
        let limiter = Self::new(limit);
        for info in providers {
            if let Some(cap) = info.max_concurrent {
                limiter.set_provider_cap(&info.id, cap);
            }
        }
        limiter
    }

    /// Cap one provider's calls in flight below the process-wide limit. Why separate
    /// caps: a local model server may serve one request at a time while a hosted API
    /// takes several. Set caps before calls start; changing a cap later affects only
    /// calls that have not yet asked for a permit.
    pub fn set_provider_cap(&self, provider_id: &str, cap: usize) {
        let mut caps = self
            .inner
            .per_provider
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        caps.insert(provider_id.to_owned(), Arc::new(Semaphore::new(cap.max(1))));
        self.inner.any_cap.store(true, Ordering::Release);
    }

    /// The process-wide limit.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// The process-wide gauge: calls in flight now and at most.
    pub fn gauge(&self) -> &InFlightGauge {
        &self.inner.gauge
    }

    /// Calls in flight in the process now.
    pub fn in_flight(&self) -> usize {
        self.inner.gauge.current()
    }

    /// The most calls that were in flight in the process at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.gauge.max()
    }

    /// A scope for one discussion tree: its own gauge, and its own lower limit when
    /// `max_concurrent` is below the process-wide limit. A higher value has no effect:
    /// a discussion can only lower its limit, never raise the process's.
    pub fn scope(&self, max_concurrent: Option<usize>) -> LimitScope {
        let own = max_concurrent
            .map(|n| n.max(1))
            .filter(|n| *n < self.inner.limit)
            .map(|n| Arc::new(Semaphore::new(n)));
        LimitScope {
            limiter: self.clone(),
            own,
            gauge: Arc::new(InFlightGauge::default()),
        }
    }

    fn provider_semaphore(&self, provider_id: &str) -> Option<Arc<Semaphore>> {
        if !self.inner.any_cap.load(Ordering::Acquire) {
            return None;
        }
        self.inner
            .per_provider
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(provider_id)
            .cloned()
    }
}

/// One discussion tree's view of the limiter. Cheap to clone; sub-discussions share
/// their parent's scope, so a lowered limit covers the whole tree.
#[derive(Clone)]
pub struct LimitScope {
    limiter: ProviderLimiter,
    own: Option<Arc<Semaphore>>,
    gauge: Arc<InFlightGauge>,
}

impl std::fmt::Debug for LimitScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitScope")
            .field("lowered", &self.own.is_some())
            .field("max_in_flight", &self.gauge.max())
            .finish()
    }
}

impl LimitScope {
    /// This discussion tree's gauge.
    pub fn gauge(&self) -> &InFlightGauge {
        &self.gauge
    }

    /// The process-wide limiter this scope draws from.
    pub fn limiter(&self) -> &ProviderLimiter {
        &self.limiter
    }

    /// Wait for the right to call `provider_id`: its per-provider permit (if capped),
    /// then this discussion's permit (if lowered), then a process-wide permit.
    ///
    /// INV-DISC-RATE-001: no provider call runs without the returned [`CallPermit`];
    /// dropping it — on success, error, timeout, panic or cancellation alike — gives
    /// every permit back. Why this order: a call holding a narrower permit while it
    /// waits for a broader one blocks only calls that could not run anyway, whereas a
    /// call holding a process-wide permit while waiting for a provider's would keep a
    /// slot idle that another provider could use. The process-wide permit is taken
    /// last, so every holder of one is running.
    pub async fn acquire(&self, provider_id: &str) -> Result<CallPermit, AcquireError> {
        let gauges = [self.limiter.gauge(), self.gauge()];
        for g in gauges {
            g.waiting.fetch_add(1, Ordering::SeqCst);
        }
        let waiting = WaitingGuard(gauges);
        let provider = match self.limiter.provider_semaphore(provider_id) {
            Some(sem) => Some(sem.acquire_owned().await?),
            None => None,
        };
        let own = match &self.own {
            Some(sem) => Some(Arc::clone(sem).acquire_owned().await?),
            None => None,
        };
        let global = Arc::clone(&self.limiter.inner.global)
            .acquire_owned()
            .await?;
        drop(waiting);
        self.limiter.inner.gauge.enter();
        self.gauge.enter();
        Ok(CallPermit {
            _global: global,
            _own: own,
            _provider: provider,
            limiter: self.limiter.clone(),
            scope_gauge: Arc::clone(&self.gauge),
        })
    }
}

struct WaitingGuard<'a>([&'a InFlightGauge; 2]);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        for g in self.0 {
            g.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The right to run one provider call. Dropping it releases every permit and marks
/// the call as no longer in flight.
pub struct CallPermit {
    _global: OwnedSemaphorePermit,
    _own: Option<OwnedSemaphorePermit>,
    _provider: Option<OwnedSemaphorePermit>,
    limiter: ProviderLimiter,
    scope_gauge: Arc<InFlightGauge>,
}

impl std::fmt::Debug for CallPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallPermit")
    }
}

impl Drop for CallPermit {
    fn drop(&mut self) {
        self.limiter.inner.gauge.leave();
        self.scope_gauge.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True when `acquire` cannot complete now (polled once, never awaited).
    async fn blocked(scope: &LimitScope, provider: &str) -> bool {
        let fut = scope.acquire(provider);
        futures::pin_mut!(fut);
        futures::poll!(fut.as_mut()).is_pending()
    }

    #[tokio::test]
    async fn a_discussion_can_lower_but_not_raise_the_limit() {
        // INV-DISC-RATE-001: a discussion's own limit only lowers the process's.
        let limiter = ProviderLimiter::new(2);
        let raised = limiter.scope(Some(10));
        let a = raised.acquire("x").await.expect("permit");
        let b = raised.acquire("x").await.expect("permit");
        assert!(
            blocked(&raised, "x").await,
            "a third call exceeds the process limit"
        );
        drop((a, b));
        let lowered = limiter.scope(Some(1));
        let c = lowered.acquire("x").await.expect("permit");
        assert!(
            blocked(&lowered, "y").await,
            "the discussion lowered its limit to 1"
        );
        // Another discussion still has the rest of the process-wide limit.
        let other = limiter.scope(None);
        let d = other.acquire("y").await.expect("permit");
        assert_eq!(limiter.in_flight(), 2);
        drop((c, d));
        assert_eq!(limiter.in_flight(), 0);
        assert_eq!(limiter.max_in_flight(), 2);
    }

    #[tokio::test]
    async fn a_provider_cap_holds_while_other_providers_proceed() {
        let limiter = ProviderLimiter::new(3);
        limiter.set_provider_cap("local", 1);
        let scope = limiter.scope(None);
        let first = scope.acquire("local").await.expect("permit");
        assert!(blocked(&scope, "local").await);
        let other = scope
            .acquire("cloud")
            .await
            .expect("other providers are not capped");
        drop((first, other));
        assert!(!blocked(&scope, "local").await);
    }

    #[tokio::test]
    async fn permits_come_back_when_a_waiting_acquire_is_dropped() {
        let limiter = ProviderLimiter::new(1);
        let scope = limiter.scope(None);
        let held = scope.acquire("x").await.expect("permit");
        {
            let waiting = scope.acquire("x");
            futures::pin_mut!(waiting);
            assert!(futures::poll!(waiting.as_mut()).is_pending());
            assert_eq!(limiter.gauge().waiting(), 1);
        }
        assert_eq!(limiter.gauge().waiting(), 0);
        drop(held);
        let again = scope.acquire("x").await.expect("permit after release");
        assert_eq!(scope.gauge().max(), 1);
        drop(again);
    }
}
