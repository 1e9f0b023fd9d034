//! The five consensus methods, each doing what its name says:
//! - `synthesis`: a synthesizer writes agreements, disagreements, insights and a
//!   conclusion ([`synthesis`]);
//! - `moderator`: the synthesizer — a debate's judge — judges the arguments;
//! - `unanimous` / `majority`: a conclusion is drafted, then every standing participant
//!   is polled AGREE/DISAGREE ([`poll`]); the result says who dissented when it fails;
//! - `voting`: votes weighted by confidence × agent multiplier are tallied
//!   ([`voting`]); a tie is reported as a tie.

mod poll;
pub(crate) mod synthesis;
mod voting;

use ax_contracts::discussion::{
    ConsensusMethod, ConsensusResult, DiscussionFailure, Dissent, VotingResults,
};

use tracing::Instrument;
use tracing::field::Empty;

use crate::call::Caller;
use crate::patterns::PatternOutcome;
use crate::state::{Plan, Transcript};

/// What consensus produced.
#[derive(Debug)]
pub(crate) struct Consensus {
    pub result: ConsensusResult,
    pub synthesis: String,
    pub voting: Option<VotingResults>,
    /// Set when consensus could not be established at all (not merely "not reached").
    pub failure: Option<DiscussionFailure>,
    /// Substantive disputed points, for recursive sub-discussions.
    pub disputes: Vec<String>,
}

impl Consensus {
    fn failed(method: ConsensusMethod, failure: DiscussionFailure) -> Self {
        Self {
            result: ConsensusResult::not_reached(method),
            synthesis: String::new(),
            voting: None,
            failure: Some(failure),
            disputes: Vec::new(),
        }
    }
}

/// Reach consensus by the configured method, in a `consensus` span (method, reached,
/// outcome).
pub(crate) async fn reach(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    outcome: &PatternOutcome,
) -> Consensus {
    let method = plan.config.consensus_method();
    let span = tracing::info_span!(
        "consensus",
        method = %method,
        reached = Empty,
        outcome = Empty,
    );
    let consensus = by_method(caller, plan, transcript, outcome, method)
        .instrument(span.clone())
        .await;
    if !span.is_disabled() {
        span.record("reached", consensus.result.reached);
        span.record(
            "outcome",
            consensus.failure.as_ref().map_or("ok", |f| f.code.as_str()),
        );
    }
    consensus
}

async fn by_method(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    outcome: &PatternOutcome,
    method: ConsensusMethod,
) -> Consensus {
    let consensus = match method {
        ConsensusMethod::Synthesis | ConsensusMethod::Moderator => {
            match synthesis::write(
                caller,
                plan,
                transcript,
                &[],
                method == ConsensusMethod::Moderator,
            )
            .await
            {
                Ok(w) => {
                    let disputes = w.dissent.iter().map(dispute_text).collect();
                    Consensus {
                        result: ConsensusResult {
                            method,
                            synthesizer: Some(w.by.clone()),
                            reached: true,
                            agreement_score: synthesis::last_round_agreement(transcript, plan),
                            agreements: w.sections.agreements.clone(),
                            dissent: if plan.config.consensus.include_dissent {
                                w.dissent.clone()
                            } else {
                                Vec::new()
                            },
                            insights: w.sections.insights.clone(),
                        },
                        synthesis: w.sections.conclusion,
                        voting: None,
                        failure: None,
                        disputes,
                    }
                }
                Err(f) => Consensus::failed(method, f),
            }
        }
        ConsensusMethod::Unanimous | ConsensusMethod::Majority => {
            poll::run(caller, plan, transcript, method).await
        }
        ConsensusMethod::Voting => voting::run(caller, plan, transcript, outcome).await,
    };
    match consensus.failure {
        // A call that failed because the discussion was stopped is a cancellation, not
        // a consensus or synthesis failure.
        Some(_) if caller.cancel.is_cancelled() => Consensus {
            failure: Some(caller.stop_reason()),
            ..consensus
        },
        _ => consensus,
    }
}

fn dispute_text(d: &Dissent) -> String {
    if d.provider == synthesis::UNATTRIBUTED {
        d.position.clone()
    } else {
        format!("{} holds: {}", d.provider, d.position)
    }
}
