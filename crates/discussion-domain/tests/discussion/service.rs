//! The service: validation with paths, provider resolution, quick discussions,
//! progress events, and saving every result.

use crate::support::{Fake, service};
use ax_discussion_domain::{CallPhase, ProgressSink, RunOptions, Step};
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn invalid_configuration_reports_every_issue_with_its_path_and_runs_nothing() {
    let fake = Fake::new(&["a", "b"]);
    let (svc, history, _) = service(&fake, 5);
    let err = svc
        .discuss_json(
            &json!({"topic": "", "rounds": 11, "providers": ["a"], "consensus": {"threshold": 2}, "colour": "blue"}),
            RunOptions::default(),
        )
        .await
        .expect_err("invalid");
    let body = err.to_error_body();
    assert_eq!(body.code.as_str(), "DISCUSSION_INVALID_CONFIG");
    let issues = body.details.expect("details")["issues"].clone();
    let paths: Vec<&str> = issues
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["path"].as_str().expect("path"))
        .collect();
    for expected in [
        "colour",
        "topic",
        "providers",
        "rounds",
        "consensus.threshold",
    ] {
        assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
    }
    assert!(history.records().is_empty() && fake.seen().is_empty());

    let err = svc
        .discuss_json(
            &json!({"topic": "T", "pattern": "brainstorm"}),
            RunOptions::default(),
        )
        .await
        .expect_err("bad pattern");
    assert_eq!(err.code().as_str(), "DISCUSSION_INVALID_PATTERN");
}

#[tokio::test(start_paused = true)]
async fn unknown_providers_are_not_found() {
    let fake = Fake::new(&["a", "b"]);
    let (svc, history, _) = service(&fake, 5);
    let err = svc
        .discuss_json(
            &json!({"topic": "T", "providers": ["a", "zeta"]}),
            RunOptions::default(),
        )
        .await
        .expect_err("unknown");
    assert_eq!(err.code().as_str(), "DISCUSSION_PROVIDER_NOT_FOUND");
    assert!(err.to_string().contains("zeta"));
    assert!(history.records().is_empty());
}

