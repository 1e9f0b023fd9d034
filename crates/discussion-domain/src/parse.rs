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

/// The options of a vote, from the topic: the explicit choices of [`topic_choices`],
/// else Yes/No (the topic is a yes/no question).
pub fn options(topic: &str) -> Vec<String> {
    topic_choices(topic).unwrap_or_else(|| vec!["Yes".to_owned(), "No".to_owned()])
}

/// The choices a topic offers, in the order it names them, or `None` when it offers
/// none (a yes/no question). Looked for in this order:
/// 1. a numbered list (`1. A` / `2) B`, at least two items);
/// 2. an `Options: a, b, c` line (commas, `|`, `/`, `;` or ` or `);
/// 3. the alternatives of a sentence: `X or Y`, `X vs Y` (`vs.`, `versus`), `X, Y or Z`,
///    `between X and Y`, cleaned of the question around them ("Should we use
///    PostgreSQL or SQLite for the registry?" → PostgreSQL, SQLite). Questions (ending
///    in `?`) are tried first; `X or not` is a yes/no question.
pub fn topic_choices(topic: &str) -> Option<Vec<String>> {
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
        return Some(numbered);
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
                return Some(items);
            }
        }
    }
    let sentences = sentences(topic);
    sentences
        .iter()
        .filter(|(_, question)| *question)
        .chain(sentences.iter().filter(|(_, question)| !*question))
        .find_map(|(words, _)| alternatives(words))
}

/// Most words of one derived option; longer "options" are prose, not choices.
const MAX_OPTION_WORDS: usize = 10;
/// Most options derived from a sentence.
const MAX_DERIVED_OPTIONS: usize = 8;

/// Words that join alternatives.
fn is_separator(word: &str) -> bool {
    ["or", "vs", "vs.", "versus", "v."]
        .iter()
        .any(|s| word.eq_ignore_ascii_case(s))
}

/// Words that lead into the alternatives of a question ("Should we use …", "Is it
/// better to …", "Which should we pick, …") and are not part of the first one.
fn is_lead_in(word: &str) -> bool {
    const LEAD_INS: &[&str] = &[
        "should", "shall", "would", "could", "can", "do", "does", "did", "is", "are", "was",
        "were", "will", "we", "i", "you", "they", "it", "us", "use", "using", "choose", "pick",
        "prefer", "go", "with", "adopt", "switch", "to", "better", "be", "best", "which", "what",
        "whether", "either", "want", "need", "let's", "lets", "rather", "stick", "keep", "select",
        "between",
    ];
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
    LEAD_INS.iter().any(|l| w.eq_ignore_ascii_case(l))
}

/// Verbs of choosing, after which the first alternative starts.
fn is_choosing(word: &str) -> bool {
    [
        "use", "using", "choose", "pick", "prefer", "adopt", "select",
    ]
    .iter()
    .any(|v| word.eq_ignore_ascii_case(v))
}

/// Words that start a qualifier after the last alternative ("… SQLite for a CLI
/// tool's registry") or before the first one ("… the service in Rust or Go").
fn is_qualifier(word: &str) -> bool {
    const QUALIFIERS: &[&str] = &[
        "for", "in", "to", "with", "when", "if", "because", "given", "since", "as", "at", "from",
        "so", "that", "which", "while", "without", "within", "instead", "using", "via", "by", "of",
        "into", "over", "under", "during", "until",
    ];
    QUALIFIERS.iter().any(|q| word.eq_ignore_ascii_case(q))
}

/// Words that mean "the other choice is not to": `X or not`.
fn is_negation(option: &str) -> bool {
    ["not", "no", "nope", "not yet", "neither", "none", "nothing"]
        .iter()
        .any(|n| option.eq_ignore_ascii_case(n))
}

/// The topic's sentences as words, each marked when it ends in `?`. A sentence ends at
/// a line break or a word ending in `?`, `!`, `;` or `.` (not `vs.`, `e.g.` …).
fn sentences(topic: &str) -> Vec<(Vec<&str>, bool)> {
    let mut out = Vec::new();
    for line in topic.lines() {
        let mut words: Vec<&str> = Vec::new();
        for word in line.split_whitespace() {
            words.push(word);
            let abbreviation = ["vs.", "v.", "e.g.", "i.e.", "etc.", "approx."]
                .iter()
                .any(|a| word.eq_ignore_ascii_case(a));
            let end = word.trim_end_matches(['"', '\'', ')', '*', '`', '\u{201d}', '\u{2019}']);
            if end.ends_with('?') {
                out.push((std::mem::take(&mut words), true));
            } else if end.ends_with(['!', ';']) || (end.ends_with('.') && !abbreviation) {
                out.push((std::mem::take(&mut words), false));
            }
        }
        if !words.is_empty() {
            out.push((words, false));
        }
    }
    out
}

