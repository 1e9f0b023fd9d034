//! Profiles in the reference tool's shapes load unchanged and survive a round trip;
//! unknown nested keys and hostile strings come back verbatim; legacy shapes and
//! registry files are understood on import.

use std::collections::BTreeSet;

use ax_contracts::agent::{
    AgentProfile, ImportShape, PROFILE_FIELDS, classify_import, import_entries, normalize_legacy,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let text = match name {
        "maximal.json" => include_str!("../fixtures/agents/maximal.json"),
        "minimal.json" => include_str!("../fixtures/agents/minimal.json"),
        "registry.json" => include_str!("../fixtures/agents/registry.json"),
        "legacy.yaml" => include_str!("../fixtures/agents/legacy.yaml"),
        other => panic!("no fixture {other}"),
    };
    if name.ends_with(".yaml") {
        yaml_serde::from_str(text).expect("fixture is YAML")
    } else {
        serde_json::from_str(text).expect("fixture is JSON")
    }
}

/// Every key that occurs anywhere in `value`.
fn all_keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

/// JSON → profile → JSON → text → JSON → profile: nothing may change on the way.
fn round_trip(input: &Value) -> Value {
    let profile = AgentProfile::from_json(input).expect("valid profile");
    let out = profile.to_json();
    let text = serde_json::to_string_pretty(&out).expect("serialises");
    let reparsed: Value = serde_json::from_str(&text).expect("parses back");
    let again = AgentProfile::from_json(&reparsed).expect("its own output is valid");
    assert_eq!(again, profile, "a second round trip changes nothing");
    out
}

#[test]
fn the_maximal_fixture_uses_every_field_of_the_contract() {
    let doc = fixture("maximal.json");
    let top: BTreeSet<&str> = doc
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, PROFILE_FIELDS.iter().copied().collect::<BTreeSet<_>>());

    // Every property the schema declares, at any depth, occurs in the fixture.
    let schema = serde_json::to_value(schemars::schema_for!(AgentProfile)).expect("schema");
    let mut declared = BTreeSet::new();
    let mut objects = vec![&schema];
    objects.extend(schema["$defs"].as_object().expect("$defs").values());
    for object in objects {
        if let Some(props) = object["properties"].as_object() {
            declared.extend(props.keys().cloned());
        }
    }
    let mut used = BTreeSet::new();
    all_keys(&doc, &mut used);
    let missing: Vec<_> = declared.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "fields the maximal fixture does not use: {missing:?}"
    );
}

#[test]
fn the_maximal_fixture_round_trips_unchanged() {
    let doc = fixture("maximal.json");
    assert_eq!(round_trip(&doc), doc);
}

#[test]
fn the_minimal_fixture_round_trips_with_enabled_made_explicit() {
    let doc = fixture("minimal.json");
    let mut expected = doc.clone();
    expected["enabled"] = json!(true);
    assert_eq!(round_trip(&doc), expected);
}

/// The reference tool's profiles put `canDelegateToArchetypes` inside
/// `orchestration`; an import must keep them, as every other unknown nested key.
#[test]
fn unknown_nested_keys_are_kept_verbatim() {
    let doc = fixture("maximal.json");
    let profile = AgentProfile::from_json(&doc).expect("valid");
    let orchestration = profile.orchestration.as_ref().expect("present");
    assert_eq!(
        orchestration.extra["canDelegateToArchetypes"],
        json!(["implementer"])
    );
    assert_eq!(
        orchestration.extra["canDelegateToMetaAgents"],
        json!(["auditor"])
    );
    let personality = profile.personality.as_ref().expect("present");
    assert_eq!(personality.extra["x-voice"], json!("dry"));
    let workflow = profile.workflow.as_ref().expect("present");
    assert_eq!(workflow[0].extra["x-owner"], json!("platform"));
    assert_eq!(
        workflow[0].retry_policy.as_ref().expect("present").extra["jitter"],
        json!(true)
    );
    let redirect = &profile
        .selection_metadata
        .as_ref()
        .expect("present")
        .redirect_when
        .as_ref()
        .expect("present")[1];
    assert_eq!(redirect.extra["note"], json!("quality owns CI"));

    let out = profile.to_json();
    assert_eq!(
        out["orchestration"]["canDelegateToArchetypes"],
        json!(["implementer"])
    );
    assert_eq!(out["workflow"][0]["retryPolicy"]["jitter"], json!(true));
}

