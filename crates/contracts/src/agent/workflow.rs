//! Workflow steps: their type, their per-step rules, the rules that tie a step's
//! fields together, and the rules over the whole step list (unique ids, known
//! dependencies, no dependency cycle).
//!
//! **Bug 2** of the requirements ("task dependency cycle detection") was marked as
//! already implemented in the reference tool, whose schema only checked that each
//! dependency names an existing step: `a → b → a` was accepted. Here a cycle is
//! refused and reported with its path ([`check_workflow`], `INV-AGT-WF-004`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::number;
use crate::parse::Report;
use crate::validation::{JsonPath, rule};

/// Most steps a workflow may have.
pub const MAX_STEPS: usize = 100;

wire_enum! {
    /// What a workflow step does.
    pub enum StepType {
        /// Send `config.prompt` to a provider.
        Prompt = "prompt",
        /// Call a tool.
        Tool = "tool",
        /// Branch on `condition`.
        Conditional = "conditional",
        /// Repeat.
        Loop = "loop",
        /// Run sub-steps side by side.
        Parallel = "parallel",
        /// Hand the task to `config.targetAgent`.
        Delegate = "delegate",
        /// Hold a multi-model discussion.
        Discuss = "discuss",
    }
}

wire_enum! {
    /// A failure a retry policy retries.
    pub enum RetryOn {
        /// The call ran out of time.
        Timeout = "timeout",
        /// The provider refused for rate limiting.
        RateLimit = "rateLimit",
        /// The provider failed on its side.
        ServerError = "serverError",
        /// The network failed.
        NetworkError = "networkError",
    }
}

/// `retryPolicy` of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1–10).
    #[serde(deserialize_with = "number::whole")]
    #[schemars(range(min = 1, max = 10))]
    pub max_attempts: u32,
    /// Wait before the first retry, ms (100–60000).
    #[serde(deserialize_with = "number::whole")]
    #[schemars(range(min = 100, max = 60_000))]
    pub backoff_ms: u64,
    /// Factor applied to the wait after each retry (1–5).
    #[serde(serialize_with = "number::float")]
    #[schemars(range(min = 1, max = 5))]
    pub backoff_multiplier: f64,
    /// Which failures to retry (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<Vec<RetryOn>>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One step of an agent's workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStep {
    /// Unique within the workflow (1–100).
    #[schemars(length(min = 1, max = 100))]
    pub step_id: String,
    /// Name shown to people (1–200).
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// What the step does (≤1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    /// The kind of step.
    #[serde(rename = "type")]
    pub step_type: StepType,
    /// Step-type specific settings (`prompt` for prompt steps, `targetAgent` for
    /// delegate steps, ...); `{}` when not given.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Step ids that must finish first (≤100 chars each, ≤20); no cycles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub dependencies: Option<Vec<String>>,
    /// Condition for running the step (≤500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub condition: Option<String>,
    /// Whether it may run beside other steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<bool>,
    /// How to retry failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Time limit in ms (1000–3600000).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = 1000, max = 3_600_000))]
    pub timeout_ms: Option<u64>,
    /// Questions the step must answer (≤500 chars each, ≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10), inner(length(max = 500)))]
    pub key_questions: Option<Vec<String>>,
    /// Names of what the step produces (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub outputs: Option<Vec<String>>,
    /// Whether to stream the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    /// Whether to keep the output in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to_memory: Option<bool>,
    /// Whether to checkpoint after the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<bool>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WorkflowStep {
    /// The step ids this step waits for.
    pub fn dependencies(&self) -> Vec<&str> {
        self.dependencies
            .iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// `config.prompt`, for prompt steps.
    pub fn prompt(&self) -> Option<&str> {
        self.config.get("prompt").and_then(Value::as_str)
    }

    /// `config.targetAgent`, for delegate steps (input given as `targetAgentId` is
    /// stored under this name).
    pub fn target_agent(&self) -> Option<&str> {
        self.config.get(TARGET_AGENT).and_then(Value::as_str)
    }
}

