//! Each consensus method does what its name says, including a voting tie and a failed
//! majority that lists its dissenters; agents speak with their own system prompt and
//! vote with their multiplier.

use std::sync::Arc;

use crate::support::{self, Act, Fake, config, service};
use ax_discussion_domain::provider::Expects;
use ax_discussion_domain::{AgentPersona, RunOptions, StaticAgents};
use serde_json::json;

fn poll_answers(fake: &Fake, positions: &[(&'static str, &'static str)]) {
    for (id, position) in positions.iter().copied() {
        fake.respond(id, move |req| match req.expects {
            Expects::Position => Act::Say(format!(
                "**POSITION:** {position}\nREASON: {id} has a reason."
            )),
            _ => Act::Say(support::default_answer(id, req)),
        });
    }
}

#[tokio::test(start_paused = true)]
async fn unanimous_polls_everyone_and_holds_only_if_all_agree() {
    let fake = Fake::new(&["a", "b", "c"]);
    poll_answers(&fake, &[("a", "AGREE"), ("b", "AGREE"), ("c", "AGREE")]);
    let (svc, _, _) = service(&fake, 5);
    let cfg = json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true, "consensus": {"method": "unanimous"}});
    let r = svc
        .discuss(config(cfg.clone()), RunOptions::default())
        .await
        .expect("runs");
    assert!(r.consensus.reached);
    assert_eq!(r.consensus.agreement_score, Some(1.0));
    let polls = fake
        .seen()
        .iter()
        .filter(|s| s.expects == Expects::Position)
        .count();
    assert_eq!(polls, 3, "every participant was polled");
    // The poll shows the drafted conclusion.
    assert!(
        fake.prompts_of("b")
            .last()
            .expect("poll")
            .contains("a concludes the topic.")
    );

    let fake = Fake::new(&["a", "b", "c"]);
    poll_answers(&fake, &[("a", "AGREE"), ("b", "agree"), ("c", "DISAGREE")]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(config(cfg), RunOptions::default())
        .await
        .expect("runs");
    assert!(
        r.success,
        "the discussion ran; consensus simply did not hold"
    );
    assert!(!r.consensus.reached);
    assert_eq!(r.consensus.dissent.len(), 1);
    assert_eq!(r.consensus.dissent[0].provider, "c");
    assert_eq!(r.consensus.dissent[0].position, "c has a reason.");
}

#[tokio::test(start_paused = true)]
async fn a_failed_majority_says_so_and_lists_the_dissenters() {
    let fake = Fake::new(&["a", "b", "c"]);
    poll_answers(
        &fake,
        &[("a", "AGREE"), ("b", "DISAGREE"), ("c", "DISAGREE")],
    );
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true, "consensus": {"method": "majority", "threshold": 0.5}})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(!r.consensus.reached);
    let dissenters: Vec<&str> = r
        .consensus
        .dissent
        .iter()
        .map(|d| d.provider.as_str())
        .collect();
    assert_eq!(dissenters, ["b", "c"]);
    assert!((r.consensus.agreement_score.expect("share") - 1.0 / 3.0).abs() < 1e-9);

    // Two of three agreeing exceeds 0.5.
    let fake = Fake::new(&["a", "b", "c"]);
    poll_answers(&fake, &[("a", "AGREE"), ("b", "AGREE"), ("c", "DISAGREE")]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true, "consensus": {"method": "majority"}})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.consensus.reached);
    assert_eq!(r.consensus.dissent.len(), 1, "the minority is still listed");
}

#[tokio::test(start_paused = true)]
async fn a_poll_answer_without_a_position_is_not_counted_as_agreement() {
    let fake = Fake::new(&["a", "b"]);
    poll_answers(&fake, &[("a", "AGREE")]);
    fake.respond("b", |req| match req.expects {
        Expects::Position => Act::Say("It depends on the workload.".into()),
        _ => Act::Say(support::default_answer("b", req)),
    });
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true, "consensus": {"method": "unanimous"}})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(!r.consensus.reached);
    assert!(
        r.consensus.dissent[0]
            .position
            .starts_with("no clear AGREE or DISAGREE")
    );
}

