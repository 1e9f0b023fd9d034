//! `recommend`: which agent fits a task. A deterministic, explainable score: the task
//! text is matched against each enabled agent's selection metadata, capabilities,
//! expertise, role and description; every signal that fired is named in the reason.
//!
//! Scoring (documented for users in `docs/AGENTS.md`), each part clamped where noted:
//! | signal | effect |
//! |---|---|
//! | `exampleTasks` | + up to 0.45 × best similarity (strong) |
//! | `notForTasks` | − up to 0.6 × best similarity (strong) |
//! | `primaryIntents` | + 0.25 each matched, at most 0.5 |
//! | `secondarySignals` | + 0.1 each, at most 0.2 |
//! | `keywords` | + 0.12 each, at most 0.36 |
//! | `antiKeywords` | − 0.2 each |
//! | `negativeIntents` | − 0.3 each |
//! | `capabilities` | + 0.1 each, at most 0.3 |
//! | `expertise` | + 0.08 each, at most 0.24 |
//! | `role` words | + 0.05 each, at most 0.15 |
//! | `description` words | + 0.02 each, at most 0.1 |
//!
//! The sum is clamped to 0..1; agents under 0.1 are dropped; ties sort by `agentId`.
//! When nothing scores, the `standard` agent is recommended with confidence 0.5.

use std::collections::BTreeSet;

use ax_contracts::agent::{AgentProfile, AgentRecord};
use ax_contracts::validation::{JsonPath, ValidationErrors, rule};
use serde::{Deserialize, Serialize};

/// Id of the general-purpose fallback agent.
pub const FALLBACK_AGENT: &str = "standard";
/// Confidence reported for the fallback.
pub const FALLBACK_CONFIDENCE: f64 = 0.5;
/// Agents scoring below this are not recommended.
pub const MIN_SCORE: f64 = 0.1;
/// Longest task, in characters (the MCP tool's schema says the same).
pub const TASK_MAX_CHARS: usize = 5000;

/// Most postings the registry has the store read per task term
/// ([`crate::store::CandidateQuery::budget`]).
pub const CANDIDATE_BUDGET: usize = 4096;
/// Most candidates the registry has the store return for the scorer
/// ([`crate::store::CandidateQuery::limit`]).
pub const CANDIDATE_LIMIT: usize = 200;

pub mod terms;

// The weight of each positive signal, declared once: the scorer below and the term
// index ([`terms::index_terms`]) both read them, so the index's upper bounds cannot
// drift from what the scorer adds.
/// `exampleTasks`: times the best phrase's share of matched words.
pub(crate) const EXAMPLE_TASK: f64 = 0.45;
/// Each matched `primaryIntents` phrase.
pub(crate) const INTENT: f64 = 0.25;
/// Each matched `secondarySignals` phrase.
pub(crate) const SIGNAL: f64 = 0.1;
/// Each matched `keywords` phrase.
pub(crate) const KEYWORD: f64 = 0.12;
/// Each matched capability.
pub(crate) const CAPABILITY: f64 = 0.1;
/// Each matched `expertise` phrase.
pub(crate) const EXPERTISE: f64 = 0.08;
/// Each `role` word found in the task.
pub(crate) const ROLE_WORD: f64 = 0.05;
/// Each `description` word found in the task.
pub(crate) const DESCRIPTION_WORD: f64 = 0.02;

/// What to recommend an agent for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommendRequest {
    /// The task, in the user's words.
    pub task: String,
    /// Only agents of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Only agents having every one of these capabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_capabilities: Vec<String>,
    /// Never these agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_agents: Vec<String>,
    /// How many agents to return in all (recommended + alternatives), 1–10, default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<usize>,
}

