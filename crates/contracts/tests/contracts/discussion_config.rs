//! The discussion configuration contract: defaults, every rule reported with its
//! path, unknown fields rejected by name, and the JSON names of the result.

use ax_contracts::discussion::{
    ConsensusMethod, DiscussionConfig, DiscussionStatus, FailedProvider, FailureCode,
    ParticipantKind, Pattern, Role, config_error_code,
};
use ax_contracts::error::ErrorCode;
use ax_contracts::parse::Valid;
use ax_contracts::provider::{ProviderErrorKind, ProviderKind};
use serde_json::json;

fn issues(v: serde_json::Value) -> Vec<(String, String)> {
    DiscussionConfig::from_json(&v)
        .expect_err("invalid")
        .issues
        .into_iter()
        .map(|i| (i.path, i.rule))
        .collect()
}

fn has(issues: &[(String, String)], path: &str, rule: &str) -> bool {
    issues.iter().any(|(p, r)| p == path && r == rule)
}

#[test]
fn a_topic_alone_gets_every_default() {
    let c = DiscussionConfig::from_json(&json!({"topic": "Where do agents live?"})).expect("valid");
    assert_eq!(c, DiscussionConfig::new("Where do agents live?"));
    assert_eq!(c.pattern, Pattern::Synthesis);
    assert_eq!(c.providers, None);
    assert_eq!(c.rounds, 2);
    assert_eq!(
        c.provider_timeout, None,
        "absent: each provider's own timeout, else 10 min (decided by the engine)"
    );
    assert_eq!(c.min_providers, 2);
    assert!(c.continue_on_provider_failure);
    assert_eq!(c.temperature, 0.7);
    assert_eq!(c.agent_weight_multiplier, 1.5);
    assert!(c.round_early_exit.enabled);
    assert_eq!(c.round_early_exit.agreement_threshold, 0.85);
    assert_eq!(c.consensus.threshold, 0.5);
    assert!(c.consensus.include_dissent);
    assert!(!c.recursive.enabled);
    assert_eq!(
        (c.recursive.max_depth, c.recursive.max_total_calls),
        (2, 20)
    );
    assert_eq!(c.consensus_method(), ConsensusMethod::Synthesis);
}

#[test]
fn the_consensus_default_follows_the_pattern() {
    let debate =
        DiscussionConfig::from_json(&json!({"topic": "T", "pattern": "debate"})).expect("valid");
    assert_eq!(debate.consensus_method(), ConsensusMethod::Moderator);
    let voting =
        DiscussionConfig::from_json(&json!({"topic": "T", "pattern": "voting"})).expect("valid");
    assert_eq!(voting.consensus_method(), ConsensusMethod::Voting);
}

#[test]
fn a_full_configuration_reads_every_field() {
    let c = DiscussionConfig::from_json(&json!({
        "topic": "T",
        "pattern": "round-robin",
        "providers": ["claude", "gemini"],
        "rounds": 3,
        "consensus": {"method": "majority", "synthesizer": "claude", "threshold": 0.6, "includeDissent": false},
        "roles": {"claude": "proponent", "gemini": "neutral"},
        "providerPrompts": {"gemini": "Answer in French."},
        "context": "ctx",
        "providerTimeout": 5000,
        "minProviders": 1,
        "continueOnProviderFailure": false,
        "temperature": 0,
        "participants": [{"type": "agent", "id": "reviewer"}],
        "agentWeightMultiplier": 3,
        "fastMode": true,
        "roundEarlyExit": {"enabled": false, "agreementThreshold": 0.9, "minRounds": 2},
        "maxConcurrentProviderCalls": 2,
        "recursive": {"enabled": true, "maxDepth": 4, "maxTotalCalls": 100, "totalBudgetMs": 60000}
    }))
    .expect("valid");
    assert_eq!(c.pattern, Pattern::RoundRobin);
    assert_eq!(c.consensus.method, Some(ConsensusMethod::Majority));
    assert_eq!(c.roles["claude"], Role::Proponent);
    assert_eq!(c.participants[0].kind, ParticipantKind::Agent);
    assert_eq!(c.effective_rounds(), 1, "fast mode");
    assert_eq!(c.max_concurrent_provider_calls, Some(2));
    assert_eq!(c.provider_timeout, Some(5000));
    assert_eq!(c.recursive.total_budget_ms, Some(60000));
    // A value built in code passes the same rules, and round-trips through JSON.
    let c = c.into_inner();
    Valid::from_typed(&c).expect("valid");
    let back: DiscussionConfig =
        serde_json::from_value(serde_json::to_value(&c).expect("json")).expect("reads");
    assert_eq!(back, c);
}

