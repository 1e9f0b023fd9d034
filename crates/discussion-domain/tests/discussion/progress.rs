//! Progress counters as a live display reads them: within one step every event of a
//! call that ended carries the same total, and the finished count goes 1, 2, ... up to
//! it.

use std::collections::BTreeMap;

use crate::support::{Fake, fail, service};
use ax_discussion_domain::provider::ProviderErrorKind;
use ax_discussion_domain::{ProgressEvent, ProgressSink, RunOptions, Step};
use serde_json::json;

/// Runs `config` and returns, per step, the `(finished, total)` of every call that
/// ended, in the order they were reported.
async fn counters(
    fake: &std::sync::Arc<Fake>,
    config: serde_json::Value,
) -> Vec<(Step, Vec<(usize, usize)>)> {
    let (svc, _, _) = service(fake, 5);
    let (sink, mut rx) = ProgressSink::channel();
    svc.discuss_json(
        &config,
        RunOptions {
            progress: sink,
            ..RunOptions::default()
        },
    )
    .await
    .expect("runs");
    let mut order: Vec<Step> = Vec::new();
    let mut by_step: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    while let Ok(e) = rx.try_recv() {
        let e: ProgressEvent = e;
        if !e.is_final() {
            continue;
        }
        let index = match order.iter().position(|s| *s == e.step) {
            Some(i) => i,
            None => {
                order.push(e.step);
                order.len() - 1
            }
        };
        by_step
            .entry(index)
            .or_default()
            .push((e.step_finished, e.step_size));
    }
    by_step
        .into_iter()
        .map(|(i, counts)| (order[i], counts))
        .collect()
}

fn assert_one_total_per_step(steps: &[(Step, Vec<(usize, usize)>)]) {
    for (step, counts) in steps {
        let totals: Vec<usize> = counts.iter().map(|c| c.1).collect();
        assert!(
            totals.windows(2).all(|w| w[0] == w[1]),
            "{step}: one total per step, got {counts:?}"
        );
        let finished: Vec<usize> = counts.iter().map(|c| c.0).collect();
        let expected: Vec<usize> = (1..=counts.len()).collect();
        assert_eq!(finished, expected, "{step}: counted once each, in order");
        assert!(
            counts.len() <= totals[0],
            "{step}: never more than the total: {counts:?}"
        );
    }
}

/// Issue 8: critique printed `1/3`, then `1/2`, `2/2` within round 1 (the proposal,
/// the critiques and the revision each had their own counter).
#[tokio::test(start_paused = true)]
async fn critique_counts_every_call_of_a_round_against_one_total() {
    let fake = Fake::new(&["a", "b", "c"]);
    let steps = counters(
        &fake,
        json!({"topic": "T", "pattern": "critique", "providers": ["a", "b", "c"], "rounds": 3}),
    )
    .await;
    assert_one_total_per_step(&steps);
    let round = |n: u32| {
        steps
            .iter()
            .find(|(s, _)| *s == Step::Round(n))
            .map(|(_, c)| c.clone())
            .expect("the round reported progress")
    };
    // Round 1: the proposal and two critiques; round 2: the revision and two
    // critiques of it; round 3: the last revision.
    assert_eq!(round(1), [(1, 3), (2, 3), (3, 3)]);
    assert_eq!(round(2), [(1, 3), (2, 3), (3, 3)]);
    assert_eq!(round(3), [(1, 1)]);

    // A single round ends with the revision, in the same count.
    let fake = Fake::new(&["a", "b"]);
    let steps = counters(
        &fake,
        json!({"topic": "T", "pattern": "critique", "providers": ["a", "b"], "rounds": 1}),
    )
    .await;
    assert_one_total_per_step(&steps);
    assert_eq!(steps[0], (Step::Round(1), vec![(1, 3), (2, 3), (3, 3)]));

    // A failed proposer hands over to the next speaker and is no critic: still one
    // call per speaker in round 1.
    let fake = Fake::new(&["a", "b", "c"]);
    fake.script("a", vec![fail("a", ProviderErrorKind::Auth)]);
    let steps = counters(
        &fake,
        json!({"topic": "T", "pattern": "critique", "providers": ["a", "b", "c"], "rounds": 2}),
    )
    .await;
    assert_one_total_per_step(&steps);
    assert_eq!(steps[0], (Step::Round(1), vec![(1, 3), (2, 3), (3, 3)]));
    assert_eq!(steps[1], (Step::Round(2), vec![(1, 1)]));
}

/// The other patterns keep one total per step too.
#[tokio::test(start_paused = true)]
async fn every_pattern_counts_a_step_against_one_total() {
    for pattern in ["synthesis", "debate", "round-robin", "voting"] {
        let fake = Fake::new(&["a", "b", "c"]);
        let steps = counters(
            &fake,
            json!({"topic": "T", "pattern": pattern, "providers": ["a", "b", "c"], "rounds": 2}),
        )
        .await;
        assert!(!steps.is_empty(), "{pattern}: progress reported");
        assert_one_total_per_step(&steps);
    }
}
