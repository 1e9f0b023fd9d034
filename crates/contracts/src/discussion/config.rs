//! [`DiscussionConfig`]: what a discussion should do. Read by the one parser,
//! [`DiscussionConfig::from_json`] (= [`Valid::parse`]), or built in code with
//! [`DiscussionConfig::new`] and parsed with [`Valid::from_typed`]; the engine takes
//! only a [`Valid<DiscussionConfig>`].
//!
//! The `schemars` attributes below are the declaration of every structural rule: the
//! published `discuss` schema and the parser's check are that one declaration.
//! `validate.rs` holds the rules a schema cannot state.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::limits::{self, ID_PATTERN};
use crate::parse::{Contract, Report, Valid};
use crate::validation::ValidationErrors;

wire_enum! {
    /// How the providers talk to each other.
    #[derive(Default)]
    pub enum Pattern {
        /// Everyone answers in parallel; later rounds react to the others; then consensus.
        #[default]
        Synthesis = "synthesis",
        /// Providers speak in turn; from round 2 each sees everything said so far.
        RoundRobin = "round-robin",
        /// Proponent and opponent argue and rebut; a judge decides.
        Debate = "debate",
        /// One proposes, the others critique, the proposer revises.
        Critique = "critique",
        /// Everyone votes on options taken from the topic; votes are tallied.
        Voting = "voting",
    }
}

wire_enum! {
    /// How the discussion reaches its conclusion.
    pub enum ConsensusMethod {
        /// A synthesizer writes agreements, disagreements, insights and a conclusion.
        Synthesis = "synthesis",
        /// Votes weighted by confidence (and agent multiplier) are tallied.
        Voting = "voting",
        /// The synthesizer (a debate's judge) judges the arguments.
        Moderator = "moderator",
        /// A drafted conclusion holds only if every participant agrees.
        Unanimous = "unanimous",
        /// A drafted conclusion holds if the agreeing share exceeds the threshold.
        Majority = "majority",
    }
}

wire_enum! {
    /// A speaker's role; `debate` needs a proponent and an opponent.
    pub enum Role {
        /// Argues for the topic.
        Proponent = "proponent",
        /// Argues against the topic.
        Opponent = "opponent",
        /// Decides a debate.
        Judge = "judge",
        /// Moderates and decides, like a judge.
        Moderator = "moderator",
        /// Takes no side.
        Neutral = "neutral",
    }
}

wire_enum! {
    /// What kind of speaker a participant is.
    pub enum ParticipantKind {
        /// A configured provider, speaking as itself.
        Provider = "provider",
        /// A registered agent, speaking through its preferred provider with its own
        /// system prompt and a heavier vote.
        Agent = "agent",
    }
}

/// One speaker named in `participants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Participant {
    /// `provider` or `agent`.
    #[serde(rename = "type")]
    pub kind: ParticipantKind,
    /// The provider id or agent id.
    #[schemars(length(min = 1, max = limits::ID_MAX_CHARS), regex(pattern = ID_PATTERN))]
    pub id: String,
}

impl Participant {
    /// A provider speaking as itself.
    pub fn provider(id: impl Into<String>) -> Self {
        Self {
            kind: ParticipantKind::Provider,
            id: id.into(),
        }
    }

    /// An agent speaking through its preferred provider.
    pub fn agent(id: impl Into<String>) -> Self {
        Self {
            kind: ParticipantKind::Agent,
            id: id.into(),
        }
    }
}

/// How consensus is reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsensusConfig {
    /// The method. When absent: `moderator` for `debate`, `voting` for `voting`,
    /// otherwise `synthesis` (see [`ConsensusConfig::method_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<ConsensusMethod>,
    /// Who writes the final answer (a provider id or a participant id). Required by
    /// `moderator` except in debates, where the judge moderates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = limits::ID_MAX_CHARS), regex(pattern = ID_PATTERN))]
    pub synthesizer: Option<String>,
    /// For `majority`: the agreeing share must exceed this (0–1, default 0.5).
    #[serde(default = "default_threshold")]
    #[schemars(range(min = limits::THRESHOLD_MIN, max = limits::THRESHOLD_MAX))]
    pub threshold: f64,
    /// Whether the synthesis reports dissenting positions (default true). Polls of
    /// `unanimous`/`majority` always list who dissented.
    #[serde(default = "default_true")]
    pub include_dissent: bool,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            method: None,
            synthesizer: None,
            threshold: limits::THRESHOLD_DEFAULT,
            include_dissent: true,
        }
    }
}

