//! [`AgentProfile`]: the typed agent profile. JSON names are camelCase and are the
//! contract; profiles written for the reference tool (AutomatosX v13) load unchanged.
//!
//! A profile enters the system through the one parser ([`AgentProfile::from_json`],
//! i.e. [`Valid::parse`]): the `schemars` attributes below are the declaration of every
//! structural rule — the published schema and the parser's check are that one
//! declaration — and `validate.rs` holds the rules a schema cannot state. All
//! problems are reported at once, each with its path. Optional fields that were absent
//! stay absent on output, so import → export returns what was given.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::limits;
use super::nested::{
    Abilities, AgentCategory, CapabilityMapping, DynamicCapabilities, Orchestration, Personality,
    ProviderAffinity, ReviewMode, SelectionMetadata, TaskClassifier,
};
use super::number;
use super::validate::{AGENT_ID_PATTERN, REGISTRY_OWNED_FIELDS, VERSION_PATTERN, check_rules};
use super::workflow::{MAX_STEPS, WorkflowStep, normalize_steps};
use crate::parse::{Contract, Report, Valid, parse_with};
use crate::schema::input_schema;
use crate::validation::{Issue, JsonPath, ValidationErrors, rule};

fn default_true() -> bool {
    true
}

/// A named profile for an AI persona: what it is for, its system prompt, what it can
/// do, and optionally a small workflow.
///
/// Build one from untrusted JSON with [`AgentProfile::from_json`]; a profile built or
/// changed in code is checked with [`Valid::from_typed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentProfile {
    /// Unique, case-sensitive, immutable id: 1–50 chars, `^[a-zA-Z][a-zA-Z0-9_-]*$`.
    #[schemars(length(min = 1, max = 50), regex(pattern = AGENT_ID_PATTERN))]
    pub agent_id: String,
    /// What the agent is for: 1–2000 chars.
    #[schemars(length(min = 1, max = limits::DESCRIPTION_MAX))]
    pub description: String,
    /// Name shown to people (≤100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::DISPLAY_NAME_MAX))]
    pub display_name: Option<String>,
    /// Role (≤200); `recommend` matches its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::ROLE_MAX))]
    pub role: Option<String>,
    /// Team (≤100); filterable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::TEAM_MAX))]
    pub team: Option<String>,
    /// System prompt given to the provider (≤10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::SYSTEM_PROMPT_MAX))]
    pub system_prompt: Option<String>,
    /// Version of the profile, `MAJOR.MINOR.PATCH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = VERSION_PATTERN))]
    pub version: Option<String>,
    /// Whether the agent can be recommended and take part (default `true`).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Areas of expertise (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::EXPERTISE.0), inner(length(max = limits::EXPERTISE.1)))]
    pub expertise: Option<Vec<String>>,
    /// Capabilities, filterable by exact element (≤100 chars each, ≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::CAPABILITIES.0), inner(length(max = limits::CAPABILITIES.1)))]
    pub capabilities: Option<Vec<String>>,
    /// How the agent thinks (≤500 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::THINKING_PATTERNS.0), inner(length(max = limits::THINKING_PATTERNS.1)))]
    pub thinking_patterns: Option<Vec<String>>,
    /// Tags, filterable by any-of (≤50 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::ID_LIST.0), inner(length(max = limits::ID_LIST.1)))]
    pub tags: Option<Vec<String>>,
    /// Agents this one needs (≤50 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::ID_LIST.0), inner(length(max = limits::ID_LIST.1)))]
    pub dependencies: Option<Vec<String>>,
    /// Agents it works with (≤50 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::ID_LIST.0), inner(length(max = limits::ID_LIST.1)))]
    pub collaborates_with: Option<Vec<String>>,
    /// Agents a meta-agent orchestrates (≤50 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::ID_LIST.0), inner(length(max = limits::ID_LIST.1)))]
    pub orchestrates: Option<Vec<String>>,
    /// Agents an archetype replaces (≤50 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::ID_LIST.0), inner(length(max = limits::ID_LIST.1)))]
    pub replaces: Option<Vec<String>>,
    /// Archetypes it may delegate to (≤50 chars each, ≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::DELEGATE_TO_ARCHETYPES.0), inner(length(max = limits::DELEGATE_TO_ARCHETYPES.1)))]
    pub can_delegate_to_archetypes: Option<Vec<String>>,
    /// Meta-agents it may delegate to (≤50 chars each, ≤5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::DELEGATE_TO_META_AGENTS.0), inner(length(max = limits::DELEGATE_TO_META_AGENTS.1)))]
    pub can_delegate_to_meta_agents: Option<Vec<String>>,
    /// Sampling temperature (0–2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "number::opt_float"
    )]
    #[schemars(range(min = limits::TEMPERATURE.0, max = limits::TEMPERATURE.1))]
    pub temperature: Option<f64>,
    /// Most tokens per answer (1–200000).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = limits::MAX_TOKENS.0, max = limits::MAX_TOKENS.1))]
    pub max_tokens: Option<u32>,
    /// Priority among agents (1–100).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = limits::PRIORITY.0, max = limits::PRIORITY.1))]
    pub priority: Option<u32>,
    /// Whether its work may run in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<bool>,
    /// Whether it is a meta-agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_agent: Option<bool>,
    /// Whether it is an archetype agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archetype: Option<bool>,
    /// Any JSON object: the open extension point, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// How it presents itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,
    /// Which abilities it loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abilities: Option<Abilities>,
    /// Delegation limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestration: Option<Orchestration>,
    /// Provider preferences for discussions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_affinity: Option<ProviderAffinity>,
    /// Signals `recommend` matches a task against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_metadata: Option<SelectionMetadata>,
    /// Steps (≤100); unique ids, known dependencies, no cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_STEPS))]
    pub workflow: Option<Vec<WorkflowStep>>,
    /// Rule-based routing of tasks to workflows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_classifier: Option<TaskClassifier>,
    /// Capabilities loaded by context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_capabilities: Option<DynamicCapabilities>,
    /// Named review modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_modes: Option<BTreeMap<String, ReviewMode>>,
    /// Task type → workflow routes (≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub capability_mappings: Option<Vec<CapabilityMapping>>,
}