#[test]
fn numbers_keep_their_javascript_spelling() {
    let doc = fixture("maximal.json");
    let out = AgentProfile::from_json(&doc).expect("valid").to_json();
    let text = serde_json::to_string(&out).expect("serialises");
    assert!(
        text.contains(r#""gemini":1,"#) || text.contains(r#""gemini":1}"#),
        "{text}"
    );
    assert!(text.contains(r#""backoffMultiplier":2,"#), "{text}");
    assert!(text.contains(r#""temperature":0.4"#), "{text}");
    assert!(
        text.contains(r#""ratio":1.5"#),
        "metadata is verbatim: {text}"
    );
}

#[test]
fn whole_floats_are_accepted_for_integer_fields() {
    let doc = json!({"agentId": "n", "description": "d", "maxTokens": 4000.0, "priority": 5.0});
    let profile = AgentProfile::from_json(&doc).expect("4000.0 is 4000");
    assert_eq!(
        (profile.max_tokens, profile.priority),
        (Some(4000), Some(5))
    );
    assert_eq!(profile.to_json()["maxTokens"], json!(4000));
}

#[test]
fn hostile_and_non_ascii_strings_are_preserved_verbatim() {
    let samples = [
        "'); DROP TABLE agents;--",
        "Robert'); DELETE FROM agents WHERE '1'='1",
        r#"She said "ship it" — then 'don't'; path C:\temp\new\"x""#,
        "\\\"\\\\\"\u{0}\u{1f}\t\r\n",
        "🚀 release 🧑🏽‍💻 day 👨‍👩‍👧",
        "発表の準備をする。中文测试。한국어",
        "مرحبا بالعالم \u{200f}שלום\u{200e} mixed עברית",
        "zero\u{200b}width\u{feff}joiners",
        "${input.task} {{template}} %s %n",
    ];
    for sample in samples {
        let doc = json!({
            "agentId": "hostile",
            "description": sample,
            "displayName": sample.chars().take(100).collect::<String>(),
            "systemPrompt": sample,
            "tags": [sample.chars().take(50).collect::<String>()],
            "metadata": {sample: sample},
            "workflow": [{"stepId": sample, "name": sample, "type": "prompt", "config": {"prompt": sample}}]
        });
        let out = round_trip(&doc);
        assert_eq!(out["description"], json!(sample));
        assert_eq!(out["systemPrompt"], json!(sample));
        assert_eq!(out["metadata"][sample], json!(sample));
        assert_eq!(out["workflow"][0]["config"]["prompt"], json!(sample));
        let mut expected = doc.clone();
        expected["enabled"] = json!(true);
        assert_eq!(out, expected, "{sample:?}");
    }
}

#[test]
fn hostile_strings_cannot_become_an_agent_id() {
    for id in [
        "'); DROP TABLE agents;--",
        "agent\"",
        "🚀",
        "発表",
        "a b",
        "a\u{200b}b",
    ] {
        let err = AgentProfile::from_json(&json!({"agentId": id, "description": "d"}))
            .expect_err("not an id");
        assert_eq!(err.issues[0].path, "agentId");
        assert_eq!(err.issues[0].rule, "pattern", "{id}");
    }
}

#[test]
fn lengths_count_characters_not_bytes() {
    // 100 four-byte characters fit a 100-character display name.
    let name = "🚀".repeat(100);
    AgentProfile::from_json(&json!({"agentId": "a", "description": "d", "displayName": name}))
        .expect("100 characters");
    let err = AgentProfile::from_json(
        &json!({"agentId": "a", "description": "d", "displayName": "🚀".repeat(101)}),
    )
    .expect_err("101 characters");
    assert_eq!(err.issues[0].rule, "max_length");
}

#[test]
fn the_legacy_fixture_is_refused_as_is_and_loads_after_normalising() {
    let doc = fixture("legacy.yaml");
    let err = AgentProfile::from_json(&doc).expect_err("legacy shapes are for import only");
    let got: BTreeSet<(String, String)> = err
        .issues
        .iter()
        .map(|i| (i.path.clone(), i.rule.clone()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("name", "unknown_field"),
        ("abilitySelection", "unknown_field"),
        ("cognitiveFramework", "unknown_field"),
        ("agentId", "required"),
        ("description", "required"),
        ("abilities", "type"),
    ]
    .iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    assert_eq!(got, want);

    let profile =
        AgentProfile::from_json(&normalize_legacy(doc.clone())).expect("normalised legacy loads");
    assert_eq!(profile.agent_id, "tester");
    assert_eq!(
        profile.description,
        "Test engineer who finds the gaps in a test suite"
    );
    assert_eq!(profile.role.as_deref(), Some(profile.description.as_str()));
    let abilities = profile.abilities.as_ref().expect("abilities");
    assert_eq!(
        abilities.core.as_deref(),
        Some(
            &[
                "test-design".to_owned(),
                "flaky-test-triage".to_owned(),
                "coverage-reading".to_owned()
            ][..]
        )
    );
    let task_based = abilities
        .task_based
        .as_ref()
        .expect("taskBased carried over");
    assert_eq!(task_based["coverage"], ["coverage-reading", "test-design"]);
    assert_eq!(
        profile
            .orchestration
            .as_ref()
            .and_then(|o| o.max_delegation_depth),
        Some(1)
    );
    assert!(
        profile
            .system_prompt
            .as_deref()
            .is_some_and(|p| p.starts_with("You are Tess"))
    );
    let out = profile.to_json();
    for gone in ["name", "abilitySelection", "cognitiveFramework"] {
        assert!(out.get(gone).is_none(), "{gone} is dropped");
    }
}

#[test]
fn a_reference_registry_file_is_split_into_its_profiles() {
    let doc = fixture("registry.json");
    let import = classify_import(doc.clone()).expect("a registry file");
    assert_eq!(import.shape, ImportShape::RegistryFile);
    assert_eq!(import.version.as_deref(), Some("1.0.0"));
    assert_eq!(
        import.updated_at.as_deref(),
        Some("2025-06-01T08:15:30.120Z")
    );
    let paths: Vec<&str> = import.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["agents[0]", "agents[1]", "agents[2]"]);
    let ids: Vec<Option<&str>> = import.entries.iter().map(|e| e.agent_id_hint()).collect();
    assert_eq!(ids, [Some("standard"), Some("backend"), Some("security")]);

    for (entry, original) in import
        .entries
        .iter()
        .zip(doc["agents"].as_array().expect("agents"))
    {
        let profile = entry
            .to_profile()
            .unwrap_or_else(|e| panic!("{}: {e}", entry.path));
        let mut expected = original.clone();
        let obj = expected.as_object_mut().expect("object");
        obj.remove("createdAt");
        obj.remove("updatedAt");
        assert_eq!(
            profile.to_json(),
            expected,
            "{} round-trips without registry fields",
            entry.path
        );
    }
    let backend = import.entries[1].to_profile().expect("valid");
    assert_eq!(
        backend.orchestration.clone().expect("present").extra["canDelegateToArchetypes"],
        json!(["reviewer"])
    );
    assert!(!import.entries[2].to_profile().expect("valid").enabled);
}

#[test]
fn single_profiles_and_lists_are_classified() {
    let single = classify_import(fixture("legacy.yaml")).expect("one profile");
    assert_eq!(single.shape, ImportShape::SingleProfile);
    assert_eq!(single.entries.len(), 1);
    assert_eq!(single.entries[0].path, "$");
    assert_eq!(
        single.entries[0].agent_id_hint(),
        Some("tester"),
        "legacy name"
    );
    assert_eq!(
        single.entries[0]
            .to_profile()
            .expect("legacy normalised")
            .agent_id,
        "tester"
    );

    let list = classify_import(
        json!([fixture("minimal.json"), {"agentId": "bad id", "description": "d"}]),
    )
    .expect("a list");
    assert_eq!(list.shape, ImportShape::ProfileList);
    assert_eq!(list.entries[1].path, "[1]");
    assert!(list.entries[0].to_profile().is_ok());
    let err = list.entries[1].to_profile().expect_err("bad id");
    assert_eq!(
        (err.issues[0].path.as_str(), err.issues[0].rule.as_str()),
        ("agentId", "pattern")
    );
}

#[test]
fn malformed_import_documents_are_refused_with_a_path() {
    let err =
        classify_import(json!({"version": "1.0.0", "agents": {"backend": {}}})).expect_err("map");
    assert_eq!(
        (err.issues[0].path.as_str(), err.issues[0].rule.as_str()),
        ("agents", "type")
    );
    let err = classify_import(json!("agents.json")).expect_err("a string");
    assert_eq!(
        (err.issues[0].path.as_str(), err.issues[0].rule.as_str()),
        ("$", "type")
    );
    let empty = classify_import(json!({"version": "1.0.0", "updatedAt": "x", "agents": []}))
        .expect("empty file");
    assert!(empty.entries.is_empty());
    let err = import_entries(json!(true)).expect_err("a boolean");
    assert_eq!(err.issues[0].path, "$");
}

#[test]
fn import_entries_pairs_each_profile_with_its_path() {
    let pairs = import_entries(fixture("registry.json")).expect("a registry file");
    let labels: Vec<&str> = pairs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(labels, ["agents[0]", "agents[1]", "agents[2]"]);
    assert_eq!(pairs[1].1["agentId"], json!("backend"));
    let single = import_entries(fixture("minimal.json")).expect("one profile");
    assert_eq!(single, [("$".to_owned(), fixture("minimal.json"))]);
}

/// A stored record flattens the profile beside the registry's fields; reading it back
/// (through serde's buffered path for flattened structs) must give the same record.
#[test]
fn a_record_of_the_maximal_profile_round_trips() {
    use ax_contracts::agent::AgentRecord;
    let profile = AgentProfile::from_json(&fixture("maximal.json"))
        .expect("valid")
        .into_inner();
    let record = AgentRecord {
        profile,
        created_at: "2025-05-30T10:00:00Z".into(),
        updated_at: "2025-06-01T08:15:30Z".into(),
        revision: 3,
    };
    let json = serde_json::to_value(&record).expect("serialises");
    assert_eq!(json["revision"], json!(3));
    assert_eq!(
        json["orchestration"]["canDelegateToMetaAgents"],
        json!(["auditor"])
    );
    let back: AgentRecord = serde_json::from_value(json.clone()).expect("deserialises");
    assert_eq!(back, record);
    // An exported record is also a valid import: the registry's fields are dropped.
    assert_eq!(
        AgentProfile::from_json(&json).expect("re-imports"),
        record.profile
    );
}