#[tokio::test(start_paused = true)]
async fn a_voting_tie_is_reported_as_a_tie() {
    let fake = Fake::new(&["a", "b"]);
    fake.respond("a", |_| {
        Act::Say("VOTE: Yes\nCONFIDENCE: 0.8\nREASON: ship it".into())
    });
    fake.respond("b", |_| {
        Act::Say("VOTE: No\nCONFIDENCE: 0.8\nREASON: not ready".into())
    });
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "Ship on Friday?", "pattern": "voting", "providers": ["a", "b"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    let v = r.voting_results.expect("tally");
    assert!(v.tie);
    assert_eq!(v.winner, None);
    assert_eq!(v.tied_options, ["Yes", "No"]);
    assert!(!r.consensus.reached);
    assert!(r.synthesis.starts_with("Tie between Yes and No"));
}

#[tokio::test(start_paused = true)]
async fn voting_after_another_pattern_asks_everyone_to_vote_on_the_discussion() {
    let fake = Fake::new(&["a", "b"]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "Options: tokio, smol", "providers": ["a", "b"], "fastMode": true, "consensus": {"method": "voting"}})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    let v = r.voting_results.expect("tally");
    assert_eq!(v.winner.as_deref(), Some("tokio"));
    assert!(v.unanimous);
    let vote_prompt = fake.prompts_of("a").pop().expect("vote");
    assert!(
        vote_prompt.contains("final answers in the discussion") && vote_prompt.contains("b argues")
    );
}

#[tokio::test(start_paused = true)]
async fn synthesis_lists_agreements_and_attributed_dissent() {
    let fake = Fake::new(&["a", "b"]);
    fake.respond("a", |req| match req.expects {
        Expects::Synthesis { .. } => Act::Say(
            "## Agreements:\n- SQLite\n**DISAGREEMENTS:**\n- **b**: wants Postgres\nINSIGHTS:\n- WAL\nCONCLUSION:\nSQLite with WAL.".into(),
        ),
        _ => Act::Say(support::default_answer("a", req)),
    });
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(r.synthesis, "SQLite with WAL.");
    assert_eq!(r.consensus.agreements, ["SQLite"]);
    assert_eq!(r.consensus.dissent[0].provider, "b");
    assert_eq!(r.consensus.dissent[0].position, "wants Postgres");
    assert_eq!(r.consensus.insights, ["WAL"]);
    assert!(r.consensus.reached);
}

#[tokio::test(start_paused = true)]
async fn moderator_consensus_uses_the_configured_synthesizer() {
    let fake = Fake::new(&["a", "b", "judge"]);
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["a", "b"], "fastMode": true, "consensus": {"method": "moderator", "synthesizer": "judge"}})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert_eq!(r.consensus.synthesizer.as_deref(), Some("judge"));
    assert!(fake.prompts_of("judge")[0].contains("moderator and judge"));
    assert_eq!(
        r.participating_providers,
        ["a", "b"],
        "the moderator is not a participant"
    );
}

