//! The discussion configuration's rules that no schema states, checked after the
//! structural walk of its schema (see the `schemars` attributes in `config.rs`): a
//! blank topic, speakers named twice, and the rules that tie fields together. Values
//! the walk refused are left out here, so a problem is reported once.

use serde_json::{Map, Value};

use super::config::{ConsensusMethod, Pattern, Role};
use super::limits as l;
use crate::error::ErrorCode;
use crate::parse::Report;
use crate::validation::{JsonPath, ValidationErrors, rule};

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

/// The members of a walked configuration that passed the walk, read for the rules.
struct Given<'v> {
    obj: &'v Map<String, Value>,
    report: &'v Report,
}

impl<'v> Given<'v> {
    /// `at` (a path from the root) when present and not refused by the walk.
    fn get(&self, keys: &[&str]) -> Option<&'v Value> {
        let mut path = JsonPath::root();
        let mut value: Option<&'v Value> = None;
        for key in keys {
            path = path.key(key);
            let parent = match value {
                None => self.obj,
                Some(v) => v.as_object()?,
            };
            value = Some(parent.get(*key)?);
        }
        value.filter(|_| !self.report.has_issue_at(&path))
    }

    fn str(&self, keys: &[&str]) -> Option<&'v str> {
        self.get(keys).and_then(Value::as_str)
    }

    fn u64(&self, keys: &[&str]) -> Option<u64> {
        self.get(keys).and_then(Value::as_u64)
    }

    /// The entries of the map at `key` whose name and value passed the walk.
    fn map(&self, key: &str) -> Vec<(&'v str, &'v Value)> {
        let path = JsonPath::root().key(key);
        self.get(&[key])
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(k, _)| !self.report.has_issue_at(&path.key(k)))
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }
}

/// The rules of a walked configuration that its schema cannot state.
pub(crate) fn check_rules(value: &Value, report: &mut Report) {
    let Some(obj) = value.as_object() else {
        return;
    };
    let root = JsonPath::root();
    let mut found = Report::default();
    {
        let given = Given {
            obj,
            report: &*report,
        };
        check_given(&given, &root, &mut found);
    }
    for issue in found.into_issues() {
        report.push(issue);
    }
}

fn check_given(given: &Given<'_>, root: &JsonPath, out: &mut Report) {
    if let Some(topic) = given.str(&["topic"])
        && topic.trim().is_empty()
    {
        out.report(&root.key("topic"), rule::MIN_LENGTH, "must not be blank");
    }

    // The listed providers that passed the walk; none when the list itself did not.
    let providers: Option<Vec<&str>> =
        given
            .get(&["providers"])
            .and_then(Value::as_array)
            .map(|items| {
                let path = root.key("providers");
                items
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !given.report.has_issue_at(&path.index(*i)))
                    .filter_map(|(i, item)| item.as_str().map(|s| (i, s)))
                    .inspect(|(i, s)| {
                        if items[..*i]
                            .iter()
                            .any(|earlier| earlier.as_str() == Some(s))
                        {
                            out.report(
                                &path.index(*i),
                                rule::UNIQUE,
                                format!("provider \"{s}\" is listed twice"),
                            );
                        }
                    })
                    .map(|(_, s)| s)
                    .collect()
            });

    // The participants whose type and id passed the walk, with their index.
    let mut participants: Vec<(usize, &str)> = Vec::new();
    let items = given.get(&["participants"]).and_then(Value::as_array);
    for (i, item) in items.into_iter().flatten().enumerate() {
        let p = root.key("participants").index(i);
        let ok = |key: &str| !given.report.has_issue_at(&p.key(key));
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .filter(|_| ok("type"));
        let id = item.get("id").and_then(Value::as_str).filter(|_| ok("id"));
        if let (Some(_), Some(id)) = (kind, id) {
            if participants.iter().any(|(_, seen)| *seen == id) {
                out.report(
                    &p.key("id"),
                    rule::UNIQUE,
                    format!("participant \"{id}\" is listed twice"),
                );
            }
            participants.push((i, id));
        }
    }

    cross_field(given, root, providers.as_deref(), &participants, out);
}