#[tokio::test(start_paused = true)]
async fn omitted_providers_mean_the_available_real_ones() {
    let fake = Fake::with_infos(vec![
        Fake::real_info("a"),
        Fake::real_info("down"),
        Fake::simulated_info("sim"),
        Fake::real_info("b"),
    ]);
    fake.set_unavailable("down");
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss_quick("T", None, RunOptions::default())
        .await
        .expect("runs");
    assert!(r.success);
    assert_eq!(
        r.participating_providers,
        ["a", "b"],
        "available, real before simulated"
    );
    assert!(!r.metadata.simulated);
    assert_eq!(r.rounds.len(), 1, "quick = one round");

    // With fewer than two real providers the simulated ones join, and say so.
    let fake = Fake::with_infos(vec![Fake::real_info("a"), Fake::simulated_info("sim")]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss_quick("T", None, RunOptions::default())
        .await
        .expect("runs");
    assert_eq!(r.participating_providers, ["a", "sim"]);
    assert!(r.metadata.simulated);
    assert!(r.rounds[0].responses[1].simulated);
}

/// What `default_providers` reports, and what a discussion without `providers` then
/// really runs with: the two must be the same list.
async fn defaults_and_run(
    infos: Vec<ax_discussion_domain::provider::ProviderInfo>,
    down: &[&str],
) -> (ax_discussion_domain::DefaultSelection, Vec<String>) {
    let fake = Fake::with_infos(infos);
    for id in down {
        fake.set_unavailable(id);
    }
    let (svc, _, _) = service(&fake, 5);
    let selection = svc.engine().default_providers().await;
    let r = svc
        .discuss_quick("T", None, RunOptions::default())
        .await
        .expect("runs");
    let mut ran: Vec<String> = r.participating_providers.clone();
    ran.extend(r.failed_providers.iter().map(|f| f.provider.clone()));
    assert_eq!(r.metadata.simulated, selection.simulated && !ran.is_empty());
    (selection, ran)
}

#[tokio::test(start_paused = true)]
async fn the_default_selection_is_what_a_discussion_without_providers_runs() {
    // No real provider available: the mocks, flagged simulated, with the reason.
    let (sel, ran) = defaults_and_run(
        vec![
            Fake::real_info("claude"),
            Fake::real_info("gemini"),
            Fake::simulated_info("mock-a"),
            Fake::simulated_info("mock-b"),
            Fake::simulated_info("mock-c"),
        ],
        &["claude", "gemini"],
    )
    .await;
    assert_eq!(sel.providers, ["mock-a", "mock-b", "mock-c"]);
    assert_eq!(ran, sel.providers);
    assert!(sel.simulated);
    assert_eq!(
        sel.reason,
        "no real provider is available (claude, gemini not available); using simulated mock providers"
    );

    // One real provider is not enough, and it is not mixed with simulated answers.
    let (sel, ran) = defaults_and_run(
        vec![
            Fake::real_info("claude"),
            Fake::real_info("gemini"),
            Fake::simulated_info("mock-a"),
            Fake::simulated_info("mock-b"),
        ],
        &["gemini"],
    )
    .await;
    assert_eq!(sel.providers, ["mock-a", "mock-b"]);
    assert_eq!(ran, sel.providers);
    assert!(sel.simulated);
    assert!(
        sel.reason.contains("only one real provider (claude)"),
        "{}",
        sel.reason
    );

    // Two real providers or more: only real ones, at most six, in configured order.
    let ids = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    let mut infos: Vec<_> = ids.iter().map(|id| Fake::real_info(id)).collect();
    infos.insert(1, Fake::simulated_info("sim"));
    let (sel, ran) = defaults_and_run(infos, &[]).await;
    assert_eq!(sel.providers, ids[..6]);
    assert_eq!(ran, sel.providers);
    assert!(!sel.simulated);
    assert_eq!(
        sel.reason,
        "using the available providers: p1, p2, p3, p4, p5, p6 (the first 6 of 7 available)"
    );

    // Fewer than two of either kind: both, and the result says part is simulated.
    let (sel, ran) =
        defaults_and_run(vec![Fake::real_info("a"), Fake::simulated_info("sim")], &[]).await;
    assert_eq!(sel.providers, ["a", "sim"]);
    assert_eq!(ran, sel.providers);
    assert!(sel.simulated);
    assert!(sel.reason.contains("using both"), "{}", sel.reason);

    // Nothing available: an empty selection that says why.
    let fake = Fake::with_infos(vec![Fake::real_info("a")]);
    fake.set_unavailable("a");
    let (svc, _, _) = service(&fake, 5);
    let sel = svc.engine().default_providers().await;
    assert!(sel.providers.is_empty() && !sel.simulated);
    assert_eq!(
        sel.reason,
        "a discussion needs two providers and only 0 are available (a not available)"
    );
}

#[tokio::test(start_paused = true)]
async fn an_agent_without_preferences_speaks_through_a_real_provider_when_there_is_one() {
    let fake = Fake::with_infos(vec![
        Fake::simulated_info("mock-a"),
        Fake::real_info("claude"),
        Fake::simulated_info("mock-b"),
    ]);
    let agents = ax_discussion_domain::StaticAgents(vec![ax_discussion_domain::AgentPersona {
        agent_id: "reviewer".into(),
        display_name: "Reviewer".into(),
        system_prompt: Some("Review.".into()),
        preferred_providers: Vec::new(),
        excluded_providers: Vec::new(),
        fallback: ax_contracts::agent::FallbackStrategy::Cascade,
    }]);
    let (svc, _, _) = service(&fake, 5);
    let svc = svc.with_resolver(std::sync::Arc::new(agents));
    let r = svc
        .discuss_json(
            &json!({"topic": "T", "providers": ["mock-a", "mock-b"], "participants": [{"type": "agent", "id": "reviewer"}], "fastMode": true}),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    let agent = r.rounds[0]
        .responses
        .iter()
        .find(|x| x.provider == "reviewer")
        .expect("the agent spoke");
    assert_eq!(agent.via_provider.as_deref(), Some("claude"));
}

#[tokio::test(start_paused = true)]
async fn an_unavailable_named_provider_is_reported_and_the_result_saved() {
    let fake = Fake::new(&["a", "b"]);
    fake.set_unavailable("b");
    let (svc, history, _) = service(&fake, 5);
    let r = svc
        .discuss_json(
            &json!({"topic": "T", "providers": ["a", "b"]}),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(!r.success);
    assert_eq!(
        r.error.expect("error").code.as_str(),
        "DISCUSSION_INSUFFICIENT_PROVIDERS"
    );
    assert_eq!(r.failed_providers[0].provider, "b");
    assert_eq!(r.failed_providers[0].code.as_str(), "not_found");
    // The adapter's reason, not a generic "not available" (issue 8).
    assert_eq!(
        r.failed_providers[0].message,
        "not available: `b` is switched off in the fake"
    );
    assert!(fake.seen().is_empty(), "nothing ran below minProviders");
    assert_eq!(history.records().len(), 1);
}

/// INV-DISC-SAVE-001.
#[tokio::test(start_paused = true)]
async fn every_result_is_saved_with_its_status_and_full_document() {
    let fake = Fake::new(&["a", "b"]);
    let (svc, history, _) = service(&fake, 5);
    let r = svc
        .discuss_json(
            &json!({"topic": "Saved?", "providers": ["a", "b"], "fastMode": true}),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    let saved = history.records();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].discussion_id, r.discussion_id);
    assert_eq!(saved[0].status.as_str(), "finished");
    assert_eq!(saved[0].providers, ["a", "b"]);
    assert_eq!(saved[0].result["synthesis"], json!(r.synthesis));
    assert_eq!(
        saved[0].result["metadata"]["costSummary"]["totalCalls"],
        json!(3)
    );
    assert!(uuid_v7_like(&r.discussion_id));
}

fn uuid_v7_like(id: &str) -> bool {
    id.len() == 36 && id.as_bytes()[14] == b'7'
}

#[tokio::test(start_paused = true)]
async fn progress_reports_each_call_with_step_counts() {
    let fake = Fake::new(&["a", "b", "c"]);
    let (svc, _, _) = service(&fake, 5);
    let (sink, mut rx) = ProgressSink::channel();
    let r = svc
        .discuss_json(
            &json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true}),
            RunOptions {
                progress: sink,
                discussion_id: Some("d-1".into()),
                ..RunOptions::default()
            },
        )
        .await
        .expect("runs");
    assert_eq!(r.discussion_id, "d-1");
    let mut done = Vec::new();
    let mut waiting = 0;
    while let Ok(e) = rx.try_recv() {
        assert_eq!(e.discussion_id, "d-1");
        match e.phase {
            CallPhase::Waiting => waiting += 1,
            CallPhase::Done { .. } => {
                done.push((e.step, e.step_finished, e.step_size, e.to_string()))
            }
            _ => {}
        }
    }
    assert_eq!(waiting, 4);
    let round: Vec<_> = done.iter().filter(|d| d.0 == Step::Round(1)).collect();
    assert_eq!(round.len(), 3);
    let mut counts: Vec<usize> = round.iter().map(|d| d.1).collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 3]);
    assert!(round.iter().all(|d| d.2 == 3));
    assert!(
        round
            .iter()
            .any(|d| d.3.starts_with("round 1: ") && d.3.ends_with("(3/3)"))
    );
    assert!(done.iter().any(|d| d.0 == Step::Synthesis));
}

