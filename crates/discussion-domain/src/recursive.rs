//! Recursive discussions: disputed points found by consensus are settled in
//! sub-discussions — one level deeper, in parallel, with fewer speakers, in fast mode —
//! within the tree's depth, call and time budgets. Their conclusions feed a final
//! synthesis of the parent.
//!
//! Every sub-discussion call goes through the same [`crate::limiter::LimitScope`] as
//! its parent, so the process-wide limit (INV-DISC-RATE-001) holds for the whole tree:
//! fan-out is exactly what the limit exists for.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ax_contracts::discussion::{
    ConsensusMethod, ConsensusResult, DiscussionConfig, DiscussionFailure, Pattern, SubDiscussion,
    limits,
};
use ax_contracts::error::ErrorCode;
use futures::future::join_all;
use tokio::time::Instant;

use crate::call::Caller;
use crate::consensus::{Consensus, synthesis};
use crate::run::{Deadline, RunSpec, run_discussion};
use crate::state::{Plan, Transcript};

/// Settle `consensus.disputes` in sub-discussions, then rewrite the parent's synthesis
/// with their conclusions. Returns one entry per disputed point considered.
pub(crate) async fn settle(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    consensus: &mut Consensus,
    tree_deadline: Option<Instant>,
) -> Vec<SubDiscussion> {
    let rec = &plan.config.recursive;
    let depth = caller.depth + 1;
    let mut points: Vec<String> = Vec::new();
    for d in &consensus.disputes {
        if !points.contains(d) {
            points.push(d.clone());
        }
    }
    points.truncate(caller.tree.max_sub_discussions);

    let speakers: Vec<_> = transcript.active(plan).into_iter().cloned().collect();
    // Fewer speakers than the parent: about half of them, at least two.
    let take = speakers.len().div_ceil(2).max(2).min(speakers.len());
    let sub_speakers = speakers[..take].to_vec();
    // One round of every sub-speaker plus the synthesizer.
    let estimate = u32::try_from(take).unwrap_or(u32::MAX) + 1;

    let mut entries: Vec<SubDiscussion> = Vec::new();
    let mut launches = Vec::new();
    let mut reserved = 0u32;
    for point in points {
        let refuse = |code: ErrorCode, message: String| SubDiscussion {
            point: point.clone(),
            depth,
            result: None,
            error: Some(DiscussionFailure::new(code, message)),
        };
        if depth > rec.max_depth {
            entries.push(refuse(
                ErrorCode::DiscussionMaxDepthExceeded,
                format!(
                    "settling it would go to depth {depth}; maxDepth is {}",
                    rec.max_depth
                ),
            ));
            continue;
        }
        if tree_deadline.is_some_and(|at| Instant::now() >= at) {
            entries.push(refuse(
                ErrorCode::DiscussionBudgetExhausted,
                "the recursive time budget is used up".to_owned(),
            ));
            continue;
        }
        let used = caller.tree.calls_started.load(Ordering::SeqCst);
        if used + reserved + estimate > rec.max_total_calls {
            entries.push(refuse(
                ErrorCode::DiscussionMaxCallsExceeded,
                format!(
                    "{used} of {} calls used; settling it needs about {estimate} more",
                    rec.max_total_calls
                ),
            ));
            continue;
        }
        if sub_speakers.len() < 2 {
            entries.push(refuse(
                ErrorCode::DiscussionInsufficientProviders,
                "fewer than two providers are left to settle it".to_owned(),
            ));
            continue;
        }
        reserved += estimate;
        let mut config = DiscussionConfig::new(sub_topic(&point, &plan.config.topic));
        config.pattern = Pattern::Synthesis;
        config.fast_mode = true;
        config.rounds = 1;
        config.context = plan.config.context.clone();
        config.provider_timeout = plan.config.provider_timeout;
        config.temperature = plan.config.temperature;
        config.min_providers = 2;
        config.continue_on_provider_failure = true;
        config.consensus.method = Some(ConsensusMethod::Synthesis);
        config.consensus.include_dissent = true;
        config.recursive = rec.clone();
        let spec = RunSpec {
            discussion_id: uuid::Uuid::now_v7().to_string(),
            depth,
            cancel: caller.cancel.child_token(),
            deadline: tree_deadline.map(|at| Deadline {
                at,
                failure: DiscussionFailure::new(
                    ErrorCode::DiscussionBudgetExhausted,
                    "the recursive time budget ran out",
                ),
            }),
            tree_deadline,
            unavailable: Vec::new(),
        };
        let sub_plan = Plan::new(config, sub_speakers.clone());
        entries.push(SubDiscussion {
            point: point.clone(),
            depth,
            result: None,
            error: None,
        });
        launches.push((
            entries.len() - 1,
            run_discussion(Arc::clone(&caller.tree), sub_plan, spec),
        ));
    }

    let (slots, futures): (Vec<usize>, Vec<_>) = launches.into_iter().unzip();
    let results = join_all(futures).await;
    let mut settled = Vec::new();
    for (slot, result) in slots.into_iter().zip(results) {
        caller.absorb(&result.metadata.cost_summary, result.metadata.simulated);
        if result.success {
            settled.push((entries[slot].point.clone(), result.synthesis.clone()));
        }
        entries[slot].error = result.error.clone();
        entries[slot].result = Some(result);
    }

    if !settled.is_empty() && !caller.cancel.is_cancelled() {
        let moderator = consensus.result.method == ConsensusMethod::Moderator;
        if let Ok(w) = synthesis::write(caller, plan, transcript, &settled, moderator).await {
            consensus.synthesis = w.sections.conclusion;
            if consensus.result.method == ConsensusMethod::Synthesis
                || consensus.result.method == ConsensusMethod::Moderator
            {
                let method = consensus.result.method;
                let score = consensus.result.agreement_score;
                consensus.result = ConsensusResult {
                    method,
                    synthesizer: Some(w.by),
                    reached: true,
                    agreement_score: score,
                    agreements: w.sections.agreements,
                    dissent: if plan.config.consensus.include_dissent {
                        w.dissent
                    } else {
                        Vec::new()
                    },
                    insights: w.sections.insights,
                };
            }
        }
    }
    entries
}

/// The topic of a sub-discussion: the disputed point, with the parent topic for context.
fn sub_topic(point: &str, parent: &str) -> String {
    let parent: String = parent.chars().take(1500).collect();
    let text = format!(
        "Settle this disputed point: {point}\n\nIt came up in a discussion of: {parent}\n\nIs the point right? Answer with a clear position and the reason."
    );
    text.chars().take(limits::TOPIC_MAX_CHARS).collect()
}
