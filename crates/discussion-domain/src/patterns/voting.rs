//! `voting`: the options come from the topic (a numbered list, `Options: a, b, c`, the
//! alternatives it names — "PostgreSQL or SQLite?", "A vs B vs C" — else Yes/No; see
//! [`parse::topic_choices`]). Every speaker votes in parallel with a confidence and a
//! reason; in later rounds each sees the previous votes and may change its own. A
//! speaker's latest readable vote counts. Early exit when the share of the most common
//! vote reaches the agreement threshold.

use ax_contracts::discussion::DiscussionFailure;

use super::round::Round;
use super::{Ballot, PatternOutcome};
use crate::agreement::modal_share;
use crate::call::Caller;
use crate::parse;
use crate::prompts::{self, VoteBasis};
use crate::state::{Plan, Transcript, Turn};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let mut out = PatternOutcome::default();
    let options = parse::options(&plan.config.topic);
    let brief = plan.brief();
    let mut ballots: Vec<Ballot> = Vec::new();
    for number in 1..=plan.rounds() {
        let earlier = if number == 1 {
            Vec::new()
        } else {
            transcript
                .answers_of(number - 1)
                .into_iter()
                .map(|r| prompts::Quote {
                    speaker: &r.provider,
                    role: r.role,
                    round: r.round,
                    text: &r.content,
                })
                .collect()
        };
        let basis = if number == 1 {
            VoteBasis::Fresh
        } else {
            VoteBasis::EarlierVotes
        };
        let turns: Vec<Turn> = transcript
            .active(plan)
            .into_iter()
            .map(|s| Turn {
                speaker: s.clone(),
                prompt: if number == 1 {
                    plan.opening_prompt(s, || {
                        prompts::vote(&brief, s.role, &options, basis, &earlier)
                    })
                } else {
                    prompts::vote(&brief, s.role, &options, basis, &earlier)
                },
            })
            .collect();
        drop(earlier);
        let mut round = Round::open(caller, plan, transcript, number, turns.len());
        let mut choices = Vec::new();
        for (speaker, text) in round.ask_all(turns).await {
            let Some(v) = parse::vote(&text, &options) else {
                continue;
            };
            round.set_vote(&speaker, options[v.option].clone(), v.confidence);
            choices.push(v.option);
            ballots.retain(|b| b.speaker != speaker.id);
            ballots.push(Ballot {
                speaker: speaker.id.clone(),
                option: v.option,
                confidence: v.confidence,
                multiplier: speaker.weight,
                reason: v.reason,
            });
        }
        if let Some(exit) = round.close_or_exit_early(|_| modal_share(&choices))? {
            out.early_exit = Some(exit);
            break;
        }
    }
    // A speaker that failed later is no longer standing behind its earlier vote.
    ballots.retain(|b| {
        plan.speakers
            .iter()
            .any(|s| s.id == b.speaker && !transcript.has_failed(s))
    });
    // Keep the tally in speaking order, whatever order the rounds left it in.
    ballots.sort_by_key(|b| plan.speakers.iter().position(|s| s.id == b.speaker));
    out.ballots = Some((options, ballots));
    Ok(out)
}
