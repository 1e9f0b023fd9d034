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
use crate::call::{Caller, StepTracker};
use crate::participants::Speaker;
use crate::progress::Step;
use crate::prompts;
use crate::state::{OpenRound, Plan, Transcript, Turn, all_settled};

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let brief = plan.brief();
    let rounds = plan.rounds();

    // Round 1: a proposal (falling back to the next speaker), then critiques.
    let mut open = transcript.open(1);
    let mut proposal: Option<(Speaker, String)> = None;
    let candidates: Vec<Speaker> = transcript.active(plan).into_iter().cloned().collect();
    // A failed proposer is no longer active, so it is not among the critics: the
    // proposals tried and the critiques together are one call per candidate.
    let tracker = StepTracker::new(Step::Round(1), candidates.len() + usize::from(rounds == 1));
    for speaker in &candidates {
        if caller.cancel.is_cancelled() {
            break;
        }
        let prompt =
            plan.opening_prompt(speaker, || prompts::critique_proposal(&brief, speaker.role));
        let outcome = caller.call(speaker, &tracker, prompt).await;
        if let Some(text) = transcript.record(&mut open, speaker, &outcome) {
            proposal = Some((speaker.clone(), text));
            break;
        }
    }
    let Some((proposer, mut current)) = proposal else {
        transcript.close(open);
        transcript.check(plan, caller)?;
        return Err(transcript
            .check_min_providers(plan)
            .err()
            .unwrap_or_else(|| caller.stop_reason()));
    };
    let mut critiques = critique(
        caller,
        plan,
        transcript,
        &mut open,
        &tracker,
        (&proposer, &current),
        1,
    )
    .await;
    if rounds == 1
        && !critiques.is_empty()
        && let Some(revised) = revise(
            caller,
            plan,
            transcript,
            &mut open,
            &tracker,
            (&proposer, &current),
            &critiques,
            1,
        )
        .await
    {
        current = revised;
    }
    transcript.close(open);
    transcript.check(plan, caller)?;

    for round in 2..=rounds {
        if critiques.is_empty() || transcript.has_failed(&proposer) {
            break;
        }
        let mut open = transcript.open(round);
        let critics = if round < rounds {
            critics(transcript, plan, &proposer).len()
        } else {
            0
        };
        let tracker = StepTracker::new(Step::Round(round), 1 + critics);
        match revise(
            caller,
            plan,
            transcript,
            &mut open,
            &tracker,
            (&proposer, &current),
            &critiques,
            round,
        )
        .await
        {
            Some(revised) => current = revised,
            None => {
                transcript.close(open);
                transcript.check(plan, caller)?;
                break;
            }
        }
        critiques = if round < rounds {
            critique(
                caller,
                plan,
                transcript,
                &mut open,
                &tracker,
                (&proposer, &current),
                round,
            )
            .await
        } else {
            Vec::new()
        };
        transcript.close(open);
        transcript.check(plan, caller)?;
    }
    Ok(PatternOutcome::default())
}

/// The critics: every active speaker but the proposer.
fn critics<'p>(transcript: &Transcript, plan: &'p Plan, proposer: &Speaker) -> Vec<&'p Speaker> {
    transcript
        .active(plan)
        .into_iter()
        .filter(|s| s.id != proposer.id)
        .collect()
}

/// The critics critique `proposal` in parallel, counted on the round's `tracker`.
/// Returns `(critic, critique)` pairs of the ones that answered.
async fn critique(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    open: &mut OpenRound,
    tracker: &StepTracker,
    (proposer, proposal): (&Speaker, &str),
    version: u32,
) -> Vec<(String, String)> {
    let brief = plan.brief();
    let turns: Vec<Turn> = critics(transcript, plan, proposer)
        .into_iter()
        .map(|s| Turn {
            speaker: s.clone(),
            prompt: prompts::critique_review(&brief, s.role, &proposer.id, proposal, version),
        })
        .collect();
    let outcomes = all_settled(caller, tracker, turns).await;
    let mut out = Vec::new();
    for (speaker, outcome) in &outcomes {
        if let Some(text) = transcript.record(open, speaker, outcome) {
            out.push((speaker.id.clone(), text));
        }
    }
    out
}

/// The proposer revises `proposal` in answer to `critiques`, counted on the round's
/// `tracker`.
#[allow(clippy::too_many_arguments)]
async fn revise(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    open: &mut OpenRound,
    tracker: &StepTracker,
    (proposer, proposal): (&Speaker, &str),
    critiques: &[(String, String)],
    round: u32,
) -> Option<String> {
    let brief = plan.brief();
    let quotes: Vec<prompts::Quote<'_>> = critiques
        .iter()
        .map(|(who, text)| prompts::Quote {
            speaker: who,
            role: None,
            round,
            text,
        })
        .collect();
    let prompt = prompts::critique_revision(&brief, proposer.role, proposal, &quotes);
    let outcome = caller.call(proposer, tracker, prompt).await;
    transcript.record(open, proposer, &outcome)
}
