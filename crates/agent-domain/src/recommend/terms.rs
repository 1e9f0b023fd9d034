//! What `recommend` can match, as terms a store can index: the one declaration every
//! backend's candidate retrieval ([`crate::store::AgentStore::candidates`]) is built on.
//!
//! A term is a significant, stemmed word exactly as the scorer sees it (the same
//! `words()`), and each agent's term carries an **upper bound** of what that word can
//! add to the agent's score:
//!
//! | field | bound per word |
//! |---|---|
//! | `exampleTasks` | 0.45 ÷ the phrase's significant words, the largest over phrases |
//! | `primaryIntents` | 0.25 ÷ the phrase's significant words, summed over phrases |
//! | `secondarySignals` | 0.1 ÷ … |
//! | `keywords` | 0.12 ÷ … |
//! | `capabilities` | 0.1 ÷ … |
//! | `expertise` | 0.08 ÷ … |
//! | `role` | 0.05 |
//! | `description` | 0.02 |
//!
//! summed over the fields. Negative-only fields (`notForTasks`, `antiKeywords`,
//! `negativeIntents`) only lower a score, so they are not indexed.
//!
//! INV-AGT-REC-001: for every task and profile, the scorer's total is at most the sum
//! of the bounds of the profile's terms that are among the task's
//! [`query_terms`]. Why: a phrase adds its weight only when all its significant words
//! are in the task, and then each of them carries its share; `exampleTasks` add
//! 0.45 × the share of one phrase's words found, each found word carrying at least
//! 0.45 ÷ that phrase's size; caps and negative signals only lower the total. So an
//! agent sharing no term with the task scores 0, and one whose bound is under
//! [`super::MIN_SCORE`] cannot be recommended. The one exception: a phrase with no
//! significant word at all (e.g. a keyword `new`, a stopword) can match the task's
//! text but has no term; such phrases are not found by candidate retrieval (only by
//! `--exhaustive`).

use std::collections::{BTreeMap, BTreeSet};

use ax_contracts::agent::AgentProfile;

use super::{
    CAPABILITY, DESCRIPTION_WORD, EXAMPLE_TASK, EXPERTISE, INTENT, KEYWORD, ROLE_WORD, SIGNAL,
    words,
};

/// Version of [`index_terms`]. Stores keep their term index built by one version and
/// rebuild it when this changes (any change to the terms or their weights, including
/// in `words()`/`stem()` or the signal weights, must bump it).
pub const INDEX_VERSION: u32 = 1;

/// The one-time marker (see [`crate::store::AgentStore::mark_once`]) a store records
/// once its term index holds every agent as [`INDEX_VERSION`] derives them. Stores
/// leave markers starting `recommend-index:` out of `once_keys` (they describe the
/// store's own derived data, which a copy builds for itself).
pub fn index_marker() -> String {
    format!("recommend-index:v{INDEX_VERSION}")
}

/// The distinct terms of a task, sorted: what [`index_terms`] entries are matched by.
pub fn query_terms(task: &str) -> Vec<String> {
    let terms: BTreeSet<String> = words(&task.to_lowercase()).collect();
    terms.into_iter().collect()
}

/// Every term `profile` can be matched by, with the upper bound of its contribution
/// (INV-AGT-REC-001), sorted by term. Pure: the same profile always gives the same
/// list, which is what lets a store delete an agent's postings by recomputing them.
pub fn index_terms(profile: &AgentProfile) -> Vec<(String, f64)> {
    let mut bounds: BTreeMap<String, f64> = BTreeMap::new();
    let mut add = |field: BTreeMap<String, f64>| {
        for (term, weight) in field {
            *bounds.entry(term).or_default() += weight;
        }
    };
    add(phrase_shares(
        profile.example_tasks(),
        EXAMPLE_TASK,
        f64::max,
    ));
    add(phrase_shares(profile.primary_intents(), INTENT, sum));
    add(phrase_shares(profile.secondary_signals(), SIGNAL, sum));
    add(phrase_shares(profile.keywords(), KEYWORD, sum));
    add(phrase_shares(profile.capabilities(), CAPABILITY, sum));
    add(phrase_shares(profile.expertise(), EXPERTISE, sum));
    add(each_word(profile.role().unwrap_or(""), ROLE_WORD));
    add(each_word(&profile.description, DESCRIPTION_WORD));
    bounds.into_iter().collect()
}

fn sum(a: f64, b: f64) -> f64 {
    a + b
}

