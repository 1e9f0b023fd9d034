//! How much a set of answers already agree, for round early exit and for the
//! `agreementScore` of synthesis-style consensus.
//!
//! The measure is lexical, and deliberately simple so that it can be explained: each
//! answer becomes a bag of its content words (lower-cased, at least three letters,
//! common English function words removed); the agreement of a set is the mean cosine
//! similarity of those word-count vectors over every pair of answers. 1.0 means the
//! answers use the same words in the same proportions; unrelated answers score near 0.
//! It rewards answers that say the same thing in similar words and underrates
//! agreement phrased very differently, so an early exit errs on the side of running
//! another round.

use std::collections::HashMap;

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "him", "his", "how", "its", "may", "new", "now", "see", "two",
    "who", "did", "get", "let", "say", "she", "too", "use", "that", "this", "with", "have", "from",
    "they", "will", "would", "there", "their", "what", "about", "which", "when", "make", "like",
    "than", "then", "them", "these", "some", "could", "should", "into", "also", "more", "other",
    "been", "being", "were", "does", "such", "only", "both", "each", "very", "most", "over",
    "just", "where", "while", "here", "because",
];

fn words(text: &str) -> HashMap<String, f64> {
    let mut counts = HashMap::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
    {
        *counts.entry(word).or_insert(0.0) += 1.0;
    }
    counts
}

fn cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(w, x)| b.get(w).map(|y| x * y)).sum();
    let norm = |m: &HashMap<String, f64>| m.values().map(|x| x * x).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).clamp(0.0, 1.0)
    }
}

/// Mean pairwise lexical similarity of `answers` (0–1). `None` for fewer than two
/// answers: agreement needs at least two voices.
pub fn lexical_agreement<S: AsRef<str>>(answers: &[S]) -> Option<f64> {
    if answers.len() < 2 {
        return None;
    }
    let bags: Vec<_> = answers.iter().map(|a| words(a.as_ref())).collect();
    let mut total = 0.0;
    let mut pairs = 0usize;
    for i in 0..bags.len() {
        for j in i + 1..bags.len() {
            total += cosine(&bags[i], &bags[j]);
            pairs += 1;
        }
    }
    Some(total / pairs as f64)
}

/// The share of `choices` that picked the most common choice (votes). `None` when
/// there are fewer than two choices.
pub fn modal_share<T: Eq + std::hash::Hash>(choices: &[T]) -> Option<f64> {
    if choices.len() < 2 {
        return None;
    }
    let mut counts: HashMap<&T, usize> = HashMap::new();
    for c in choices {
        *counts.entry(c).or_default() += 1;
    }
    let top = counts.values().copied().max().unwrap_or(0);
    Some(top as f64 / choices.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_answers_agree_fully_and_unrelated_ones_barely() {
        let same = [
            "Use SQLite with a unique index.",
            "use sqlite with a UNIQUE index",
        ];
        assert!((lexical_agreement(&same).expect("two") - 1.0).abs() < 1e-9);
        let apart = [
            "Use SQLite with a unique index on agent ids.",
            "Bananas ripen faster in paper bags.",
        ];
        assert!(lexical_agreement(&apart).expect("two") < 0.1);
        let close = [
            "Store agents in SQLite and let a unique index reject duplicates.",
            "Keep agents in SQLite; a unique index rejects duplicate registrations.",
        ];
        let score = lexical_agreement(&close).expect("two");
        assert!(score > 0.4 && score < 1.0, "{score}");
        assert_eq!(lexical_agreement(&["alone"]), None);
    }

    #[test]
    fn modal_share_counts_the_largest_group() {
        assert_eq!(modal_share(&["a", "a", "b", "a"]), Some(0.75));
        assert_eq!(modal_share(&["a"]), None);
    }
}
