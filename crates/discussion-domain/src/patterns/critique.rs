//! `critique`: the first speaker proposes and the others critique it in parallel
//! (round 1); in each later round the proposer revises in answer to the critiques and,
//! unless it is the last round, the others critique the revision. With the default of
//! 2 rounds that is one full critique + revision cycle; with a single round the
//! revision closes round 1, so there is always at least one cycle.
//!
//! When the proposer's first call fails, the next speaker proposes instead.

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
    tx: &mut Transcript,
) -> Result<PatternOutcome, DiscussionFailure> {
    let brief = plan.brief();
    let rounds = plan.rounds();

    // Round 1: a proposal (falling back to the next speaker), then critiques.
    let mut open = tx.open(1);
    let mut proposal: Option<(Speaker, String)> = None;
    let candidates: Vec<Speaker> = tx.active(plan).into_iter().cloned().collect();
    let tracker = StepTracker::new(Step::Round(1), candidates.len());
    for speaker in &candidates {
        if caller.cancel.is_cancelled() {
            break;
        }
        let prompt =
            plan.opening_prompt(speaker, || prompts::critique_proposal(&brief, speaker.role));
        let outcome = caller.call(speaker, &tracker, prompt).await;
        if let Some(text) = tx.record(&mut open, speaker, &outcome) {
            proposal = Some((speaker.clone(), text));
            break;
        }
    }
    let Some((proposer, mut current)) = proposal else {
        tx.close(open);
        tx.check(plan, caller)?;
        return Err(tx
            .check_min_providers(plan)
            .err()
            .unwrap_or_else(|| caller.stop_reason()));
    };
    let mut critiques = critique(caller, plan, tx, &mut open, &proposer, &current, 1).await;
    if rounds == 1
        && !critiques.is_empty()
        && let Some(revised) = revise(
            caller,
            plan,
            tx,
            &mut open,
            (&proposer, &current),
            &critiques,
            1,
        )
        .await
    {
        current = revised;
    }
    tx.close(open);
    tx.check(plan, caller)?;

    for round in 2..=rounds {
        if critiques.is_empty() || tx.has_failed(&proposer) {
            break;
        }
        let mut open = tx.open(round);
        match revise(
            caller,
            plan,
            tx,
            &mut open,
            (&proposer, &current),
            &critiques,
            round,
        )
        .await
        {
            Some(revised) => current = revised,
            None => {
                tx.close(open);
                tx.check(plan, caller)?;
                break;
            }
        }
        critiques = if round < rounds {
            critique(caller, plan, tx, &mut open, &proposer, &current, round).await
        } else {
            Vec::new()
        };
        tx.close(open);
        tx.check(plan, caller)?;
    }
    Ok(PatternOutcome::default())
}

/// The critics (every active speaker but the proposer) critique `proposal` in parallel.
/// Returns `(critic, critique)` pairs of the ones that answered.
async fn critique(
    caller: &Caller,
    plan: &Plan,
    tx: &mut Transcript,
    open: &mut OpenRound,
    proposer: &Speaker,
    proposal: &str,
    version: u32,
) -> Vec<(String, String)> {
    let brief = plan.brief();
    let turns: Vec<Turn> = tx
        .active(plan)
        .into_iter()
        .filter(|s| s.id != proposer.id)
        .map(|s| Turn {
            speaker: s.clone(),
            prompt: prompts::critique_review(&brief, s.role, &proposer.id, proposal, version),
        })
        .collect();
    let tracker = StepTracker::new(Step::Round(version), turns.len());
    let outcomes = all_settled(caller, &tracker, turns).await;
    let mut out = Vec::new();
    for (speaker, outcome) in &outcomes {
        if let Some(text) = tx.record(open, speaker, outcome) {
            out.push((speaker.id.clone(), text));
        }
    }
    out
}

/// The proposer revises `proposal` in answer to `critiques`.
async fn revise(
    caller: &Caller,
    plan: &Plan,
    tx: &mut Transcript,
    open: &mut OpenRound,
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
    let tracker = StepTracker::new(Step::Round(round), 1);
    let outcome = caller.call(proposer, &tracker, prompt).await;
    tx.record(open, proposer, &outcome)
}
