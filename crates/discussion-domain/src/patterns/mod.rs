//! The five discussion patterns. Each runs its rounds into the [`Transcript`] and
//! returns what consensus needs; all of them reach providers only through
//! [`Caller::call`] (and so through the process-wide limiter), by way of the round
//! skeleton they share ([`round::Round`]).

mod critique;
mod debate;
mod round;
mod round_robin;
mod synthesis;
mod voting;

use ax_contracts::discussion::{DiscussionFailure, EarlyExit, Pattern};

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
