//! [`DiscussionConfig::from_json`]: reads a configuration from JSON, reporting every
//! broken rule with its path (and unknown fields by name) instead of stopping at the
//! first, then builds the typed value from the checked input.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::config::{
    ConsensusConfig, ConsensusMethod, DiscussionConfig, Participant, ParticipantKind, Pattern,
    RecursiveConfig, Role, RoundEarlyExit,
};
use super::limits as l;
use crate::error::ErrorCode;
use crate::validation::{Checker, JsonPath, ValidationErrors, rule};

const FIELDS: &[&str] = &[
    "topic",
    "pattern",
    "providers",
    "rounds",
    "consensus",
    "roles",
    "providerPrompts",
    "context",
    "providerTimeout",
    "minProviders",
    "continueOnProviderFailure",
    "temperature",
    "participants",
    "agentWeightMultiplier",
    "fastMode",
    "roundEarlyExit",
    "maxConcurrentProviderCalls",
    "recursive",
];
const CONSENSUS_FIELDS: &[&str] = &["method", "synthesizer", "threshold", "includeDissent"];
const EARLY_EXIT_FIELDS: &[&str] = &["enabled", "agreementThreshold", "minRounds"];
const RECURSIVE_FIELDS: &[&str] = &["enabled", "maxDepth", "maxTotalCalls", "totalBudgetMs"];
const PARTICIPANT_FIELDS: &[&str] = &["type", "id"];

/// The error code for a configuration that failed validation: a bad pattern or bad
/// roles have codes of their own (`DISCUSSION_INVALID_PATTERN`,
/// `DISCUSSION_INVALID_ROLES`); anything else is `DISCUSSION_INVALID_CONFIG`.
pub fn config_error_code(errors: &ValidationErrors) -> ErrorCode {
    let at = |prefix: &str| {
        errors
            .issues
            .iter()
            .any(|i| i.path == prefix || i.path.starts_with(&format!("{prefix}.")))
    };
    if at("pattern") {
        ErrorCode::DiscussionInvalidPattern
    } else if at("roles") {
        ErrorCode::DiscussionInvalidRoles
    } else {
        ErrorCode::DiscussionInvalidConfig
    }
}

/// Provider, agent and speaker ids: a letter or digit, then letters, digits, `.`, `_`,
/// `-`. Why restricted: ids become map keys, CLI arguments and history columns.
fn id(c: &mut Checker, value: &Value, path: &JsonPath) -> Option<String> {
    let s = c.string(value, path, 1, l::ID_MAX_CHARS)?;
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|ch| ch.is_ascii_alphanumeric());
    if first_ok && chars.all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-')) {
        Some(s.to_owned())
    } else {
        c.report(
            path,
            rule::PATTERN,
            "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
        );
        None
    }
}

/// `obj[key]` when present and not null (null means absent, as in the other contracts).
fn field<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).filter(|v| !v.is_null())
}

