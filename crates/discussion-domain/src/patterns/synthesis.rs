//! `synthesis`: round 1, every speaker answers independently, in parallel; each later
//! round, in parallel, every speaker sees the others' previous answers and says where
//! it agrees, disagrees and what was missed. Consensus follows.

use ax_contracts::discussion::DiscussionFailure;

use super::PatternOutcome;
use super::round::{Round, text_agreement};
use crate::call::Caller;
use crate::prompts;
use crate::state::{Plan, Transcript, Turn};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let mut out = PatternOutcome::default();
    let brief = plan.brief();
    for number in 1..=plan.rounds() {
        let turns: Vec<Turn> = transcript
            .active(plan)
            .into_iter()
            .map(|s| {
                let prompt = if number == 1 {
                    plan.opening_prompt(s, || prompts::first_round(&brief, s.role))
                } else {
                    let previous = transcript.answers_of(number - 1);
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
        let mut round = Round::open(caller, plan, transcript, number, turns.len());
        round.ask_all(turns).await;
        if let Some(exit) = round.close_or_exit_early(|t| text_agreement(t, number))? {
            out.early_exit = Some(exit);
            break;
        }
    }
    Ok(out)
}
