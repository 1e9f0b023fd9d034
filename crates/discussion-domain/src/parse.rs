//! Lenient readers for the answer formats of [`crate::response_format`]: real models
//! vary case, wrap labels in markdown (`**VOTE:** 2`, `## Agreements`), echo the
//! template, and add prose before and after. These readers accept all of that and
//! report `None` only when the answer really does not contain the field.

use crate::response_format::{AGREEMENTS, CONCLUSION, DISAGREEMENTS, INSIGHTS};

/// Characters of markdown decoration around labels and values.
fn trim_decoration(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_' | '`' | '#' | '>' | '"'))
}

/// `label` without its colon, upper-case (`VOTE:` → `VOTE`).
fn bare(label: &str) -> String {
    label.trim_end_matches(':').to_ascii_uppercase()
}

/// Where `label` (e.g. `VOTE:`) occurs in `line` as a label: the word, optional markdown
/// decoration, then a colon. Returns the text after the colon.
fn value_after_label<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let word = bare(label);
    let upper = line.to_ascii_uppercase();
    let mut from = 0;
    while let Some(pos) = upper[from..].find(&word) {
        let start = from + pos;
        let before_ok = upper[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let rest = &line[start + word.len()..];
        let after = rest.trim_start_matches(['*', '_', ' ']);
        if before_ok && let Some(value) = after.strip_prefix(':') {
            return Some(value);
        }
        from = start + word.len();
    }
    None
}

/// Is `value` an echo of the prompt's template (`<0.0–1.0>`, `...`) rather than an answer?
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || (v.starts_with('<') && v.ends_with('>')) || v == "..."
}

/// The value of the last `LABEL: value` line that is not a template echo.
pub fn field(text: &str, label: &str) -> Option<String> {
    text.lines()
        .rev()
        .filter_map(|line| value_after_label(line, label))
        .map(trim_decoration)
        .find(|v| !is_placeholder(v))
        .map(str::to_owned)
}

/// A confidence in 0–1 from `0.8`, `80%`, `8/10`, `80`, `8` (read on a 1–10 scale)
/// or `high`/`medium`/`low`.
pub fn confidence(value: &str) -> Option<f64> {
    let v = value.trim().to_ascii_lowercase();
    let number = |s: &str| {
        let digits: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        digits.parse::<f64>().ok()
    };
    let parsed = if let Some((num, den)) = v.split_once('/') {
        match (number(num), number(den)) {
            (Some(n), Some(d)) if d > 0.0 => Some(n / d),
            _ => None,
        }
    } else if v.starts_with("high") || v.starts_with("very high") {
        Some(0.9)
    } else if v.starts_with("medium") || v.starts_with("moderate") {
        Some(0.6)
    } else if v.starts_with("low") {
        Some(0.3)
    } else {
        number(&v).map(|n| {
            if v.contains('%') || n > 10.0 {
                n / 100.0
            } else if n > 1.0 {
                n / 10.0
            } else {
                n
            }
        })
    };
    parsed.filter(|n| n.is_finite()).map(|n| n.clamp(0.0, 1.0))
}

/// A vote read from an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedVote {
    /// Index into the options.
    pub option: usize,
    /// Stated confidence, when there was one.
    pub confidence: Option<f64>,
    /// The stated reason (empty when none).
    pub reason: String,
}

/// Which of `options` the text `vote` names: by number (`2`, `Option 2`, `#2`), by exact
/// text, or by the one option the text contains (or is contained in).
pub fn match_option(vote: &str, options: &[String]) -> Option<usize> {
    let v = trim_decoration(vote).trim_end_matches('.').trim();
    let lower = v.to_lowercase();
    let stripped = lower
        .trim_start_matches("option")
        .trim_start_matches(['#', ' ', '('])
        .trim();
    let digits: String = stripped.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty()
        && let Ok(n) = digits.parse::<usize>()
        && (1..=options.len()).contains(&n)
    {
        return Some(n - 1);
    }
    if let Some(i) = options.iter().position(|o| o.to_lowercase() == lower) {
        return Some(i);
    }
    let containing: Vec<usize> = options
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            let o = o.to_lowercase();
            word_contains(&lower, &o) || (lower.len() >= 3 && word_contains(&o, &lower))
        })
        .map(|(i, _)| i)
        .collect();
    match containing.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// `haystack` contains `needle` on word boundaries (so `no` is not found in `know`).