#[test]
fn every_broken_rule_is_reported_with_its_path() {
    let got = issues(json!({
        "topic": "x".repeat(5001),
        "pattern": "brainstorm",
        "providers": ["a", "a", "bad id"],
        "rounds": 0,
        "consensus": {"method": "luck", "threshold": 1.5, "extra": 1},
        "roles": {"a": "king"},
        "providerTimeout": 1000,
        "temperature": 3,
        "participants": [{"type": "robot", "id": "r"}, {"id": ""}],
        "agentWeightMultiplier": 0.1,
        "roundEarlyExit": {"agreementThreshold": 0.2, "minRounds": 0},
        "maxConcurrentProviderCalls": 65,
        "recursive": {"maxDepth": 5, "maxTotalCalls": 1, "totalBudgetMs": 10},
        "colour": "blue"
    }));
    for (path, rule) in [
        ("colour", "unknown_field"),
        ("topic", "max_length"),
        ("pattern", "enum"),
        ("providers[1]", "unique"),
        ("providers[2]", "pattern"),
        ("rounds", "range"),
        ("consensus.extra", "unknown_field"),
        ("consensus.method", "enum"),
        ("consensus.threshold", "range"),
        ("roles.a", "enum"),
        ("providerTimeout", "range"),
        ("temperature", "range"),
        ("participants[0].type", "enum"),
        ("participants[1].type", "required"),
        ("participants[1].id", "min_length"),
        ("agentWeightMultiplier", "range"),
        ("roundEarlyExit.agreementThreshold", "range"),
        ("roundEarlyExit.minRounds", "range"),
        ("maxConcurrentProviderCalls", "range"),
        ("recursive.maxDepth", "range"),
        ("recursive.maxTotalCalls", "range"),
        ("recursive.totalBudgetMs", "range"),
    ] {
        assert!(has(&got, path, rule), "missing {path} {rule} in {got:?}");
    }
}

#[test]
fn missing_topic_and_wrong_types_are_reported() {
    let got = issues(json!({"rounds": "two", "fastMode": "yes", "providers": "claude"}));
    assert!(has(&got, "topic", "required"));
    assert!(has(&got, "rounds", "type"));
    assert!(has(&got, "fastMode", "type"));
    assert!(has(&got, "providers", "type"));
    assert!(has(&issues(json!("just a string")), "$", "type"));
    assert!(has(&issues(json!({"topic": "   "})), "topic", "min_length"));
}

#[test]
fn fields_that_depend_on_each_other_are_checked_together() {
    let got = issues(json!({
        "topic": "T",
        "providers": ["a", "b"],
        "minProviders": 3,
        "roles": {"c": "judge"},
        "providerPrompts": {"d": "hi"},
        "consensus": {"method": "moderator"},
        "rounds": 2,
        "roundEarlyExit": {"minRounds": 3},
        "participants": [{"type": "provider", "id": "a"}]
    }));
    assert!(has(&got, "minProviders", "cross_field"));
    assert!(has(&got, "roles.c", "reference"));
    assert!(has(&got, "providerPrompts.d", "reference"));
    assert!(has(&got, "consensus.synthesizer", "required"));
    assert!(has(&got, "roundEarlyExit.minRounds", "cross_field"));
    assert!(has(&got, "participants[0].id", "unique"));
    // A debate may fall back to its judge as moderator, but needs both sides.
    let got = issues(
        json!({"topic": "T", "pattern": "debate", "providers": ["a", "b"], "roles": {"a": "proponent", "b": "judge"}}),
    );
    assert!(has(&got, "roles", "cross_field"));
}

#[test]
fn error_codes_follow_the_broken_rule() {
    let code =
        |v| config_error_code(&DiscussionConfig::from_json(&v).expect_err("invalid")).as_str();
    assert_eq!(
        code(json!({"topic": "T", "pattern": "x"})),
        "DISCUSSION_INVALID_PATTERN"
    );
    assert_eq!(
        code(json!({"topic": "T", "roles": {"a": "x"}})),
        "DISCUSSION_INVALID_ROLES"
    );
    assert_eq!(
        code(json!({"topic": "T", "rounds": 99})),
        "DISCUSSION_INVALID_CONFIG"
    );
}

#[test]
fn null_means_absent() {
    let c = DiscussionConfig::from_json(&json!({"topic": "T", "providers": null, "rounds": null}))
        .expect("valid");
    assert_eq!(c.providers, None);
    assert_eq!(c.rounds, 2);
}