impl ConsensusConfig {
    /// The method in force for `pattern`. Why pattern-dependent: a debate is decided by
    /// its judge and a vote by its tally; asking a synthesizer to summarise either would
    /// not do what the pattern's name says.
    pub fn method_for(&self, pattern: Pattern) -> ConsensusMethod {
        self.method.unwrap_or(match pattern {
            Pattern::Debate => ConsensusMethod::Moderator,
            Pattern::Voting => ConsensusMethod::Voting,
            _ => ConsensusMethod::Synthesis,
        })
    }
}

/// Stop before the last round when the answers already agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoundEarlyExit {
    /// Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Agreement (0.5–1, default 0.85) at or above which no further round is run.
    #[serde(default = "default_agreement_threshold")]
    #[schemars(range(min = limits::AGREEMENT_THRESHOLD_MIN, max = limits::AGREEMENT_THRESHOLD_MAX))]
    pub agreement_threshold: f64,
    /// Rounds always run before an early exit is considered (default 1).
    #[serde(default = "default_min_rounds")]
    #[schemars(range(min = limits::ROUNDS_MIN, max = limits::ROUNDS_MAX))]
    pub min_rounds: u32,
}

impl Default for RoundEarlyExit {
    fn default() -> Self {
        Self {
            enabled: true,
            agreement_threshold: limits::AGREEMENT_THRESHOLD_DEFAULT,
            min_rounds: 1,
        }
    }
}

/// Settle disputed points in sub-discussions, within budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecursiveConfig {
    /// Default false.
    #[serde(default)]
    pub enabled: bool,
    /// Deepest sub-discussion level (1–4, default 2); the top discussion is depth 0.
    #[serde(default = "default_max_depth")]
    #[schemars(range(min = limits::MAX_DEPTH_MIN, max = limits::MAX_DEPTH_MAX))]
    pub max_depth: u32,
    /// Provider calls of the whole tree, top discussion included (2–100, default 20).
    #[serde(default = "default_max_total_calls")]
    #[schemars(range(min = limits::MAX_TOTAL_CALLS_MIN, max = limits::MAX_TOTAL_CALLS_MAX))]
    pub max_total_calls: u32,
    /// Wall-time budget of the whole tree in milliseconds; sub-discussions stop when it
    /// is used up. Absent: no time budget beyond the provider timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = limits::TOTAL_BUDGET_MIN_MS, max = limits::TOTAL_BUDGET_MAX_MS))]
    pub total_budget_ms: Option<u64>,
}

impl Default for RecursiveConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            max_depth: limits::MAX_DEPTH_DEFAULT,
            max_total_calls: limits::MAX_TOTAL_CALLS_DEFAULT,
            total_budget_ms: None,
        }
    }
}

/// A discussion's configuration. Every field but `topic` has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscussionConfig {
    /// What to discuss (1–5000 characters).
    #[schemars(length(min = 1, max = limits::TOPIC_MAX_CHARS))]
    pub topic: String,
    /// The pattern (default `synthesis`).
    #[serde(default)]
    pub pattern: Pattern,
    /// 2–6 distinct provider ids. Absent: the available providers, chosen by the
    /// engine (or only `participants`, when those are given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = limits::MIN_PROVIDERS_LISTED, max = limits::MAX_SPEAKERS), inner(length(min = 1, max = limits::ID_MAX_CHARS), regex(pattern = ID_PATTERN)))]
    pub providers: Option<Vec<String>>,
    /// Rounds (1–10, default 2).
    #[serde(default = "default_rounds")]
    #[schemars(range(min = limits::ROUNDS_MIN, max = limits::ROUNDS_MAX))]
    pub rounds: u32,
    /// How consensus is reached.
    #[serde(default)]
    pub consensus: ConsensusConfig,
    /// Speaker id → role. `debate` auto-assigns proponent, opponent, judge in speaker
    /// order when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"minLength": 1, "maxLength": limits::ID_MAX_CHARS, "pattern": ID_PATTERN}))]
    pub roles: BTreeMap<String, Role>,
    /// Speaker id → replacement of its first-round prompt.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(
        inner(length(min = 1, max = limits::PROVIDER_PROMPT_MAX_CHARS)),
        extend("propertyNames" = {"minLength": 1, "maxLength": limits::ID_MAX_CHARS, "pattern": ID_PATTERN})
    )]
    pub provider_prompts: BTreeMap<String, String>,
    /// Background given to every provider (≤10000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = limits::CONTEXT_MAX_CHARS))]
    pub context: Option<String>,
    /// Per-call timeout in milliseconds (5 s – 30 min), counted from when the call
    /// starts running, not while it waits for a slot. Absent (the default): each
    /// provider's own `timeout` from `config.toml`, else 10 min (600000).
    // Why optional: a local model may need longer than a hosted API, and only an
    // absent value lets the engine tell "use each provider's setting" from "the user
    // chose this for every provider".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = limits::PROVIDER_TIMEOUT_MIN_MS, max = limits::PROVIDER_TIMEOUT_MAX_MS))]
    pub provider_timeout: Option<u64>,
    /// Fewer successful speakers than this fails the discussion (≥1, default 2).
    #[serde(default = "default_min_providers")]
    #[schemars(range(min = limits::MIN_PROVIDERS_MIN, max = limits::MAX_SPEAKERS))]
    pub min_providers: u32,
    /// Go on when a provider fails, as long as `minProviders` remain (default true).
    #[serde(default = "default_true")]
    pub continue_on_provider_failure: bool,
    /// Sampling temperature (0–2, default 0.7).
    #[serde(default = "default_temperature")]
    #[schemars(range(min = limits::TEMPERATURE_MIN, max = limits::TEMPERATURE_MAX))]
    pub temperature: f64,
    /// Extra speakers, including agents. Spoken after `providers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = limits::PARTICIPANTS_MIN, max = limits::MAX_SPEAKERS))]
    pub participants: Vec<Participant>,
    /// Vote weight of an agent relative to a provider (0.5–3, default 1.5).
    #[serde(default = "default_agent_weight")]
    #[schemars(range(min = limits::AGENT_WEIGHT_MIN, max = limits::AGENT_WEIGHT_MAX))]
    pub agent_weight_multiplier: f64,
    /// One round only.
    #[serde(default)]
    pub fast_mode: bool,
    /// Stop early when answers already agree.
    #[serde(default)]
    pub round_early_exit: RoundEarlyExit,
    /// Lower this discussion's concurrent provider calls (1–64); can never raise the
    /// process-wide limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = limits::MAX_CONCURRENT_MIN, max = limits::MAX_CONCURRENT_MAX))]
    pub max_concurrent_provider_calls: Option<u32>,
    /// Recursive sub-discussions.
    #[serde(default)]
    pub recursive: RecursiveConfig,
}