fn word_contains(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Read `VOTE:`, `CONFIDENCE:` and `REASON:` from an answer.
pub fn vote(text: &str, options: &[String]) -> Option<ParsedVote> {
    let choice = field(text, crate::response_format::VOTE)?;
    let option = match_option(&choice, options)?;
    Some(ParsedVote {
        option,
        confidence: field(text, crate::response_format::CONFIDENCE).and_then(|c| confidence(&c)),
        reason: field(text, crate::response_format::REASON).unwrap_or_default(),
    })
}

/// An AGREE/DISAGREE answer to a drafted conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPosition {
    /// True for AGREE.
    pub agrees: bool,
    /// The stated reason (empty when none).
    pub reason: String,
}

/// Read `POSITION: AGREE|DISAGREE` and `REASON:`. Without the label, a bare `AGREE`
/// or `DISAGREE` (in capitals, as requested) is accepted when only one of them occurs.
pub fn position(text: &str) -> Option<ParsedPosition> {
    use crate::response_format::{AGREE, DISAGREE, POSITION, REASON};
    let reason = field(text, REASON).unwrap_or_default();
    let verdict = |v: &str| {
        let v = v.to_ascii_uppercase();
        let first = v
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        // DISAGREE contains AGREE: test it first.
        if first == DISAGREE || first == "NO" || v.starts_with("DO NOT AGREE") {
            Some(false)
        } else if first == AGREE || first == "YES" {
            Some(true)
        } else {
            None
        }
    };
    if let Some(agrees) = field(text, POSITION).and_then(|v| verdict(&v)) {
        return Some(ParsedPosition { agrees, reason });
    }
    let has_disagree = word_contains(text, DISAGREE);
    let bare_agree = text
        .match_indices(AGREE)
        .any(|(i, _)| !text[..i].ends_with("DIS") && word_contains(&text[i..], AGREE));
    match (bare_agree, has_disagree) {
        (true, false) => Some(ParsedPosition {
            agrees: true,
            reason,
        }),
        (false, true) => Some(ParsedPosition {
            agrees: false,
            reason,
        }),
        _ => None,
    }
}

/// The sections of a synthesis answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynthesisSections {
    /// Shared points.
    pub agreements: Vec<String>,
    /// `(who, position)`; `who` is empty when the line did not say.
    pub disagreements: Vec<(String, String)>,
    /// Points only one participant made.
    pub insights: Vec<String>,
    /// The final answer; the whole text when the answer had no sections.
    pub conclusion: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Preamble,
    Agreements,
    Disagreements,
    Insights,
    Conclusion,
}

/// Is `line` a section heading? Returns the section and any text after the colon.
fn heading(line: &str) -> Option<(Section, &str)> {
    let t = trim_decoration(line.trim_start_matches(['-', '•', ' ']));
    for (label, section) in [
        (DISAGREEMENTS, Section::Disagreements),
        (AGREEMENTS, Section::Agreements),
        (INSIGHTS, Section::Insights),
        (CONCLUSION, Section::Conclusion),
    ] {
        let word = bare(label);
        let upper = t.to_ascii_uppercase();
        if upper.starts_with(&word) {
            let rest = trim_decoration(&t[word.len()..]);
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            // "Agreements" alone, or "Agreements: ...": a heading. "Agreements were few
            // because ..." is prose.
            if t[word.len()..]
                .trim_start_matches(['*', '_', ' '])
                .starts_with(':')
                || rest.trim().is_empty()
            {
                return Some((section, trim_decoration(rest)));
            }
        }
    }
    None
}

