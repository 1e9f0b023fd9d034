//! `voting`: tally weighted votes. Each vote weighs confidence × multiplier (the
//! configured `agentWeightMultiplier` for agents, 1 for providers); a vote without a
//! stated confidence counts 0.5. The winner has the highest weighted total; when two or
//! more options share it, the result is a tie (`tie: true`, no winner, the tied options
//! listed) — never an arbitrary pick.
//!
//! After the `voting` pattern the pattern's votes are tallied; after any other pattern
//! every standing participant is first asked to vote, having seen the final answers.

use std::collections::BTreeMap;

use ax_contracts::discussion::{
    ConsensusMethod, ConsensusResult, DiscussionFailure, Dissent, VoteRecord, VotingResults,
};
use ax_contracts::error::ErrorCode;

use super::Consensus;
use crate::call::{Caller, StepTracker};
use crate::parse;
use crate::patterns::{Ballot, PatternOutcome};
use crate::progress::Step;
use crate::prompts::{self, VoteBasis};
use crate::state::{Plan, Transcript, Turn, all_settled};

/// Weight of a vote that stated no confidence.
const UNSTATED_CONFIDENCE: f64 = 0.5;
/// Weighted totals closer than this are equal (floating-point sums of confidences).
const TIE_EPSILON: f64 = 1e-9;

pub(crate) async fn run(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    outcome: &PatternOutcome,
) -> Consensus {
    let (options, ballots) = match &outcome.ballots {
        Some((options, ballots)) => (options.clone(), ballots.clone()),
        None => collect_votes(caller, plan, transcript).await,
    };
    if ballots.is_empty() {
        return Consensus::failed(
            ConsensusMethod::Voting,
            DiscussionFailure::new(
                ErrorCode::DiscussionConsensusFailed,
                "no readable vote was cast",
            ),
        );
    }
    let results = tally(&options, &ballots);
    let winner_share = {
        let total: f64 = results.weighted_votes.values().sum();
        let top = results
            .winner
            .as_ref()
            .and_then(|w| results.weighted_votes.get(w))
            .copied()
            .unwrap_or(0.0);
        (total > 0.0).then(|| top / total)
    };
    let dissent = match &results.winner {
        Some(w) => results
            .vote_records
            .iter()
            .filter(|r| &r.option != w)
            .map(|r| Dissent {
                provider: r.provider.clone(),
                position: if r.reason.is_empty() {
                    format!("voted {}", r.option)
                } else {
                    format!("voted {}: {}", r.option, r.reason)
                },
            })
            .collect(),
        None => Vec::new(),
    };
    let synthesis = summary(&results);
    Consensus {
        result: ConsensusResult {
            method: ConsensusMethod::Voting,
            synthesizer: None,
            reached: results.winner.is_some(),
            agreement_score: winner_share,
            agreements: Vec::new(),
            dissent,
            insights: Vec::new(),
        },
        synthesis,
        voting: Some(results),
        failure: None,
        disputes: Vec::new(),
    }
}

/// Ask every standing participant to vote on the topic's options.
async fn collect_votes(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
) -> (Vec<String>, Vec<Ballot>) {
    let options = parse::options(&plan.config.topic);
    let brief = plan.brief();
    let latest = transcript.latest_answers(plan);
    let turns: Vec<Turn> = transcript
        .active(plan)
        .into_iter()
        .map(|s| Turn {
            speaker: s.clone(),
            prompt: prompts::vote(&brief, s.role, &options, VoteBasis::Discussion, &latest),
        })
        .collect();
    drop(latest);
    let tracker = StepTracker::new(Step::Vote, turns.len());
    let outcomes = all_settled(caller, &tracker, turns).await;
    let mut ballots = Vec::new();
    for (speaker, outcome) in &outcomes {
        if let Some(text) = transcript.note(speaker, outcome)
            && let Some(v) = parse::vote(&text, &options)
        {
            ballots.push(Ballot {
                speaker: speaker.id.clone(),
                option: v.option,
                confidence: v.confidence,
                multiplier: speaker.weight,
                reason: v.reason,
            });
        }
    }
    (options, ballots)
}

