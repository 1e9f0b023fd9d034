//! Every rule of the agent profile contract (`agents.md`), one case each: a valid
//! profile (the maximal fixture, which uses every field) is broken in exactly one
//! place, and `AgentProfile::from_json` must refuse it with exactly that path and rule
//! name. Also: all problems are reported at once, unknown top-level fields are named,
//! registry-owned fields are accepted and dropped, `null` means absent.

use ax_contracts::agent::AgentProfile;
use ax_contracts::parse::Valid;
use ax_contracts::validation::ValidationErrors;
use serde_json::{Value, json};

fn maximal() -> Value {
    serde_json::from_str(include_str!("../fixtures/agents/maximal.json")).expect("fixture is JSON")
}

/// `base` with the member at JSON pointer `pointer` set to `value` (`None` removes it).
fn with(pointer: &str, value: Option<Value>) -> Value {
    let mut doc = maximal();
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let target = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent} exists in the fixture"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => {
            let i: usize = key.parse().expect("array index");
            if i == items.len() {
                items.push(v);
            } else {
                items[i] = v;
            }
        }
        (other, _) => panic!("{parent} is {other}, not a container"),
    }
    doc
}

fn issues(err: &ValidationErrors) -> Vec<(String, String)> {
    err.issues
        .iter()
        .map(|i| (i.path.clone(), i.rule.clone()))
        .collect()
}

fn s(n: usize) -> Value {
    Value::String("x".repeat(n))
}

fn list(n: usize) -> Value {
    Value::Array((0..n).map(|i| json!(format!("item-{i}"))).collect())
}

fn steps(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"stepId": format!("s{i}"), "name": "step", "type": "tool"}))
            .collect(),
    )
}

#[test]
fn the_maximal_fixture_is_valid() {
    AgentProfile::from_json(&maximal()).expect("maximal fixture is valid");
}

