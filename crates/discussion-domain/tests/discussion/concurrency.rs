//! INV-DISC-RATE-001: every provider call in the process passes one limiter. With more
//! calls than permits, the most calls in flight equals the limit exactly — never more,
//! and not less while work waits — in one discussion, across concurrent discussions,
//! and inside a recursive discussion.

use crate::support::{self, Act, Fake, config, service};
use ax_discussion_domain::provider::Expects;
use ax_discussion_domain::provider::ProviderInfo;
use ax_discussion_domain::{ProgressSink, RunOptions};
use serde_json::json;

const SIX: [&str; 6] = ["p1", "p2", "p3", "p4", "p5", "p6"];

fn twelve_call_config() -> serde_json::Value {
    // 6 providers × 2 rounds = 12 round calls, plus one synthesis call.
    json!({
        "topic": "How should agents be stored?",
        "providers": SIX,
        "rounds": 2,
        "roundEarlyExit": {"enabled": false}
    })
}

#[tokio::test(start_paused = true)]
async fn twelve_calls_with_limit_three_run_exactly_three_at_a_time() {
    let fake = Fake::new(&SIX);
    let (svc, _, limiter) = service(&fake, 3);
    let result = svc
        .discuss(config(twelve_call_config()), RunOptions::default())
        .await
        .expect("runs");
    assert!(result.success, "{:?}", result.error);
    assert_eq!(fake.seen().len(), 13);
    assert_eq!(fake.max_in_flight(), 3, "seen by the provider");
    assert_eq!(limiter.max_in_flight(), 3, "seen by the limiter");
    assert_eq!(result.metadata.max_in_flight, 3, "reported in the result");
    assert_eq!(result.metadata.cost_summary.total_calls, 13);
    assert_eq!(limiter.in_flight(), 0, "every permit came back");
}

