//! `debate`: the proponent side opens (round 1), the opponent side answers (round 2),
//! then the sides alternate rebuttals (rounds 3, 4, ...), each seeing the whole debate.
//! Speakers of the same side in one round speak in parallel. Judges, moderators and
//! neutral speakers do not argue; the judge decides through `moderator` consensus.
//! There is no early exit: the sides are meant to disagree.

use ax_contracts::discussion::{DiscussionFailure, Role};
use ax_contracts::error::ErrorCode;

use super::PatternOutcome;
use super::round::Round;
use crate::call::Caller;
use crate::prompts;
use crate::state::{Plan, Transcript, Turn};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let brief = plan.brief();
    for number in 1..=plan.rounds() {
        let side = if number % 2 == 1 {
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
                    plan.opening_prompt(s, || prompts::debate_turn(&brief, side, number, &[]))
                } else {
                    prompts::debate_turn(&brief, side, number, &said)
                },
            })
            .collect();
        drop(said);
        if turns.is_empty() {
            return Err(one_sided(side));
        }
        let mut round = Round::open(caller, plan, transcript, number, turns.len());
        round.ask_all(turns).await;
        round.close()?;
        // A side whose every speaker has failed leaves a one-sided debate, whether or
        // not that side is due to speak again (with two rounds it never is).
        for side in [Role::Proponent, Role::Opponent] {
            if !transcript.active(plan).iter().any(|s| s.role == Some(side)) {
                return Err(one_sided(side));
            }
        }
    }
    Ok(PatternOutcome::default())
}

fn one_sided(side: Role) -> DiscussionFailure {
    DiscussionFailure::new(
        ErrorCode::DiscussionInsufficientProviders,
        format!("the {side} side has no provider left to argue"),
    )
}