#[tokio::test(start_paused = true)]
async fn agents_speak_through_their_preferred_provider_with_their_prompt_and_weight() {
    let fake = Fake::new(&["claude", "gemini", "local"]);
    fake.set_unavailable("local");
    fake.respond("gemini", |req| {
        if req.system_prompt.is_some() {
            Act::Say("VOTE: No\nCONFIDENCE: 0.6\nREASON: the reviewer is cautious".into())
        } else {
            Act::Say("VOTE: Yes\nCONFIDENCE: 0.8\nREASON: fine".into())
        }
    });
    let agents = StaticAgents(vec![AgentPersona {
        agent_id: "reviewer".into(),
        display_name: "Reviewer".into(),
        system_prompt: Some("You are a careful code reviewer.".into()),
        preferred_providers: vec!["local".into(), "gemini".into()],
        excluded_providers: Vec::new(),
        fallback: ax_contracts::agent::FallbackStrategy::Cascade,
    }]);
    let (svc, _, _) = service(&fake, 5);
    let svc = svc.with_resolver(Arc::new(agents));
    let r = svc
        .discuss(
            config(json!({
                "topic": "Merge it?",
                "pattern": "voting",
                "providers": ["gemini", "claude"],
                "participants": [{"type": "agent", "id": "reviewer"}],
                "fastMode": true,
                "agentWeightMultiplier": 2.0
            })),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    assert!(r.success, "{:?}", r.error);
    let agent_calls: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.system_prompt.is_some())
        .collect();
    assert_eq!(agent_calls.len(), 1);
    assert_eq!(
        agent_calls[0].provider, "gemini",
        "local is unavailable, so the second preference"
    );
    assert_eq!(
        agent_calls[0].system_prompt.as_deref(),
        Some("You are a careful code reviewer.")
    );
    let response = &r.rounds[0].responses[2];
    assert_eq!(response.provider, "reviewer");
    assert_eq!(response.via_provider.as_deref(), Some("gemini"));
    let v = r.voting_results.expect("tally");
    // Yes: 0.8 + 0.8 (gemini, claude) = 1.6; No: 0.6 × 2 (the agent) = 1.2.
    assert!((v.weighted_votes["No"] - 1.2).abs() < 1e-9);
    assert_eq!(v.winner.as_deref(), Some("Yes"));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_agent_is_rejected_before_anything_runs() {
    let fake = Fake::new(&["a", "b"]);
    let (svc, history, _) = service(&fake, 5);
    let err = svc
        .discuss_json(
            &json!({"topic": "T", "providers": ["a", "b"], "participants": [{"type": "agent", "id": "ghost"}]}),
            RunOptions::default(),
        )
        .await
        .expect_err("unknown agent");
    assert_eq!(err.code().as_str(), "AGENT_NOT_FOUND");
    assert!(history.records().is_empty() && fake.seen().is_empty());
}

/// A dissent is credited only to a participant, by whole name (issue 8: "alphabet" was
/// credited to `alpha`, and a non-participant's name was stored as if it had spoken).
#[tokio::test(start_paused = true)]
async fn dissent_is_credited_to_participants_by_whole_name_only() {
    let fake = Fake::new(&["alpha", "b"]);
    fake.respond("alpha", |req| match req.expects {
        Expects::Synthesis { .. } => Act::Say(
            "AGREEMENTS:\n- SQLite\nDISAGREEMENTS:\n- alphabet: prefers letters\n- gpt-9: wants Postgres\n- The alphabet soup camp prefers files\n- b: wants MySQL\nCONCLUSION:\nSQLite.".into(),
        ),
        _ => Act::Say(support::default_answer("alpha", req)),
    });
    let (svc, _, _) = service(&fake, 5);
    let r = svc
        .discuss(
            config(json!({"topic": "T", "providers": ["alpha", "b"], "fastMode": true})),
            RunOptions::default(),
        )
        .await
        .expect("runs");
    let dissent: Vec<(&str, &str)> = r
        .consensus
        .dissent
        .iter()
        .map(|d| (d.provider.as_str(), d.position.as_str()))
        .collect();
    assert_eq!(
        dissent,
        [
            ("unattributed", "alphabet: prefers letters"),
            ("unattributed", "gpt-9: wants Postgres"),
            ("unattributed", "The alphabet soup camp prefers files"),
            ("b", "wants MySQL"),
        ]
    );
}

/// With no synthesizer named, the engine's preference (handed in by the composition
/// root — the domain names no provider) picks it; without one, speaking order does.
#[tokio::test(start_paused = true)]
async fn the_synthesizer_preference_comes_from_whoever_builds_the_engine() {
    let fake = Fake::new(&["a", "b", "c"]);
    let run = |engine: ax_discussion_domain::DiscussionEngine| async move {
        let history = Arc::new(ax_discussion_domain::InMemoryHistory::new());
        ax_discussion_domain::DiscussionService::new(engine, history)
            .discuss(
                config(json!({"topic": "T", "providers": ["a", "b", "c"], "fastMode": true})),
                RunOptions::default(),
            )
            .await
            .expect("runs")
    };
    let limiter = ax_discussion_domain::ProviderLimiter::with_providers(5, &{
        use ax_discussion_domain::provider::ProviderExecutor;
        fake.providers()
    });
    let plain = ax_discussion_domain::DiscussionEngine::new(fake.clone(), limiter.clone());
    assert_eq!(run(plain).await.consensus.synthesizer.as_deref(), Some("a"));
    let preferring = ax_discussion_domain::DiscussionEngine::new(fake.clone(), limiter)
        .with_synthesizer_preference(["z".to_owned(), "c".to_owned(), "b".to_owned()]);
    assert_eq!(
        run(preferring).await.consensus.synthesizer.as_deref(),
        Some("c"),
        "the first preferred id that speaks"
    );
}