impl DiscussionConfig {
    /// A configuration with every default and this topic.
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            pattern: Pattern::default(),
            providers: None,
            rounds: limits::ROUNDS_DEFAULT,
            consensus: ConsensusConfig::default(),
            roles: BTreeMap::new(),
            provider_prompts: BTreeMap::new(),
            context: None,
            provider_timeout: None,
            min_providers: limits::MIN_PROVIDERS_DEFAULT,
            continue_on_provider_failure: true,
            temperature: limits::TEMPERATURE_DEFAULT,
            participants: Vec::new(),
            agent_weight_multiplier: limits::AGENT_WEIGHT_DEFAULT,
            fast_mode: false,
            round_early_exit: RoundEarlyExit::default(),
            max_concurrent_provider_calls: None,
            recursive: RecursiveConfig::default(),
        }
    }

    /// Rounds actually run: one in fast mode, otherwise `rounds`.
    pub fn effective_rounds(&self) -> u32 {
        if self.fast_mode { 1 } else { self.rounds }
    }

    /// The consensus method in force (see [`ConsensusConfig::method_for`]).
    pub fn consensus_method(&self) -> ConsensusMethod {
        self.consensus.method_for(self.pattern)
    }

    /// Read a configuration from JSON with the one parser ([`Valid::parse`]). Every
    /// broken rule is reported with its path; unknown fields are refused by name;
    /// `null` counts as absent.
    pub fn from_json(input: &Value) -> Result<Valid<Self>, ValidationErrors> {
        Valid::parse(input)
    }
}

impl Contract for DiscussionConfig {
    fn schema() -> &'static Map<String, Value> {
        static SCHEMA: OnceLock<Map<String, Value>> = OnceLock::new();
        SCHEMA.get_or_init(crate::schema::input_schema::<Self>)
    }

    fn check_rules(value: &Value, report: &mut Report) {
        super::validate::check_rules(value, report);
    }

    /// An empty `context` is no context.
    fn normalize(value: &mut Value) {
        if let Value::Object(obj) = value
            && obj.get("context").and_then(Value::as_str) == Some("")
        {
            obj.remove("context");
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_threshold() -> f64 {
    limits::THRESHOLD_DEFAULT
}
fn default_agreement_threshold() -> f64 {
    limits::AGREEMENT_THRESHOLD_DEFAULT
}
fn default_min_rounds() -> u32 {
    1
}
fn default_max_depth() -> u32 {
    limits::MAX_DEPTH_DEFAULT
}
fn default_max_total_calls() -> u32 {
    limits::MAX_TOTAL_CALLS_DEFAULT
}
fn default_rounds() -> u32 {
    limits::ROUNDS_DEFAULT
}
fn default_min_providers() -> u32 {
    limits::MIN_PROVIDERS_DEFAULT
}
fn default_temperature() -> f64 {
    limits::TEMPERATURE_DEFAULT
}
fn default_agent_weight() -> f64 {
    limits::AGENT_WEIGHT_DEFAULT
}
