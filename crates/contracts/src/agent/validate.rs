//! The rules of the profile contract, checked on the JSON value so that every broken
//! rule is reported at once with its path (`workflow[2].dependencies[0]`) and its rule
//! name. Workflow rules live in [`super::workflow`].
//!
//! Limits follow the design brief's table (`agents.md`), which follows the reference
//! tool: scalar strings and list items are capped but may be empty unless the table
//! gives a lower bound, so every profile the reference tool accepted still loads.

use serde_json::{Map, Value};

use super::limits;
use super::nested::{AgentCategory, CapabilityDetection, FallbackStrategy, ReviewDepth, TaskType};
use super::workflow::check_workflow;
use crate::validation::{Checker, JsonPath, ValidationErrors, rule};

/// Every top-level field of the profile contract, in the order they are documented.
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

/// Fields the registry owns. Accepted on input (so an export re-imports) and ignored.
pub const REGISTRY_OWNED_FIELDS: &[&str] = &["createdAt", "updatedAt", "revision"];

/// Optional top-level strings: `(field, max characters)`.
const STRINGS: &[(&str, usize)] = &[
    ("displayName", limits::DISPLAY_NAME_MAX),
    ("role", limits::ROLE_MAX),
    ("team", limits::TEAM_MAX),
    ("systemPrompt", limits::SYSTEM_PROMPT_MAX),
];

/// Optional top-level string lists: `(field, (max items, max characters per item))`.
const STRING_LISTS: &[(&str, (usize, usize))] = &[
    ("expertise", limits::EXPERTISE),
    ("capabilities", limits::CAPABILITIES),
    ("thinkingPatterns", limits::THINKING_PATTERNS),
    ("tags", limits::ID_LIST),
    ("dependencies", limits::ID_LIST),
    ("collaboratesWith", limits::ID_LIST),
    ("orchestrates", limits::ID_LIST),
    ("replaces", limits::ID_LIST),
    ("canDelegateToArchetypes", limits::DELEGATE_TO_ARCHETYPES),
    ("canDelegateToMetaAgents", limits::DELEGATE_TO_META_AGENTS),
];

/// Optional top-level booleans.
const FLAGS: &[&str] = &["enabled", "parallel", "metaAgent", "archetype"];

/// A present, non-null member (`null` counts as absent, see [`Checker`]).
fn field<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Check a JSON value against the whole profile contract.
pub(crate) fn check_profile(value: &Value) -> Result<(), ValidationErrors> {
    let mut c = Checker::new();
    let root = JsonPath::root();
    let Some(obj) = c.object(value, &root) else {
        return c.finish();
    };
    check_unknown_fields(&mut c, obj);

    if let Some(v) = c.required(obj, "agentId", &root) {
        check_agent_id(&mut c, v, &root.key("agentId"));
    }
    if let Some(v) = c.required(obj, "description", &root) {
        c.string(v, &root.key("description"), 1, limits::DESCRIPTION_MAX);
    }
    if let Some(v) = field(obj, "version") {
        check_version(&mut c, v, &root.key("version"));
    }
    for &(name, max) in STRINGS {
        if let Some(v) = field(obj, name) {
            c.string(v, &root.key(name), 0, max);
        }
    }
    for &(name, (max_items, max_len)) in STRING_LISTS {
        if let Some(v) = field(obj, name) {
            c.bounded_string_list(v, &root.key(name), 0, max_len, max_items);
        }
    }
    for &name in FLAGS {
        if let Some(v) = field(obj, name) {
            c.boolean(v, &root.key(name));
        }
    }
    if let Some(v) = field(obj, "temperature") {
        let (min, max) = limits::TEMPERATURE;
        c.number(v, &root.key("temperature"), min, max);
    }
    if let Some(v) = field(obj, "maxTokens") {
        let (min, max) = limits::MAX_TOKENS;
        c.integer(v, &root.key("maxTokens"), min.into(), max.into());
    }
    if let Some(v) = field(obj, "priority") {
        let (min, max) = limits::PRIORITY;
        c.integer(v, &root.key("priority"), min.into(), max.into());
    }
    if let Some(v) = field(obj, "metadata") {
        c.object(v, &root.key("metadata"));
    }

    type Nested = fn(&mut Checker, &Map<String, Value>, &JsonPath);
    let nested: [(&str, Nested); 8] = [
        ("personality", check_personality),
        ("abilities", check_abilities),
        ("orchestration", check_orchestration),
        ("providerAffinity", check_provider_affinity),
        ("selectionMetadata", check_selection_metadata),
        ("taskClassifier", check_task_classifier),
        ("dynamicCapabilities", check_dynamic_capabilities),
        ("reviewModes", check_review_modes),
    ];
    for (name, check) in nested {
        let path = root.key(name);
        if let Some(inner) = field(obj, name).and_then(|v| c.object(v, &path)) {
            check(&mut c, inner, &path);
        }
    }
    if let Some(v) = field(obj, "workflow") {
        check_workflow(&mut c, v, &root.key("workflow"));
    }
    if let Some(v) = field(obj, "capabilityMappings") {
        check_capability_mappings(&mut c, v, &root.key("capabilityMappings"));
    }

    for name in ["createdAt", "updatedAt"] {
        if let Some(v) = field(obj, name) {
            c.rfc3339(v, &root.key(name));
        }
    }
    if let Some(v) = field(obj, "revision") {
        c.integer(v, &root.key("revision"), 0, i64::MAX);
    }
    c.finish()
}