impl RecommendRequest {
    /// The task's rules, checked before anything is read: a blank task would only
    /// ever get the fallback agent, told as "no agent matched", which hides the
    /// caller's mistake; an overlong one is refused as the MCP schema refuses it, so
    /// the CLI and every other entry point answer alike.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let path = JsonPath::root().key("task");
        if self.task.trim().is_empty() {
            let message = if self.task.is_empty() {
                "must not be empty"
            } else {
                "must not be blank"
            };
            return Err(ValidationErrors::single(&path, rule::MIN_LENGTH, message));
        }
        let chars = self.task.chars().count();
        if chars > TASK_MAX_CHARS {
            return Err(ValidationErrors::single(
                &path,
                rule::MAX_LENGTH,
                format!("must be at most {TASK_MAX_CHARS} characters (got {chars})"),
            ));
        }
        Ok(())
    }
}

pub use ax_contracts::agent::{Recommendation, ScoredAgent};

/// The task text prepared once: lower-case text plus normalised word set.
struct Task {
    text: String,
    words: BTreeSet<String>,
}

impl Task {
    fn new(task: &str) -> Self {
        let text = task.to_lowercase();
        let words = words(&text).collect();
        Self { text, words }
    }

    /// A phrase matches when it appears in the task, or all its significant words do.
    fn has_phrase(&self, phrase: &str) -> bool {
        let phrase = phrase.trim().to_lowercase();
        if phrase.is_empty() {
            return false;
        }
        if contains_words(&self.text, &phrase) {
            return true;
        }
        let mut significant = words(&phrase).peekable();
        significant.peek().is_some() && significant.all(|w| self.words.contains(&w))
    }

    /// Share of the phrase's significant words found in the task (0..1).
    fn similarity(&self, phrase: &str) -> f64 {
        let wanted: BTreeSet<String> = words(&phrase.to_lowercase()).collect();
        if wanted.is_empty() {
            return 0.0;
        }
        let found = wanted.iter().filter(|w| self.words.contains(*w)).count();
        found as f64 / wanted.len() as f64
    }
}

/// `needle` occurs in `haystack` on word boundaries (so `api` does not match `rapid`).
fn contains_words(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Words too common to carry meaning in a task description.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "i", "in", "into", "is",
    "it", "its", "me", "my", "of", "on", "or", "our", "please", "should", "so", "that", "the",
    "this", "to", "we", "what", "with", "you", "your", "can", "do", "does", "need", "want", "some",
    "all", "any", "new",
];

/// Significant, normalised words of lower-case text. Normalisation strips a few
/// English suffixes so `reviewing`, `reviews` and `review` meet.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
        .map(stem)
}

fn stem(word: &str) -> String {
    for suffix in ["ing", "ed", "es", "s"] {
        if word.chars().count() > suffix.len() + 3
            && let Some(root) = word.strip_suffix(suffix)
        {
            return root.to_owned();
        }
    }
    word.to_owned()
}

/// Adds signal contributions and remembers which fired, for the reason.
#[derive(Default)]
struct Score {
    total: f64,
    notes: Vec<String>,
}

impl Score {
    /// Add `each` per matched item, at most `cap` in all (caps are absolute values;
    /// negative `each` subtracts).
    fn add_matches(&mut self, label: &str, matched: Vec<String>, each: f64, cap: Option<f64>) {
        if matched.is_empty() {
            return;
        }
        let raw = each * matched.len() as f64;
        let bounded = match cap {
            Some(cap) if raw > cap => cap,
            _ => raw,
        };
        self.total += bounded;
        self.notes.push(format!("{label}: {}", matched.join(", ")));
    }
}

fn matched<'a>(task: &Task, items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|item| task.has_phrase(item))
        .filter(|item| seen.insert(item.to_lowercase()))
        .map(str::to_owned)
        .collect()
}

