//! The JSON Schema of `AgentProfile` (served as the MCP `agent_register` inputSchema)
//! and the validator must agree: every length, item-count and range limit the schema
//! announces is checked here against `AgentProfile::from_json`, at the limit (accepted)
//! and one past it (refused with the right path and rule). A limit changed in one
//! place but not the other fails this test.

use ax_contracts::agent::{AgentProfile, PROFILE_FIELDS};
use serde_json::{Value, json};

fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(AgentProfile)).expect("schema serialises")
}

/// `/workflow/0/retryPolicy` → `workflow[0].retryPolicy`.
fn path_of(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    match doc.pointer_mut(parent).expect("parent exists") {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        other => panic!("{parent} is {other}"),
    }
}

fn issues_of(doc: &Value) -> Vec<(String, String)> {
    match AgentProfile::from_json(doc) {
        Ok(_) => vec![],
        Err(e) => e.issues.into_iter().map(|i| (i.path, i.rule)).collect(),
    }
}

fn has_type(schema: &Value, t: &str) -> bool {
    match &schema["type"] {
        Value::String(s) => s == t,
        Value::Array(types) => types.iter().any(|x| x == t),
        _ => false,
    }
}

/// Check every announced limit of the properties of `object_schema`, each placed at
/// `pointer/<property>` inside `base`.
fn check_limits(
    object_schema: &Value,
    base: &Value,
    pointer: &str,
    failures: &mut Vec<String>,
) -> usize {
    let mut checked = 0;
    let props = object_schema["properties"].as_object().expect("properties");
    for (name, prop) in props {
        let at = format!("{pointer}/{name}");
        let path = path_of(&at);
        let mut expect = |value: Value, want: Option<(&str, &str)>, what: &str| {
            let mut doc = base.clone();
            set(&mut doc, &at, value);
            let got = issues_of(&doc);
            let ok = match want {
                None => got.is_empty(),
                Some((p, r)) => got.contains(&(p.to_owned(), r.to_owned())),
            };
            if !ok {
                failures.push(format!("{path} ({what}): want {want:?}, got {got:?}"));
            }
        };
        if has_type(prop, "string") {
            if let Some(max) = prop["maxLength"].as_u64() {
                let max = max as usize;
                expect(
                    json!(format!("a{}", "b".repeat(max - 1))),
                    None,
                    "longest string",
                );
                expect(
                    json!("a".repeat(max + 1)),
                    Some((&path, "max_length")),
                    "string too long",
                );
                checked += 1;
            }
            if prop["minLength"].as_u64() == Some(1) {
                expect(json!(""), Some((&path, "min_length")), "empty string");
                checked += 1;
            }
        }
        if has_type(prop, "array") {
            let item_max = prop["items"]["maxLength"].as_u64().map(|m| m as usize);
            if let Some(max_items) = prop["maxItems"].as_u64() {
                let max_items = max_items as usize;
                if let Some(len) = item_max {
                    // Step dependencies must also name steps; that rule has its own tests.
                    if !at.ends_with("/0/dependencies") {
                        let items: Vec<Value> = (0..max_items)
                            .map(|i| json!(format!("{i:0>len$}")))
                            .collect();
                        expect(Value::Array(items), None, "fullest list");
                    }
                    let items: Vec<Value> = (0..=max_items).map(|i| json!(i.to_string())).collect();
                    expect(
                        Value::Array(items),
                        Some((&path, "max_items")),
                        "list too long",
                    );
                    checked += 1;
                }
            }
            if let Some(len) = item_max {
                let item_path = format!("{path}[0]");
                expect(
                    json!(["a".repeat(len + 1)]),
                    Some((&item_path, "max_length")),
                    "item too long",
                );
                checked += 1;
            }
        }
        for t in ["integer", "number"] {
            if !has_type(prop, t) {
                continue;
            }
            let (Some(min), Some(max)) = (prop["minimum"].as_f64(), prop["maximum"].as_f64())
            else {
                continue;
            };
            let step = if t == "integer" { 1.0 } else { 0.01 };
            expect(json!(min), None, "minimum");
            expect(json!(max), None, "maximum");
            expect(json!(min - step), Some((&path, "range")), "below minimum");
            expect(json!(max + step), Some((&path, "range")), "above maximum");
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_schema_declares_exactly_the_contract_fields() {
    let schema = schema();
    let mut declared: Vec<&str> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    declared.sort();
    let mut fields = PROFILE_FIELDS.to_vec();
    fields.sort();
    assert_eq!(declared, fields);
    assert_eq!(schema["required"], json!(["agentId", "description"]));
}

#[test]
fn every_limit_the_schema_announces_is_enforced() {
    let schema = schema();
    let defs = &schema["$defs"];
    let minimal = json!({"agentId": "a", "description": "d"});
    let step = json!({"stepId": "s", "name": "n", "type": "tool"});
    // (schema object, base profile, JSON pointer where the object sits in it)
    let places: Vec<(&Value, Value, &str)> = vec![
        (&schema, minimal.clone(), ""),
        (
            &defs["Personality"],
            json!({"agentId": "a", "description": "d", "personality": {}}),
            "/personality",
        ),
        (
            &defs["Abilities"],
            json!({"agentId": "a", "description": "d", "abilities": {}}),
            "/abilities",
        ),
        (
            &defs["Orchestration"],
            json!({"agentId": "a", "description": "d", "orchestration": {}}),
            "/orchestration",
        ),
        (
            &defs["ProviderAffinity"],
            json!({"agentId": "a", "description": "d", "providerAffinity": {}}),
            "/providerAffinity",
        ),
        (
            &defs["SelectionMetadata"],
            json!({"agentId": "a", "description": "d", "selectionMetadata": {}}),
            "/selectionMetadata",
        ),
        (
            &defs["RedirectRule"],
            json!({"agentId": "a", "description": "d", "selectionMetadata": {"redirectWhen": [{"phrase": "p", "suggest": "s"}]}}),
            "/selectionMetadata/redirectWhen/0",
        ),
        (
            &defs["DynamicCapabilities"],
            json!({"agentId": "a", "description": "d", "dynamicCapabilities": {}}),
            "/dynamicCapabilities",
        ),
        (
            &defs["ReviewMode"],
            json!({"agentId": "a", "description": "d", "reviewModes": {"m": {"focus": [], "depth": "deep"}}}),
            "/reviewModes/m",
        ),
        (
            &defs["TaskClassifier"],
            json!({"agentId": "a", "description": "d", "taskClassifier": {"rules": [], "defaultWorkflow": "w"}}),
            "/taskClassifier",
        ),
        (
            &defs["TaskClassifierRule"],
            json!({"agentId": "a", "description": "d", "taskClassifier": {"rules": [{"pattern": "p", "taskType": "t", "workflow": "w"}], "defaultWorkflow": "w"}}),
            "/taskClassifier/rules/0",
        ),
        (
            &defs["CapabilityMapping"],
            json!({"agentId": "a", "description": "d", "capabilityMappings": [{"taskType": "general", "workflowRef": "w"}]}),
            "/capabilityMappings/0",
        ),
        (
            &defs["WorkflowStep"],
            json!({"agentId": "a", "description": "d", "workflow": [step.clone()]}),
            "/workflow/0",
        ),
        (
            &defs["RetryPolicy"],
            json!({"agentId": "a", "description": "d", "workflow": [{"stepId": "s", "name": "n", "type": "tool", "retryPolicy": {"maxAttempts": 1, "backoffMs": 100, "backoffMultiplier": 1}}]}),
            "/workflow/0/retryPolicy",
        ),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for (object_schema, base, pointer) in &places {
        assert!(object_schema.is_object(), "schema for {pointer} exists");
        assert!(
            AgentProfile::from_json(base).is_ok(),
            "base for {pointer} is valid"
        );
        checked += check_limits(object_schema, base, pointer, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Guard against the walk silently finding nothing (e.g. a schemars layout change).
    assert!(checked > 80, "only {checked} limits found in the schema");
}

#[test]
fn the_schema_carries_the_agent_id_pattern_and_enums() {
    let schema = schema();
    assert_eq!(
        schema["properties"]["agentId"]["pattern"],
        json!("^[a-zA-Z][a-zA-Z0-9_-]*$")
    );
    // Documented variants come out as `oneOf` of `const`s; undocumented as `enum`.
    let names = |def: &Value| -> Vec<String> {
        if let Some(values) = def["enum"].as_array() {
            return values
                .iter()
                .map(|v| v.as_str().expect("string").to_owned())
                .collect();
        }
        def["oneOf"]
            .as_array()
            .expect("enum or oneOf")
            .iter()
            .map(|v| v["const"].as_str().expect("const").to_owned())
            .collect()
    };
    assert_eq!(
        names(&schema["$defs"]["StepType"]),
        [
            "prompt",
            "tool",
            "conditional",
            "loop",
            "parallel",
            "delegate",
            "discuss"
        ]
    );
    assert_eq!(
        names(&schema["$defs"]["FallbackStrategy"]),
        ["cascade", "strict", "any-available"]
    );
    assert_eq!(names(&schema["$defs"]["TaskType"]).len(), 12);
}
