//! `debate`: the proponent side opens (round 1), the opponent side answers (round 2),
//! then the sides alternate rebuttals (rounds 3, 4, ...), each seeing the whole debate.
//! Speakers of the same side in one round speak in parallel. Judges, moderators and
//! neutral speakers do not argue; the judge decides through `moderator` consensus.
//! There is no early exit: the sides are meant to disagree.

use ax_contracts::discussion::{DiscussionFailure, Role};
use ax_contracts::error::ErrorCode;

use super::PatternOutcome;
use crate::call::{Caller, StepTracker};
use crate::progress::Step;
use crate::prompts;
use crate::state::{Plan, Transcript, Turn, all_settled};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let brief = plan.brief();
    for round in 1..=plan.rounds() {
        let side = if round % 2 == 1 {
            Role::Proponent
        } else {
            Role::Opponent
        };
        let said = transcript.quotes();
        let turns: Vec<Turn> = transcript
            .active(plan)
            .into_iter()
            .filter(|s| s.role == Some(side))
            .map(|s| Turn {
                speaker: s.clone(),
                prompt: if said.is_empty() {
                    plan.opening_prompt(s, || prompts::debate_turn(&brief, side, round, &[]))
                } else {
                    prompts::debate_turn(&brief, side, round, &said)
                },
            })
            .collect();
        drop(said);
        if turns.is_empty() {
            return Err(DiscussionFailure::new(
                ErrorCode::DiscussionInsufficientProviders,
                format!("the {side} side has no provider left to argue"),
            ));
        }
        let tracker = StepTracker::new(Step::Round(round), turns.len());
        // Opened before the calls, so the round's duration covers them.
        let mut open = transcript.open(round);
        let outcomes = all_settled(caller, &tracker, turns).await;
        for (speaker, outcome) in &outcomes {
            transcript.record(&mut open, speaker, outcome);
        }
        transcript.close(open);
        transcript.check(plan, caller)?;
        // A side whose every speaker has failed leaves a one-sided debate, whether or
        // not that side is due to speak again (with two rounds it never is).
        for side in [Role::Proponent, Role::Opponent] {
            if !transcript.active(plan).iter().any(|s| s.role == Some(side)) {
                return Err(DiscussionFailure::new(
                    ErrorCode::DiscussionInsufficientProviders,
                    format!("the {side} side has no provider left to argue"),
                ));
            }
        }
    }
    Ok(PatternOutcome::default())
}