/// Best similarity of the task to any of `phrases`, with the phrase.
fn best_similarity<'a>(
    task: &Task,
    phrases: impl IntoIterator<Item = &'a str>,
) -> Option<(f64, &'a str)> {
    phrases
        .into_iter()
        .map(|p| (task.similarity(p), p))
        .filter(|(s, _)| *s >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// Score one profile against the task.
fn score(task: &Task, profile: &AgentProfile) -> Score {
    let mut score = Score::default();
    if let Some((sim, phrase)) = best_similarity(task, profile.example_tasks()) {
        score.total += EXAMPLE_TASK * sim;
        score
            .notes
            .push(format!("similar to example task \"{phrase}\""));
    }
    if let Some((sim, phrase)) = best_similarity(task, profile.not_for_tasks()) {
        score.total -= 0.6 * sim;
        score
            .notes
            .push(format!("resembles a task it is not for (\"{phrase}\")"));
    }
    score.add_matches(
        "intent",
        matched(task, profile.primary_intents()),
        INTENT,
        Some(0.5),
    );
    score.add_matches(
        "signals",
        matched(task, profile.secondary_signals()),
        SIGNAL,
        Some(0.2),
    );
    score.add_matches(
        "keywords",
        matched(task, profile.keywords()),
        KEYWORD,
        Some(0.36),
    );
    score.add_matches(
        "anti-keywords",
        matched(task, profile.anti_keywords()),
        -0.2,
        None,
    );
    score.add_matches(
        "negative intents",
        matched(task, profile.negative_intents()),
        -0.3,
        None,
    );
    score.add_matches(
        "capabilities",
        matched(task, profile.capabilities()),
        CAPABILITY,
        Some(0.3),
    );
    score.add_matches(
        "expertise",
        matched(task, profile.expertise()),
        EXPERTISE,
        Some(0.24),
    );
    let role_words = matched_words(task, profile.role().unwrap_or(""));
    score.add_matches("role", role_words, ROLE_WORD, Some(0.15));
    let description_words = matched_words(task, &profile.description);
    score.add_matches(
        "description",
        description_words,
        DESCRIPTION_WORD,
        Some(0.1),
    );
    score.total = score.total.clamp(0.0, 1.0);
    score
}

/// Significant words of `text` that also occur in the task.
fn matched_words(task: &Task, text: &str) -> Vec<String> {
    let unique: BTreeSet<String> = words(&text.to_lowercase())
        .filter(|w| task.words.contains(w))
        .collect();
    unique.into_iter().collect()
}

/// Every eligible agent of `agents` scoring at least [`MIN_SCORE`] for the request
/// (its `max_results` is not applied), best first, ties by `agentId`.
pub fn scored(request: &RecommendRequest, agents: &[AgentRecord]) -> Vec<ScoredAgent> {
    let mut scored = score_eligible(&Task::new(&request.task), request, agents);
    sort_best_first(&mut scored);
    scored
}

/// The eligible agents of `agents` scoring at least [`MIN_SCORE`], unordered.
fn score_eligible(
    task: &Task,
    request: &RecommendRequest,
    agents: &[AgentRecord],
) -> Vec<ScoredAgent> {
    agents
        .iter()
        .filter(|record| eligible(request, record))
        .filter_map(|record| {
            let s = score(task, &record.profile);
            (s.total >= MIN_SCORE).then(|| ScoredAgent {
                agent_id: record.profile.agent_id.clone(),
                confidence: (s.total * 1000.0).round() / 1000.0,
                reason: s.notes.join("; "),
            })
        })
        .collect()
}

/// Best first, ties by `agentId`: a total order, so the best `n` of several lists
/// merged are the best `n` of all their agents.
fn sort_best_first(scored: &mut [ScoredAgent]) {
    scored.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.agent_id.cmp(&b.agent_id))
    });
}

/// Whether the request's filters let `record` be recommended at all.
fn eligible(request: &RecommendRequest, record: &AgentRecord) -> bool {
    let p = &record.profile;
    p.enabled
        && !request.exclude_agents.contains(&p.agent_id)
        && request
            .team
            .as_ref()
            .is_none_or(|t| p.team.as_deref() == Some(t.as_str()))
        && request
            .required_capabilities
            .iter()
            .all(|c| p.capabilities().contains(&c.as_str()))
}

/// Rank `agents` for the request. Pure and deterministic: same inputs, same answer.
pub fn rank(request: &RecommendRequest, agents: &[AgentRecord]) -> Recommendation {
    let mut ranking = Ranking::new(request);
    ranking.add(agents);
    ranking.finish()
}