impl DiscussionConfig {
    /// Read a configuration from JSON. Every broken rule is reported with its path;
    /// unknown fields are rejected by name.
    pub fn from_json(input: &Value) -> Result<Self, ValidationErrors> {
        let mut c = Checker::new();
        let root = JsonPath::root();
        let Some(obj) = c.object(input, &root) else {
            return Err(finish_err(c));
        };
        c.unknown_fields(obj, FIELDS, &root);
        let mut cfg = DiscussionConfig::new(String::new());

        if let Some(v) = c.required(obj, "topic", &root)
            && let Some(s) = c.string(v, &root.key("topic"), 1, l::TOPIC_MAX_CHARS)
        {
            if s.trim().is_empty() {
                c.report(&root.key("topic"), rule::MIN_LENGTH, "must not be blank");
            }
            cfg.topic = s.to_owned();
        }
        if let Some(v) = field(obj, "pattern")
            && let Some(s) = c.one_of(v, &root.key("pattern"), Pattern::NAMES)
        {
            cfg.pattern = Pattern::from_wire(s).unwrap_or_default();
        }
        if let Some(v) = field(obj, "providers") {
            cfg.providers = providers(&mut c, v, &root.key("providers"));
        }
        if let Some(v) = field(obj, "rounds")
            && let Some(n) = c.integer(
                v,
                &root.key("rounds"),
                l::ROUNDS_MIN.into(),
                l::ROUNDS_MAX.into(),
            )
        {
            cfg.rounds = n as u32;
        }
        if let Some(v) = field(obj, "consensus") {
            cfg.consensus = consensus(&mut c, v, &root.key("consensus"));
        }
        if let Some(v) = field(obj, "roles") {
            cfg.roles = roles(&mut c, v, &root.key("roles"));
        }
        if let Some(v) = field(obj, "providerPrompts") {
            cfg.provider_prompts = provider_prompts(&mut c, v, &root.key("providerPrompts"));
        }
        if let Some(v) = field(obj, "context")
            && let Some(s) = c.string(v, &root.key("context"), 0, l::CONTEXT_MAX_CHARS)
        {
            cfg.context = (!s.is_empty()).then(|| s.to_owned());
        }
        if let Some(v) = field(obj, "providerTimeout")
            && let Some(n) = c.integer(
                v,
                &root.key("providerTimeout"),
                l::PROVIDER_TIMEOUT_MIN_MS as i64,
                l::PROVIDER_TIMEOUT_MAX_MS as i64,
            )
        {
            cfg.provider_timeout = Some(n as u64);
        }
        let mut min_providers_given = false;
        if let Some(v) = field(obj, "minProviders")
            && let Some(n) = c.integer(
                v,
                &root.key("minProviders"),
                l::MIN_PROVIDERS_MIN.into(),
                l::MAX_SPEAKERS as i64,
            )
        {
            cfg.min_providers = n as u32;
            min_providers_given = true;
        }
        if let Some(v) = field(obj, "continueOnProviderFailure")
            && let Some(b) = c.boolean(v, &root.key("continueOnProviderFailure"))
        {
            cfg.continue_on_provider_failure = b;
        }
        if let Some(v) = field(obj, "temperature")
            && let Some(n) = c.number(
                v,
                &root.key("temperature"),
                l::TEMPERATURE_MIN,
                l::TEMPERATURE_MAX,
            )
        {
            cfg.temperature = n;
        }
        if let Some(v) = field(obj, "participants") {
            cfg.participants = participants(&mut c, v, &root.key("participants"));
        }
        if let Some(v) = field(obj, "agentWeightMultiplier")
            && let Some(n) = c.number(
                v,
                &root.key("agentWeightMultiplier"),
                l::AGENT_WEIGHT_MIN,
                l::AGENT_WEIGHT_MAX,
            )
        {
            cfg.agent_weight_multiplier = n;
        }
        if let Some(v) = field(obj, "fastMode")
            && let Some(b) = c.boolean(v, &root.key("fastMode"))
        {
            cfg.fast_mode = b;
        }
        if let Some(v) = field(obj, "roundEarlyExit") {
            cfg.round_early_exit = early_exit(&mut c, v, &root.key("roundEarlyExit"));
        }
        if let Some(v) = field(obj, "maxConcurrentProviderCalls")
            && let Some(n) = c.integer(
                v,
                &root.key("maxConcurrentProviderCalls"),
                l::MAX_CONCURRENT_MIN.into(),
                l::MAX_CONCURRENT_MAX.into(),
            )
        {
            cfg.max_concurrent_provider_calls = Some(n as u32);
        }
        if let Some(v) = field(obj, "recursive") {
            cfg.recursive = recursive(&mut c, v, &root.key("recursive"));
        }

        cross_field(&mut c, &cfg, obj, min_providers_given);
        c.finish().map(|()| cfg)
    }

    /// Check a configuration built in code (e.g. by the CLI from flags) against the
    /// same rules as [`DiscussionConfig::from_json`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let value = serde_json::to_value(self)
            .map_err(|e| ValidationErrors::single(&JsonPath::root(), rule::TYPE, e.to_string()))?;
        Self::from_json(&value).map(|_| ())
    }
}

fn finish_err(c: Checker) -> ValidationErrors {
    match c.finish() {
        Err(e) => e,
        // Only called after an issue was reported.
        Ok(()) => ValidationErrors::single(&JsonPath::root(), rule::TYPE, "invalid input"),
    }
}

fn providers(c: &mut Checker, v: &Value, path: &JsonPath) -> Option<Vec<String>> {
    let items = c.array(v, path, l::MIN_PROVIDERS_LISTED, l::MAX_SPEAKERS)?;
    let mut out = Vec::with_capacity(items.len());
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(s) = id(c, item, &path.index(i)) {
            if !seen.insert(s.clone()) {
                c.report(
                    &path.index(i),
                    rule::UNIQUE,
                    format!("provider \"{s}\" is listed twice"),
                );
            }
            out.push(s);
        }
    }
    Some(out)
}

