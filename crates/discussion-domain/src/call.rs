//! One provider call, the only way the engine reaches a provider: wait for a permit of
//! the process-wide limiter, run with the timeout (counted from when the permit is
//! held), retry retryable failures with backoff, stop on cancellation, count the cost,
//! and report progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ax_contracts::discussion::{CostSummary, DiscussionFailure, FailureCode, ProviderCost, limits};
use ax_contracts::error::ErrorCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing::field::Empty;

use crate::limiter::LimitScope;
use crate::participants::Speaker;
use crate::progress::{CallPhase, ProgressEvent, ProgressSink, Step};
use crate::prompts::Prompt;
use crate::provider::{
    ProviderError, ProviderErrorKind, ProviderExecutor, ProviderRequest, within_time_limit,
};
use crate::retry::{Jitter, RetryPolicy};
use crate::state::millis;

/// Shared by every discussion of one tree (a top discussion and its sub-discussions).
pub(crate) struct Tree {
    pub executor: Arc<dyn ProviderExecutor>,
    pub scope: LimitScope,
    pub retry: RetryPolicy,
    pub jitter: Arc<Jitter>,
    pub progress: ProgressSink,
    /// Calls started in the whole tree (retries included).
    pub calls_started: AtomicU32,
    /// Sub-discussion calls are refused beyond this (recursive `maxTotalCalls`).
    pub max_total_calls: Option<u32>,
    /// Provider ids preferred as synthesizer, best first.
    pub synthesizer_preference: Vec<String>,
    /// Most disputed points settled per discussion.
    pub max_sub_discussions: usize,
    /// Each provider's configured default timeout (`timeout` in `config.toml`), used
    /// when the discussion sets no `providerTimeout`.
    pub provider_timeouts: HashMap<String, Duration>,
}

/// Why a call produced no answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CallFailure {
    /// The provider failed (after any retries).
    Provider(ProviderError),
    /// The discussion was cancelled (or its deadline passed) before an answer came.
    Cancelled,
    /// The recursive call budget was used up before this call could start.
    CallBudget,
}

impl CallFailure {
    /// The `code` of a `failedProviders` entry.
    pub fn code(&self) -> FailureCode {
        match self {
            Self::Provider(e) => e.kind.into(),
            Self::Cancelled => ProviderErrorKind::Cancelled.into(),
            Self::CallBudget => ErrorCode::DiscussionMaxCallsExceeded.into(),
        }
    }

    /// For people.
    pub fn message(&self) -> String {
        match self {
            Self::Provider(e) => e.message.clone(),
            Self::Cancelled => "cancelled before it answered".to_owned(),
            Self::CallBudget => "the recursive discussion's call budget is used up".to_owned(),
        }
    }

    /// `code: message`, for a response's `error` field and progress lines.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.code(), self.message())
    }

    /// True for a timeout (it has its own discussion error code).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Provider(e) if e.kind == ProviderErrorKind::Timeout)
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallAnswer {
    pub content: String,
    pub tokens: Option<u64>,
    pub simulated: bool,
}

/// The outcome of one call, with its wall time (waiting excluded, retries included).
#[derive(Debug, Clone)]
pub(crate) struct CallOutcome {
    pub result: Result<CallAnswer, CallFailure>,
    pub duration: Duration,
}

/// Counts of one step (a round, the polls, ...) for progress lines like `(3/6)`.
#[derive(Debug)]
pub(crate) struct StepTracker {
    pub step: Step,
    pub size: usize,
    finished: AtomicUsize,
}

impl StepTracker {
    pub fn new(step: Step, size: usize) -> Self {
        Self {
            step,
            size,
            finished: AtomicUsize::new(0),
        }
    }
}

/// The calling side of one discussion (top or sub): its id, depth, token, timeout and
/// the cost it has run up.
pub(crate) struct Caller {
    pub tree: Arc<Tree>,
    pub discussion_id: String,
    pub depth: u32,
    pub cancel: CancellationToken,
    /// The discussion's `providerTimeout`, when it gave one (it then applies to every
    /// provider); see [`Caller::timeout_for`].
    pub timeout: Option<Duration>,
    pub temperature: f64,
    cost: Mutex<CostSummary>,
    simulated: AtomicBool,
    stop_reason: Mutex<Option<DiscussionFailure>>,
}

impl Caller {
    pub fn new(
        tree: Arc<Tree>,
        discussion_id: String,
        depth: u32,
        cancel: CancellationToken,
        timeout: Option<Duration>,
        temperature: f64,
    ) -> Self {
        Self {
            tree,
            discussion_id,
            depth,
            cancel,
            timeout,
            temperature,
            cost: Mutex::new(CostSummary::default()),
            simulated: AtomicBool::new(false),
            stop_reason: Mutex::new(None),
        }
    }