/// Unknown top-level fields are refused by name, with the closest known name when the
/// key looks like a typo of one (`systemprompt`, `system_prompt`, `sytemPrompt`).
fn check_unknown_fields(c: &mut Checker, obj: &Map<String, Value>) {
    let known = || PROFILE_FIELDS.iter().chain(REGISTRY_OWNED_FIELDS).copied();
    for key in obj.keys() {
        if known().any(|k| k == key) {
            continue;
        }
        let message = match closest(key, known()) {
            Some(hint) => format!("unknown field `{key}` (did you mean `{hint}`?)"),
            None => format!("unknown field `{key}`"),
        };
        c.report(&JsonPath::root().key(key), rule::UNKNOWN_FIELD, message);
    }
}

/// The known name `key` most likely misspells: equal ignoring case, `_` and `-`, or
/// within a few edits (one per four characters, at most two).
fn closest<'k>(key: &str, known: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let folded = fold(key);
    // Short keys get less slack, or `name` would "mean" `team`.
    let slack = (folded.chars().count() / 4).clamp(1, 2);
    known
        .map(|k| (strsim::levenshtein(&folded, &fold(k)), k))
        .filter(|&(d, _)| d <= slack)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// `agentId`: 1–50 characters, a letter then letters, digits, `_` or `-`.
fn check_agent_id(c: &mut Checker, value: &Value, path: &JsonPath) {
    let Some(id) = c.string(value, path, 1, 50) else {
        return;
    };
    if !is_agent_id(id) {
        c.report(
            path,
            rule::PATTERN,
            format!(
                "must start with a letter and contain only letters, digits, `_` and `-` \
                 (^[a-zA-Z][a-zA-Z0-9_-]*$; got \"{id}\")"
            ),
        );
    }
}

/// True when `id` matches `^[a-zA-Z][a-zA-Z0-9_-]*$` (ASCII only).
pub fn is_agent_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `version`: `MAJOR.MINOR.PATCH`, ASCII digits only.
fn check_version(c: &mut Checker, value: &Value, path: &JsonPath) {
    let Some(version) = c.string(value, path, 0, usize::MAX) else {
        return;
    };
    let parts: Vec<&str> = version.split('.').collect();
    let semver = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !semver {
        c.report(
            path,
            rule::PATTERN,
            format!("must be MAJOR.MINOR.PATCH, e.g. 1.2.0 (got \"{version}\")"),
        );
    }
}

fn check_personality(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    if let Some(v) = field(obj, "traits") {
        c.bounded_string_list(v, &path.key("traits"), 0, 100, 10);
    }
    for name in ["catchphrase", "communicationStyle", "decisionMaking"] {
        if let Some(v) = field(obj, name) {
            c.string(v, &path.key(name), 0, 200);
        }
    }
}

