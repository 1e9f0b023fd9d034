//! The registry's use cases over the in-memory store.

use std::sync::Arc;

use ax_agent_domain::import::{ImportItem, ImportMode, OnConflict};
use ax_agent_domain::memory::MemoryAgentStore;
use ax_agent_domain::recommend::RecommendRequest;
use ax_agent_domain::store::{AgentFilter, PageRequest};
use ax_agent_domain::{AgentError, AgentRegistry};
use ax_contracts::agent::{AgentProfile, AgentRecord};
use ax_contracts::error::ErrorCode;
use serde_json::{Value, json};

fn registry() -> AgentRegistry {
    AgentRegistry::new(Arc::new(MemoryAgentStore::new()))
}

/// What `ax agent register` does: parse at the edge, register the parsed profile.
async fn register_json(reg: &AgentRegistry, doc: &Value) -> Result<AgentRecord, AgentError> {
    reg.register(AgentProfile::from_json(doc)?).await
}

#[tokio::test]
async fn register_sets_registry_fields_and_a_duplicate_is_refused_with_the_contract_message() {
    let reg = registry();
    let rec = register_json(&reg, &json!({"agentId": "dup", "description": "first", "createdAt": "1999-01-01T00:00:00Z", "revision": 42})).await.expect("register");
    assert_eq!(
        rec.revision, 1,
        "registry-owned fields from input are ignored"
    );
    assert_ne!(rec.created_at, "1999-01-01T00:00:00Z");
    assert_eq!(rec.created_at, rec.updated_at);

    let err = register_json(&reg, &json!({"agentId": "dup", "description": "second"}))
        .await
        .expect_err("duplicate");
    assert!(matches!(&err, AgentError::AlreadyExists { agent_id } if agent_id == "dup"));
    assert_eq!(err.to_string(), r#"Agent with ID "dup" already exists"#);
    assert_eq!(err.code(), ErrorCode::AgentAlreadyExists);
    assert_eq!(
        reg.get("dup").await.expect("get").profile.description,
        "first",
        "nothing overwritten"
    );
}

#[tokio::test]
async fn invalid_profiles_report_every_issue() {
    let err = register_json(
        &registry(),
        &json!({"agentId": "9bad", "description": "", "temperature": 3}),
    )
    .await
    .expect_err("invalid");
    let AgentError::Validation(errors) = &err else {
        panic!("expected Validation, got {err:?}")
    };
    let paths: Vec<&str> = errors.issues.iter().map(|i| i.path.as_str()).collect();
    for expected in ["agentId", "description", "temperature"] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn update_merges_removes_with_null_revalidates_and_bumps_revision() {
    let reg = registry();
    register_json(
        &reg,
        &json!({"agentId": "ed", "description": "d", "team": "a", "tags": ["x"]}),
    )
    .await
    .expect("register");
    let updated = reg
        .update(
            "ed",
            &json!({"team": "b", "tags": null, "role": "editor"}),
            None,
        )
        .await
        .expect("update");
    assert_eq!(updated.revision, 2);
    assert_eq!(updated.profile.team.as_deref(), Some("b"));
    assert_eq!(updated.profile.role.as_deref(), Some("editor"));
    assert!(updated.profile.tags().is_empty());
    assert_eq!(updated.profile.description, "d", "untouched fields stay");

    let err = reg
        .update("ed", &json!({"temperature": 9}), None)
        .await
        .expect_err("invalid merge");
    assert!(matches!(err, AgentError::Validation(_)));
    let err = reg
        .update("ed", &json!({"agentId": "other"}), None)
        .await
        .expect_err("id is immutable");
    assert!(
        matches!(err, AgentError::Validation(ref e) if e.issues[0].path == "agentId"),
        "{err:?}"
    );
    let err = reg
        .update("ghost", &json!({"team": "x"}), None)
        .await
        .expect_err("missing");
    assert_eq!(err.code(), ErrorCode::AgentNotFound);
    assert_eq!(
        reg.get("ed").await.expect("get").revision,
        2,
        "failed updates change nothing"
    );
}

#[tokio::test]
async fn if_revision_is_a_compare_and_swap() {
    let reg = registry();
    register_json(&reg, &json!({"agentId": "cas", "description": "d"}))
        .await
        .expect("register");
    reg.update("cas", &json!({"team": "first"}), Some(1))
        .await
        .expect("first editor wins");
    let err = reg
        .update("cas", &json!({"team": "second"}), Some(1))
        .await
        .expect_err("stale editor");
    assert!(
        matches!(
            err,
            AgentError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(
        reg.get("cas").await.expect("get").profile.team.as_deref(),
        Some("first")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_without_if_revision_lose_nothing() {
    let reg = registry();
    register_json(
        &reg,
        &json!({"agentId": "busy", "description": "d", "metadata": {}}),
    )
    .await
    .expect("register");
    let mut tasks = Vec::new();
    for (field, value) in [
        ("team", "t"),
        ("role", "r"),
        ("displayName", "n"),
        ("systemPrompt", "p"),
    ] {
        let reg = reg.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                reg.update("busy", &json!({ field: format!("{value}{i}") }), None)
                    .await
                    .expect("update");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let rec = reg.get("busy").await.expect("get");
    assert_eq!(rec.revision, 81, "every one of the 80 updates applied");
    assert_eq!(rec.profile.team.as_deref(), Some("t19"));
    assert_eq!(rec.profile.role.as_deref(), Some("r19"));
    assert_eq!(rec.profile.display_name.as_deref(), Some("n19"));
    assert_eq!(rec.profile.system_prompt.as_deref(), Some("p19"));
}

#[tokio::test]
async fn remove_missing_is_false_not_an_error() {
    let reg = registry();
    register_json(&reg, &json!({"agentId": "r", "description": "d"}))
        .await
        .expect("register");
    assert!(reg.remove("r").await.expect("remove"));
    assert!(!reg.remove("r").await.expect("remove again"));
}

#[tokio::test]
async fn seeding_defaults_is_once_and_respects_user_changes() {
    let reg = registry();
    let first = reg.seed_defaults().await.expect("seed");
    assert!(
        first.len() >= 9 && first.contains(&"standard".to_owned()),
        "{first:?}"
    );
    reg.update("standard", &json!({"description": "mine"}), None)
        .await
        .expect("edit");
    assert!(reg.remove("writer").await.expect("remove"));
    assert!(reg.seed_defaults().await.expect("seed again").is_empty());
    assert_eq!(
        reg.get("standard").await.expect("get").profile.description,
        "mine"
    );
    assert_eq!(
        reg.get("writer").await.expect_err("stays removed").code(),
        ErrorCode::AgentNotFound
    );
}

#[tokio::test]
async fn import_reports_each_outcome_and_honours_on_conflict() {
    let reg = registry();
    register_json(&reg, &json!({"agentId": "kept", "description": "original"}))
        .await
        .expect("register");
    let items = || {
        vec![
            ImportItem {
                source: "agents[0]".into(),
                profile: json!({"agentId": "fresh", "description": "new one"}),
            },
            ImportItem {
                source: "agents[1]".into(),
                profile: json!({"agentId": "kept", "description": "incoming"}),
            },
            ImportItem {
                source: "agents[2]".into(),
                profile: json!({"agentId": "bad id!", "description": "x"}),
            },
            ImportItem {
                source: "agents[3]".into(),
                profile: json!({"name": "legacy", "role": "from role", "abilities": ["a"]}),
            },
        ]
    };
    // All or nothing (the default): the invalid profile stops everything.
    let report = reg
        .import(items(), OnConflict::Skip, ImportMode::AllOrNothing)
        .await
        .expect("import");
    assert!(report.aborted);
    assert!(report.imported.is_empty() && report.skipped.is_empty());
    assert_eq!(report.invalid.len(), 1);
    assert!(matches!(
        reg.get("fresh").await,
        Err(AgentError::NotFound { .. })
    ));

    let report = reg
        .import(items(), OnConflict::Skip, ImportMode::EachProfile)
        .await
        .expect("import");
    assert!(!report.aborted);
    assert_eq!(report.imported, ["fresh", "legacy"]);
    assert_eq!(report.skipped, ["kept"]);
    assert_eq!(report.invalid.len(), 1);
    assert_eq!(report.invalid[0].source, "agents[2]");
    assert_eq!(report.invalid[0].issues[0].path, "agentId");
    assert_eq!(
        reg.get("legacy")
            .await
            .expect("legacy shape imported")
            .profile
            .description,
        "from role"
    );
    assert_eq!(
        reg.get("kept").await.expect("get").profile.description,
        "original"
    );

    let report = reg
        .import(items(), OnConflict::Replace, ImportMode::EachProfile)
        .await
        .expect("import");
    assert_eq!(report.replaced, ["fresh", "kept", "legacy"]);
    assert_eq!(
        reg.get("kept").await.expect("get").profile.description,
        "incoming"
    );
    assert_eq!(reg.get("kept").await.expect("get").revision, 2);

    let report = reg
        .import(items(), OnConflict::Fail, ImportMode::EachProfile)
        .await
        .expect("import");
    assert_eq!(report.conflict.as_deref(), Some("fresh"));
    assert!(report.imported.is_empty());

    // All or nothing with `fail`: a conflict after a new id writes neither.
    let valid = vec![
        ImportItem {
            source: "a".into(),
            profile: json!({"agentId": "brand-new", "description": "x"}),
        },
        ImportItem {
            source: "b".into(),
            profile: json!({"agentId": "kept", "description": "x"}),
        },
    ];
    let report = reg
        .import(valid, OnConflict::Fail, ImportMode::AllOrNothing)
        .await
        .expect("import");
    assert_eq!(report.conflict.as_deref(), Some("kept"));
    assert!(report.aborted && report.imported.is_empty());
    assert!(reg.get("brand-new").await.is_err(), "rolled back");
}

#[tokio::test]
async fn recommend_and_capabilities_over_the_defaults() {
    let reg = registry();
    reg.seed_defaults().await.expect("seed");
    let rec = reg
        .recommend(&RecommendRequest {
            task: "review this pull request for bugs".into(),
            ..Default::default()
        })
        .await
        .expect("recommend");
    assert_eq!(rec.recommended.as_deref(), Some("reviewer"), "{rec:?}");
    let rec = reg
        .recommend(&RecommendRequest {
            task: "set up a CI pipeline and deploy to kubernetes".into(),
            ..Default::default()
        })
        .await
        .expect("recommend");
    assert_eq!(rec.recommended.as_deref(), Some("devops"), "{rec:?}");
    let rec = reg
        .recommend(&RecommendRequest {
            task: "audit the login endpoint for injection vulnerabilities".into(),
            ..Default::default()
        })
        .await
        .expect("recommend");
    assert_eq!(rec.recommended.as_deref(), Some("security"), "{rec:?}");

    for (task, rule) in [
        (String::new(), "min_length"),
        ("\n \t".to_owned(), "min_length"),
        ("é".repeat(5001), "max_length"),
    ] {
        let request = RecommendRequest {
            task,
            ..Default::default()
        };
        for err in [
            reg.recommend(&request).await.expect_err("refused"),
            reg.recommend_exhaustive(&request)
                .await
                .expect_err("refused"),
        ] {
            let AgentError::InvalidRequest(errors) = &err else {
                panic!("expected InvalidRequest, got {err:?}")
            };
            assert_eq!(errors.issues[0].path, "task");
            assert_eq!(errors.issues[0].rule, rule);
            assert_eq!(err.code(), ErrorCode::InvalidInput);
        }
    }
    let longest = RecommendRequest {
        task: "é".repeat(5000),
        ..Default::default()
    };
    assert!(
        reg.recommend(&longest).await.is_ok(),
        "5000 characters, not bytes"
    );

    let caps = reg.capabilities(None, false).await.expect("capabilities");
    assert!(caps.agents_by_capability["code-review"].contains(&"reviewer".to_owned()));
    assert_eq!(caps.categories_by_agent["architect"], "orchestrator");
    let reviewers = reg
        .capabilities(Some("reviewer"), false)
        .await
        .expect("capabilities");
    assert_eq!(
        reviewers.capabilities_by_agent.keys().collect::<Vec<_>>(),
        ["reviewer", "security"]
    );

    reg.update("security", &json!({"enabled": false}), None)
        .await
        .expect("disable");
    let caps = reg.capabilities(None, false).await.expect("capabilities");
    assert!(!caps.capabilities_by_agent.contains_key("security"));
    let all = reg.capabilities(None, true).await.expect("capabilities");
    assert!(all.capabilities_by_agent.contains_key("security"));
    let page = reg
        .list(
            &AgentFilter {
                enabled: Some(false),
                ..Default::default()
            },
            PageRequest::ALL,
        )
        .await
        .expect("list");
    assert_eq!(page.total, 1);
}

/// The scans of every agent read pages of 1,000: the capability index holds every
/// agent of a registry spanning several pages (a page boundary exactly at its end)
/// once, disabled agents only when asked for; the exhaustive scorer answers as
/// ranking all agents at once does.
#[tokio::test]
async fn the_scans_of_every_agent_cover_every_page_of_a_large_registry() {
    let reg = registry();
    for n in 0..2000 {
        let enabled = n % 10 != 0;
        register_json(
            &reg,
            &json!({
                "agentId": format!("agent-{n:04}"),
                "description": "generated",
                "capabilities": [format!("cap-{}", n % 3), "shared"],
                "enabled": enabled,
            }),
        )
        .await
        .expect("register");
    }
    let enabled = reg.capabilities(None, false).await.expect("capabilities");
    assert_eq!(enabled.capabilities_by_agent.len(), 1800);
    assert_eq!(enabled.agents_by_capability["shared"].len(), 1800);
    assert_eq!(enabled.agents_by_capability["cap-0"].len(), 600);
    assert!(!enabled.capabilities_by_agent.contains_key("agent-0000"));
    assert_eq!(
        enabled.capabilities_by_agent["agent-1999"],
        ["cap-1", "shared"]
    );
    assert!(
        enabled.agents_by_capability["shared"].is_sorted(),
        "ids in order"
    );
    let all = reg.capabilities(None, true).await.expect("capabilities");
    assert_eq!(all.capabilities_by_agent.len(), 2000);
    assert_eq!(all.agents_by_capability["shared"].len(), 2000);
    assert_eq!(all.capabilities, ["cap-0", "cap-1", "cap-2", "shared"]);

    let everyone = reg
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list")
        .agents;
    for (task, max_results) in [("shared cap-1 work", 3), ("cap-2", 10), ("qwzx", 3)] {
        let request = RecommendRequest {
            task: task.into(),
            max_results: Some(max_results),
            ..Default::default()
        };
        let paged = reg.recommend_exhaustive(&request).await.expect("recommend");
        assert_eq!(
            paged,
            ax_agent_domain::recommend::rank(&request, &everyone),
            "{task}"
        );
        if task != "qwzx" {
            assert_eq!(
                paged.alternatives.len(),
                max_results - 1,
                "{task}: {paged:?}"
            );
        }
    }
}
