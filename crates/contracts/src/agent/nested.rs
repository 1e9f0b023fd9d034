//! The nested objects of an agent profile.
//!
//! Every struct here keeps keys it does not know in `extra`, verbatim: the reference
//! tool's real profiles carry fields in places its schema never declared (for example
//! `canDelegateToArchetypes` inside `orchestration`), and an import must not silently
//! drop them. They are returned on read and export but never interpreted. Optional
//! fields that were absent stay absent; accessors give the documented default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::number;

/// `personality`: how the agent presents itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Personality {
    /// Character traits (≤100 chars each, ≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10), inner(length(max = 100)))]
    pub traits: Option<Vec<String>>,
    /// A signature phrase (≤200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub catchphrase: Option<String>,
    /// How it communicates (≤200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub communication_style: Option<String>,
    /// How it decides (≤200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub decision_making: Option<String>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `abilities`: which ability documents the agent loads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Abilities {
    /// Always loaded (≤100 chars each, ≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50), inner(length(max = 100)))]
    pub core: Option<Vec<String>>,
    /// Loaded when the task mentions the key: keyword → abilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_based: Option<BTreeMap<String, Vec<String>>>,
    /// Load every ability regardless of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_all: Option<bool>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `orchestration`: how far and where the agent may delegate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Orchestration {
    /// How many delegation hops it may start (0–10).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = 0, max = 10))]
    pub max_delegation_depth: Option<u32>,
    /// Workspaces it may read (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub can_read_workspaces: Option<Vec<String>>,
    /// Whether it may write to the shared workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_write_to_shared: Option<bool>,
    /// Time limit of one delegation in ms (1000–3600000).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = 1000, max = 3_600_000))]
    pub delegation_timeout: Option<u64>,
    /// Keys this contract does not declare (the reference tool's
    /// `canDelegateToArchetypes`/`canDelegateToMetaAgents` often live here), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

wire_enum! {
    /// What to do when the preferred providers are unavailable.
    pub enum FallbackStrategy {
        /// Try the preferred providers in order, then any available non-excluded one.
        Cascade = "cascade",
        /// Only the preferred providers; fail when none is available.
        Strict = "strict",
        /// Whatever provider is available, ignoring preferences.
        AnyAvailable = "any-available",
    }
}

/// `providerAffinity`: which providers the agent prefers in discussions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAffinity {
    /// Preferred providers, most preferred first (≤50 chars each, ≤6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 6), inner(length(max = 50)))]
    pub preferred: Option<Vec<String>>,
    /// Provider that writes the synthesis (≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50))]
    pub default_synthesizer: Option<String>,
    /// Providers never to use (≤50 chars each, ≤6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 6), inner(length(max = 50)))]
    pub excluded: Option<Vec<String>>,
    /// Task type → provider (≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("additionalProperties" = {"type": "string", "maxLength": 50}))]
    pub task_overrides: Option<BTreeMap<String, String>>,
    /// Provider → temperature (0–2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "number::opt_float_map"
    )]
    #[schemars(extend("additionalProperties" = {"type": "number", "minimum": 0, "maximum": 2}))]
    pub temperature_overrides: Option<BTreeMap<String, f64>>,
    /// Fallback when the preferred providers are unavailable (default `cascade`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_strategy: Option<FallbackStrategy>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ProviderAffinity {
    /// The fallback strategy, `cascade` when not given.
    pub fn fallback_strategy(&self) -> FallbackStrategy {
        self.fallback_strategy.unwrap_or(FallbackStrategy::Cascade)
    }
}

wire_enum! {
    /// The kind of agent, for routing and grouping.
    pub enum AgentCategory {
        /// Delegates to others.
        Orchestrator = "orchestrator",
        /// Does the work directly.
        Implementer = "implementer",
        /// Reviews and audits work.
        Reviewer = "reviewer",
        /// Expert in one domain.
        Specialist = "specialist",
        /// The fallback for anything.
        Generalist = "generalist",
        /// Loads capabilities dynamically.
        Meta = "meta",
    }
}

