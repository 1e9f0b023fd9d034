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

use std::borrow::Cow;
use std::collections::HashMap;

/// Common English function words, sorted (looked up by binary search: this runs for
/// every word of every answer compared).
const STOPWORDS: &[&str] = &[
    "about", "all", "also", "and", "any", "are", "because", "been", "being", "both", "but", "can",
    "could", "did", "does", "each", "for", "from", "get", "had", "has", "have", "her", "here",
    "him", "his", "how", "into", "its", "just", "let", "like", "make", "may", "more", "most",
    "new", "not", "now", "one", "only", "other", "our", "out", "over", "say", "see", "she",
    "should", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "too", "two", "use", "very", "was", "were", "what", "when", "where", "which",
    "while", "who", "will", "with", "would", "you",
];

/// Longest stopword, in bytes: longer words need no lookup.
const STOPWORD_MAX_LEN: usize = 7;

fn is_stopword(word: &str) -> bool {
    word.len() <= STOPWORD_MAX_LEN && STOPWORDS.binary_search(&word).is_ok()
}

/// True when lower-casing `word` would not change it.
fn lower_case_already(word: &str) -> bool {
    word.chars().all(|c| {
        if c.is_ascii() {
            !c.is_ascii_uppercase()
        } else {
            let mut lower = c.to_lowercase();
            lower.next() == Some(c) && lower.next().is_none()
        }
    })
}

/// A bag of words: each distinct content word with its count, sorted by word, and
/// the bag's Euclidean norm. Sorted vectors instead of hash maps: two bags are then
/// compared by one merge, without hashing a word twice.
struct Bag<'a> {
    counts: Vec<(Cow<'a, str>, f64)>,
    norm: f64,
}

/// The content words of `text` and how often each occurs. Words already in lower
/// case are borrowed, not copied: most are, and allocating per word dominated the
/// cost of the measure.
fn words(text: &str) -> Bag<'_> {
    let mut all: Vec<Cow<'_, str>> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().nth(2).is_some())
        .map(|word| {
            if lower_case_already(word) {
                Cow::Borrowed(word)
            } else {
                Cow::Owned(word.to_lowercase())
            }
        })
        .filter(|w| !is_stopword(w))
        .collect();
    all.sort_unstable();
    let mut counts: Vec<(Cow<'_, str>, f64)> = Vec::new();
    for word in all {
        match counts.last_mut() {
            Some((last, n)) if *last == word => *n += 1.0,
            _ => counts.push((word, 1.0)),
        }
    }
    let norm = counts.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
    Bag { counts, norm }
}

fn cosine(a: &Bag<'_>, b: &Bag<'_>) -> f64 {
    if a.norm == 0.0 || b.norm == 0.0 {
        return 0.0;
    }
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.counts.len() && j < b.counts.len() {
        match a.counts[i].0.cmp(&b.counts[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a.counts[i].1 * b.counts[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    (dot / (a.norm * b.norm)).clamp(0.0, 1.0)
}

/// Mean pairwise lexical similarity of `answers` (0–1). `None` for fewer than two
/// answers: agreement needs at least two voices.
pub fn lexical_agreement<S: AsRef<str>>(answers: &[S]) -> Option<f64> {
    if answers.len() < 2 {
        return None;
    }
    let bags: Vec<Bag<'_>> = answers.iter().map(|a| words(a.as_ref())).collect();
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
    fn stopwords_are_sorted_lower_case_and_ignored() {
        assert!(
            STOPWORDS.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert!(STOPWORDS.iter().all(|w| w.len() <= STOPWORD_MAX_LEN));
        assert!(STOPWORDS.iter().all(|w| *w == w.to_lowercase()));
        // Only function words differ: the answers agree fully.
        let answers = ["The SQLite index, because THEY would", "sqlite index"];
        assert!((lexical_agreement(&answers).expect("two") - 1.0).abs() < 1e-9);
        let folded = lexical_agreement(&["Ǆemal ÉCOLE", "ǆemal école"]).expect("two");
        assert!(
            (folded - 1.0).abs() < 1e-9,
            "non-ASCII capitals are folded too"
        );
        // Two-letter words are not content words.
        assert_eq!(lexical_agreement(&["go to it", "go to it"]), Some(0.0));
    }

    #[test]
    fn modal_share_counts_the_largest_group() {
        assert_eq!(modal_share(&["a", "a", "b", "a"]), Some(0.75));
        assert_eq!(modal_share(&["a"]), None);
    }
}