/// `providerAffinity.fallbackStrategy` is honoured (issue 8: only the preferred list was
/// read, so no built-in agent — they all prefer claude/gemini/codex — could take part
/// with the mock or custom providers).
#[tokio::test(start_paused = true)]
async fn an_agents_fallback_strategy_decides_where_it_speaks_when_its_preferences_are_missing() {
    use ax_contracts::agent::FallbackStrategy;
    let persona = |fallback, excluded: &[&str]| ax_discussion_domain::AgentPersona {
        agent_id: "reviewer".into(),
        display_name: "Reviewer".into(),
        system_prompt: None,
        preferred_providers: vec!["claude".into(), "codex".into()],
        excluded_providers: excluded.iter().map(|s| (*s).to_owned()).collect(),
        fallback,
    };
    let run = |persona: ax_discussion_domain::AgentPersona| async move {
        let fake = Fake::with_infos(vec![
            Fake::simulated_info("mock-a"),
            Fake::simulated_info("mock-b"),
        ]);
        let (svc, _, _) = service(&fake, 5);
        let svc = svc.with_resolver(std::sync::Arc::new(ax_discussion_domain::StaticAgents(
            vec![persona],
        )));
        svc.discuss_json(
            &json!({"topic": "T", "providers": ["mock-a", "mock-b"], "participants": [{"type": "agent", "id": "reviewer"}], "fastMode": true}),
            RunOptions::default(),
        )
        .await
        .expect("runs")
    };
    let via = |r: &ax_contracts::discussion::DiscussionResult| {
        r.rounds[0]
            .responses
            .iter()
            .find(|x| x.provider == "reviewer")
            .and_then(|x| x.via_provider.clone())
    };

    // cascade (the default): the preferred ones are missing, so the first available.
    let r = run(persona(FallbackStrategy::Cascade, &[])).await;
    assert_eq!(via(&r).as_deref(), Some("mock-a"));
    // ... never an excluded one.
    let r = run(persona(FallbackStrategy::Cascade, &["mock-a"])).await;
    assert_eq!(via(&r).as_deref(), Some("mock-b"));
    // any-available ignores preferences.
    let r = run(persona(FallbackStrategy::AnyAvailable, &[])).await;
    assert_eq!(via(&r).as_deref(), Some("mock-a"));
    // strict: only the preferred; the agent is reported, naming the strategy.
    let r = run(persona(FallbackStrategy::Strict, &[])).await;
    assert_eq!(via(&r), None);
    let failed = r
        .failed_providers
        .iter()
        .find(|f| f.provider == "reviewer")
        .expect("reported");
    assert!(
        failed.message.contains("claude, codex"),
        "{}",
        failed.message
    );
    assert!(failed.message.contains("strict"), "{}", failed.message);
}

/// A configuration refused for its shape still names the providers that do not exist
/// (issue 8: `--providers nosuch` only said "must have at least 2 items").
#[tokio::test(start_paused = true)]
async fn an_invalid_configuration_also_names_unknown_providers() {
    let fake = Fake::new(&["a", "b"]);
    let (svc, history, _) = service(&fake, 5);
    let err = svc
        .discuss_json(
            &json!({"topic": "T", "providers": ["nosuch"]}),
            RunOptions::default(),
        )
        .await
        .expect_err("refused");
    let ax_discussion_domain::ServiceError::Invalid(errors) = err else {
        panic!("a validation error: {err:?}");
    };
    let paths: Vec<(&str, &str)> = errors
        .issues
        .iter()
        .map(|i| (i.path.as_str(), i.rule.as_str()))
        .collect();
    assert_eq!(
        paths,
        [("providers", "min_items"), ("providers[0]", "reference")]
    );
    assert!(errors.issues[1].message.contains("\"nosuch\""));
    assert!(errors.issues[1].message.contains("a, b"));
    assert!(history.records().is_empty(), "nothing ran");
}
