//! Provider failures, retries, timeouts, minProviders, cancellation and deadlines.
//! Timing is measured on tokio's paused clock, never on the wall clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{self, Act, Fake, config, fail, service};
use ax_contracts::discussion::DiscussionStatus;
use ax_discussion_domain::provider::{ProviderError, ProviderErrorKind};
use ax_discussion_domain::{CallPhase, ProgressSink, RunOptions, status_of};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn a_rate_limited_call_is_retried_after_retry_after_with_a_new_permit() {
    let fake = Fake::new(&["a", "b"]);
    fake.script(
        "a",
        vec![Act::Fail(
            ProviderError::new("a", ProviderErrorKind::RateLimit, "429")
                .with_retry_after(Duration::from_secs(7)),
        )],
    );
    let (svc, _, limiter) = service(&fake, 1);
    let (sink, mut events) = ProgressSink::channel();
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true})),
            RunOptions {
                progress: sink,
                ..RunOptions::default()
            },
        )
        .await
        .expect("runs");
    assert!(r.success, "{:?}", r.error);
    let a: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.provider == "a")
        .collect();
    assert!(a.len() >= 2);
    let waited = a[1].started - a[0].ended.expect("first attempt ended");
    assert!(waited >= Duration::from_secs(7), "retried after {waited:?}");
    assert_eq!(r.metadata.cost_summary.retries, 1);
    assert_eq!(r.metadata.cost_summary.by_provider["a"].retries, 1);
    assert_eq!(
        limiter.max_in_flight(),
        1,
        "the retry took a permit again, within the limit"
    );
    let mut retrying = 0;
    while let Ok(e) = events.try_recv() {
        if matches!(e.phase, CallPhase::Retrying { .. }) {
            retrying += 1;
        }
    }
    assert_eq!(retrying, 1);
}

#[tokio::test(start_paused = true)]
async fn an_auth_failure_is_not_retried() {
    let fake = Fake::new(&["a", "b", "c"]);
    fake.script("a", vec![fail("a", ProviderErrorKind::Auth)]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success, "two providers remain");
    assert_eq!(fake.calls_of("a"), 1);
    assert_eq!(r.failed_providers.len(), 1);
    assert_eq!(r.failed_providers[0].provider, "a");
    assert_eq!(r.failed_providers[0].code.as_str(), "auth");
    assert_eq!(r.metadata.cost_summary.retries, 0);
    assert_eq!(r.participating_providers, ["b", "c"]);
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded() {
    let fake = Fake::new(&["a", "b", "c"]);
    fake.respond("a", |_| fail("a", ProviderErrorKind::Server));
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(fake.calls_of("a"), 3, "three attempts in total by default");
    assert_eq!(r.failed_providers[0].code.as_str(), "server");
}

#[tokio::test(start_paused = true)]
async fn the_timeout_counts_from_when_the_call_holds_a_permit() {
    // Limit 1: b waits 8 s for a's permit, then runs 8 s. Had its 10 s timeout started
    // while waiting, it would have timed out.
    let fake = Fake::new(&["a", "b"]);
    fake.set_default_latency(Duration::from_secs(8));
    let (svc, _, _) = service(&fake, 1);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true, "providerTimeout": 10000})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success, "{:?}", r.failed_providers);
    assert!(r.failed_providers.is_empty());

    let fake = Fake::new(&["a", "b", "c"]);
    fake.set_latency("a", Duration::from_secs(20));
    let (svc, _, limiter) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true, "providerTimeout": 10000})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(r.failed_providers[0].code.as_str(), "timeout");
    assert_eq!(
        fake.dropped(),
        1,
        "the slow call was dropped at its timeout"
    );
    assert_eq!(limiter.in_flight(), 0);
}

/// Records the timeout each call of `provider` was given, and answers normally.
fn record_timeouts(fake: &Fake, provider: &'static str) -> Arc<Mutex<Vec<Duration>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    fake.respond(provider, move |req| {
        sink.lock().unwrap().push(req.timeout);
        Act::Say(support::default_answer(provider, req))
    });
    got
}

