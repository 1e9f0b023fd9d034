//! Workflow rules across steps.
//!
//! **Bug 2** of the requirements (task dependency cycle detection) was closed in the
//! reference tool as "already implemented", but its schema only checked that each
//! dependency names an existing step. These tests prove that here a cycle of any
//! length — including a step that depends on itself — is refused with the path of the
//! dependency that closes it and the cycle spelled out, while an acyclic diamond is
//! accepted (INV-AGT-WF-004). INV-AGT-WF-001..003 (prompt text, delegate target,
//! known and unique step ids) are covered here too.

use ax_contracts::agent::{AgentProfile, StepType};
use ax_contracts::validation::Issue;
use serde_json::{Value, json};

fn profile_with(workflow: Value) -> Value {
    json!({"agentId": "flow", "description": "workflow rules", "workflow": workflow})
}

fn tool(id: &str, deps: &[&str]) -> Value {
    json!({"stepId": id, "name": id, "type": "tool", "dependencies": deps})
}

fn rejected(workflow: Value) -> Vec<Issue> {
    AgentProfile::from_json(&profile_with(workflow))
        .expect_err("workflow should be refused")
        .issues
}

fn only_issue(workflow: Value) -> Issue {
    let issues = rejected(workflow);
    assert_eq!(issues.len(), 1, "{issues:?}");
    issues.into_iter().next().expect("one issue")
}

/// Bug 2: `a ⇄ b`.
#[test]
fn a_two_step_cycle_is_refused_with_its_path() {
    let issue = only_issue(json!([tool("a", &["b"]), tool("b", &["a"])]));
    assert_eq!(issue.rule, "cycle");
    assert_eq!(issue.path, "workflow[1].dependencies[0]");
    assert_eq!(issue.message, "dependency cycle: a -> b -> a");
}

/// Bug 2: `a → b → c → a`, declared out of order and with a harmless extra edge.
#[test]
fn a_three_step_cycle_is_refused_with_its_path() {
    let issue = only_issue(json!([
        tool("c", &["a"]),
        tool("start", &[]),
        tool("a", &["start", "b"]),
        tool("b", &["c"]),
    ]));
    assert_eq!(issue.rule, "cycle");
    // The search starts at the first step, `c`, so the edge back to it closes the cycle.
    assert_eq!(issue.path, "workflow[3].dependencies[0]");
    assert_eq!(issue.message, "dependency cycle: c -> a -> b -> c");
}

/// Bug 2: a step that waits for itself never runs.
#[test]
fn a_self_dependency_is_a_cycle() {
    let issue = only_issue(json!([tool("solo", &[]), tool("loop", &["solo", "loop"])]));
    assert_eq!(issue.rule, "cycle");
    assert_eq!(issue.path, "workflow[1].dependencies[1]");
    assert_eq!(issue.message, "dependency cycle: loop -> loop");
}

#[test]
fn separate_cycles_are_all_reported() {
    let issues = rejected(json!([
        tool("a", &["b"]),
        tool("b", &["a"]),
        tool("x", &["y"]),
        tool("y", &["z"]),
        tool("z", &["x"]),
    ]));
    let got: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.path.as_str(), i.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "workflow[1].dependencies[0]",
                "dependency cycle: a -> b -> a"
            ),
            (
                "workflow[4].dependencies[0]",
                "dependency cycle: x -> y -> z -> x"
            ),
        ]
    );
}

/// Two paths to one step are not a cycle.
#[test]
fn an_acyclic_diamond_is_accepted() {
    let profile = AgentProfile::from_json(&profile_with(json!([
        tool("merge", &["left", "right"]),
        tool("left", &["root"]),
        tool("right", &["root"]),
        tool("root", &[]),
    ])))
    .expect("a diamond has no cycle");
    let workflow = profile.workflow.clone().expect("workflow kept");
    assert_eq!(workflow[0].dependencies(), ["left", "right"]);
}

#[test]
fn a_long_chain_is_accepted() {
    let steps: Vec<Value> = (0..100)
        .map(|i| {
            let id = format!("s{i}");
            let dep = format!("s{}", i + 1);
            if i < 99 {
                tool(&id, &[&dep])
            } else {
                tool(&id, &[])
            }
        })
        .collect();
    AgentProfile::from_json(&profile_with(Value::Array(steps))).expect("a chain has no cycle");
}

