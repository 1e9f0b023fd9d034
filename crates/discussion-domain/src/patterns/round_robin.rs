//! `round-robin`: speakers answer one after another in speaking order, each seeing
//! everything said so far — earlier turns of the same round included, so even a
//! one-round (`--fast`) discussion is a conversation. Only the very first turn speaks
//! first.

use ax_contracts::discussion::DiscussionFailure;

use super::{PatternOutcome, early_exit, round_agreement};
use crate::call::{Caller, StepTracker};
use crate::progress::Step;
use crate::prompts;
use crate::state::{Plan, Transcript};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let mut out = PatternOutcome::default();
    let brief = plan.brief();
    for round in 1..=plan.rounds() {
        let speakers: Vec<_> = transcript.active(plan).into_iter().cloned().collect();
        let tracker = StepTracker::new(Step::Round(round), speakers.len());
        let mut open = transcript.open(round);
        for speaker in &speakers {
            if caller.cancel.is_cancelled() {
                break;
            }
            let prompt = if round == 1 {
                let said = open.quotes();
                plan.opening_prompt(speaker, || {
                    prompts::round_robin_turn(&brief, speaker.role, round, &said)
                })
            } else {
                let mut said = transcript.quotes();
                said.extend(open.quotes());
                prompts::round_robin_turn(&brief, speaker.role, round, &said)
            };
            let outcome = caller.call(speaker, &tracker, prompt).await;
            transcript.record(&mut open, speaker, &outcome);
        }
        transcript.close(open);
        transcript.check(plan, caller)?;
        if let Some(exit) = early_exit(plan, round, || round_agreement(transcript, round)) {
            out.early_exit = Some(exit);
            break;
        }
    }
    Ok(out)
}