/// A word without the punctuation around it that is not part of an option.
fn clean_word(word: &str) -> &str {
    word.trim_start_matches(['"', '\'', '(', '*', '`', '\u{201c}', '\u{2018}', '[', '_'])
        .trim_end_matches([
            '?', '.', '!', ',', ';', ':', '"', '\'', ')', '*', '`', '\u{201d}', '\u{2019}', ']',
            '_',
        ])
}

/// The alternatives one sentence offers, cleaned; `None` unless there are two or more.
fn alternatives(words: &[&str]) -> Option<Vec<String>> {
    let between = words
        .iter()
        .rposition(|w| w.eq_ignore_ascii_case("between"))
        .filter(|at| {
            !words.iter().any(|w| is_separator(w))
                && words[at + 1..]
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case("and"))
        });
    // Groups of words, one per alternative; the first may still carry the question's
    // lead-in (and a comma list), the last a trailing qualifier.
    let span = match between {
        Some(at) => &words[at + 1..],
        None => words,
    };
    let mut groups: Vec<Vec<&str>> = vec![Vec::new()];
    for w in span {
        let joins = is_separator(w) || (between.is_some() && w.eq_ignore_ascii_case("and"));
        if joins {
            groups.push(Vec::new());
        } else if let Some(g) = groups.last_mut() {
            g.push(*w);
        }
    }
    if groups.len() < 2 {
        return None;
    }
    // Before the first separator, a comma list ("X, Y or Z") read from the right: the
    // group nearest the separator is an option; earlier ones are too while they look
    // like options, and the first one that needed its lead-in removed is the last.
    let first = groups.remove(0);
    let mut chunks: Vec<Vec<&str>> = vec![Vec::new()];
    for w in first {
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(w);
        }
        if w.ends_with(',') {
            chunks.push(Vec::new());
        }
    }
    chunks.retain(|c| !c.is_empty());
    let rest_max_words = groups.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut leading: Vec<String> = Vec::new();
    let first_of_rest = groups.first().and_then(|g| g.first()).copied();
    for (n, chunk) in chunks.iter().rev().enumerate() {
        let (text, had_lead_in) = strip_lead_in(chunk, rest_max_words, first_of_rest);
        let only_lead_in = had_lead_in && chunk.last().is_some_and(|w| is_lead_in(w));
        let too_long = chunk.len() > rest_max_words + 2 && !had_lead_in;
        if text.is_empty() || (n > 0 && (only_lead_in || too_long)) {
            break;
        }
        leading.insert(0, text);
        if had_lead_in {
            break;
        }
    }
    let mut options = leading;
    let count = groups.len();
    for (i, group) in groups.into_iter().enumerate() {
        // A later clause after a comma is not part of the option ("X or Y, and …").
        let mut cut: Vec<&str> = Vec::new();
        for w in group {
            cut.push(w);
            if w.ends_with(',') {
                break;
            }
        }
        if i + 1 == count
            && cut.len() > 1
            && let Some(at) = cut.iter().skip(1).position(|w| is_qualifier(w))
        {
            cut.truncate(at + 1);
        }
        options.push(join_clean(&cut));
    }
    let mut unique: Vec<String> = Vec::new();
    for o in options {
        if o.is_empty() {
            continue;
        }
        if o.split_whitespace().count() > MAX_OPTION_WORDS {
            return None;
        }
        if !unique.iter().any(|u| u.to_lowercase() == o.to_lowercase()) {
            unique.push(o);
        }
    }
    if unique.len() < 2
        || unique.len() > MAX_DERIVED_OPTIONS
        || unique.iter().any(|o| is_negation(o))
    {
        return None;
    }
    Some(unique)
}

