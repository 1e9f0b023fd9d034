//! The five discussion patterns. Each runs its rounds into the [`Transcript`] and
//! returns what consensus needs; all of them reach providers only through
//! [`Caller::call`] (and so through the process-wide limiter).

mod critique;
mod debate;
mod round_robin;
mod synthesis;
mod voting;

use ax_contracts::discussion::{DiscussionFailure, EarlyExit, Pattern};

use crate::agreement::lexical_agreement;
use crate::call::Caller;
use crate::state::{Plan, Transcript};

/// A vote counted by the tally.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ballot {
    pub speaker: String,
    pub option: usize,
    pub confidence: Option<f64>,
    pub multiplier: f64,
    pub reason: String,
}

/// What a pattern hands to consensus.
#[derive(Debug, Default)]
pub(crate) struct PatternOutcome {
    /// Set when rounds were skipped because the answers already agreed.
    pub early_exit: Option<EarlyExit>,
    /// The votes (the `voting` pattern), with the options they chose from.
    pub ballots: Option<(Vec<String>, Vec<Ballot>)>,
}

/// Run the configured pattern.
pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    match plan.config.pattern {
        Pattern::Synthesis => synthesis::run(caller, plan, transcript).await,
        Pattern::RoundRobin => round_robin::run(caller, plan, transcript).await,
        Pattern::Debate => debate::run(caller, plan, transcript).await,
        Pattern::Critique => critique::run(caller, plan, transcript).await,
        Pattern::Voting => voting::run(caller, plan, transcript).await,
    }
}

/// Round early exit: after `round` (not the last, and at least `minRounds`), stop when
/// the agreement of the round's answers reaches the threshold. `agreement` computes the
/// lexical measure of [`crate::agreement`] for text answers, the modal share for votes;
/// it is called only when an early exit is possible, because measuring costs more than
/// the rest of the engine's work for a call.
pub(crate) fn early_exit(
    plan: &Plan,
    round: u32,
    agreement: impl FnOnce() -> Option<f64>,
) -> Option<EarlyExit> {
    let cfg = &plan.config.round_early_exit;
    if !cfg.enabled || round < cfg.min_rounds || round >= plan.rounds() {
        return None;
    }
    let score = agreement()?;
    (score >= cfg.agreement_threshold).then(|| EarlyExit {
        after_round: round,
        agreement_score: score,
        reason: format!(
            "answers agreed ({score:.2} ≥ {:.2}) after round {round} of {}",
            cfg.agreement_threshold,
            plan.rounds()
        ),
    })
}

/// The lexical agreement of the successful answers of `round`.
pub(crate) fn round_agreement(transcript: &Transcript, round: u32) -> Option<f64> {
    let answers: Vec<&str> = transcript
        .answers_of(round)
        .iter()
        .map(|r| r.content.as_str())
        .collect();
    lexical_agreement(&answers)
}