/// [`rank`] over agents that arrive in parts (a registry read page by page): only
/// the best `maxResults` so far and whether the fallback agent was eligible are
/// kept, so scoring a million agents holds one page at a time. Any split of the
/// agents gives [`rank`]'s answer over all of them.
pub struct Ranking<'a> {
    request: &'a RecommendRequest,
    task: Task,
    max_results: usize,
    best: Vec<ScoredAgent>,
    fallback_eligible: bool,
}

impl<'a> Ranking<'a> {
    /// Nothing ranked yet.
    pub fn new(request: &'a RecommendRequest) -> Self {
        Self {
            request,
            task: Task::new(&request.task),
            max_results: request.max_results.unwrap_or(3).clamp(1, 10),
            best: Vec::new(),
            fallback_eligible: false,
        }
    }

    /// Scores `agents` and keeps the best so far.
    pub fn add(&mut self, agents: &[AgentRecord]) {
        self.fallback_eligible |= agents
            .iter()
            .any(|r| r.profile.agent_id == FALLBACK_AGENT && eligible(self.request, r));
        self.best
            .extend(score_eligible(&self.task, self.request, agents));
        sort_best_first(&mut self.best);
        self.best.truncate(self.max_results);
    }

    /// The recommendation: the best agent and the alternatives, or the fallback
    /// when nothing scored.
    pub fn finish(self) -> Recommendation {
        let mut scored = self.best;
        if scored.is_empty() {
            return if self.fallback_eligible {
                Recommendation {
                    recommended: Some(FALLBACK_AGENT.to_owned()),
                    confidence: FALLBACK_CONFIDENCE,
                    reason: "no agent matched the task; falling back to the general-purpose `standard` agent".to_owned(),
                    alternatives: Vec::new(),
                }
            } else {
                Recommendation {
                    recommended: None,
                    confidence: 0.0,
                    reason: "no agent matched the task and the `standard` fallback agent is not available".to_owned(),
                    alternatives: Vec::new(),
                }
            };
        }
        let best = scored.remove(0);
        Recommendation {
            recommended: Some(best.agent_id),
            confidence: best.confidence,
            reason: best.reason,
            alternatives: scored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent(doc: serde_json::Value) -> AgentRecord {
        let mut doc = doc;
        let extra = json!({"createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z", "revision": 1});
        if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        serde_json::from_value(doc).expect("well-formed test agent")
    }

    fn fleet() -> Vec<AgentRecord> {
        vec![
            agent(json!({"agentId": "standard", "description": "general helper"})),
            agent(
                json!({"agentId": "backend", "description": "server code and databases", "role": "backend engineer",
                "capabilities": ["api-design", "database"],
                "selectionMetadata": {"keywords": ["api", "sql", "database"], "antiKeywords": ["css"],
                    "exampleTasks": ["implement a REST endpoint with pagination"], "notForTasks": ["style the landing page"]}}),
            ),
            agent(
                json!({"agentId": "frontend", "description": "user interfaces", "role": "frontend engineer",
                "selectionMetadata": {"keywords": ["css", "react", "layout"], "exampleTasks": ["fix the layout of the navigation bar"]}}),
            ),
            agent(
                json!({"agentId": "off", "enabled": false, "description": "disabled sql expert",
                "selectionMetadata": {"keywords": ["sql", "database", "api"]}}),
            ),
        ]
    }

    #[test]
    fn keywords_and_examples_pick_the_specialist_and_explain_why() {
        let rec = rank(
            &RecommendRequest {
                task: "Implement a REST API endpoint with pagination over the SQL database".into(),
                ..Default::default()
            },
            &fleet(),
        );
        assert_eq!(rec.recommended.as_deref(), Some("backend"));
        assert!(rec.confidence > 0.5, "{rec:?}");
        assert!(rec.reason.contains("example task"), "{}", rec.reason);
        assert!(
            rec.reason.contains("keywords: api, sql, database"),
            "{}",
            rec.reason
        );
        assert!(
            rec.alternatives.iter().all(|a| a.agent_id != "off"),
            "disabled agents are never recommended"
        );
    }

    #[test]
    fn anti_keywords_and_not_for_tasks_push_down() {
        let rec = rank(
            &RecommendRequest {
                task: "style the landing page css layout".into(),
                ..Default::default()
            },
            &fleet(),
        );
        assert_eq!(rec.recommended.as_deref(), Some("frontend"));
        assert!(
            rec.alternatives.iter().all(|a| a.agent_id != "backend"),
            "{rec:?}"
        );
    }

    #[test]
    fn nothing_scoring_falls_back_to_standard() {
        let rec = rank(
            &RecommendRequest {
                task: "zzz qqq".into(),
                ..Default::default()
            },
            &fleet(),
        );
        assert_eq!(rec.recommended.as_deref(), Some(FALLBACK_AGENT));
        assert_eq!(rec.confidence, FALLBACK_CONFIDENCE);
        let rec = rank(
            &RecommendRequest {
                task: "zzz".into(),
                exclude_agents: vec!["standard".into()],
                ..Default::default()
            },
            &fleet(),
        );
        assert_eq!(rec.recommended, None);
    }

    #[test]
    fn filters_and_determinism() {
        let request = RecommendRequest {
            task: "database api work".into(),
            required_capabilities: vec!["database".into()],
            max_results: Some(10),
            ..Default::default()
        };
        let first = rank(&request, &fleet());
        assert_eq!(first.recommended.as_deref(), Some("backend"));
        assert!(
            first.alternatives.is_empty(),
            "only backend has the capability: {first:?}"
        );
        let mut reversed = fleet();
        reversed.reverse();
        assert_eq!(
            rank(&request, &reversed),
            first,
            "order of the input does not matter"
        );
    }

    #[test]
    fn word_boundaries_and_stemming() {
        assert!(contains_words("fix the api now", "api"));
        assert!(!contains_words("rapid growth", "api"));
        let task = Task::new("Reviewing pull requests");
        assert!(task.has_phrase("review"));
        assert!(task.has_phrase("pull request"));
    }

    /// A [`Ranking`] fed the agents in parts of any size answers as [`rank`] over all
    /// of them: the best `maxResults`, the alternatives in order, and the fallback
    /// found on whichever part holds it (the exhaustive scorer reads pages).
    #[test]
    fn ranking_in_parts_answers_as_rank_over_all() {
        let mut agents = fleet();
        for n in 0..12 {
            agents.push(agent(json!({
                "agentId": format!("db-{n:02}"),
                "description": "database work",
                "team": if n % 2 == 0 { "data" } else { "web" },
                "selectionMetadata": {"keywords": ["sql", "database"], "exampleTasks": [format!("tune sql query {n}")]},
            })));
        }
        // The fallback last, so only the final part can hold it.
        agents.rotate_left(1);
        let requests = [
            ("tune the sql database query", None, Some(3)),
            ("tune the sql database query", None, Some(10)),
            ("tune the sql database query", Some("web"), Some(2)),
            ("qwzx vbnm", None, None),
            ("qwzx vbnm", Some("nobody"), None),
        ];
        for (task, team, max_results) in requests {
            let request = RecommendRequest {
                task: task.into(),
                team: team.map(str::to_owned),
                max_results,
                ..Default::default()
            };
            let whole = rank(&request, &agents);
            for part in [1, 2, 5, agents.len()] {
                let mut ranking = Ranking::new(&request);
                for chunk in agents.chunks(part) {
                    ranking.add(chunk);
                }
                assert_eq!(
                    ranking.finish(),
                    whole,
                    "{task:?} {team:?} in parts of {part}"
                );
            }
        }
        let request = RecommendRequest {
            task: "qwzx vbnm".into(),
            ..Default::default()
        };
        assert_eq!(
            rank(&request, &agents).recommended.as_deref(),
            Some(FALLBACK_AGENT)
        );
    }
}