/// A dependency on a duplicated id means the first step with that id; the duplicate
/// itself is what gets reported.
#[test]
fn a_duplicated_id_resolves_to_its_first_step() {
    let issue = only_issue(json!([
        tool("a", &["b"]),
        tool("b", &[]),
        tool("b", &["a"])
    ]));
    assert_eq!(
        (issue.path.as_str(), issue.rule.as_str()),
        ("workflow[2].stepId", "unique")
    );
    let issues = rejected(json!([
        tool("a", &["b"]),
        tool("b", &["a"]),
        tool("b", &[])
    ]));
    let got: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.path.as_str(), i.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("workflow[2].stepId", "unique"),
            ("workflow[1].dependencies[0]", "cycle")
        ]
    );
}

/// INV-AGT-WF-003.
#[test]
fn a_dependency_must_name_a_step() {
    let issue = only_issue(json!([tool("a", &[]), tool("b", &["a", "A"])]));
    assert_eq!(
        (issue.path.as_str(), issue.rule.as_str()),
        ("workflow[1].dependencies[1]", "reference")
    );
    assert!(issue.message.contains("\"A\""), "{}", issue.message);
}

/// INV-AGT-WF-003.
#[test]
fn step_ids_are_unique() {
    let issue = only_issue(json!([tool("a", &[]), tool("b", &[]), tool("a", &[])]));
    assert_eq!(
        (issue.path.as_str(), issue.rule.as_str()),
        ("workflow[2].stepId", "unique")
    );
    assert!(issue.message.contains("workflow[0]"), "{}", issue.message);
}

/// INV-AGT-WF-001.
#[test]
fn a_prompt_step_needs_prompt_text() {
    let issue = only_issue(json!([{"stepId": "p", "name": "P", "type": "prompt"}]));
    assert_eq!(
        (issue.path.as_str(), issue.rule.as_str()),
        ("workflow[0].config.prompt", "cross_field")
    );
    let ok =
        json!([{"stepId": "p", "name": "P", "type": "prompt", "config": {"prompt": "Summarise."}}]);
    let profile = AgentProfile::from_json(&profile_with(ok)).expect("prompt given");
    assert_eq!(
        profile.workflow.as_ref().expect("kept")[0].prompt(),
        Some("Summarise.")
    );
}

/// INV-AGT-WF-002: `targetAgentId` is accepted in place of `targetAgent` and stored
/// under the contract's name.
#[test]
fn a_delegate_step_target_alias_is_normalised() {
    let workflow = json!([{
        "stepId": "d", "name": "D", "type": "delegate",
        "config": {"targetAgentId": "security", "task": "look"}
    }]);
    let profile = AgentProfile::from_json(&profile_with(workflow)).expect("alias accepted");
    let step = &profile.workflow.as_ref().expect("kept")[0];
    assert_eq!(step.step_type, StepType::Delegate);
    assert_eq!(step.target_agent(), Some("security"));
    assert_eq!(
        profile.to_json()["workflow"][0]["config"],
        json!({"targetAgent": "security", "task": "look"})
    );
}

#[test]
fn a_delegate_step_with_both_spellings_agreeing_is_accepted() {
    let workflow = json!([{
        "stepId": "d", "name": "D", "type": "delegate",
        "config": {"targetAgent": "security", "targetAgentId": "security"}
    }]);
    let profile = AgentProfile::from_json(&profile_with(workflow)).expect("same target");
    assert_eq!(
        profile.to_json()["workflow"][0]["config"],
        json!({"targetAgent": "security"})
    );
}

#[test]
fn a_delegate_step_needs_a_target() {
    let issue = only_issue(json!([{"stepId": "d", "name": "D", "type": "delegate", "config": {}}]));
    assert_eq!(
        (issue.path.as_str(), issue.rule.as_str()),
        ("workflow[0].config.targetAgent", "cross_field")
    );
    let issue = only_issue(json!([{
        "stepId": "d", "name": "D", "type": "delegate", "config": {"targetAgentId": " "}
    }]));
    assert_eq!(
        (issue.path.as_str(), issue.rule.as_str()),
        ("workflow[0].config.targetAgentId", "cross_field")
    );
}

#[test]
fn other_step_types_keep_their_config_verbatim() {
    let workflow = json!([{
        "stepId": "t", "name": "T", "type": "tool",
        "config": {"targetAgentId": "not-a-delegate", "nested": {"deep": [1, 2.5, null]}}
    }]);
    let profile = AgentProfile::from_json(&profile_with(workflow.clone())).expect("valid");
    assert_eq!(
        profile.to_json()["workflow"][0]["config"],
        workflow[0]["config"]
    );
}
