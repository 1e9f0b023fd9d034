//! `unanimous` and `majority`: after the rounds a conclusion is drafted (as by
//! `synthesis`), then every standing participant is asked, in parallel, whether it
//! accepts it: `POSITION: AGREE|DISAGREE` with a reason. Unanimous holds only if every
//! polled participant agrees; majority if the agreeing share exceeds the threshold.
//! A participant that disagrees, gives no readable position, or does not answer is
//! listed in `dissent` — the result never reports agreement that was not given.

use ax_contracts::discussion::{ConsensusMethod, ConsensusResult, DiscussionFailure, Dissent};
use ax_contracts::error::ErrorCode;

use super::Consensus;
use super::synthesis;
use crate::call::{Caller, StepTracker};
use crate::parse;
use crate::progress::Step;
use crate::prompts;
use crate::state::{Plan, Transcript, Turn, all_settled};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    method: ConsensusMethod,
) -> Consensus {
    let draft = match synthesis::write(caller, plan, transcript, &[], false).await {
        Ok(d) => d,
        Err(f) => return Consensus::failed(method, f),
    };
    let conclusion = draft.sections.conclusion.clone();
    let brief = plan.brief();
    let turns: Vec<Turn> = transcript
        .active(plan)
        .into_iter()
        .map(|s| Turn {
            speaker: s.clone(),
            prompt: prompts::poll(&brief, &conclusion),
        })
        .collect();
    let polled = turns.len();
    let tracker = StepTracker::new(Step::Poll, polled);
    let outcomes = all_settled(caller, &tracker, turns).await;

    let mut agree = 0usize;
    let mut answered = 0usize;
    let mut dissent = Vec::new();
    let mut disputes = Vec::new();
    for (speaker, outcome) in &outcomes {
        match &outcome.result {
            Ok(answer) => {
                answered += 1;
                match parse::position(&answer.content) {
                    Some(p) if p.agrees => agree += 1,
                    Some(p) => {
                        let position = if p.reason.is_empty() {
                            "disagrees (no reason given)".to_owned()
                        } else {
                            p.reason.clone()
                        };
                        if !p.reason.is_empty() {
                            disputes.push(format!("{} holds: {}", speaker.id, p.reason));
                        }
                        dissent.push(Dissent {
                            provider: speaker.id.clone(),
                            position,
                        });
                    }
                    None => dissent.push(Dissent {
                        provider: speaker.id.clone(),
                        position: format!(
                            "no clear AGREE or DISAGREE: {}",
                            excerpt(&answer.content)
                        ),
                    }),
                }
            }
            Err(f) => dissent.push(Dissent {
                provider: speaker.id.clone(),
                position: format!("did not answer the poll ({})", f.describe()),
            }),
        }
    }
    if answered == 0 {
        return Consensus {
            synthesis: conclusion,
            ..Consensus::failed(
                method,
                DiscussionFailure::new(
                    ErrorCode::DiscussionConsensusFailed,
                    "no participant answered the consensus poll",
                ),
            )
        };
    }
    let share = agree as f64 / polled as f64;
    let reached = match method {
        ConsensusMethod::Unanimous => agree == polled,
        _ => share > plan.config.consensus.threshold,
    };
    Consensus {
        result: ConsensusResult {
            method,
            synthesizer: Some(draft.by),
            reached,
            agreement_score: Some(share),
            agreements: draft.sections.agreements,
            dissent,
            insights: draft.sections.insights,
        },
        synthesis: conclusion,
        voting: None,
        failure: None,
        disputes,
    }
}

fn excerpt(text: &str) -> String {
    let t: String = text.trim().chars().take(120).collect();
    if text.trim().chars().count() > 120 {
        format!("{t}...")
    } else {
        t
    }
}
