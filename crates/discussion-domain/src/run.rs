//! Runs one discussion (top or sub) from its plan to its result: pattern, consensus,
//! recursive sub-discussions, and the result document — which is built whatever
//! happened, so that a failed or cancelled discussion still returns the rounds it
//! completed.

use std::sync::Arc;
use std::time::Duration;

use ax_contracts::discussion::{
    ConsensusResult, DiscussionFailure, DiscussionMetadata, DiscussionResult, EarlyExit,
    FailedProvider, SubDiscussion,
};
use ax_contracts::error::ErrorCode;
use futures::future::BoxFuture;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing::field::Empty;

use crate::call::{Caller, Tree};
use crate::consensus::{self, Consensus};
use crate::patterns;
use crate::recursive;
use crate::state::{Plan, Transcript, millis};

/// A time limit and what to report when it strikes.
#[derive(Debug, Clone)]
pub(crate) struct Deadline {
    pub at: Instant,
    pub failure: DiscussionFailure,
}

/// Everything one discussion run needs beside its plan.
pub(crate) struct RunSpec {
    pub discussion_id: String,
    pub depth: u32,
    pub cancel: CancellationToken,
    /// The discussion's own deadline (top: the caller's; sub: the recursive budget).
    pub deadline: Option<Deadline>,
    /// When the recursive time budget of the whole tree runs out.
    pub tree_deadline: Option<Instant>,
    /// Speakers that could not take part (unavailable providers, unknown agents).
    pub unavailable: Vec<FailedProvider>,
}

/// What the body of a discussion produced before it ended (or failed).
#[derive(Default)]
struct Produced {
    early_exit: Option<EarlyExit>,
    consensus: Option<Consensus>,
    subs: Option<Vec<SubDiscussion>>,
}

/// Run a discussion to its result. Boxed because sub-discussions recurse into it.
///
/// Observability: the run is a `discussion` span (discussion id, depth, pattern,
/// speakers, outcome — `ok` or the error code — and duration in ms); it is created
/// here, not in the future, so that a sub-discussion's span is a child of the span
/// that launched it.
pub(crate) fn run_discussion(
    tree: Arc<Tree>,
    plan: Plan,
    spec: RunSpec,
) -> BoxFuture<'static, DiscussionResult> {
    let span = tracing::info_span!(
        "discussion",
        discussion_id = %spec.discussion_id,
        depth = spec.depth,
        pattern = %plan.config.pattern,
        speakers = plan.speakers.len(),
        outcome = Empty,
        duration_ms = Empty,
    );
    let recorded = span.clone();
    let run = async move {
        let started_at = chrono::Utc::now();
        let t0 = Instant::now();
        let caller = Caller::new(
            Arc::clone(&tree),
            spec.discussion_id.clone(),
            spec.depth,
            spec.cancel.clone(),
            plan.config.provider_timeout.map(Duration::from_millis),
            plan.config.temperature,
        );
        let mut transcript = Transcript::default();
        for f in &spec.unavailable {
            transcript.fail_before_start(&f.provider, f.code, f.message.clone());
        }
        let mut produced = Produced::default();

        let outcome = {
            let body = body(
                &caller,
                &plan,
                &mut transcript,
                &mut produced,
                spec.tree_deadline,
            );
            futures::pin_mut!(body);
            match &spec.deadline {
                Some(deadline) => {
                    tokio::select! {
                        r = &mut body => r,
                        _ = tokio::time::sleep_until(deadline.at) => {
                            // Stop the calls; the body then winds down with what it has.
                            caller.stop(deadline.failure.clone());
                            body.await
                        }
                    }
                }
                None => body.await,
            }
        };

        let method = plan.config.consensus_method();
        let mut failure = outcome.err();
        let (consensus, synthesis, voting) = match produced.consensus {
            Some(c) => {
                if failure.is_none() {
                    failure = c.failure;
                }
                (c.result, c.synthesis, c.voting)
            }
            None => (ConsensusResult::not_reached(method), String::new(), None),
        };
        if let Some(f) = &mut failure
            && matches!(
                f.code,
                ErrorCode::DiscussionInsufficientProviders
                    | ErrorCode::DiscussionAllProvidersFailed
            )
            && transcript
                .failed
                .iter()
                .any(|p| p.code == ErrorCode::DiscussionMaxCallsExceeded.into())
        {
            *f = DiscussionFailure::new(
                ErrorCode::DiscussionMaxCallsExceeded,
                format!("the recursive call budget ran out ({})", f.message),
            );
        }
        let mut cost = caller.cost();
        cost.by_provider.retain(|_, c| c.calls > 0);
        let result = DiscussionResult {
            discussion_id: spec.discussion_id,
            success: failure.is_none(),
            pattern: plan.config.pattern,
            topic: plan.config.topic.clone(),
            participating_providers: transcript.participating(),
            failed_providers: transcript.failed.clone(),
            rounds: std::mem::take(&mut transcript.rounds),
            synthesis,
            consensus,
            voting_results: voting,
            sub_discussions: produced.subs,
            total_duration_ms: millis(t0.elapsed()),
            metadata: DiscussionMetadata {
                started_at: started_at.to_rfc3339(),
                completed_at: chrono::Utc::now().to_rfc3339(),
                cost_summary: cost,
                early_exit: produced.early_exit,
                max_in_flight: u32::try_from(tree.scope.gauge().max()).unwrap_or(u32::MAX),
                simulated: caller.simulated(),
                depth: spec.depth,
            },
            error: failure,
        };
        if !recorded.is_disabled() {
            recorded.record(
                "outcome",
                result.error.as_ref().map_or("ok", |e| e.code.as_str()),
            );
            recorded.record("duration_ms", result.total_duration_ms);
        }
        result
    };
    Box::pin(run.instrument(span))
}

async fn body(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    produced: &mut Produced,
    tree_deadline: Option<Instant>,
) -> Result<(), DiscussionFailure> {
    if plan.speakers.is_empty() {
        return Err(DiscussionFailure::new(
            ErrorCode::DiscussionInsufficientProviders,
            "no provider is available for this discussion",
        ));
    }
    transcript.check_min_providers(plan)?;
    let outcome = patterns::run(caller, plan, transcript).await?;
    produced.early_exit = outcome.early_exit.clone();
    let mut consensus = consensus::reach(caller, plan, transcript, &outcome).await;
    let go_deeper = consensus.failure.is_none()
        && plan.config.recursive.enabled
        && !consensus.disputes.is_empty()
        && !caller.cancel.is_cancelled();
    if go_deeper {
        let subs = recursive::settle(caller, plan, transcript, &mut consensus, tree_deadline).await;
        produced.subs = Some(subs);
    }
    produced.consensus = Some(consensus);
    if caller.cancel.is_cancelled() {
        return Err(caller.stop_reason());
    }
    Ok(())
}