const TARGET_AGENT: &str = "targetAgent";
const TARGET_AGENT_ALIAS: &str = "targetAgentId";

/// A present, non-null member.
fn field<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Check the workflow's rules that its schema cannot state: the cross-field rules of
/// each step and the rules over the whole list. Reports everything it finds; values
/// the structural walk refused are skipped.
///
/// Upholds `INV-AGT-WF-001` (a prompt step has a non-empty `config.prompt`),
/// `INV-AGT-WF-002` (a delegate step names `config.targetAgent`), `INV-AGT-WF-003`
/// (every dependency names an existing step; step ids are unique) and
/// `INV-AGT-WF-004` (Bug 2: the dependency graph has no cycle).
pub(crate) fn check_workflow(report: &mut Report, value: &Value, path: &JsonPath) {
    // A list the walk refused (too long, not a list) is not searched: the search's
    // recursion is bounded by the [`MAX_STEPS`] the walk enforces.
    let Some(steps) = value.as_array().filter(|_| !report.has_issue_at(path)) else {
        return;
    };
    for (i, step) in steps.iter().enumerate() {
        check_step(report, step, &path.index(i));
    }
    check_graph(report, steps, path);
}

fn check_step(report: &mut Report, step: &Value, path: &JsonPath) {
    let Some(obj) = step.as_object() else {
        return;
    };
    let empty = Map::new();
    let config = field(obj, "config")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let config_path = path.key("config");
    match field(obj, "type").and_then(Value::as_str) {
        // INV-AGT-WF-001
        Some("prompt") => check_prompt(report, config, &config_path),
        // INV-AGT-WF-002
        Some("delegate") => check_target_agent(report, config, &config_path),
        _ => {}
    }
}

/// A string that is not blank, or a `cross_field` issue saying which step type needs it.
fn check_non_blank(report: &mut Report, value: Option<&Value>, path: &JsonPath, needed_by: &str) {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(other @ (Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_))) => {
            report.type_mismatch(path, "string", other);
        }
        _ => report.report(
            path,
            rule::CROSS_FIELD,
            format!("a {needed_by} step needs a non-empty `{}`", path_leaf(path)),
        ),
    }
}

fn path_leaf(path: &JsonPath) -> &str {
    let s = path.as_str();
    s.rsplit('.').next().unwrap_or(s)
}

fn check_prompt(report: &mut Report, config: &Map<String, Value>, config_path: &JsonPath) {
    check_non_blank(
        report,
        field(config, "prompt"),
        &config_path.key("prompt"),
        "prompt",
    );
}

/// `targetAgent` is required; `targetAgentId` is accepted in its place (older
/// profiles spell it so). Both given with different values is ambiguous and refused.
fn check_target_agent(report: &mut Report, config: &Map<String, Value>, config_path: &JsonPath) {
    let canonical = field(config, TARGET_AGENT);
    let alias = field(config, TARGET_AGENT_ALIAS);
    match (canonical, alias) {
        (Some(a), Some(b)) if a != b => report.report(
            &config_path.key(TARGET_AGENT_ALIAS),
            rule::CROSS_FIELD,
            format!("`{TARGET_AGENT_ALIAS}` ({b}) contradicts `{TARGET_AGENT}` ({a}); give one"),
        ),
        (None, Some(alias)) => check_non_blank(
            report,
            Some(alias),
            &config_path.key(TARGET_AGENT_ALIAS),
            "delegate",
        ),
        (canonical, _) => {
            check_non_blank(
                report,
                canonical,
                &config_path.key(TARGET_AGENT),
                "delegate",
            );
        }
    }
}