#[tokio::test(start_paused = true)]
async fn without_provider_timeout_each_provider_gets_its_configured_timeout() {
    // `slow` is configured with `timeout = "6s"`, `patient` with "30m", `plain` with
    // nothing: each call gets its own provider's value (10 min when none), and only
    // `slow` times out on an 8 s answer.
    let mut infos = vec![
        Fake::real_info("slow"),
        Fake::real_info("patient"),
        Fake::real_info("plain"),
    ];
    infos[0].default_timeout = Some(Duration::from_secs(6));
    infos[1].default_timeout = Some(Duration::from_secs(30 * 60));
    let fake = Fake::with_infos(infos);
    fake.set_default_latency(Duration::from_secs(8));
    let patient = record_timeouts(&fake, "patient");
    let plain = record_timeouts(&fake, "plain");
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(
                json!({"topic": "T", "providers": ["slow", "patient", "plain"], "fastMode": true}),
            ),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.failed_providers.len(), 1, "{:?}", r.failed_providers);
    assert_eq!(r.failed_providers[0].provider, "slow");
    assert_eq!(r.failed_providers[0].code.as_str(), "timeout");
    let slow = &r.rounds[0].responses[0];
    assert_eq!(slow.duration_ms, 6_000, "cut at its own 6 s, not at 10 min");
    for (seen, expected) in [(patient, 30 * 60), (plain, 10 * 60)] {
        let seen = seen.lock().unwrap();
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|t| *t == Duration::from_secs(expected)),
            "{seen:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_given_provider_timeout_overrides_every_providers_own() {
    let mut infos = vec![Fake::real_info("a"), Fake::real_info("b")];
    infos[0].default_timeout = Some(Duration::from_secs(60));
    let fake = Fake::with_infos(infos);
    fake.set_latency("a", Duration::from_secs(8));
    let seen_a = record_timeouts(&fake, "a");
    let seen_b = record_timeouts(&fake, "b");
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true, "minProviders": 1, "providerTimeout": 5000})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(r.failed_providers.len(), 1, "{:?}", r.failed_providers);
    assert_eq!(r.failed_providers[0].provider, "a");
    assert_eq!(r.failed_providers[0].code.as_str(), "timeout");
    assert_eq!(r.rounds[0].responses[0].duration_ms, 5_000);
    for seen in [seen_a, seen_b] {
        let seen = seen.lock().unwrap();
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|t| *t == Duration::from_secs(5)),
            "{seen:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn one_failure_never_cancels_the_others_in_a_round() {
    // INV-DISC-103: every outcome of a parallel round is collected.
    let fake = Fake::new(&["a", "b", "c"]);
    fake.set_latency("b", Duration::from_secs(3));
    fake.set_latency("c", Duration::from_secs(5));
    fake.script("a", vec![fail("a", ProviderErrorKind::Unknown)]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success);
    assert_eq!(r.rounds[0].responses.len(), 3);
    assert_eq!(fake.dropped(), 0, "the slower providers finished");
    assert!(
        r.rounds[0].responses[0]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("unknown:"))
    );
}

#[tokio::test(start_paused = true)]
async fn too_few_providers_fails_but_returns_the_completed_rounds() {
    let fake = Fake::new(&["a", "b", "c"]);
    // c answers round 1, then fails.
    fake.script(
        "c",
        vec![
            Act::Say("c round one".into()),
            fail("c", ProviderErrorKind::Auth),
        ],
    );
    let (svc, history, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "rounds": 3, "minProviders": 3, "roundEarlyExit": {"enabled": false}})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(!r.success);
    let e = r.error.as_ref().expect("error");
    assert_eq!(e.code.as_str(), "DISCUSSION_INSUFFICIENT_PROVIDERS");
    assert_eq!(
        r.rounds.len(),
        2,
        "round 1 complete, round 2 where c failed"
    );
    assert_eq!(r.rounds[0].responses[2].content, "c round one");
    assert!(!r.consensus.reached);
    assert_eq!(history.records()[0].status.as_str(), "failed");
}