#[test]
fn each_rule_is_reported_with_its_path_and_name() {
    #[rustfmt::skip]
    let cases: Vec<(&str, Option<Value>, &str, &str)> = vec![
        // identity
        ("/agentId", None, "agentId", "required"),
        ("/agentId", Some(s(0)), "agentId", "min_length"),
        ("/agentId", Some(json!(format!("a{}", "b".repeat(50)))), "agentId", "max_length"),
        ("/agentId", Some(json!("1st-agent")), "agentId", "pattern"),
        ("/agentId", Some(json!("has space")), "agentId", "pattern"),
        ("/agentId", Some(json!(42)), "agentId", "type"),
        ("/description", None, "description", "required"),
        ("/description", Some(s(0)), "description", "min_length"),
        ("/description", Some(s(2001)), "description", "max_length"),
        ("/displayName", Some(s(101)), "displayName", "max_length"),
        ("/role", Some(s(201)), "role", "max_length"),
        ("/team", Some(s(101)), "team", "max_length"),
        ("/systemPrompt", Some(s(10_001)), "systemPrompt", "max_length"),
        ("/version", Some(json!("1.2")), "version", "pattern"),
        ("/version", Some(json!("v1.2.3")), "version", "pattern"),
        ("/version", Some(json!("1.2.3-beta")), "version", "pattern"),
        // string lists: item length, then item count
        ("/expertise/0", Some(s(101)), "expertise[0]", "max_length"),
        ("/expertise", Some(list(21)), "expertise", "max_items"),
        ("/capabilities/0", Some(s(101)), "capabilities[0]", "max_length"),
        ("/capabilities", Some(list(51)), "capabilities", "max_items"),
        ("/thinkingPatterns/1", Some(s(501)), "thinkingPatterns[1]", "max_length"),
        ("/thinkingPatterns", Some(list(21)), "thinkingPatterns", "max_items"),
        ("/tags/2", Some(s(51)), "tags[2]", "max_length"),
        ("/tags", Some(list(21)), "tags", "max_items"),
        ("/tags/0", Some(json!(7)), "tags[0]", "type"),
        ("/dependencies/0", Some(s(51)), "dependencies[0]", "max_length"),
        ("/dependencies", Some(list(21)), "dependencies", "max_items"),
        ("/collaboratesWith/0", Some(s(51)), "collaboratesWith[0]", "max_length"),
        ("/collaboratesWith", Some(list(21)), "collaboratesWith", "max_items"),
        ("/orchestrates/0", Some(s(51)), "orchestrates[0]", "max_length"),
        ("/orchestrates", Some(list(21)), "orchestrates", "max_items"),
        ("/replaces/0", Some(s(51)), "replaces[0]", "max_length"),
        ("/replaces", Some(list(21)), "replaces", "max_items"),
        ("/canDelegateToArchetypes/0", Some(s(51)), "canDelegateToArchetypes[0]", "max_length"),
        ("/canDelegateToArchetypes", Some(list(11)), "canDelegateToArchetypes", "max_items"),
        ("/canDelegateToMetaAgents/0", Some(s(51)), "canDelegateToMetaAgents[0]", "max_length"),
        ("/canDelegateToMetaAgents", Some(list(6)), "canDelegateToMetaAgents", "max_items"),
        ("/expertise", Some(json!("not-a-list")), "expertise", "type"),
        // booleans and numbers
        ("/enabled", Some(json!("yes")), "enabled", "type"),
        ("/parallel", Some(json!(1)), "parallel", "type"),
        ("/metaAgent", Some(json!("false")), "metaAgent", "type"),
        ("/archetype", Some(json!([])), "archetype", "type"),
        ("/temperature", Some(json!(2.01)), "temperature", "range"),
        ("/temperature", Some(json!(-0.1)), "temperature", "range"),
        ("/temperature", Some(json!("hot")), "temperature", "type"),
        ("/maxTokens", Some(json!(0)), "maxTokens", "range"),
        ("/maxTokens", Some(json!(200_001)), "maxTokens", "range"),
        ("/maxTokens", Some(json!(100.5)), "maxTokens", "type"),
        ("/priority", Some(json!(0)), "priority", "range"),
        ("/priority", Some(json!(101)), "priority", "range"),
        ("/metadata", Some(json!(["not", "an", "object"])), "metadata", "type"),
        // personality
        ("/personality", Some(json!("friendly")), "personality", "type"),
        ("/personality/traits/0", Some(s(101)), "personality.traits[0]", "max_length"),
        ("/personality/traits", Some(list(11)), "personality.traits", "max_items"),
        ("/personality/catchphrase", Some(s(201)), "personality.catchphrase", "max_length"),
        ("/personality/communicationStyle", Some(s(201)), "personality.communicationStyle", "max_length"),
        ("/personality/decisionMaking", Some(s(201)), "personality.decisionMaking", "max_length"),
        // abilities
        ("/abilities/core/0", Some(s(101)), "abilities.core[0]", "max_length"),
        ("/abilities/core", Some(list(51)), "abilities.core", "max_items"),
        ("/abilities/taskBased/hotfix", Some(json!("rollback-playbook")), "abilities.taskBased.hotfix", "type"),
        ("/abilities/taskBased/hotfix/0", Some(json!(1)), "abilities.taskBased.hotfix[0]", "type"),
        ("/abilities/loadAll", Some(json!("true")), "abilities.loadAll", "type"),
        // orchestration
        ("/orchestration/maxDelegationDepth", Some(json!(11)), "orchestration.maxDelegationDepth", "range"),
        ("/orchestration/maxDelegationDepth", Some(json!(-1)), "orchestration.maxDelegationDepth", "range"),
        ("/orchestration/canReadWorkspaces/0", Some(s(101)), "orchestration.canReadWorkspaces[0]", "max_length"),
        ("/orchestration/canReadWorkspaces", Some(list(21)), "orchestration.canReadWorkspaces", "max_items"),
        ("/orchestration/canWriteToShared", Some(json!(1)), "orchestration.canWriteToShared", "type"),
        ("/orchestration/delegationTimeout", Some(json!(999)), "orchestration.delegationTimeout", "range"),
        ("/orchestration/delegationTimeout", Some(json!(3_600_001)), "orchestration.delegationTimeout", "range"),
        // providerAffinity
        ("/providerAffinity/preferred/0", Some(s(51)), "providerAffinity.preferred[0]", "max_length"),
        ("/providerAffinity/preferred", Some(list(7)), "providerAffinity.preferred", "max_items"),
        ("/providerAffinity/defaultSynthesizer", Some(s(51)), "providerAffinity.defaultSynthesizer", "max_length"),
        ("/providerAffinity/excluded", Some(list(7)), "providerAffinity.excluded", "max_items"),
        ("/providerAffinity/taskOverrides/risk", Some(s(51)), "providerAffinity.taskOverrides.risk", "max_length"),
        ("/providerAffinity/temperatureOverrides/claude", Some(json!(2.5)), "providerAffinity.temperatureOverrides.claude", "range"),
        ("/providerAffinity/fallbackStrategy", Some(json!("random")), "providerAffinity.fallbackStrategy", "enum"),
        // selectionMetadata
        ("/selectionMetadata/primaryIntents/0", Some(s(101)), "selectionMetadata.primaryIntents[0]", "max_length"),
        ("/selectionMetadata/primaryIntents", Some(list(21)), "selectionMetadata.primaryIntents", "max_items"),
        ("/selectionMetadata/secondarySignals", Some(list(21)), "selectionMetadata.secondarySignals", "max_items"),
        ("/selectionMetadata/negativeIntents/0", Some(s(101)), "selectionMetadata.negativeIntents[0]", "max_length"),
        ("/selectionMetadata/keywords/0", Some(s(51)), "selectionMetadata.keywords[0]", "max_length"),
        ("/selectionMetadata/keywords", Some(list(51)), "selectionMetadata.keywords", "max_items"),
        ("/selectionMetadata/antiKeywords", Some(list(51)), "selectionMetadata.antiKeywords", "max_items"),
        ("/selectionMetadata/exampleTasks/0", Some(s(201)), "selectionMetadata.exampleTasks[0]", "max_length"),
        ("/selectionMetadata/exampleTasks", Some(list(11)), "selectionMetadata.exampleTasks", "max_items"),
        ("/selectionMetadata/notForTasks", Some(list(11)), "selectionMetadata.notForTasks", "max_items"),
        ("/selectionMetadata/redirectWhen/0/phrase", None, "selectionMetadata.redirectWhen[0].phrase", "required"),
        ("/selectionMetadata/redirectWhen/0/phrase", Some(s(501)), "selectionMetadata.redirectWhen[0].phrase", "max_length"),
        ("/selectionMetadata/redirectWhen/1/suggest", Some(s(101)), "selectionMetadata.redirectWhen[1].suggest", "max_length"),
        ("/selectionMetadata/redirectWhen", Some(Value::Array(vec![json!({"phrase": "p", "suggest": "s"}); 11])), "selectionMetadata.redirectWhen", "max_items"),
        ("/selectionMetadata/agentCategory", Some(json!("boss")), "selectionMetadata.agentCategory", "enum"),
        // workflow, per step
        ("/workflow", Some(steps(101)), "workflow", "max_items"),
        ("/workflow/3/stepId", None, "workflow[3].stepId", "required"),
        ("/workflow/3/stepId", Some(s(101)), "workflow[3].stepId", "max_length"),
        ("/workflow/3/name", Some(s(0)), "workflow[3].name", "min_length"),
        ("/workflow/3/name", Some(s(201)), "workflow[3].name", "max_length"),
        ("/workflow/3/description", Some(s(1001)), "workflow[3].description", "max_length"),
        ("/workflow/3/type", None, "workflow[3].type", "required"),
        ("/workflow/3/type", Some(json!("shell")), "workflow[3].type", "enum"),
        ("/workflow/3/config", Some(json!("synthesis")), "workflow[3].config", "type"),
        ("/workflow/3/dependencies/0", Some(s(101)), "workflow[3].dependencies[0]", "max_length"),
        ("/workflow/3/dependencies", Some(Value::Array(vec![json!("assess"); 21])), "workflow[3].dependencies", "max_items"),
        ("/workflow/2/condition", Some(s(501)), "workflow[2].condition", "max_length"),
        ("/workflow/2/parallel", Some(json!("yes")), "workflow[2].parallel", "type"),
        ("/workflow/2/timeoutMs", Some(json!(999)), "workflow[2].timeoutMs", "range"),
        ("/workflow/2/timeoutMs", Some(json!(3_600_001)), "workflow[2].timeoutMs", "range"),
        ("/workflow/1/keyQuestions/0", Some(s(501)), "workflow[1].keyQuestions[0]", "max_length"),
        ("/workflow/1/keyQuestions", Some(list(11)), "workflow[1].keyQuestions", "max_items"),
        ("/workflow/3/outputs/0", Some(s(101)), "workflow[3].outputs[0]", "max_length"),
        ("/workflow/3/outputs", Some(list(21)), "workflow[3].outputs", "max_items"),
        ("/workflow/1/streaming", Some(json!("no")), "workflow[1].streaming", "type"),
        ("/workflow/0/saveToMemory", Some(json!(0)), "workflow[0].saveToMemory", "type"),
        ("/workflow/3/checkpoint", Some(json!("true")), "workflow[3].checkpoint", "type"),
        ("/workflow/0/retryPolicy/maxAttempts", None, "workflow[0].retryPolicy.maxAttempts", "required"),
        ("/workflow/0/retryPolicy/maxAttempts", Some(json!(11)), "workflow[0].retryPolicy.maxAttempts", "range"),
        ("/workflow/0/retryPolicy/maxAttempts", Some(json!(0)), "workflow[0].retryPolicy.maxAttempts", "range"),
        ("/workflow/0/retryPolicy/backoffMs", Some(json!(99)), "workflow[0].retryPolicy.backoffMs", "range"),
        ("/workflow/0/retryPolicy/backoffMs", Some(json!(60_001)), "workflow[0].retryPolicy.backoffMs", "range"),
        ("/workflow/0/retryPolicy/backoffMultiplier", Some(json!(0.5)), "workflow[0].retryPolicy.backoffMultiplier", "range"),
        ("/workflow/0/retryPolicy/backoffMultiplier", Some(json!(5.5)), "workflow[0].retryPolicy.backoffMultiplier", "range"),
        ("/workflow/0/retryPolicy/retryOn/1", Some(json!("crash")), "workflow[0].retryPolicy.retryOn[1]", "enum"),
        // workflow, cross-field (INV-AGT-WF-001/002/003, Bug 2)
        ("/workflow/1/config/prompt", None, "workflow[1].config.prompt", "cross_field"),
        ("/workflow/1/config/prompt", Some(json!("  \n\t ")), "workflow[1].config.prompt", "cross_field"),
        ("/workflow/1/config/prompt", Some(json!(["ask"])), "workflow[1].config.prompt", "type"),
        ("/workflow/1/config", None, "workflow[1].config.prompt", "cross_field"),
        ("/workflow/2/config/targetAgent", None, "workflow[2].config.targetAgent", "cross_field"),
        ("/workflow/2/config/targetAgent", Some(s(0)), "workflow[2].config.targetAgent", "cross_field"),
        ("/workflow/2/config/targetAgentId", Some(json!("quality")), "workflow[2].config.targetAgentId", "cross_field"),
        ("/workflow/3/stepId", Some(json!("gather")), "workflow[3].stepId", "unique"),
        ("/workflow/3/dependencies/1", Some(json!("publish")), "workflow[3].dependencies[1]", "reference"),
        ("/workflow/1/dependencies/1", Some(json!("decide")), "workflow[3].dependencies[0]", "cycle"),
        // taskClassifier
        ("/taskClassifier/enabled", Some(json!("on")), "taskClassifier.enabled", "type"),
        ("/taskClassifier/rules", None, "taskClassifier.rules", "required"),
        ("/taskClassifier/rules", Some(Value::Array(vec![json!({"pattern": "x", "taskType": "t", "workflow": "w"}); 51])), "taskClassifier.rules", "max_items"),
        ("/taskClassifier/rules/1/pattern", Some(json!("(unclosed")), "taskClassifier.rules[1].pattern", "regex"),
        ("/taskClassifier/rules/1/pattern", Some(json!("[z-a]")), "taskClassifier.rules[1].pattern", "regex"),
        ("/taskClassifier/rules/1/pattern", Some(s(0)), "taskClassifier.rules[1].pattern", "min_length"),
        ("/taskClassifier/rules/1/pattern", Some(s(501)), "taskClassifier.rules[1].pattern", "max_length"),
        ("/taskClassifier/rules/0/taskType", None, "taskClassifier.rules[0].taskType", "required"),
        ("/taskClassifier/rules/0/taskType", Some(s(51)), "taskClassifier.rules[0].taskType", "max_length"),
        ("/taskClassifier/rules/0/workflow", Some(s(0)), "taskClassifier.rules[0].workflow", "min_length"),
        ("/taskClassifier/rules/0/workflow", Some(s(201)), "taskClassifier.rules[0].workflow", "max_length"),
        ("/taskClassifier/rules/0/priority", Some(json!(101)), "taskClassifier.rules[0].priority", "range"),
        ("/taskClassifier/defaultWorkflow", None, "taskClassifier.defaultWorkflow", "required"),
        ("/taskClassifier/defaultWorkflow", Some(s(201)), "taskClassifier.defaultWorkflow", "max_length"),
        ("/taskClassifier/fuzzyMatching", Some(json!(1)), "taskClassifier.fuzzyMatching", "type"),
        ("/taskClassifier/minConfidence", Some(json!(1.01)), "taskClassifier.minConfidence", "range"),
        // dynamicCapabilities
        ("/dynamicCapabilities/detection", Some(json!("sometimes")), "dynamicCapabilities.detection", "enum"),
        ("/dynamicCapabilities/sources/0", Some(s(101)), "dynamicCapabilities.sources[0]", "max_length"),
        ("/dynamicCapabilities/sources", Some(list(11)), "dynamicCapabilities.sources", "max_items"),
        ("/dynamicCapabilities/mappings/rust/0", Some(s(101)), "dynamicCapabilities.mappings.rust[0]", "max_length"),
        ("/dynamicCapabilities/mappings", Some(json!(["rust"])), "dynamicCapabilities.mappings", "type"),
        // reviewModes
        ("/reviewModes/quick", Some(json!("fast")), "reviewModes.quick", "type"),
        ("/reviewModes/quick/focus", None, "reviewModes.quick.focus", "required"),
        ("/reviewModes/quick/focus/0", Some(s(101)), "reviewModes.quick.focus[0]", "max_length"),
        ("/reviewModes/full/focus", Some(list(21)), "reviewModes.full.focus", "max_items"),
        ("/reviewModes/full/depth", None, "reviewModes.full.depth", "required"),
        ("/reviewModes/full/depth", Some(json!("medium")), "reviewModes.full.depth", "enum"),
        // capabilityMappings
        ("/capabilityMappings", Some(Value::Array(vec![json!({"taskType": "general", "workflowRef": "w"}); 21])), "capabilityMappings", "max_items"),
        ("/capabilityMappings/1/taskType", None, "capabilityMappings[1].taskType", "required"),
        ("/capabilityMappings/1/taskType", Some(json!("cooking")), "capabilityMappings[1].taskType", "enum"),
        ("/capabilityMappings/1/workflowRef", Some(s(0)), "capabilityMappings[1].workflowRef", "min_length"),
        ("/capabilityMappings/1/workflowRef", Some(s(201)), "capabilityMappings[1].workflowRef", "max_length"),
        ("/capabilityMappings/0/inputSchemaRef", Some(s(101)), "capabilityMappings[0].inputSchemaRef", "max_length"),
        ("/capabilityMappings/0/abilities", Some(list(21)), "capabilityMappings[0].abilities", "max_items"),
        ("/capabilityMappings/0/abilities/0", Some(s(101)), "capabilityMappings[0].abilities[0]", "max_length"),
        ("/capabilityMappings/0/priority", Some(json!(-1)), "capabilityMappings[0].priority", "range"),
        ("/capabilityMappings/0/description", Some(s(501)), "capabilityMappings[0].description", "max_length"),
        // registry-owned fields: accepted, but well-formed
        ("/createdAt", Some(json!("yesterday")), "createdAt", "format"),
        ("/updatedAt", Some(json!("2025-02-30T10:00:00Z")), "updatedAt", "format"),
        ("/revision", Some(json!(-1)), "revision", "range"),
        // unknown top-level fields
        ("/sytemPrompt", Some(json!("typo")), "sytemPrompt", "unknown_field"),
        ("/name", Some(json!("legacy")), "name", "unknown_field"),
    ];
    let mut failures = Vec::new();
    for (pointer, value, path, rule) in &cases {
        let doc = with(pointer, value.clone());
        let got = match AgentProfile::from_json(&doc) {
            Ok(_) => vec![],
            Err(err) => issues(&err),
        };
        let want = vec![(path.to_string(), rule.to_string())];
        if got != want {
            failures.push(format!("{pointer} = {value:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn values_at_the_limits_are_accepted() {
    let cases: Vec<(&str, Value)> = vec![
        ("/agentId", json!(format!("a{}", "-".repeat(49)))),
        ("/agentId", json!("Z")),
        ("/description", s(2000)),
        ("/systemPrompt", s(10_000)),
        ("/tags", list(20)),
        ("/capabilities", list(50)),
        ("/canDelegateToMetaAgents", list(5)),
        ("/temperature", json!(0)),
        ("/temperature", json!(2)),
        ("/maxTokens", json!(200_000)),
        ("/maxTokens", json!(4000.0)),
        ("/priority", json!(1)),
        ("/workflow", steps(100)),
        ("/taskClassifier/minConfidence", json!(1)),
        ("/orchestration/maxDelegationDepth", json!(0)),
        ("/workflow/0/retryPolicy/backoffMultiplier", json!(5)),
        ("/version", json!("10.0.123")),
        ("/createdAt", json!("2024-02-29T23:59:59.999+09:00")),
        ("/revision", json!(7)),
        ("/tags/0", s(0)),
    ];
    for (pointer, value) in cases {
        let doc = with(pointer, Some(value.clone()));
        if let Err(err) = AgentProfile::from_json(&doc) {
            panic!("{pointer} = {value} should be accepted: {err}");
        }
    }
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let doc = json!({
        "agentId": "9-lives",
        "description": "",
        "version": "one",
        "temperature": 3,
        "tags": ["ok", "x".repeat(51)],
        "colour": "blue",
        "workflow": [
            {"stepId": "a", "name": "A", "type": "prompt", "config": {}},
            {"stepId": "a", "name": "", "type": "teleport", "dependencies": ["ghost"]}
        ],
        "taskClassifier": {"rules": [{"pattern": "(", "taskType": "t", "workflow": "w"}]}
    });
    let err = AgentProfile::from_json(&doc).expect_err("many problems");
    let got = issues(&err);
    let want: Vec<(String, String)> = [
        ("colour", "unknown_field"),
        ("agentId", "pattern"),
        ("description", "min_length"),
        ("version", "pattern"),
        ("tags[1]", "max_length"),
        ("temperature", "range"),
        ("taskClassifier.rules[0].pattern", "regex"),
        ("taskClassifier.defaultWorkflow", "required"),
        ("workflow[0].config.prompt", "cross_field"),
        ("workflow[1].name", "min_length"),
        ("workflow[1].type", "enum"),
        ("workflow[1].stepId", "unique"),
        ("workflow[1].dependencies[0]", "reference"),
    ]
    .iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    let mut sorted_got = got.clone();
    sorted_got.sort();
    let mut sorted_want = want.clone();
    sorted_want.sort();
    assert_eq!(sorted_got, sorted_want, "reported: {got:?}");
    assert!(err.to_string().starts_with("13 problems: "), "{err}");
}

#[test]
fn an_unknown_top_level_field_is_named_with_a_hint() {
    let mut doc = maximal();
    doc["system_prompt"] = json!("typo of systemPrompt");
    doc["favouriteColour"] = json!("teal");
    let err = AgentProfile::from_json(&doc).expect_err("two unknown fields");
    let by_path = |p: &str| {
        err.issues
            .iter()
            .find(|i| i.path == p)
            .unwrap_or_else(|| panic!("an issue at {p}: {err}"))
    };
    assert_eq!(by_path("system_prompt").rule, "unknown_field");
    assert!(
        by_path("system_prompt")
            .message
            .contains("did you mean `systemPrompt`"),
        "{err}"
    );
    assert_eq!(
        by_path("favouriteColour").message,
        "unknown field `favouriteColour`"
    );
    assert_eq!(err.issues.len(), 2);
}

#[test]
fn registry_owned_fields_are_accepted_and_dropped() {
    let mut doc = maximal();
    doc["createdAt"] = json!("2025-05-30T10:00:00.000Z");
    doc["updatedAt"] = json!("2025-06-01T08:15:30+02:00");
    doc["revision"] = json!(4);
    let profile = AgentProfile::from_json(&doc).expect("an export re-imports");
    let out = profile.to_json();
    for key in ["createdAt", "updatedAt", "revision"] {
        assert!(
            out.get(key).is_none(),
            "{key} is the registry's, not the profile's"
        );
    }
    assert_eq!(profile, AgentProfile::from_json(&maximal()).expect("valid"));
}

#[test]
fn null_means_absent() {
    let doc = json!({
        "agentId": "n", "description": "d", "team": null, "enabled": null, "tags": null,
        "personality": {"traits": null},
        "workflow": [{"stepId": "s", "name": "S", "type": "tool", "config": null, "dependencies": null}]
    });
    let profile = AgentProfile::from_json(&doc).expect("nulls are absent fields");
    assert_eq!(profile.team, None);
    assert!(profile.enabled, "enabled defaults to true");
    assert_eq!(profile.tags, None);
    let step = &profile.workflow.as_ref().expect("workflow kept")[0];
    assert!(step.config.is_empty());
    assert_eq!(
        profile.to_json(),
        json!({
            "agentId": "n", "description": "d", "enabled": true, "personality": {},
            "workflow": [{"stepId": "s", "name": "S", "type": "tool", "config": {}}]
        })
    );
}

#[test]
fn required_nulls_are_still_required() {
    let err = AgentProfile::from_json(&json!({"agentId": null, "description": null}))
        .expect_err("required");
    assert_eq!(
        issues(&err),
        [
            ("agentId".to_owned(), "required".to_owned()),
            ("description".to_owned(), "required".to_owned())
        ]
    );
}

#[test]
fn a_profile_must_be_an_object() {
    for doc in [json!([]), json!("agent"), json!(null), json!(3)] {
        let err = AgentProfile::from_json(&doc).expect_err("not an object");
        assert_eq!(issues(&err), [("$".to_owned(), "type".to_owned())], "{doc}");
    }
}

#[test]
fn the_regex_rule_reports_the_compile_error() {
    let doc = with("/taskClassifier/rules/0/pattern", Some(json!("release(")));
    let err = AgentProfile::from_json(&doc).expect_err("bad regex");
    let message = &err.issues[0].message;
    assert!(message.contains("unclosed group"), "{message}");
}

#[test]
fn a_profile_changed_in_code_is_parsed_again() {
    let mut profile = AgentProfile::from_json(&maximal())
        .expect("valid")
        .into_inner();
    assert!(Valid::from_typed(&profile).is_ok());
    let workflow = profile.workflow.as_mut().expect("fixture has a workflow");
    // gather now waits for decide, which waits (through assess and through
    // security-pass) for gather: two cycles, each closed by an edge back to gather.
    workflow[0].dependencies = Some(vec!["decide".into()]);
    workflow[1].config.remove("prompt");
    profile.tags = Some((0..21).map(|i| i.to_string()).collect());
    let err = Valid::from_typed(&profile).expect_err("four problems");
    let mut got = issues(&err);
    got.sort();
    assert_eq!(
        got,
        [
            ("tags".to_owned(), "max_items".to_owned()),
            (
                "workflow[1].config.prompt".to_owned(),
                "cross_field".to_owned()
            ),
            ("workflow[1].dependencies[0]".to_owned(), "cycle".to_owned()),
            ("workflow[2].dependencies[0]".to_owned(), "cycle".to_owned()),
        ]
    );
    let messages: Vec<&str> = err
        .issues
        .iter()
        .filter(|i| i.rule == "cycle")
        .map(|i| i.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "dependency cycle: gather -> decide -> assess -> gather",
            "dependency cycle: gather -> decide -> security-pass -> gather"
        ]
    );
}
