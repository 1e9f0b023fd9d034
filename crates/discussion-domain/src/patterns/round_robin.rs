//! `round-robin`: speakers answer one after another in speaking order, each seeing
//! everything said so far — earlier turns of the same round included, so even a
//! one-round (`--fast`) discussion is a conversation. Only the very first turn speaks
//! first.

use ax_contracts::discussion::DiscussionFailure;

use super::PatternOutcome;
use super::round::{Round, text_agreement};
use crate::call::Caller;
use crate::prompts;
use crate::state::{Plan, Transcript};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let mut out = PatternOutcome::default();
    let brief = plan.brief();
    for number in 1..=plan.rounds() {
        let speakers: Vec<_> = transcript.active(plan).into_iter().cloned().collect();
        let mut round = Round::open(caller, plan, transcript, number, speakers.len());
        for speaker in &speakers {
            if caller.cancel.is_cancelled() {
                break;
            }
            let prompt = if number == 1 {
                let said = round.quotes();
                plan.opening_prompt(speaker, || {
                    prompts::round_robin_turn(&brief, speaker.role, number, &said)
                })
            } else {
                let mut said = round.transcript().quotes();
                said.extend(round.quotes());
                prompts::round_robin_turn(&brief, speaker.role, number, &said)
            };
            round.ask(speaker, prompt).await;
        }
        if let Some(exit) = round.close_or_exit_early(|t| text_agreement(t, number))? {
            out.early_exit = Some(exit);
            break;
        }
    }
    Ok(out)
}