/// Prepare a workflow that passed the parser for deserialising: a `null` config means
/// `{}`, and a delegate step's `config.targetAgentId` becomes `targetAgent`, so the
/// stored profile has one spelling.
pub(crate) fn normalize_steps(workflow: &mut Value) {
    let Some(steps) = workflow.as_array_mut() else {
        return;
    };
    for step in steps {
        let Some(step) = step.as_object_mut() else {
            continue;
        };
        if step.get("config").is_some_and(Value::is_null) {
            step.remove("config");
        }
        let is_delegate = step.get("type").and_then(Value::as_str) == Some("delegate");
        let Some(config) = step.get_mut("config").and_then(Value::as_object_mut) else {
            continue;
        };
        if !is_delegate {
            continue;
        }
        if let Some(alias) = config.remove(TARGET_AGENT_ALIAS) {
            let has_canonical = config.get(TARGET_AGENT).is_some_and(|v| !v.is_null());
            if !has_canonical && !alias.is_null() {
                config.insert(TARGET_AGENT.to_owned(), alias);
            }
        }
    }
}

/// A step as a node of the dependency graph.
struct Node<'v> {
    id: Option<&'v str>,
    /// `(index in the step's dependencies list, named step id)`.
    deps: Vec<(usize, &'v str)>,
}

/// One dependency cycle: the step and dependency entry that close it, and the ids
/// along it, first id repeated at the end.
#[derive(Debug, PartialEq)]
struct Cycle<'v> {
    step: usize,
    dep: usize,
    ids: Vec<&'v str>,
}

/// Unique step ids, dependencies that name existing steps, and no cycle.
fn check_graph(report: &mut Report, steps: &[Value], path: &JsonPath) {
    let nodes: Vec<Node<'_>> = steps.iter().map(node_of).collect();
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let Some(id) = node.id else { continue };
        if let Some(first) = first_index.get(id) {
            report.report(
                &path.index(i).key("stepId"),
                rule::UNIQUE,
                format!("step id \"{id}\" is already used by workflow[{first}]"),
            );
        } else {
            first_index.insert(id, i);
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        for &(k, dep) in &node.deps {
            // A dependency the walk refused (e.g. longer than any step id) is not
            // also reported as naming no step.
            let dep_path = path.index(i).key("dependencies").index(k);
            if !report.has_issue_at(&dep_path) && !first_index.contains_key(dep) {
                report.report(
                    &dep_path,
                    rule::REFERENCE,
                    format!("depends on \"{dep}\", which is not a step of this workflow"),
                );
            }
        }
    }
    // Bug 2 / INV-AGT-WF-004: refuse cycles, naming each one.
    for cycle in find_cycles(&nodes, &first_index) {
        report.report(
            &path.index(cycle.step).key("dependencies").index(cycle.dep),
            rule::CYCLE,
            format!("dependency cycle: {}", cycle.ids.join(" -> ")),
        );
    }
}

fn node_of(step: &Value) -> Node<'_> {
    let id = step.get("stepId").and_then(Value::as_str);
    let deps = step
        .get("dependencies")
        .and_then(Value::as_array)
        .map(|deps| {
            deps.iter()
                .enumerate()
                .filter_map(|(k, d)| d.as_str().map(|d| (k, d)))
                .collect()
        })
        .unwrap_or_default();
    Node { id, deps }
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    Unvisited,
    OnPath,
    Done,
}

/// Every dependency edge that closes a cycle, found by depth-first search in step
/// order (so the report is deterministic). A step depending on itself is a cycle of
/// one. Edges to unknown ids are skipped (reported as `reference` elsewhere); a
/// duplicated id resolves to its first step.
fn find_cycles<'v>(nodes: &[Node<'v>], index: &HashMap<&str, usize>) -> Vec<Cycle<'v>> {
    let mut marks = vec![Mark::Unvisited; nodes.len()];
    let mut path = Vec::new();
    let mut cycles = Vec::new();
    for start in 0..nodes.len() {
        if marks[start] == Mark::Unvisited {
            visit(start, nodes, index, &mut marks, &mut path, &mut cycles);
        }
    }
    cycles
}