/// One `selectionMetadata.redirectWhen` rule: when the task contains `phrase`,
/// suggest another agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedirectRule {
    /// The phrase to look for (≤500).
    #[schemars(length(max = 500))]
    pub phrase: String,
    /// The agent to suggest instead (≤100).
    #[schemars(length(max = 100))]
    pub suggest: String,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `selectionMetadata`: the signals `recommend` matches a task against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelectionMetadata {
    /// Intents the agent is for (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub primary_intents: Option<Vec<String>>,
    /// Weaker signals (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub secondary_signals: Option<Vec<String>>,
    /// Intents the agent is not for (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub negative_intents: Option<Vec<String>>,
    /// When to suggest another agent (≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10))]
    pub redirect_when: Option<Vec<RedirectRule>>,
    /// Words that favour the agent (≤50 chars each, ≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50), inner(length(max = 50)))]
    pub keywords: Option<Vec<String>>,
    /// Words that count against the agent (≤50 chars each, ≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50), inner(length(max = 50)))]
    pub anti_keywords: Option<Vec<String>>,
    /// Example tasks the agent handles well (≤200 chars each, ≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10), inner(length(max = 200)))]
    pub example_tasks: Option<Vec<String>>,
    /// Tasks the agent should not take (≤200 chars each, ≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10), inner(length(max = 200)))]
    pub not_for_tasks: Option<Vec<String>>,
    /// The agent's category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_category: Option<AgentCategory>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `taskClassifier.rules` entry: tasks matching `pattern` get `taskType` and run
/// `workflow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskClassifierRule {
    /// A regular expression matched case-insensitively (1–500; must compile).
    #[schemars(length(min = 1, max = 500))]
    pub pattern: String,
    /// The task type to assign (1–50).
    #[schemars(length(min = 1, max = 50))]
    pub task_type: String,
    /// The workflow to run (1–200).
    #[schemars(length(min = 1, max = 200))]
    pub workflow: String,
    /// Higher is checked first (0–100, default 50).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = 0, max = 100))]
    pub priority: Option<u32>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TaskClassifierRule {
    /// The priority, 50 when not given.
    pub fn priority(&self) -> u32 {
        self.priority.unwrap_or(50)
    }
}

/// `taskClassifier`: routes a task to a workflow by rules (meta-agents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskClassifier {
    /// Whether classification is on (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The rules (≤50).
    #[schemars(length(max = 50))]
    pub rules: Vec<TaskClassifierRule>,
    /// The workflow when no rule matches (1–200, required).
    #[schemars(length(min = 1, max = 200))]
    pub default_workflow: String,
    /// Whether to match loosely (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuzzy_matching: Option<bool>,
    /// Least confidence of a loose match (0–1, default 0.7).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "number::opt_float"
    )]
    #[schemars(range(min = 0, max = 1))]
    pub min_confidence: Option<f64>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TaskClassifier {
    /// Whether classification is on, `true` when not given.
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// Whether to match loosely, `false` when not given.
    pub fn fuzzy_matching(&self) -> bool {
        self.fuzzy_matching.unwrap_or(false)
    }

    /// The least confidence of a loose match, 0.7 when not given.
    pub fn min_confidence(&self) -> f64 {
        self.min_confidence.unwrap_or(0.7)
    }
}

wire_enum! {
    /// How an archetype agent decides which capabilities to load.
    pub enum CapabilityDetection {
        /// From the task, automatically.
        Auto = "auto",
        /// Only as configured.
        Manual = "manual",
        /// Both.
        Hybrid = "hybrid",
    }
}

/// `dynamicCapabilities`: capabilities an archetype agent loads by context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamicCapabilities {
    /// How to detect (default `auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<CapabilityDetection>,
    /// Where to look (≤100 chars each, ≤10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10), inner(length(max = 100)))]
    pub sources: Option<Vec<String>>,
    /// Detected context → capabilities (≤100 chars each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("additionalProperties" = {"type": "array", "items": {"type": "string", "maxLength": 100}}))]
    pub mappings: Option<BTreeMap<String, Vec<String>>>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DynamicCapabilities {
    /// The detection mode, `auto` when not given.
    pub fn detection(&self) -> CapabilityDetection {
        self.detection.unwrap_or(CapabilityDetection::Auto)
    }
}

wire_enum! {
    /// How deep a review mode goes.
    pub enum ReviewDepth {
        /// A quick pass.
        Surface = "surface",
        /// A careful pass.
        Thorough = "thorough",
        /// Everything.
        Deep = "deep",
    }
}

/// One `reviewModes` entry (reviewer agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewMode {
    /// Focus areas (≤100 chars each, ≤20).
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub focus: Vec<String>,
    /// How deep to go.
    pub depth: ReviewDepth,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

wire_enum! {
    /// The task types a capability mapping can route.
    pub enum TaskType {
        /// Reviewing code.
        CodeReview = "code-review",
        /// Finding and fixing bugs.
        Debugging = "debugging",
        /// Restructuring code.
        Refactoring = "refactoring",
        /// Designing interfaces.
        ApiDesign = "api-design",
        /// Writing code.
        Implementation = "implementation",
        /// Writing or running tests.
        Testing = "testing",
        /// Writing documentation.
        Documentation = "documentation",
        /// Analysing something.
        Analysis = "analysis",
        /// Planning work.
        Planning = "planning",
        /// Shipping.
        Deployment = "deployment",
        /// Finding things out.
        Research = "research",
        /// Anything else.
        General = "general",
    }
}

/// One `capabilityMappings` entry: tasks of `taskType` run `workflowRef`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityMapping {
    /// The task type handled.
    pub task_type: TaskType,
    /// The workflow to run, e.g. `std/code-review` (1–200).
    #[schemars(length(min = 1, max = 200))]
    pub workflow_ref: String,
    /// Input schema the task must satisfy (≤100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub input_schema_ref: Option<String>,
    /// Abilities to load for it (≤100 chars each, ≤20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 100)))]
    pub abilities: Option<Vec<String>>,
    /// Preferred when several match (0–100, default 50).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number::opt_whole"
    )]
    #[schemars(range(min = 0, max = 100))]
    pub priority: Option<u32>,
    /// What the mapping is for (≤500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub description: Option<String>,
    /// Keys this contract does not declare, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CapabilityMapping {
    /// The priority, 50 when not given.
    pub fn priority(&self) -> u32 {
        self.priority.unwrap_or(50)
    }
}
