//! `synthesis`: round 1, every speaker answers independently, in parallel; each later
//! round, in parallel, every speaker sees the others' previous answers and says where
//! it agrees, disagrees and what was missed. Consensus follows.

use ax_contracts::discussion::DiscussionFailure;

use super::{PatternOutcome, early_exit, round_agreement};
use crate::call::{Caller, StepTracker};
use crate::progress::Step;
use crate::prompts;
use crate::state::{Plan, Transcript, Turn, all_settled};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let mut out = PatternOutcome::default();
    let brief = plan.brief();
    for round in 1..=plan.rounds() {
        let turns: Vec<Turn> = transcript
            .active(plan)
            .into_iter()
            .map(|s| {
                let prompt = if round == 1 {
                    plan.opening_prompt(s, || prompts::first_round(&brief, s.role))
                } else {
                    let previous = transcript.answers_of(round - 1);
                    let own = previous
                        .iter()
                        .find(|r| r.provider == s.id)
                        .map(|r| r.content.as_str());
                    let others: Vec<prompts::Quote<'_>> = previous
                        .iter()
                        .filter(|r| r.provider != s.id)
                        .map(|r| prompts::Quote {
                            speaker: &r.provider,
                            role: r.role,
                            round: r.round,
                            text: &r.content,
                        })
                        .collect();
                    prompts::synthesis_followup(&brief, s.role, own, &others)
                };
                Turn {
                    speaker: s.clone(),
                    prompt,
                }
            })
            .collect();
        let tracker = StepTracker::new(Step::Round(round), turns.len());
        // Opened before the calls, so the round's duration covers them.
        let mut open = transcript.open(round);
        let outcomes = all_settled(caller, &tracker, turns).await;
        for (speaker, outcome) in &outcomes {
            transcript.record(&mut open, speaker, outcome);
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