/// An empty, **invalid** profile (empty id and description, `enabled: true`), for
/// struct-update syntax: `AgentProfile { agent_id: .., description: .., ..Default::default() }`.
impl Default for AgentProfile {
    fn default() -> Self {
        Self::new(String::new(), String::new())
    }
}

impl AgentProfile {
    /// A profile with only the required fields set (not validated).
    pub fn new(agent_id: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            agent_id: agent_id.into(),
            description: description.into(),
            display_name: None,
            role: None,
            team: None,
            system_prompt: None,
            version: None,
            enabled: true,
            expertise: None,
            capabilities: None,
            thinking_patterns: None,
            tags: None,
            dependencies: None,
            collaborates_with: None,
            orchestrates: None,
            replaces: None,
            can_delegate_to_archetypes: None,
            can_delegate_to_meta_agents: None,
            temperature: None,
            max_tokens: None,
            priority: None,
            parallel: None,
            meta_agent: None,
            archetype: None,
            metadata: None,
            personality: None,
            abilities: None,
            orchestration: None,
            provider_affinity: None,
            selection_metadata: None,
            workflow: None,
            task_classifier: None,
            dynamic_capabilities: None,
            review_modes: None,
            capability_mappings: None,
        }
    }

    /// Read a profile from JSON with the one parser ([`Valid::parse`]).
    ///
    /// All broken rules are reported together, each with its JSON path and rule name.
    /// Unknown top-level fields are refused by name; unknown keys inside nested
    /// objects are kept. The registry-owned `createdAt`, `updatedAt` (RFC 3339) and
    /// `revision` are accepted and dropped, so an export re-imports. A delegate step's
    /// `config.targetAgentId` is stored as `config.targetAgent`. `null` counts as an
    /// absent field.
    pub fn from_json(value: &Value) -> Result<Valid<Self>, ValidationErrors> {
        Valid::parse(value)
    }

    /// Read a new registration (MCP `agent_register`): as [`AgentProfile::from_json`],
    /// but the registry-owned fields are refused as unknown, as
    /// [`AgentProfile::registration_schema`] says.
    pub fn parse_registration(value: &Value) -> Result<Valid<Self>, ValidationErrors> {
        parse_with(value, Self::registration_schema())
    }

    /// The profile's schema as a registration's input: the contract declares every
    /// field, and anything else (the registry-owned fields included) is refused.
    pub fn registration_schema() -> &'static Map<String, Value> {
        static SCHEMA: OnceLock<Map<String, Value>> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let mut schema = input_schema::<Self>();
            schema.insert("additionalProperties".into(), Value::Bool(false));
            schema
        })
    }

    /// The profile as JSON, with the contract's camelCase names and without absent
    /// optional fields.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self)
            .expect("an AgentProfile has only string map keys, so it always converts to JSON")
    }

    /// A float that is NaN or infinite has no JSON form (it would be written as
    /// `null`, i.e. silently dropped), so a typed profile holding one is refused.
    fn check_finite(&self, c: &mut Report) {
        let root = JsonPath::root();
        let mut floats: Vec<(JsonPath, f64)> = Vec::new();
        if let Some(t) = self.temperature {
            floats.push((root.key("temperature"), t));
        }
        if let Some(m) = self.task_classifier.as_ref().and_then(|t| t.min_confidence) {
            floats.push((root.key("taskClassifier").key("minConfidence"), m));
        }
        let overrides = self
            .provider_affinity
            .as_ref()
            .and_then(|a| a.temperature_overrides.as_ref());
        for (provider, t) in overrides.into_iter().flatten() {
            let path = root
                .key("providerAffinity")
                .key("temperatureOverrides")
                .key(provider);
            floats.push((path, *t));
        }
        for (i, step) in self.workflow.iter().flatten().enumerate() {
            if let Some(policy) = &step.retry_policy {
                let path = root
                    .key("workflow")
                    .index(i)
                    .key("retryPolicy")
                    .key("backoffMultiplier");
                floats.push((path, policy.backoff_multiplier));
            }
        }
        for (path, value) in floats {
            if !value.is_finite() {
                c.report(
                    &path,
                    rule::RANGE,
                    format!("must be a finite number (got {value})"),
                );
            }
        }
    }

    /// `tags`, or nothing.
    pub fn tags(&self) -> Vec<&str> {
        str_list(&self.tags)
    }

    /// `capabilities`, or nothing.
    pub fn capabilities(&self) -> Vec<&str> {
        str_list(&self.capabilities)
    }

    /// `expertise`, or nothing.
    pub fn expertise(&self) -> Vec<&str> {
        str_list(&self.expertise)
    }

    /// `role`, if given.
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// `selectionMetadata.primaryIntents`, or nothing.
    pub fn primary_intents(&self) -> Vec<&str> {
        self.selection_list(|s| &s.primary_intents)
    }

    /// `selectionMetadata.secondarySignals`, or nothing.
    pub fn secondary_signals(&self) -> Vec<&str> {
        self.selection_list(|s| &s.secondary_signals)
    }

    /// `selectionMetadata.negativeIntents`, or nothing.
    pub fn negative_intents(&self) -> Vec<&str> {
        self.selection_list(|s| &s.negative_intents)
    }

    /// `selectionMetadata.keywords`, or nothing.
    pub fn keywords(&self) -> Vec<&str> {
        self.selection_list(|s| &s.keywords)
    }

    /// `selectionMetadata.antiKeywords`, or nothing.
    pub fn anti_keywords(&self) -> Vec<&str> {
        self.selection_list(|s| &s.anti_keywords)
    }

    /// `selectionMetadata.exampleTasks`, or nothing.
    pub fn example_tasks(&self) -> Vec<&str> {
        self.selection_list(|s| &s.example_tasks)
    }

    /// `selectionMetadata.notForTasks`, or nothing.
    pub fn not_for_tasks(&self) -> Vec<&str> {
        self.selection_list(|s| &s.not_for_tasks)
    }

    /// `selectionMetadata.agentCategory`, if given.
    pub fn agent_category(&self) -> Option<AgentCategory> {
        self.selection_metadata
            .as_ref()
            .and_then(|s| s.agent_category)
    }

    /// `providerAffinity.preferred`, most preferred first, or nothing.
    pub fn preferred_providers(&self) -> Vec<&str> {
        self.provider_affinity
            .as_ref()
            .map(|a| str_list(&a.preferred))
            .unwrap_or_default()
    }

    fn selection_list(
        &self,
        pick: impl Fn(&SelectionMetadata) -> &Option<Vec<String>>,
    ) -> Vec<&str> {
        self.selection_metadata
            .as_ref()
            .map(|s| str_list(pick(s)))
            .unwrap_or_default()
    }
}