/// An object whose every value is a list of strings of at most `max_len` characters.
fn check_list_map(c: &mut Checker, value: &Value, path: &JsonPath, max_len: usize) {
    let Some(map) = c.object(value, path) else {
        return;
    };
    for (key, list) in map {
        c.bounded_string_list(list, &path.key(key), 0, max_len, usize::MAX);
    }
}

fn check_abilities(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    if let Some(v) = field(obj, "core") {
        c.bounded_string_list(v, &path.key("core"), 0, 100, 50);
    }
    if let Some(v) = field(obj, "taskBased") {
        check_list_map(c, v, &path.key("taskBased"), usize::MAX);
    }
    if let Some(v) = field(obj, "loadAll") {
        c.boolean(v, &path.key("loadAll"));
    }
}

fn check_orchestration(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    if let Some(v) = field(obj, "maxDelegationDepth") {
        c.integer(v, &path.key("maxDelegationDepth"), 0, 10);
    }
    if let Some(v) = field(obj, "canReadWorkspaces") {
        c.bounded_string_list(v, &path.key("canReadWorkspaces"), 0, 100, 20);
    }
    if let Some(v) = field(obj, "canWriteToShared") {
        c.boolean(v, &path.key("canWriteToShared"));
    }
    if let Some(v) = field(obj, "delegationTimeout") {
        c.integer(v, &path.key("delegationTimeout"), 1000, 3_600_000);
    }
}

fn check_provider_affinity(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    for name in ["preferred", "excluded"] {
        if let Some(v) = field(obj, name) {
            c.bounded_string_list(v, &path.key(name), 0, 50, 6);
        }
    }
    if let Some(v) = field(obj, "defaultSynthesizer") {
        c.string(v, &path.key("defaultSynthesizer"), 0, 50);
    }
    if let Some(v) = field(obj, "taskOverrides") {
        let p = path.key("taskOverrides");
        if let Some(map) = c.object(v, &p) {
            for (task, provider) in map {
                c.string(provider, &p.key(task), 0, 50);
            }
        }
    }
    if let Some(v) = field(obj, "temperatureOverrides") {
        let p = path.key("temperatureOverrides");
        if let Some(map) = c.object(v, &p) {
            for (provider, temperature) in map {
                c.number(temperature, &p.key(provider), 0.0, 2.0);
            }
        }
    }
    if let Some(v) = field(obj, "fallbackStrategy") {
        c.one_of(v, &path.key("fallbackStrategy"), FallbackStrategy::NAMES);
    }
}

fn check_selection_metadata(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    const LISTS: &[(&str, usize, usize)] = &[
        ("primaryIntents", 100, 20),
        ("secondarySignals", 100, 20),
        ("negativeIntents", 100, 20),
        ("keywords", 50, 50),
        ("antiKeywords", 50, 50),
        ("exampleTasks", 200, 10),
        ("notForTasks", 200, 10),
    ];
    for &(name, max_len, max_items) in LISTS {
        if let Some(v) = field(obj, name) {
            c.bounded_string_list(v, &path.key(name), 0, max_len, max_items);
        }
    }
    if let Some(v) = field(obj, "redirectWhen") {
        let p = path.key("redirectWhen");
        for (i, item) in c.array(v, &p, 0, 10).unwrap_or_default().iter().enumerate() {
            let ip = p.index(i);
            let Some(rule) = c.object(item, &ip) else {
                continue;
            };
            if let Some(v) = c.required(rule, "phrase", &ip) {
                c.string(v, &ip.key("phrase"), 0, 500);
            }
            if let Some(v) = c.required(rule, "suggest", &ip) {
                c.string(v, &ip.key("suggest"), 0, 100);
            }
        }
    }
    if let Some(v) = field(obj, "agentCategory") {
        c.one_of(v, &path.key("agentCategory"), AgentCategory::NAMES);
    }
}

fn check_task_classifier(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    for name in ["enabled", "fuzzyMatching"] {
        if let Some(v) = field(obj, name) {
            c.boolean(v, &path.key(name));
        }
    }
    if let Some(v) = c.required(obj, "rules", path) {
        let p = path.key("rules");
        for (i, item) in c.array(v, &p, 0, 50).unwrap_or_default().iter().enumerate() {
            check_classifier_rule(c, item, &p.index(i));
        }
    }
    if let Some(v) = c.required(obj, "defaultWorkflow", path) {
        c.string(v, &path.key("defaultWorkflow"), 1, 200);
    }
    if let Some(v) = field(obj, "minConfidence") {
        c.number(v, &path.key("minConfidence"), 0.0, 1.0);
    }
}