/// Count `ballots` over `options`.
pub(crate) fn tally(options: &[String], ballots: &[Ballot]) -> VotingResults {
    let mut votes: BTreeMap<String, u32> = options.iter().map(|o| (o.clone(), 0)).collect();
    let mut weighted: BTreeMap<String, f64> = options.iter().map(|o| (o.clone(), 0.0)).collect();
    let mut records = Vec::with_capacity(ballots.len());
    for b in ballots {
        let Some(option) = options.get(b.option) else {
            continue;
        };
        let confidence = b.confidence.unwrap_or(UNSTATED_CONFIDENCE);
        let weight = confidence * b.multiplier;
        *votes.entry(option.clone()).or_default() += 1;
        *weighted.entry(option.clone()).or_default() += weight;
        records.push(VoteRecord {
            provider: b.speaker.clone(),
            option: option.clone(),
            confidence,
            weight,
            reason: b.reason.clone(),
        });
    }
    // Rank in the topic's option order so that equal totals are found side by side.
    let mut ranked: Vec<(&String, f64)> = options
        .iter()
        .map(|o| (o, weighted.get(o).copied().unwrap_or(0.0)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = ranked.first().map_or(0.0, |r| r.1);
    let tied: Vec<String> = ranked
        .iter()
        .filter(|(_, w)| (top - w).abs() < TIE_EPSILON)
        .map(|(o, _)| (*o).clone())
        .collect();
    let tie = records.is_empty() || tied.len() > 1;
    let winner = (!tie).then(|| tied[0].clone());
    let margin = if tie {
        0.0
    } else {
        top - ranked.get(1).map_or(0.0, |r| r.1)
    };
    let unanimous = !records.is_empty() && records.iter().all(|r| r.option == records[0].option);
    VotingResults {
        options: options.to_vec(),
        winner,
        votes,
        weighted_votes: weighted,
        vote_records: records,
        unanimous,
        margin,
        tie,
        tied_options: if tie && tied.len() > 1 {
            tied
        } else {
            Vec::new()
        },
    }
}

/// The synthesis text of a vote: the outcome in one line, then each voter's reason.
fn summary(r: &VotingResults) -> String {
    let mut s = match &r.winner {
        Some(w) => format!(
            "{w} wins with {:.2} of {:.2} weighted votes ({} of {} voters){}.",
            r.weighted_votes.get(w).copied().unwrap_or(0.0),
            r.weighted_votes.values().sum::<f64>(),
            r.votes.get(w).copied().unwrap_or(0),
            r.vote_records.len(),
            if r.unanimous { ", unanimously" } else { "" }
        ),
        None => format!(
            "Tie between {} ({:.2} weighted votes each): no option won.",
            r.tied_options.join(" and "),
            r.tied_options
                .first()
                .and_then(|o| r.weighted_votes.get(o))
                .copied()
                .unwrap_or(0.0)
        ),
    };
    for rec in &r.vote_records {
        s.push_str(&format!(
            "\n- {}: {} ({:.2})",
            rec.provider, rec.option, rec.confidence
        ));
        if !rec.reason.is_empty() {
            s.push_str(&format!(" — {}", rec.reason));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(who: &str, option: usize, confidence: Option<f64>, multiplier: f64) -> Ballot {
        Ballot {
            speaker: who.into(),
            option,
            confidence,
            multiplier,
            reason: String::new(),
        }
    }

    fn opts() -> Vec<String> {
        vec!["A".into(), "B".into(), "C".into()]
    }

    #[test]
    fn weights_are_confidence_times_multiplier() {
        // Two providers for A (0.9 + 0.6 = 1.5) lose to one agent for B (0.8 × 2 = 1.6).
        let r = tally(
            &opts(),
            &[
                ballot("p1", 0, Some(0.9), 1.0),
                ballot("p2", 0, Some(0.6), 1.0),
                ballot("agent", 1, Some(0.8), 2.0),
            ],
        );
        assert_eq!(r.winner.as_deref(), Some("B"));
        assert_eq!(r.votes["A"], 2);
        assert!((r.weighted_votes["B"] - 1.6).abs() < 1e-9);
        assert!((r.margin - 0.1).abs() < 1e-9);
        assert!(!r.tie && !r.unanimous);
    }

    #[test]
    fn equal_totals_are_a_tie_with_no_winner() {
        let r = tally(
            &opts(),
            &[
                ballot("p1", 0, Some(0.7), 1.0),
                ballot("p2", 2, Some(0.7), 1.0),
            ],
        );
        assert!(r.tie);
        assert_eq!(r.winner, None);
        assert_eq!(r.tied_options, vec!["A".to_owned(), "C".to_owned()]);
        assert_eq!(r.margin, 0.0);
    }

    #[test]
    fn unstated_confidence_counts_half_and_unanimity_is_detected() {
        let r = tally(
            &opts(),
            &[ballot("p1", 2, None, 1.0), ballot("p2", 2, Some(1.0), 1.0)],
        );
        assert!(r.unanimous);
        assert!((r.weighted_votes["C"] - 1.5).abs() < 1e-9);
        assert_eq!(r.vote_records[0].confidence, 0.5);
    }
}