/// Each distinct (case-insensitive) phrase gives each of its significant words
/// `weight ÷ word count`; a word in several phrases gets `combine` of its shares.
fn phrase_shares<'a>(
    phrases: impl IntoIterator<Item = &'a str>,
    weight: f64,
    combine: fn(f64, f64) -> f64,
) -> BTreeMap<String, f64> {
    let distinct: BTreeSet<String> = phrases
        .into_iter()
        .map(|p| p.trim().to_lowercase())
        .collect();
    let mut shares: BTreeMap<String, f64> = BTreeMap::new();
    for phrase in &distinct {
        let significant: BTreeSet<String> = words(phrase).collect();
        if significant.is_empty() {
            continue;
        }
        let share = weight / significant.len() as f64;
        for word in significant {
            shares
                .entry(word)
                .and_modify(|w| *w = combine(*w, share))
                .or_insert(share);
        }
    }
    shares
}

/// Every distinct significant word of `text`, `weight` each.
fn each_word(text: &str, weight: f64) -> BTreeMap<String, f64> {
    words(&text.to_lowercase()).map(|w| (w, weight)).collect()
}

/// The sum of `terms`' bounds for the task's `query` terms (both sorted by term).
pub fn bound(terms: &[(String, f64)], query: &[String]) -> f64 {
    terms
        .iter()
        .filter(|(term, _)| query.binary_search(term).is_ok())
        .map(|(_, weight)| weight)
        .sum()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Task, score};
    use super::*;

    fn profile(doc: serde_json::Value) -> AgentProfile {
        serde_json::from_value(doc).expect("well-formed test profile")
    }

    fn weight(terms: &[(String, f64)], term: &str) -> f64 {
        terms
            .iter()
            .find(|(t, _)| t == term)
            .map_or(0.0, |(_, w)| *w)
    }

    #[test]
    fn terms_carry_each_fields_share_summed_across_fields() {
        let terms = index_terms(&profile(json!({
            "agentId": "a",
            "description": "Reviews database code",
            "role": "database reviewer",
            "capabilities": ["code-review"],
            "selectionMetadata": {
                "keywords": ["database", "sql"],
                "exampleTasks": ["review the schema", "migrate the database schema quickly"],
                "antiKeywords": ["css"],
            },
        })));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // keyword 0.12 + role 0.05 + description 0.02 + example 0.45/4
        assert!(close(
            weight(&terms, "database"),
            0.12 + 0.05 + 0.02 + 0.45 / 4.0
        ));
        // example tasks take the largest share: "review the schema" has 2 words
        assert!(close(weight(&terms, "schema"), 0.45 / 2.0));
        // capability "code-review" has two words; description "reviews" stems to review
        assert!(close(
            weight(&terms, "review"),
            0.1 / 2.0 + 0.45 / 2.0 + 0.02
        ));
        assert_eq!(
            weight(&terms, "css"),
            0.0,
            "negative-only fields are not indexed"
        );
        assert!(
            terms.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, distinct"
        );
    }

    #[test]
    fn query_terms_are_the_scorers_words() {
        assert_eq!(
            query_terms("Please review the Reviews of our API, reviewing APIs"),
            ["api", "apis", "review"]
        );
        assert!(query_terms("the and of").is_empty());
    }

    /// INV-AGT-REC-001 on hand-made profiles that exercise every field, phrase
    /// matching by text, duplicates, caps and negative signals.
    #[test]
    fn the_bound_is_never_below_the_score() {
        let profiles = [
            json!({"agentId": "a", "description": "server code and databases", "role": "backend engineer",
                "capabilities": ["api-design", "database", "Database"], "expertise": ["sql tuning"],
                "selectionMetadata": {"keywords": ["api", "sql", "database", "rest api"], "antiKeywords": ["css"],
                    "primaryIntents": ["build api", "design schema"], "secondarySignals": ["endpoint"],
                    "exampleTasks": ["implement a REST endpoint with pagination", "add an index"],
                    "notForTasks": ["style the landing page"]}}),
            json!({"agentId": "b", "description": "review review review code code", "role": "reviewer",
                "selectionMetadata": {"keywords": ["k1", "k2", "k3", "k4", "k5"], "exampleTasks": ["k1 k2"]}}),
        ];
        let tasks = [
            "Implement a REST API endpoint with pagination over the SQL database",
            "design schema and build api for database tuning of sql",
            "review code k1 k2 k3 k4 k5",
            "style the landing page css",
            "add an index",
            "",
        ];
        for doc in profiles {
            let p = profile(doc);
            let terms = index_terms(&p);
            for task in tasks {
                let total = score(&Task::new(task), &p).total;
                let b = bound(&terms, &query_terms(task));
                assert!(
                    total <= b + 1e-9,
                    "{task:?} on {}: score {total} > bound {b}",
                    p.agent_id
                );
            }
        }
    }
}