#[tokio::test(start_paused = true)]
async fn stop_on_first_failure_when_continue_is_off() {
    let fake = Fake::new(&["a", "b", "c"]);
    fake.set_latency("a", Duration::from_secs(60));
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "providerTimeout": 10000, "continueOnProviderFailure": false})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(
        r.error.expect("fails").code.as_str(),
        "DISCUSSION_PROVIDER_TIMEOUT"
    );
    assert_eq!(r.rounds.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn every_provider_failing_is_reported_as_such() {
    let fake = Fake::new(&["a", "b"]);
    fake.respond("a", |_| fail("a", ProviderErrorKind::InvalidOutput));
    fake.respond("b", |_| fail("b", ProviderErrorKind::NotFound));
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"]})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(
        r.error.expect("fails").code.as_str(),
        "DISCUSSION_ALL_PROVIDERS_FAILED"
    );
    assert_eq!(r.failed_providers.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_adapter_fails_its_call_and_gives_its_permit_back() {
    let fake = Fake::new(&["a", "b", "c"]);
    fake.script("a", vec![Act::Panic]);
    let (svc, _, limiter) = service(&fake, 2);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success);
    assert_eq!(r.failed_providers[0].code.as_str(), "unknown");
    assert_eq!(limiter.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn cancellation_returns_partial_rounds_and_drops_running_calls() {
    let fake = Fake::new(&["a", "b", "c"]);
    // Round 1 answers normally; in round 2 every provider hangs.
    for id in ["a", "b", "c"] {
        fake.respond(id, move |req| {
            if req.prompt.contains("round=\"1\"") {
                Act::Hang
            } else {
                Act::Say(support::default_answer(id, req))
            }
        });
    }
    let (svc, history, limiter) = service(&fake, 2);
    let cancel = CancellationToken::new();
    let run = svc.discuss(
        config(json!({"topic": "T", "providers": ["a", "b", "c"], "rounds": 3, "roundEarlyExit": {"enabled": false}})),
        RunOptions { cancel: cancel.clone(), ..RunOptions::default() },
    );
    let canceller = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        cancel.cancel();
    };
    let (r, ()) = tokio::join!(run, canceller);
    let r = r.expect("runs");
    assert!(!r.success);
    assert_eq!(
        r.error.as_ref().expect("error").code.as_str(),
        "DISCUSSION_CANCELLED"
    );
    assert_eq!(r.rounds.len(), 2, "round 1 complete, round 2 interrupted");
    assert!(r.rounds[0].responses.iter().all(|x| x.error.is_none()));
    assert!(r.rounds[1].responses.iter().all(|x| {
        x.error
            .as_deref()
            .is_some_and(|e| e.starts_with("cancelled"))
    }));
    assert_eq!(
        fake.dropped(),
        2,
        "the two running calls were dropped (the third never started)"
    );
    assert_eq!(
        fake.calls_of("c"),
        1,
        "the queued call never reached the provider"
    );
    assert_eq!(fake.in_flight(), 0);
    assert_eq!(limiter.in_flight(), 0);
    assert_eq!(limiter.gauge().waiting(), 0);
    let saved = history.records();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].status.as_str(), "cancelled");
    assert_eq!(status_of(&r), DiscussionStatus::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn a_discussion_deadline_stops_it_like_a_cancellation() {
    let fake = Fake::new(&["a", "b"]);
    fake.set_default_latency(Duration::from_secs(100));
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"]})),
            RunOptions {
                deadline: Some(Duration::from_secs(30)),
                ..RunOptions::default()
            },
        )
        .await
        .expect("runs");
    let e = r.error.expect("stopped");
    assert_eq!(e.code.as_str(), "DISCUSSION_CANCELLED");
    assert!(e.message.contains("deadline"));
    assert_eq!(fake.dropped(), 2);
}

#[tokio::test(start_paused = true)]
async fn cancelling_during_consensus_is_a_cancellation_not_a_synthesis_failure() {
    let fake = Fake::new(&["a", "b"]);
    for id in ["a", "b"] {
        fake.respond(id, move |req| {
            if req.prompt.contains("AGREEMENTS:") {
                Act::Hang
            } else {
                Act::Say(support::default_answer(id, req))
            }
        });
    }
    let (svc, _, _) = service(&fake, 5);
    let cancel = CancellationToken::new();
    let run = svc.discuss(
        config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true})),
        RunOptions {
            cancel: cancel.clone(),
            ..RunOptions::default()
        },
    );
    let canceller = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        cancel.cancel();
    };
    let (r, ()) = tokio::join!(run, canceller);
    let r = r.expect("runs");
    assert_eq!(
        r.error.expect("stopped").code.as_str(),
        "DISCUSSION_CANCELLED"
    );
    assert_eq!(r.rounds.len(), 1);
}