/// A bullet's text without its marker (`- `, `* `, `• `, `1. `, `2) `).
fn bullet(line: &str) -> Option<&str> {
    let t = line.trim();
    if let Some(rest) = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .or_else(|| t.strip_prefix("• "))
    {
        return Some(rest.trim());
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(r.trim());
        }
    }
    None
}

/// "None", "n/a", "-": a model's way of saying a section is empty.
fn is_nothing(item: &str) -> bool {
    let t = trim_decoration(item)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    matches!(
        t.as_str(),
        "" | "none" | "n/a" | "na" | "-" | "nothing" | "none noted"
    )
}

/// Read a synthesis answer into its sections.
pub fn synthesis(text: &str) -> SynthesisSections {
    let mut out = SynthesisSections::default();
    let mut section = Section::Preamble;
    let mut conclusion = Vec::new();
    let mut saw_heading = false;
    for line in text.lines() {
        if let Some((s, rest)) = heading(line) {
            section = s;
            saw_heading = true;
            if !rest.is_empty() {
                push_item(&mut out, &mut conclusion, section, rest, true);
            }
            continue;
        }
        push_item(&mut out, &mut conclusion, section, line, false);
    }
    out.conclusion = conclusion.join("\n").trim().to_owned();
    if !saw_heading || out.conclusion.is_empty() && out.agreements.is_empty() {
        out.conclusion = text.trim().to_owned();
    }
    out
}

fn push_item(
    out: &mut SynthesisSections,
    conclusion: &mut Vec<String>,
    section: Section,
    line: &str,
    inline: bool,
) {
    if section == Section::Conclusion {
        conclusion.push(line.trim_end().to_owned());
        return;
    }
    let item = if inline {
        Some(line.trim())
    } else {
        bullet(line)
    };
    let Some(item) = item.map(trim_decoration) else {
        return;
    };
    if is_nothing(item) {
        return;
    }
    match section {
        Section::Agreements => out.agreements.push(item.to_owned()),
        Section::Insights => out.insights.push(item.to_owned()),
        Section::Disagreements => {
            let (who, what) = match item.split_once(':') {
                Some((who, what)) if who.chars().count() <= 40 && !what.trim().is_empty() => {
                    (trim_decoration(who).to_owned(), what.trim().to_owned())
                }
                _ => (String::new(), item.to_owned()),
            };
            out.disagreements.push((who, what));
        }
        Section::Preamble | Section::Conclusion => {}
    }
}