/// Depth-first visit of `at`. Recursion depth is bounded by the number of steps, which
/// the parser caps at [`MAX_STEPS`].
fn visit<'v>(
    at: usize,
    nodes: &[Node<'v>],
    index: &HashMap<&str, usize>,
    marks: &mut [Mark],
    path: &mut Vec<usize>,
    cycles: &mut Vec<Cycle<'v>>,
) {
    marks[at] = Mark::OnPath;
    path.push(at);
    for &(k, dep) in &nodes[at].deps {
        let Some(&next) = index.get(dep) else {
            continue;
        };
        match marks[next] {
            Mark::OnPath => {
                let from = path.iter().position(|&n| n == next).unwrap_or(0);
                let mut ids: Vec<&str> = path[from..]
                    .iter()
                    .map(|&n| nodes[n].id.unwrap_or("?"))
                    .collect();
                ids.push(dep);
                cycles.push(Cycle {
                    step: at,
                    dep: k,
                    ids,
                });
            }
            Mark::Unvisited => visit(next, nodes, index, marks, path, cycles),
            Mark::Done => {}
        }
    }
    path.pop();
    marks[at] = Mark::Done;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cycles_of(steps: Value) -> Vec<(usize, usize, String)> {
        let steps = steps.as_array().expect("test input is an array").clone();
        let nodes: Vec<Node<'_>> = steps.iter().map(node_of).collect();
        let mut index = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if let Some(id) = n.id {
                index.entry(id).or_insert(i);
            }
        }
        find_cycles(&nodes, &index)
            .into_iter()
            .map(|c| (c.step, c.dep, c.ids.join(" -> ")))
            .collect()
    }

    /// Bug 2: the search finds each cycle once, at the edge that closes it.
    #[test]
    fn cycles_are_found_at_their_closing_edge() {
        let got = cycles_of(json!([
            {"stepId": "a", "dependencies": ["b"]},
            {"stepId": "b", "dependencies": ["c"]},
            {"stepId": "c", "dependencies": ["x", "a"]},
        ]));
        assert_eq!(got, vec![(2, 1, "a -> b -> c -> a".to_owned())]);
    }

    #[test]
    fn two_disjoint_cycles_and_a_self_loop_are_all_reported() {
        let got = cycles_of(json!([
            {"stepId": "a", "dependencies": ["b"]},
            {"stepId": "b", "dependencies": ["a"]},
            {"stepId": "c", "dependencies": ["c"]},
            {"stepId": "d", "dependencies": ["e"]},
            {"stepId": "e", "dependencies": ["d"]},
        ]));
        assert_eq!(
            got,
            vec![
                (1, 0, "a -> b -> a".to_owned()),
                (2, 0, "c -> c".to_owned()),
                (4, 0, "d -> e -> d".to_owned()),
            ]
        );
    }

    #[test]
    fn shared_dependencies_are_not_cycles() {
        let got = cycles_of(json!([
            {"stepId": "top", "dependencies": ["left", "right"]},
            {"stepId": "left", "dependencies": ["base"]},
            {"stepId": "right", "dependencies": ["base"]},
            {"stepId": "base"},
        ]));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn aliases_are_renamed_only_on_delegate_steps() {
        let mut wf = json!([
            {"stepId": "d", "type": "delegate", "config": {"targetAgentId": "backend"}},
            {"stepId": "t", "type": "tool", "config": {"targetAgentId": "kept"}},
            {"stepId": "n", "type": "tool", "config": null},
        ]);
        normalize_steps(&mut wf);
        assert_eq!(wf[0]["config"], json!({"targetAgent": "backend"}));
        assert_eq!(wf[1]["config"], json!({"targetAgentId": "kept"}));
        assert!(
            wf[2].get("config").is_none(),
            "null config means the default"
        );
    }
}