/// The one parser's view of a profile document: the registration schema plus the
/// registry-owned fields an export carries, which are checked and then dropped.
impl Contract for AgentProfile {
    fn schema() -> &'static Map<String, Value> {
        static SCHEMA: OnceLock<Map<String, Value>> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let mut schema = Self::registration_schema().clone();
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                let timestamp = serde_json::json!({"type": "string", "format": "date-time"});
                properties.insert("createdAt".into(), timestamp.clone());
                properties.insert("updatedAt".into(), timestamp);
                properties.insert(
                    "revision".into(),
                    serde_json::json!({"type": "integer", "minimum": 0}),
                );
            }
            schema
        })
    }

    fn check_rules(value: &Value, report: &mut Report) {
        check_rules(value, report);
    }

    fn normalize(value: &mut Value) {
        if let Value::Object(obj) = value {
            for key in REGISTRY_OWNED_FIELDS {
                obj.remove(*key);
            }
            if let Some(workflow) = obj.get_mut("workflow") {
                normalize_steps(workflow);
            }
        }
    }

    fn typed_issues(&self) -> Vec<Issue> {
        let mut report = Report::default();
        self.check_finite(&mut report);
        report.into_issues()
    }
}

fn str_list(list: &Option<Vec<String>>) -> Vec<&str> {
    list.iter().flatten().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessors_read_nested_lists_and_default_to_nothing() {
        let p = AgentProfile::from_json(&json!({
            "agentId": "rev", "description": "reviews",
            "tags": ["a", "b"], "expertise": ["rust"],
            "selectionMetadata": {"keywords": ["pr"], "agentCategory": "reviewer"},
            "providerAffinity": {"preferred": ["claude", "gemini"]}
        }))
        .expect("valid");
        assert_eq!(p.tags(), ["a", "b"]);
        assert_eq!(p.expertise(), ["rust"]);
        assert_eq!(p.keywords(), ["pr"]);
        assert_eq!(p.agent_category(), Some(AgentCategory::Reviewer));
        assert_eq!(p.preferred_providers(), ["claude", "gemini"]);
        assert!(p.capabilities().is_empty());
        assert!(p.example_tasks().is_empty());
        assert_eq!(p.role(), None);
        assert!(p.enabled, "enabled defaults to true");
    }

    #[test]
    fn from_typed_refuses_non_finite_floats_a_typed_profile_can_hold() {
        let mut p = AgentProfile::new("a", "d");
        assert!(Valid::from_typed(&p).is_ok());
        p.temperature = Some(f64::NAN);
        let err = Valid::from_typed(&p).expect_err("NaN temperature");
        assert_eq!(err.issues[0].path, "temperature");
        assert_eq!(err.issues[0].rule, "range");
    }

    #[test]
    fn from_typed_reports_the_same_rules_as_from_json() {
        let mut p = AgentProfile::new("9lives", "");
        p.temperature = Some(2.5);
        let err = Valid::from_typed(&p).expect_err("three problems");
        let got: Vec<(&str, &str)> = err
            .issues
            .iter()
            .map(|i| (i.path.as_str(), i.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("agentId", "pattern"),
                ("description", "min_length"),
                ("temperature", "range")
            ]
        );
    }
}