fn consensus(c: &mut Checker, v: &Value, path: &JsonPath) -> ConsensusConfig {
    let mut out = ConsensusConfig::default();
    let Some(obj) = c.object(v, path) else {
        return out;
    };
    c.unknown_fields(obj, CONSENSUS_FIELDS, path);
    if let Some(v) = field(obj, "method")
        && let Some(s) = c.one_of(v, &path.key("method"), ConsensusMethod::NAMES)
    {
        out.method = ConsensusMethod::from_wire(s);
    }
    if let Some(v) = field(obj, "synthesizer") {
        out.synthesizer = id(c, v, &path.key("synthesizer"));
    }
    if let Some(v) = field(obj, "threshold")
        && let Some(n) = c.number(
            v,
            &path.key("threshold"),
            l::THRESHOLD_MIN,
            l::THRESHOLD_MAX,
        )
    {
        out.threshold = n;
    }
    if let Some(v) = field(obj, "includeDissent")
        && let Some(b) = c.boolean(v, &path.key("includeDissent"))
    {
        out.include_dissent = b;
    }
    out
}

fn roles(c: &mut Checker, v: &Value, path: &JsonPath) -> BTreeMap<String, Role> {
    let mut out = BTreeMap::new();
    let Some(obj) = c.object(v, path) else {
        return out;
    };
    for (key, value) in obj {
        let p = path.key(key);
        let key_ok = id(c, &Value::String(key.clone()), &p).is_some();
        if let Some(s) = c.one_of(value, &p, Role::NAMES)
            && key_ok
            && let Some(role) = Role::from_wire(s)
        {
            out.insert(key.clone(), role);
        }
    }
    out
}

fn provider_prompts(c: &mut Checker, v: &Value, path: &JsonPath) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(obj) = c.object(v, path) else {
        return out;
    };
    for (key, value) in obj {
        let p = path.key(key);
        let key_ok = id(c, &Value::String(key.clone()), &p).is_some();
        if let Some(s) = c.string(value, &p, 1, l::PROVIDER_PROMPT_MAX_CHARS)
            && key_ok
        {
            out.insert(key.clone(), s.to_owned());
        }
    }
    out
}

fn participants(c: &mut Checker, v: &Value, path: &JsonPath) -> Vec<Participant> {
    let mut out = Vec::new();
    let Some(items) = c.array(v, path, l::PARTICIPANTS_MIN, l::MAX_SPEAKERS) else {
        return out;
    };
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let Some(obj) = c.object(item, &p) else {
            continue;
        };
        c.unknown_fields(obj, PARTICIPANT_FIELDS, &p);
        let kind = c
            .required(obj, "type", &p)
            .and_then(|v| c.one_of(v, &p.key("type"), ParticipantKind::NAMES))
            .and_then(ParticipantKind::from_wire);
        let pid = c
            .required(obj, "id", &p)
            .and_then(|v| id(c, v, &p.key("id")));
        if let (Some(kind), Some(pid)) = (kind, pid) {
            if !seen.insert(pid.clone()) {
                c.report(
                    &p.key("id"),
                    rule::UNIQUE,
                    format!("participant \"{pid}\" is listed twice"),
                );
            }
            out.push(Participant { kind, id: pid });
        }
    }
    out
}

fn early_exit(c: &mut Checker, v: &Value, path: &JsonPath) -> RoundEarlyExit {
    let mut out = RoundEarlyExit::default();
    let Some(obj) = c.object(v, path) else {
        return out;
    };
    c.unknown_fields(obj, EARLY_EXIT_FIELDS, path);
    if let Some(v) = field(obj, "enabled")
        && let Some(b) = c.boolean(v, &path.key("enabled"))
    {
        out.enabled = b;
    }
    if let Some(v) = field(obj, "agreementThreshold")
        && let Some(n) = c.number(
            v,
            &path.key("agreementThreshold"),
            l::AGREEMENT_THRESHOLD_MIN,
            l::AGREEMENT_THRESHOLD_MAX,
        )
    {
        out.agreement_threshold = n;
    }
    if let Some(v) = field(obj, "minRounds")
        && let Some(n) = c.integer(
            v,
            &path.key("minRounds"),
            l::ROUNDS_MIN.into(),
            l::ROUNDS_MAX.into(),
        )
    {
        out.min_rounds = n as u32;
    }
    out
}