    /// Cancel this discussion for `reason` (a deadline, a budget); the first reason wins.
    pub fn stop(&self, reason: DiscussionFailure) {
        let mut slot = self.stop_reason.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() && !self.cancel.is_cancelled() {
            *slot = Some(reason);
        }
        drop(slot);
        self.cancel.cancel();
    }

    /// Why the discussion was cancelled (`DISCUSSION_CANCELLED` unless a deadline or
    /// budget said otherwise).
    pub fn stop_reason(&self) -> DiscussionFailure {
        self.stop_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| {
                DiscussionFailure::new(
                    ErrorCode::DiscussionCancelled,
                    "the discussion was cancelled",
                )
            })
    }

    /// The cost so far.
    pub fn cost(&self) -> CostSummary {
        self.cost.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Add a sub-discussion's cost to this one's.
    pub fn absorb(&self, other: &CostSummary, simulated: bool) {
        let mut cost = self.cost.lock().unwrap_or_else(|p| p.into_inner());
        cost.total_calls += other.total_calls;
        cost.retries += other.retries;
        cost.total_tokens += other.total_tokens;
        for (id, c) in &other.by_provider {
            let mine = cost.by_provider.entry(id.clone()).or_default();
            mine.calls += c.calls;
            mine.retries += c.retries;
            mine.failures += c.failures;
            mine.tokens += c.tokens;
        }
        if simulated {
            self.simulated.store(true, Ordering::SeqCst);
        }
    }

    /// True when any answer so far was simulated by the mock provider.
    pub fn simulated(&self) -> bool {
        self.simulated.load(Ordering::SeqCst)
    }

    fn with_cost(&self, provider: &str, f: impl FnOnce(&mut CostSummary, &mut ProviderCost)) {
        let mut cost = self.cost.lock().unwrap_or_else(|p| p.into_inner());
        // Taken out and put back under its own key: the id is copied only once.
        let (key, mut entry) = cost
            .by_provider
            .remove_entry(provider)
            .unwrap_or_else(|| (provider.to_owned(), ProviderCost::default()));
        f(&mut cost, &mut entry);
        cost.by_provider.insert(key, entry);
    }

    fn emit(&self, speaker: &Speaker, tracker: &StepTracker, phase: CallPhase) {
        if !self.tree.progress.is_active() {
            return;
        }
        let finished = if matches!(phase, CallPhase::Done { .. } | CallPhase::Failed { .. }) {
            tracker.finished.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            tracker.finished.load(Ordering::SeqCst)
        };
        self.tree.progress.emit(ProgressEvent {
            discussion_id: self.discussion_id.clone(),
            depth: self.depth,
            step: tracker.step,
            speaker: speaker.id.clone(),
            provider: speaker.provider.clone(),
            phase,
            step_finished: finished,
            step_size: tracker.size,
        });
    }

    /// How long one call of `provider` may run: the discussion's `providerTimeout` when
    /// given, else the provider's configured `timeout`, else 10 minutes. Why this order:
    /// a value in the discussion is the user's explicit choice for this run; a
    /// provider's setting is a standing default that knows, say, that a local model is
    /// slow.
    pub fn timeout_for(&self, provider: &str) -> Duration {
        self.timeout
            .or_else(|| self.tree.provider_timeouts.get(provider).copied())
            .unwrap_or(Duration::from_millis(limits::PROVIDER_TIMEOUT_DEFAULT_MS))
    }

    /// Take one call from the tree's budget. Calls of the top discussion are counted
    /// but never refused (its size is bounded by its own rounds and speakers); calls of
    /// sub-discussions are refused once `maxTotalCalls` is reached.
    fn take_budget(&self) -> bool {
        match self.tree.max_total_calls {
            Some(max) if self.depth > 0 => self
                .tree
                .calls_started
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok(),
            _ => {
                self.tree.calls_started.fetch_add(1, Ordering::SeqCst);
                true
            }
        }
    }

    /// Run one prompt for `speaker`.
    ///
    /// INV-DISC-RATE-001: the provider is called only while a [`crate::limiter::CallPermit`]
    /// is held; the permit is dropped right after the attempt, before any retry wait.
    /// The timeout starts when the permit is held, so time spent queueing never counts
    /// against a provider. Cancellation drops the running future (the adapter kills its
    /// processes) and stops queued calls before they start.
    ///
    /// Observability: each call is a `provider_call` span (speaker, provider, attempts,
    /// outcome, duration in ms as recorded in the transcript), each attempt in it a
    /// `provider_attempt` span (attempt, outcome, duration in ms).
    pub async fn call(
        &self,
        speaker: &Speaker,
        tracker: &StepTracker,
        prompt: Prompt,
    ) -> CallOutcome {
        let span = tracing::info_span!(
            "provider_call",
            speaker = %speaker.id,
            provider = %speaker.provider,
            attempts = Empty,
            outcome = Empty,
            duration_ms = Empty,
        );
        let (outcome, attempts) = self
            .attempts(speaker, tracker, prompt)
            .instrument(span.clone())
            .await;
        if !span.is_disabled() {
            span.record("attempts", attempts);
            span.record("outcome", outcome_name(&outcome.result));
            span.record("duration_ms", millis(outcome.duration));
        }
        outcome
    }

    /// The body of [`Caller::call`]; also returns how many attempts reached the
    /// provider (none when the call was cancelled or refused before its first).
    async fn attempts(
        &self,
        speaker: &Speaker,
        tracker: &StepTracker,
        prompt: Prompt,
    ) -> (CallOutcome, u32) {
        let mut duration = Duration::ZERO;
        let timeout = self.timeout_for(&speaker.provider);
        self.emit(speaker, tracker, CallPhase::Waiting);
        let mut attempt = 0u32;
        let mut executed = 0u32;
        let result = loop {
            attempt += 1;
            if self.cancel.is_cancelled() {
                break Err(CallFailure::Cancelled);
            }
            if !self.take_budget() {
                break Err(CallFailure::CallBudget);
            }
            let permit = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break Err(CallFailure::Cancelled),
                permit = self.tree.scope.acquire(&speaker.provider) => match permit {
                    Ok(p) => p,
                    // The limiter's semaphores are never closed; treat it as cancellation.
                    Err(_) => break Err(CallFailure::Cancelled),
                },
            };
            self.with_cost(&speaker.provider, |total, p| {
                total.total_calls += 1;
                p.calls += 1;
                if attempt > 1 {
                    total.retries += 1;
                    p.retries += 1;
                }
            });
            self.emit(speaker, tracker, CallPhase::Running { attempt });
            let request = ProviderRequest {
                provider_id: speaker.provider.clone(),
                prompt: prompt.text.clone(),
                expects: prompt.expects,
                system_prompt: speaker.system_prompt.clone(),
                temperature: Some(self.temperature),
                max_tokens: None,
                timeout,
            };
            let attempt_span = tracing::debug_span!(
                "provider_attempt",
                attempt,
                outcome = Empty,
                duration_ms = Empty,
            );
            executed += 1;
            let started = Instant::now();
            let attempt_result = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => Err(CallFailure::Cancelled),
                r = within_time_limit(self.tree.executor.as_ref(), request)
                    .instrument(attempt_span.clone()) => {
                    r.map_err(CallFailure::Provider)
                }
            };
            let elapsed = started.elapsed();
            duration += elapsed;
            drop(permit);
            if !attempt_span.is_disabled() {
                attempt_span.record("outcome", outcome_name(&attempt_result));
                attempt_span.record("duration_ms", millis(elapsed));
            }
            match attempt_result {
                Ok(resp) => {
                    let tokens = match (resp.input_tokens, resp.output_tokens) {
                        (None, None) => None,
                        (i, o) => Some(i.unwrap_or(0) + o.unwrap_or(0)),
                    };
                    if resp.simulated {
                        self.simulated.store(true, Ordering::SeqCst);
                    }
                    self.with_cost(&speaker.provider, |total, p| {
                        total.total_tokens += tokens.unwrap_or(0);
                        p.tokens += tokens.unwrap_or(0);
                    });
                    break Ok(CallAnswer {
                        content: resp.content,
                        tokens,
                        simulated: resp.simulated,
                    });
                }
                Err(CallFailure::Provider(e)) if e.retryable => {
                    match self
                        .tree
                        .retry
                        .delay_after(attempt, e.retry_after, &self.tree.jitter)
                    {
                        Some(delay) => {
                            self.emit(
                                speaker,
                                tracker,
                                CallPhase::Retrying {
                                    attempt,
                                    delay,
                                    reason: format!("{}: {}", e.kind.as_str(), e.message),
                                },
                            );
                            tokio::select! {
                                biased;
                                _ = self.cancel.cancelled() => break Err(CallFailure::Cancelled),
                                _ = tokio::time::sleep(delay) => {}
                            }
                        }
                        None => break Err(CallFailure::Provider(e)),
                    }
                }
                Err(other) => break Err(other),
            }
        };
        match &result {
            Ok(_) => self.emit(speaker, tracker, CallPhase::Done { duration }),
            Err(f) => {
                self.with_cost(&speaker.provider, |_, p| p.failures += 1);
                self.emit(
                    speaker,
                    tracker,
                    CallPhase::Failed {
                        reason: f.describe(),
                    },
                );
            }
        }
        (CallOutcome { result, duration }, executed)
    }
}

/// A call's or an attempt's outcome as a span field: `ok`, or the failure's code.
fn outcome_name<T>(result: &Result<T, CallFailure>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(f) => f.code().as_str(),
    }
}