/// The first alternative without the question leading into it: text after a colon,
/// without lead-in words (always keeping the last word), and, when still much longer
/// than the other alternatives, only the part after its last qualifier ("write the
/// service in Rust" → "Rust"; "keep it in memory" → "in memory" when the other
/// alternative starts with a preposition too). Returns the text and whether anything
/// was removed.
fn strip_lead_in(
    chunk: &[&str],
    rest_max_words: usize,
    first_of_rest: Option<&str>,
) -> (String, bool) {
    let mut start = chunk
        .iter()
        .rposition(|w| w.trim_end_matches(['*', '"']).ends_with(':'))
        .map_or(0, |at| at + 1);
    while start + 1 < chunk.len() && is_lead_in(chunk[start]) {
        start += 1;
    }
    // "Should the registry use SQLite": what follows the verb of choosing.
    if chunk.len() - start >= rest_max_words + 2
        && let Some(at) = chunk[start + 1..].iter().rposition(|w| is_choosing(w))
        && start + 1 + at + 1 < chunk.len()
    {
        start += at + 2;
    }
    // Parallel alternatives ("in memory or on disk") keep their preposition.
    let keep_preposition =
        first_of_rest.is_some_and(|w| is_qualifier(w) || w.eq_ignore_ascii_case("on"));
    let short_rest = rest_max_words == 1 || (rest_max_words == 2 && keep_preposition);
    if short_rest
        && chunk.len() - start >= rest_max_words + 2
        && let Some(at) = chunk[start + 1..].iter().rposition(|w| is_qualifier(w))
    {
        let at = start + 1 + at;
        let from = if keep_preposition { at } else { at + 1 };
        if from < chunk.len() {
            start = from;
        }
    }
    (join_clean(&chunk[start.min(chunk.len())..]), start > 0)
}

/// Words joined by single spaces, without the punctuation around the whole.
fn join_clean(words: &[&str]) -> String {
    let joined = words.join(" ");
    clean_word(joined.trim()).trim().to_owned()
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
    fn options_are_the_alternatives_a_topic_names_else_yes_no() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Should we use PostgreSQL or SQLite for a CLI tool's registry?",
                &["PostgreSQL", "SQLite"],
            ),
            ("A or B?", &["A", "B"]),
            ("PostgreSQL or SQLite?", &["PostgreSQL", "SQLite"]),
            (
                "Postgres vs SQLite vs files",
                &["Postgres", "SQLite", "files"],
            ),
            ("Postgres vs. SQLite.", &["Postgres", "SQLite"]),
            ("Tabs versus spaces", &["Tabs", "spaces"]),
            ("Rust, Go, or Zig?", &["Rust", "Go", "Zig"]),
            (
                "Should we use Postgres, MySQL or SQLite?",
                &["Postgres", "MySQL", "SQLite"],
            ),
            ("Which should we pick, Rust or Go?", &["Rust", "Go"]),
            ("Which is better: tabs or spaces?", &["tabs", "spaces"]),
            (
                "Should we write the service in Rust or Go?",
                &["Rust", "Go"],
            ),
            ("Go or Rust?", &["Go", "Rust"]),
            (
                "Is it better to rewrite the parser or patch it?",
                &["rewrite the parser", "patch it"],
            ),
            (
                "Keep the cache in memory or on disk?",
                &["in memory", "on disk"],
            ),
            ("Ruby on Rails or Django?", &["Ruby on Rails", "Django"]),
            (
                "Should we keep shipping features every week to our users or slow down?",
                &["shipping features every week to our users", "slow down"],
            ),
            (
                "Should we merge it now, or wait until every reviewer has read it twice?",
                &["merge it now", "wait"],
            ),
            ("Choose between Rust and Go for the CLI.", &["Rust", "Go"]),
            ("`tokio` or `smol`?", &["tokio", "smol"]),
            (
                "We ship a small CLI. Should it store data in JSON or TOML?",
                &["JSON", "TOML"],
            ),
            ("Ünïcode or ASCII?", &["Ünïcode", "ASCII"]),
            ("Should the editor use tabs or spaces?", &["tabs", "spaces"]),
            (
                "Vendor the crates or fetch them?",
                &["Vendor the crates", "fetch them"],
            ),
        ];
        for (topic, expected) in cases {
            assert_eq!(&options(topic), expected, "{topic}");
        }
        // A yes/no question (or nothing that reads as alternatives) keeps Yes/No.
        for topic in [
            "Should we ship?",
            "Should we ship on Friday?",
            "Is the editor ready for the release?",
            "Should we adopt Rust or not?",
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda or mu?",
            "or",
            "?",
            "",
            "vs vs vs",
            "   \n\n",
        ] {
            assert_eq!(options(topic), opts(&["Yes", "No"]), "{topic:?}");
        }
    }

    #[test]
    fn deriving_options_never_panics_on_odd_input() {
        let long = "Rust or Go, ".repeat(500);
        let odd = [
            long.as_str(),
            "İİİ or ßß?",
            "🦀 vs 🐹",
            ", or ,",
            "or or or?",
            "between and",
            "\u{200b} or \u{200b}",
            "x:\u{301} or y",
        ];
        for topic in odd {
            let o = options(topic);
            assert!(o.len() >= 2, "{topic:?}: {o:?}");
            assert!(o.iter().all(|x| !x.trim().is_empty()), "{topic:?}: {o:?}");
        }
        assert_eq!(options("🦀 vs 🐹"), opts(&["🦀", "🐹"]));
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