fn check_classifier_rule(c: &mut Checker, value: &Value, path: &JsonPath) {
    let Some(obj) = c.object(value, path) else {
        return;
    };
    if let Some(v) = c.required(obj, "pattern", path) {
        let p = path.key("pattern");
        if let Some(pattern) = c.string(v, &p, 1, 500)
            && let Err(reason) = compile_case_insensitive(pattern)
        {
            c.report(&p, rule::REGEX, reason);
        }
    }
    if let Some(v) = c.required(obj, "taskType", path) {
        c.string(v, &path.key("taskType"), 1, 50);
    }
    if let Some(v) = c.required(obj, "workflow", path) {
        c.string(v, &path.key("workflow"), 1, 200);
    }
    if let Some(v) = field(obj, "priority") {
        c.integer(v, &path.key("priority"), 0, 100);
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

fn check_dynamic_capabilities(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    if let Some(v) = field(obj, "detection") {
        c.one_of(v, &path.key("detection"), CapabilityDetection::NAMES);
    }
    if let Some(v) = field(obj, "sources") {
        c.bounded_string_list(v, &path.key("sources"), 0, 100, 10);
    }
    if let Some(v) = field(obj, "mappings") {
        check_list_map(c, v, &path.key("mappings"), 100);
    }
}

fn check_review_modes(c: &mut Checker, obj: &Map<String, Value>, path: &JsonPath) {
    for (name, mode) in obj {
        let p = path.key(name);
        let Some(mode) = c.object(mode, &p) else {
            continue;
        };
        if let Some(v) = c.required(mode, "focus", &p) {
            c.bounded_string_list(v, &p.key("focus"), 0, 100, 20);
        }
        if let Some(v) = c.required(mode, "depth", &p) {
            c.one_of(v, &p.key("depth"), ReviewDepth::NAMES);
        }
    }
}

fn check_capability_mappings(c: &mut Checker, value: &Value, path: &JsonPath) {
    for (i, item) in c
        .array(value, path, 0, 20)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let p = path.index(i);
        let Some(obj) = c.object(item, &p) else {
            continue;
        };
        if let Some(v) = c.required(obj, "taskType", &p) {
            c.one_of(v, &p.key("taskType"), TaskType::NAMES);
        }
        if let Some(v) = c.required(obj, "workflowRef", &p) {
            c.string(v, &p.key("workflowRef"), 1, 200);
        }
        if let Some(v) = field(obj, "inputSchemaRef") {
            c.string(v, &p.key("inputSchemaRef"), 0, 100);
        }
        if let Some(v) = field(obj, "abilities") {
            c.bounded_string_list(v, &p.key("abilities"), 0, 100, 20);
        }
        if let Some(v) = field(obj, "priority") {
            c.integer(v, &p.key("priority"), 0, 100);
        }
        if let Some(v) = field(obj, "description") {
            c.string(v, &p.key("description"), 0, 500);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_id_pattern_is_ascii_only() {
        for good in ["a", "Backend", "x-1_y", "A0"] {
            assert!(is_agent_id(good), "{good}");
        }
        for bad in ["", "1a", "-a", "_a", "a b", "a.b", "é", "aé", "a/b"] {
            assert!(!is_agent_id(bad), "{bad}");
        }
    }

    #[test]
    fn typos_get_the_closest_known_name() {
        let known = || PROFILE_FIELDS.iter().copied();
        assert_eq!(closest("system_prompt", known()), Some("systemPrompt"));
        assert_eq!(closest("sytemPrompt", known()), Some("systemPrompt"));
        assert_eq!(closest("AGENTID", known()), Some("agentId"));
        assert_eq!(closest("provider", known()), None);
        assert_eq!(closest("name", known()), None);
    }

    #[test]
    fn regex_errors_read_as_one_line() {
        let err = compile_case_insensitive("(unclosed").expect_err("unclosed group");
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("unclosed group"), "{err}");
        assert!(compile_case_insensitive(r"\b(review|audit)\b").is_ok());
    }
}
