//! `critique`: the first speaker proposes and the others critique it in parallel
//! (round 1); in each later round the proposer revises in answer to the critiques and,
//! unless it is the last round, the others critique the revision. With the default of
//! 2 rounds that is one full critique + revision cycle; with a single round the
//! revision closes round 1, so there is always at least one cycle.
//!
//! When the proposer's first call fails, the next speaker proposes instead.
//!
//! Progress: every call of a round counts against the one total of that round — round 1
//! is the proposal (and any fallback proposals), the critiques and, with a single
//! round, the revision; a later round is the revision and, unless it is the last, the
//! critiques of it — so a round's counter reads `1/3`, `2/3`, `3/3`, never `1/3` then
//! `1/2`.

use ax_contracts::discussion::DiscussionFailure;

use super::PatternOutcome;
use super::round::Round;
use crate::call::Caller;
use crate::participants::Speaker;
use crate::prompts::{self, Brief};
use crate::state::{Plan, Transcript, Turn};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let brief = plan.brief();
    let rounds = plan.rounds();

    // Round 1: a proposal (falling back to the next speaker), then critiques.
    let candidates: Vec<Speaker> = transcript.active(plan).into_iter().cloned().collect();
    // A failed proposer is no longer active, so it is not among the critics: the
    // proposals tried and the critiques together are one call per candidate.
    let calls = candidates.len() + usize::from(rounds == 1);
    let mut round = Round::open(caller, plan, transcript, 1, calls);
    let mut proposal: Option<(Speaker, String)> = None;
    for speaker in &candidates {
        if caller.cancel.is_cancelled() {
            break;
        }
        let prompt =
            plan.opening_prompt(speaker, || prompts::critique_proposal(&brief, speaker.role));
        if let Some(text) = round.ask(speaker, prompt).await {
            proposal = Some((speaker.clone(), text));
            break;
        }
    }
    let Some((proposer, mut current)) = proposal else {
        round.close()?;
        return Err(transcript
            .check_min_providers(plan)
            .err()
            .unwrap_or_else(|| caller.stop_reason()));
    };
    let mut critiques = critique(&mut round, &brief, (&proposer, &current), 1).await;
    if rounds == 1
        && !critiques.is_empty()
        && let Some(revised) =
            revise(&mut round, &brief, (&proposer, &current), &critiques, 1).await
    {
        current = revised;
    }
    round.close()?;

    for number in 2..=rounds {
        if critiques.is_empty() || transcript.has_failed(&proposer) {
            break;
        }
        let critics = if number < rounds {
            critics(transcript.active(plan), &proposer).len()
        } else {
            0
        };
        let mut round = Round::open(caller, plan, transcript, number, 1 + critics);
        match revise(
            &mut round,
            &brief,
            (&proposer, &current),
            &critiques,
            number,
        )
        .await
        {
            Some(revised) => current = revised,
            None => {
                round.close()?;
                break;
            }
        }
        critiques = if number < rounds {
            critique(&mut round, &brief, (&proposer, &current), number).await
        } else {
            Vec::new()
        };
        round.close()?;
    }
    Ok(PatternOutcome::default())
}

/// The critics among `active` speakers: every one but the proposer.
fn critics<'p>(active: Vec<&'p Speaker>, proposer: &Speaker) -> Vec<&'p Speaker> {
    active.into_iter().filter(|s| s.id != proposer.id).collect()
}

/// The critics critique `proposal` in parallel, in `round`. Returns `(critic,
/// critique)` pairs of the ones that answered.
async fn critique(
    round: &mut Round<'_>,
    brief: &Brief<'_>,
    (proposer, proposal): (&Speaker, &str),
    version: u32,
) -> Vec<(String, String)> {
    let turns: Vec<Turn> = critics(round.active(), proposer)
        .into_iter()
        .map(|s| Turn {
            speaker: s.clone(),
            prompt: prompts::critique_review(brief, s.role, &proposer.id, proposal, version),
        })
        .collect();
    round
        .ask_all(turns)
        .await
        .into_iter()
        .map(|(speaker, text)| (speaker.id, text))
        .collect()
}

/// The proposer revises `proposal` in answer to `critiques` (quoted as of round
/// `number`), in `round`.
async fn revise(
    round: &mut Round<'_>,
    brief: &Brief<'_>,
    (proposer, proposal): (&Speaker, &str),
    critiques: &[(String, String)],
    number: u32,
) -> Option<String> {
    let quotes: Vec<prompts::Quote<'_>> = critiques
        .iter()
        .map(|(who, text)| prompts::Quote {
            speaker: who,
            role: None,
            round: number,
            text,
        })
        .collect();
    let prompt = prompts::critique_revision(brief, proposer.role, proposal, &quotes);
    round.ask(proposer, prompt).await
}