/// Rules that tie fields together. Checked only against what was given: when
/// `providers` is absent the speakers are chosen at run time and the engine checks
/// the same rules again against them.
fn cross_field(
    given: &Given<'_>,
    root: &JsonPath,
    providers: Option<&[&str]>,
    participants: &[(usize, &str)],
    out: &mut Report,
) {
    let mut listed: Vec<&str> = Vec::new();
    for id in providers
        .into_iter()
        .flatten()
        .copied()
        .chain(participants.iter().map(|(_, id)| *id))
    {
        if !listed.contains(&id) {
            listed.push(id);
        }
    }
    let speakers_known = providers.is_some() || !participants.is_empty();

    if let Some(providers) = providers
        && !participants.is_empty()
    {
        if listed.len() > l::MAX_SPEAKERS {
            out.report(
                &root.key("participants"),
                rule::CROSS_FIELD,
                format!(
                    "providers and participants together name {} speakers; at most {} may take part",
                    listed.len(),
                    l::MAX_SPEAKERS
                ),
            );
        }
        for (i, id) in participants {
            if providers.contains(id) {
                out.report(
                    &root.key("participants").index(*i).key("id"),
                    rule::UNIQUE,
                    format!("\"{id}\" is already listed in providers"),
                );
            }
        }
    }
    if speakers_known
        && let Some(min) = given.u64(&["minProviders"])
        && min as usize > listed.len()
    {
        out.report(
            &root.key("minProviders"),
            rule::CROSS_FIELD,
            format!(
                "minProviders ({min}) exceeds the {} speakers listed",
                listed.len()
            ),
        );
    }
    let roles = given.map("roles");
    if speakers_known {
        for field in ["roles", "providerPrompts"] {
            for (key, _) in given.map(field) {
                if !listed.contains(&key) {
                    out.report(
                        &root.key(field).key(key),
                        rule::REFERENCE,
                        format!(
                            "\"{key}\" is not one of the discussion's providers or participants"
                        ),
                    );
                }
            }
        }
    }
    let pattern = given
        .str(&["pattern"])
        .and_then(Pattern::from_wire)
        .unwrap_or_default();
    let method = given
        .str(&["consensus", "method"])
        .and_then(ConsensusMethod::from_wire);
    if method == Some(ConsensusMethod::Moderator)
        && given.str(&["consensus", "synthesizer"]).is_none()
        && pattern != Pattern::Debate
    {
        out.report(
            &root.key("consensus").key("synthesizer"),
            rule::REQUIRED,
            "the moderator method needs a synthesizer (only debates fall back to their judge)",
        );
    }
    if pattern == Pattern::Debate && !roles.is_empty() {
        for needed in [Role::Proponent, Role::Opponent] {
            let named = roles
                .iter()
                .any(|(_, r)| r.as_str().and_then(Role::from_wire) == Some(needed));
            if !named {
                out.report(
                    &root.key("roles"),
                    rule::CROSS_FIELD,
                    format!("a debate needs a {needed} (leave roles out to assign them in order)"),
                );
            }
        }
    }
    let rounds = given.u64(&["rounds"]).unwrap_or(l::ROUNDS_DEFAULT.into());
    let min_rounds = given.u64(&["roundEarlyExit", "minRounds"]).unwrap_or(1);
    let fast_mode = given
        .get(&["fastMode"])
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if given.obj.contains_key("roundEarlyExit") && min_rounds > rounds && !fast_mode {
        out.report(
            &root.key("roundEarlyExit").key("minRounds"),
            rule::CROSS_FIELD,
            format!("minRounds ({min_rounds}) exceeds rounds ({rounds})"),
        );
    }
}