/// The options of a vote, from the topic: a numbered list (`1. A` / `2) B`, at least
/// two), or an `Options: a, b, c` line (commas, `|`, `/` or ` or `), else Yes/No.
pub fn options(topic: &str) -> Vec<String> {
    let numbered: Vec<String> = topic
        .lines()
        .filter_map(|l| {
            let t = l.trim();
            let digits = t.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let rest = &t[digits..];
            rest.strip_prefix('.')
                .or_else(|| rest.strip_prefix(')'))
                .map(|r| trim_decoration(r).to_owned())
                .filter(|r| !r.is_empty())
        })
        .collect();
    if numbered.len() >= 2 {
        return numbered;
    }
    for line in topic.lines() {
        if let Some(rest) = value_after_label(line, "OPTIONS:") {
            let rest = rest.replace(" or ", ",").replace(['|', '/', ';'], ",");
            let items: Vec<String> = rest
                .split(',')
                .map(|s| {
                    trim_decoration(s)
                        .trim_end_matches(['.', '?'])
                        .trim()
                        .to_owned()
                })
                .filter(|s| !s.is_empty())
                .collect();
            if items.len() >= 2 {
                return items;
            }
        }
    }
    vec!["Yes".to_owned(), "No".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn votes_are_read_through_markdown_case_and_prose() {
        let o = opts(&["PostgreSQL", "SQLite", "JSON files"]);
        let text = "After weighing it up:\n\n**Vote:** 2\n**confidence:** 85%\nReason: embedded, transactional.\nThanks!";
        let v = vote(text, &o).expect("vote");
        assert_eq!(v.option, 1);
        assert_eq!(v.confidence, Some(0.85));
        assert_eq!(v.reason, "embedded, transactional.");
        let by_name = vote("VOTE: sqlite\nCONFIDENCE: 0.7", &o).expect("by name");
        assert_eq!(by_name.option, 1);
        let template_echo = "VOTE: <option number or text>\nVOTE: Option 3\nCONFIDENCE: 9/10";
        let v = vote(template_echo, &o).expect("echoed template skipped");
        assert_eq!((v.option, v.confidence), (2, Some(0.9)));
        assert_eq!(vote("I cannot decide.", &o), None);
        assert_eq!(vote("VOTE: MongoDB", &o), None);
    }

    #[test]
    fn yes_no_votes_match_whole_words() {
        let o = opts(&["Yes", "No"]);
        assert_eq!(match_option("No.", &o), Some(1));
        assert_eq!(match_option("**yes**", &o), Some(0));
        assert_eq!(match_option("I don't know", &o), None);
    }

    #[test]
    fn positions_accept_labels_bold_and_bare_words() {
        let p = position("**POSITION:** disagree\nREASON: misses the migration.").expect("p");
        assert!(!p.agrees);
        assert_eq!(p.reason, "misses the migration.");
        assert!(position("Position: AGREE").expect("agree").agrees);
        assert!(position("I AGREE with the draft.").expect("bare").agrees);
        assert!(!position("I DISAGREE.").expect("bare").agrees);
        assert_eq!(position("It depends."), None);
    }

    #[test]
    fn synthesis_sections_are_split_into_lists() {
        let text = "Here is my synthesis.\n\n## Agreements:\n- Use SQLite\n- Add a unique index\n\n**DISAGREEMENTS:**\n- gemini: prefers WAL mode off\n- a point nobody owned\n\nINSIGHTS:\n- None\n\nCONCLUSION:\nUse SQLite with a unique index.\nMigrate once.";
        let s = synthesis(text);
        assert_eq!(s.agreements, vec!["Use SQLite", "Add a unique index"]);
        assert_eq!(
            s.disagreements,
            vec![
                ("gemini".to_owned(), "prefers WAL mode off".to_owned()),
                (String::new(), "a point nobody owned".to_owned())
            ]
        );
        assert!(s.insights.is_empty());
        assert_eq!(
            s.conclusion,
            "Use SQLite with a unique index.\nMigrate once."
        );
        let plain = synthesis("Just use SQLite.");
        assert_eq!(plain.conclusion, "Just use SQLite.");
    }

    #[test]
    fn options_come_from_numbered_lists_option_lines_or_default_to_yes_no() {
        assert_eq!(
            options("Which store?\n1. PostgreSQL\n2) SQLite\n3. JSON files"),
            opts(&["PostgreSQL", "SQLite", "JSON files"])
        );
        assert_eq!(
            options("Pick a runtime. Options: tokio, async-std or smol."),
            opts(&["tokio", "async-std", "smol"])
        );
        assert_eq!(options("Should we ship on Friday?"), opts(&["Yes", "No"]));
    }

    #[test]
    fn confidences_normalise() {
        assert_eq!(confidence("0.8"), Some(0.8));
        assert_eq!(confidence("80%"), Some(0.8));
        assert_eq!(confidence("7/10"), Some(0.7));
        assert_eq!(confidence("High"), Some(0.9));
        assert_eq!(confidence("8"), Some(0.8));
        assert_eq!(confidence("75"), Some(0.75));
        assert_eq!(confidence("unsure"), None);
    }
}