fn recursive(c: &mut Checker, v: &Value, path: &JsonPath) -> RecursiveConfig {
    let mut out = RecursiveConfig::default();
    let Some(obj) = c.object(v, path) else {
        return out;
    };
    c.unknown_fields(obj, RECURSIVE_FIELDS, path);
    if let Some(v) = field(obj, "enabled")
        && let Some(b) = c.boolean(v, &path.key("enabled"))
    {
        out.enabled = b;
    }
    if let Some(v) = field(obj, "maxDepth")
        && let Some(n) = c.integer(
            v,
            &path.key("maxDepth"),
            l::MAX_DEPTH_MIN.into(),
            l::MAX_DEPTH_MAX.into(),
        )
    {
        out.max_depth = n as u32;
    }
    if let Some(v) = field(obj, "maxTotalCalls")
        && let Some(n) = c.integer(
            v,
            &path.key("maxTotalCalls"),
            l::MAX_TOTAL_CALLS_MIN.into(),
            l::MAX_TOTAL_CALLS_MAX.into(),
        )
    {
        out.max_total_calls = n as u32;
    }
    if let Some(v) = field(obj, "totalBudgetMs")
        && let Some(n) = c.integer(
            v,
            &path.key("totalBudgetMs"),
            l::TOTAL_BUDGET_MIN_MS as i64,
            l::TOTAL_BUDGET_MAX_MS as i64,
        )
    {
        out.total_budget_ms = Some(n as u64);
    }
    out
}

/// Rules that tie fields together. Checked only against what was given: when
/// `providers` is absent the speakers are chosen at run time and the engine checks
/// the same rules again against them.
fn cross_field(
    c: &mut Checker,
    cfg: &DiscussionConfig,
    obj: &Map<String, Value>,
    min_providers_given: bool,
) {
    let root = JsonPath::root();
    let mut listed: Vec<&str> = Vec::new();
    for id in cfg
        .providers
        .iter()
        .flatten()
        .map(String::as_str)
        .chain(cfg.participants.iter().map(|p| p.id.as_str()))
    {
        if !listed.contains(&id) {
            listed.push(id);
        }
    }
    let speakers_known = cfg.providers.is_some() || !cfg.participants.is_empty();

    if cfg.providers.is_some() && !cfg.participants.is_empty() {
        if listed.len() > l::MAX_SPEAKERS {
            c.report(
                &root.key("participants"),
                rule::CROSS_FIELD,
                format!(
                    "providers and participants together name {} speakers; at most {} may take part",
                    listed.len(),
                    l::MAX_SPEAKERS
                ),
            );
        }
        let providers = cfg.providers.as_deref().unwrap_or_default();
        for (i, p) in cfg.participants.iter().enumerate() {
            if providers.contains(&p.id) {
                c.report(
                    &root.key("participants").index(i).key("id"),
                    rule::UNIQUE,
                    format!("\"{}\" is already listed in providers", p.id),
                );
            }
        }
    }
    if speakers_known && min_providers_given && cfg.min_providers as usize > listed.len() {
        c.report(
            &root.key("minProviders"),
            rule::CROSS_FIELD,
            format!(
                "minProviders ({}) exceeds the {} speakers listed",
                cfg.min_providers,
                listed.len()
            ),
        );
    }
    if speakers_known {
        for key in cfg.roles.keys() {
            if !listed.contains(&key.as_str()) {
                c.report(
                    &root.key("roles").key(key),
                    rule::REFERENCE,
                    format!("\"{key}\" is not one of the discussion's providers or participants"),
                );
            }
        }
        for key in cfg.provider_prompts.keys() {
            if !listed.contains(&key.as_str()) {
                c.report(
                    &root.key("providerPrompts").key(key),
                    rule::REFERENCE,
                    format!("\"{key}\" is not one of the discussion's providers or participants"),
                );
            }
        }
    }
    if cfg.consensus.method == Some(ConsensusMethod::Moderator)
        && cfg.consensus.synthesizer.is_none()
        && cfg.pattern != Pattern::Debate
    {
        c.report(
            &root.key("consensus").key("synthesizer"),
            rule::REQUIRED,
            "the moderator method needs a synthesizer (only debates fall back to their judge)",
        );
    }
    if cfg.pattern == Pattern::Debate && !cfg.roles.is_empty() {
        for needed in [Role::Proponent, Role::Opponent] {
            if !cfg.roles.values().any(|r| *r == needed) {
                c.report(
                    &root.key("roles"),
                    rule::CROSS_FIELD,
                    format!("a debate needs a {needed} (leave roles out to assign them in order)"),
                );
            }
        }
    }
    if obj.contains_key("roundEarlyExit")
        && cfg.round_early_exit.min_rounds > cfg.rounds
        && !cfg.fast_mode
    {
        c.report(
            &root.key("roundEarlyExit").key("minRounds"),
            rule::CROSS_FIELD,
            format!(
                "minRounds ({}) exceeds rounds ({})",
                cfg.round_early_exit.min_rounds, cfg.rounds
            ),
        );
    }
}