#[tokio::test(start_paused = true)]
async fn two_concurrent_discussions_share_one_process_wide_limit() {
    let fake = Fake::new(&SIX);
    let (svc, history, limiter) = service(&fake, 4);
    let one = config(
        json!({"topic": "First", "providers": ["p1", "p2", "p3"], "roundEarlyExit": {"enabled": false}}),
    );
    let two = config(
        json!({"topic": "Second", "providers": ["p4", "p5", "p6"], "roundEarlyExit": {"enabled": false}}),
    );
    let (a, b) = tokio::join!(
        svc.discuss(one, RunOptions::default()),
        svc.discuss(two, RunOptions::default())
    );
    assert!(a.expect("runs").success && b.expect("runs").success);
    // Each discussion alone wants 3 calls at once; together 6. One limit of 4 for the
    // process means exactly 4 — a per-discussion limit would have allowed 6.
    assert_eq!(fake.max_in_flight(), 4);
    assert_eq!(limiter.max_in_flight(), 4);
    assert_eq!(history.records().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_discussion_may_lower_its_own_limit_but_never_raise_the_process_limit() {
    let fake = Fake::new(&SIX);
    let (svc, _, _) = service(&fake, 5);
    let mut lowered = twelve_call_config();
    lowered["maxConcurrentProviderCalls"] = json!(2);
    let r = svc
        .discuss(config(lowered), RunOptions::default())
        .await
        .expect("runs");
    assert!(r.success);
    assert_eq!(fake.max_in_flight(), 2);

    let fake = Fake::new(&SIX);
    let (svc, _, limiter) = service(&fake, 3);
    let mut raised = twelve_call_config();
    raised["maxConcurrentProviderCalls"] = json!(64);
    let r = svc
        .discuss(config(raised), RunOptions::default())
        .await
        .expect("runs");
    assert!(r.success);
    assert_eq!(fake.max_in_flight(), 3);
    assert_eq!(limiter.max_in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_per_provider_cap_holds_across_discussions() {
    let mut infos: Vec<ProviderInfo> = ["local", "a", "b", "c", "d"]
        .iter()
        .map(|id| Fake::real_info(id))
        .collect();
    infos[0].max_concurrent = Some(1);
    let fake = Fake::with_infos(infos);
    let (svc, _, limiter) = service(&fake, 5);
    let runs = ["a", "b", "c", "d"].map(|other| {
        svc.discuss(
            config(json!({"topic": "Capped", "providers": ["local", other], "fastMode": true})),
            RunOptions::default(),
        )
    });
    let results = futures::future::join_all(runs).await;
    assert!(results.iter().all(|r| r.as_ref().is_ok_and(|r| r.success)));
    assert_eq!(
        fake.max_in_flight_of("local"),
        1,
        "the cap of the local provider"
    );
    assert!(
        limiter.max_in_flight() > 1,
        "other providers were not held back"
    );
    assert!(limiter.max_in_flight() <= 5);
}

#[tokio::test(start_paused = true)]
async fn a_recursive_discussion_stays_within_the_limit_while_sub_discussions_fan_out() {
    let fake = Fake::new(&["p1", "p2", "p3", "p4"]);
    for id in ["p1", "p2", "p3", "p4"] {
        fake.respond(id, move |req| {
            let is_sub = req.prompt.contains("Settle this disputed point");
            match req.expects {
                // The top discussion's synthesis finds three disputed points.
                Expects::Synthesis { .. } if !is_sub && !req.prompt.contains("<settled") => {
                    Act::Say("AGREEMENTS:\n- storage matters\nDISAGREEMENTS:\n- p2: JSON files are enough\n- p3: PostgreSQL is needed\n- p4: WAL mode must be off\nINSIGHTS:\n- none\nCONCLUSION:\nUse SQLite.".into())
                }
                _ => Act::Say(support::default_answer(id, req)),
            }
        });
    }
    let (svc, _, limiter) = service(&fake, 3);
    let (sink, mut events) = ProgressSink::channel();
    let r = svc
        .discuss(
            config(json!({
                "topic": "Where do agents live?",
                "providers": ["p1", "p2", "p3", "p4"],
                "fastMode": true,
                "recursive": {"enabled": true, "maxDepth": 2, "maxTotalCalls": 40}
            })),
            RunOptions {
                progress: sink,
                ..RunOptions::default()
            },
        )
        .await
        .expect("runs");
    assert!(r.success, "{:?}", r.error);
    let subs = r.sub_discussions.as_ref().expect("sub-discussions ran");
    assert_eq!(subs.len(), 3);
    for sub in subs {
        let result = sub.result.as_ref().expect("ran");
        assert!(result.success, "{:?}", result.error);
        assert_eq!(result.metadata.depth, 1);
        assert_eq!(result.participating_providers.len(), 2, "fewer providers");
        assert_eq!(result.rounds.len(), 1, "fast mode");
    }
    // Three sub-discussions of two providers each want six calls at once.
    assert_eq!(fake.max_in_flight(), 3);
    assert_eq!(limiter.max_in_flight(), 3);
    assert_eq!(r.metadata.max_in_flight, 3);
    // Root: 4 answers + synthesis + final synthesis; each sub: 2 answers + synthesis.
    assert_eq!(fake.seen().len(), 6 + 3 * 3);
    assert_eq!(
        r.metadata.cost_summary.total_calls, 15,
        "sub-discussion costs included"
    );
    // The settled points fed the final synthesis.
    let last = fake
        .seen()
        .into_iter()
        .filter(|s| s.prompt.contains("<settled"))
        .count();
    assert_eq!(last, 1);
    let mut sub_events = 0;
    while let Ok(e) = events.try_recv() {
        if e.depth == 1 && e.is_final() {
            sub_events += 1;
        }
    }
    assert_eq!(sub_events, 9, "every sub-discussion call reported progress");
}

#[tokio::test(start_paused = true)]
async fn recursive_budgets_are_reported_not_exceeded() {
    let fake = Fake::new(&["p1", "p2"]);
    for id in ["p1", "p2"] {
        fake.respond(id, move |req| match req.expects {
            // Every synthesis, at every depth, finds two disputed points.
            Expects::Synthesis { .. } => Act::Say(
                "DISAGREEMENTS:\n- p1: point one\n- p2: point two\nCONCLUSION:\nDone.".into(),
            ),
            _ => Act::Say(support::default_answer(id, req)),
        });
    }
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({
                "topic": "Budgets",
                "providers": ["p1", "p2"],
                "fastMode": true,
                // Root uses 3 calls (2 answers + synthesis); one sub needs 3 more.
                "recursive": {"enabled": true, "maxDepth": 1, "maxTotalCalls": 6}
            })),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success);
    let subs = r.sub_discussions.expect("considered");
    assert_eq!(subs.len(), 2);
    assert!(subs[0].result.as_ref().is_some_and(|s| s.success));
    assert_eq!(
        subs[1].error.as_ref().map(|e| e.code.as_str()),
        Some("DISCUSSION_MAX_CALLS_EXCEEDED")
    );
    // The sub at depth 1 found disputes too, but maxDepth 1 forbids going deeper.
    let nested = subs[0]
        .result
        .as_ref()
        .and_then(|s| s.sub_discussions.clone())
        .expect("considered");
    assert!(nested.iter().all(
        |n| n.error.as_ref().map(|e| e.code.as_str()) == Some("DISCUSSION_MAX_DEPTH_EXCEEDED")
    ));
    assert!(
        fake.seen().len() <= 6 + 1,
        "only the final synthesis beyond the call budget"
    );
}

#[tokio::test(start_paused = true)]
async fn the_recursive_time_budget_stops_sub_discussions() {
    let fake = Fake::new(&["p1", "p2"]);
    for id in ["p1", "p2"] {
        fake.respond(id, move |req| {
            if req.prompt.contains("Settle this disputed point") {
                return Act::Hang;
            }
            match req.expects {
                Expects::Synthesis { .. } => {
                    Act::Say("DISAGREEMENTS:\n- p1: a point\nCONCLUSION:\nDone.".into())
                }
                _ => Act::Say(support::default_answer(id, req)),
            }
        });
    }
    let (svc, _, limiter) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({
                "topic": "Time",
                "providers": ["p1", "p2"],
                "fastMode": true,
                "recursive": {"enabled": true, "totalBudgetMs": 60000}
            })),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success, "the top discussion finished: {:?}", r.error);
    let subs = r.sub_discussions.expect("considered");
    assert_eq!(
        subs[0].error.as_ref().map(|e| e.code.as_str()),
        Some("DISCUSSION_BUDGET_EXHAUSTED")
    );
    assert_eq!(
        fake.dropped(),
        2,
        "the hanging sub-discussion calls were dropped"
    );
    assert_eq!(limiter.in_flight(), 0);
}
