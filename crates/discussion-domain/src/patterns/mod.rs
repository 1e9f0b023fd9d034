//! The five discussion patterns. Each runs its rounds into the [`Transcript`] and
//! returns what consensus needs; all of them reach providers only through
//! [`Caller::call`] (and so through the process-wide limiter), by way of the round
//! skeleton they share ([`round::Round`]).
//!
//! A pattern is one file here with a `run` function of [`run`]'s signature, and one
//! line in the table at the bottom naming its contract [`Pattern`] and its file. The
//! table is an exhaustive `match`, so a `Pattern` added to the contract without its
//! line does not compile.

mod round;

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

/// Declares each pattern's file and dispatches the configured [`Pattern`] to it.
macro_rules! patterns {
    ($($pattern:ident => $file:ident),* $(,)?) => {
        $(mod $file;)*

        /// Run the configured pattern.
        pub(crate) async fn run(
            caller: &Caller,
            plan: &Plan,
            transcript: &mut Transcript,
        ) -> Result<PatternOutcome, DiscussionFailure> {
            match plan.config.pattern {
                $(Pattern::$pattern => $file::run(caller, plan, transcript).await,)*
            }
        }
    };
}

patterns! {
    Synthesis => synthesis,
    RoundRobin => round_robin,
    Debate => debate,
    Critique => critique,
    Voting => voting,
}
