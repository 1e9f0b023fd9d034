//! The profile contract's rules that no schema states, checked after the structural
//! walk of the profile's schema (which declares every field, type and limit, see the
//! `schemars` attributes in `profile.rs` and `nested.rs`): the workflow's rules
//! ([`super::workflow`]) and that a task classifier's patterns compile.
//!
//! Limits follow the design brief's table (`agents.md`), which follows the reference
//! tool: scalar strings and list items are capped but may be empty unless the table
//! gives a lower bound, so every profile the reference tool accepted still loads.

use serde_json::Value;

use super::workflow::check_workflow;
use crate::parse::Report;
use crate::validation::{JsonPath, rule};

/// Every top-level field of the profile contract, in the order they are documented.
/// The parser reads the fields from the schema; this list is for documentation and
/// the tests that hold the fixtures to it.
pub const PROFILE_FIELDS: &[&str] = &[
    "agentId",
    "description",
    "displayName",
    "role",
    "team",
    "systemPrompt",
    "version",
    "enabled",
    "expertise",
    "capabilities",
    "thinkingPatterns",
    "tags",
    "dependencies",
    "collaboratesWith",
    "orchestrates",
    "replaces",
    "canDelegateToArchetypes",
    "canDelegateToMetaAgents",
    "temperature",
    "maxTokens",
    "priority",
    "parallel",
    "metaAgent",
    "archetype",
    "metadata",
    "personality",
    "abilities",
    "orchestration",
    "providerAffinity",
    "selectionMetadata",
    "workflow",
    "taskClassifier",
    "dynamicCapabilities",
    "reviewModes",
    "capabilityMappings",
];

/// Fields the registry owns. Accepted in a profile file (so an export re-imports),
/// checked, and dropped.
pub const REGISTRY_OWNED_FIELDS: &[&str] = &["createdAt", "updatedAt", "revision"];

/// `agentId`: a letter, then letters, digits, `_` or `-` (ASCII). Declared once: the
/// schema's `pattern` and the parser's check.
pub const AGENT_ID_PATTERN: &str = r"^[a-zA-Z][a-zA-Z0-9_-]*$";

/// `version`: `MAJOR.MINOR.PATCH`, ASCII digits.
pub const VERSION_PATTERN: &str = r"^\d+\.\d+\.\d+$";

/// The rules of a walked profile that its schema cannot state.
pub(crate) fn check_rules(profile: &Value, report: &mut Report) {
    let root = JsonPath::root();
    if let Some(workflow) = profile.get("workflow") {
        check_workflow(report, workflow, &root.key("workflow"));
    }
    let rules_path = root.key("taskClassifier").key("rules");
    let rules = profile
        .pointer("/taskClassifier/rules")
        .and_then(Value::as_array);
    for (i, classifier_rule) in rules.into_iter().flatten().enumerate() {
        let path = rules_path.index(i).key("pattern");
        if let Some(pattern) = classifier_rule.get("pattern").and_then(Value::as_str)
            && !report.has_issue_at(&path)
            && let Err(reason) = compile_case_insensitive(pattern)
        {
            report.report(&path, rule::REGEX, reason);
        }
    }
}

/// Compile `pattern` as the classifier will use it (case-insensitive); on failure, one
/// line naming the problem (the `regex` crate's message is a multi-line diagram).
fn compile_case_insensitive(pattern: &str) -> Result<(), String> {
    match regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
    {
        Ok(_) => Ok(()),
        Err(err) => {
            let text = err.to_string();
            let last = text.lines().rev().find(|l| !l.trim().is_empty());
            let reason = last
                .map(|l| l.trim().trim_start_matches("error:").trim())
                .unwrap_or("invalid pattern");
            Err(format!(
                "does not compile as a case-insensitive regular expression: {reason}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_id_pattern_is_ascii_only() {
        let parses = |id: &str| {
            crate::parse::Valid::<crate::agent::AgentProfile>::parse(
                &serde_json::json!({"agentId": id, "description": "d"}),
            )
            .is_ok()
        };
        for good in ["a", "Backend", "x-1_y", "A0"] {
            assert!(parses(good), "{good}");
        }
        for bad in ["", "1a", "-a", "_a", "a b", "a.b", "é", "aé", "a/b", "a١"] {
            assert!(!parses(bad), "{bad}");
        }
    }

    #[test]
    fn regex_errors_read_as_one_line() {
        let err = compile_case_insensitive("(unclosed").expect_err("unclosed group");
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("unclosed group"), "{err}");
        assert!(compile_case_insensitive(r"\b(review|audit)\b").is_ok());
    }
}