#[test]
fn schemas_exist_for_the_mcp_tools_and_use_the_contract_names() {
    let input = serde_json::to_value(schemars::schema_for!(DiscussionConfig)).expect("schema");
    let props = input["properties"].as_object().expect("properties");
    for name in [
        "topic",
        "providerPrompts",
        "roundEarlyExit",
        "maxConcurrentProviderCalls",
        "agentWeightMultiplier",
    ] {
        assert!(props.contains_key(name), "{name}");
    }
    assert_eq!(
        input["additionalProperties"],
        json!(false),
        "unknown fields are refused"
    );
    let output = serde_json::to_value(schemars::schema_for!(
        ax_contracts::discussion::DiscussionResult
    ))
    .expect("schema");
    let props = output["properties"].as_object().expect("properties");
    for name in [
        "discussionId",
        "participatingProviders",
        "failedProviders",
        "votingResults",
        "totalDurationMs",
        "metadata",
    ] {
        assert!(props.contains_key(name), "{name}");
    }
}

#[test]
fn provider_timeout_is_optional_and_keeps_its_limits() {
    // Absent and null both mean "not given", so the engine can fall back to each
    // provider's configured timeout; a given value keeps the 5 s – 30 min range.
    for input in [
        json!({"topic": "T"}),
        json!({"topic": "T", "providerTimeout": null}),
    ] {
        let c = DiscussionConfig::from_json(&input).expect("valid");
        assert_eq!(c.provider_timeout, None, "{input}");
        let out = serde_json::to_value(&c).expect("json");
        assert!(
            out.get("providerTimeout").is_none(),
            "not written when not given: {out}"
        );
    }
    for (ms, ok) in [
        (4_999, false),
        (5_000, true),
        (1_800_000, true),
        (1_800_001, false),
    ] {
        let got = DiscussionConfig::from_json(&json!({"topic": "T", "providerTimeout": ms}));
        match got {
            Ok(c) => {
                assert!(ok, "{ms} should be refused");
                assert_eq!(c.provider_timeout, Some(ms));
                let out = serde_json::to_value(&c).expect("json");
                assert_eq!(out["providerTimeout"], json!(ms));
            }
            Err(e) => {
                assert!(!ok, "{ms} should be accepted: {e}");
                assert_eq!(e.issues[0].path, "providerTimeout");
                assert_eq!(e.issues[0].rule, "range");
            }
        }
    }
    let schema = serde_json::to_value(schemars::schema_for!(DiscussionConfig)).expect("schema");
    let described = schema["properties"]["providerTimeout"]["description"]
        .as_str()
        .expect("documented");
    assert!(
        described.contains("config.toml") && described.contains("600000"),
        "the schema says what absence means: {described}"
    );
}

/// Every wire enum of the results serialises as exactly its `NAMES` entry and reads
/// back from it: the names `wire_enum!` lists for messages and the CLI are the ones
/// on the wire.
#[test]
fn result_enums_are_written_as_their_names() {
    fn check<T>(all: &[T], names: &[&str])
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        assert_eq!(all.len(), names.len());
        for (value, name) in all.iter().zip(names) {
            assert_eq!(serde_json::to_value(value).expect("serialise"), json!(name));
            assert_eq!(
                &serde_json::from_value::<T>(json!(name)).expect("deserialise"),
                value
            );
        }
    }
    check(DiscussionStatus::ALL, DiscussionStatus::NAMES);
    check(ProviderKind::ALL, ProviderKind::NAMES);
    check(ProviderErrorKind::ALL, ProviderErrorKind::NAMES);
    check(ErrorCode::ALL, ErrorCode::NAMES);
    check(Pattern::ALL, Pattern::NAMES);
    assert_eq!(DiscussionStatus::NAMES, ["finished", "failed", "cancelled"]);
    assert_eq!(ProviderKind::NAMES, ["command", "openai", "mock"]);
}

/// A failed provider's `code` is the bare name of a provider error kind, or of the
/// discussion error code that stopped the call — as it was when it was a string.
#[test]
fn a_failure_code_is_written_as_a_bare_name() {
    let failed = |code: FailureCode| FailedProvider {
        provider: "p".into(),
        code,
        message: "m".into(),
    };
    let timeout = failed(ProviderErrorKind::Timeout.into());
    let budget = failed(ErrorCode::DiscussionMaxCallsExceeded.into());
    assert_eq!(
        serde_json::to_value(&timeout).expect("serialise"),
        json!({"provider": "p", "code": "timeout", "message": "m"})
    );
    assert_eq!(
        serde_json::to_value(&budget).expect("serialise")["code"],
        "DISCUSSION_MAX_CALLS_EXCEEDED"
    );
    for original in [timeout, budget] {
        let back: FailedProvider =
            serde_json::from_value(serde_json::to_value(&original).expect("serialise"))
                .expect("deserialise");
        assert_eq!(back, original);
    }
    assert!(
        serde_json::from_value::<FailedProvider>(
            json!({"provider": "p", "code": "shouting", "message": "m"})
        )
        .is_err()
    );
}
