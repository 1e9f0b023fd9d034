//! A discussion result as text for people: every round with each participant's
//! answer (wrapped, labelled with speaker, role or vote, and time; failed calls with
//! their reason), then the vote tally or synthesis and the consensus with dissent.
//! The `--summary` form leaves the rounds out.
//!
//! Everything taken from the result (answers, provider messages, agent ids, the topic)
//! passes [`escape_controls`] before it is printed: a model cannot send the terminal
//! an escape sequence. Colour comes only from [`Out`], after escaping.

use ax_contracts::discussion::{
    DiscussionResult, DiscussionRound, Pattern, ProviderResponseRecord, SubDiscussion,
    VotingResults,
};

use crate::output::{Out, truncate};
use crate::text::{escape_controls, width, wrap, wrap_hanging};

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Colour and format.
    pub out: Out,
    /// Columns to wrap to.
    pub width: usize,
    /// Today's short form: no rounds.
    pub summary: bool,
}

/// Indent of answer text under its speaker line.
const BODY: &str = "    ";
/// The fewest columns of text worth putting beside a label.
const MIN_TEXT: usize = 12;

/// The whole result as text, one `\n`-terminated line after another.
pub fn render(result: &DiscussionResult, view: View) -> String {
    let mut r = Renderer {
        view,
        lines: Vec::new(),
    };
    r.result(result);
    let mut text = r.lines.join("\n");
    text.push('\n');
    text
}

/// `text` made safe for the terminal.
fn esc(text: &str) -> String {
    escape_controls(text)
}

/// `text` without the colour codes [`Out`] adds.
fn plain(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        plain.push_str(&rest[..start]);
        rest = &rest[start..];
        match rest.find('m') {
            Some(end) => rest = &rest[end + 1..],
            None => break,
        }
    }
    plain.push_str(rest);
    plain
}

/// Columns `text` takes on screen, not counting the colour codes [`Out`] adds.
fn visible_width(text: &str) -> usize {
    width(&plain(text))
}

/// `n thing` / `n things`.
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

struct Renderer {
    view: View,
    lines: Vec<String>,
}

impl Renderer {
    fn out(&self) -> Out {
        self.view.out
    }

    fn push(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| !l.is_empty()) {
            self.lines.push(String::new());
        }
    }

    /// Escaped, wrapped text under `indent`.
    fn text(&mut self, text: &str, indent: &str) {
        let lines = wrap(&esc(text.trim()), self.view.width, indent);
        self.lines.extend(lines);
    }

    /// `label text…` wrapped with continuation lines under the text (or, for a long
    /// label, indented a little).
    fn labelled(&mut self, indent: &str, label: &str, text: &str) {
        // Continuation lines line up after the label, unless that wastes a third of
        // the line.
        let after_label = width(indent) + visible_width(label) + 1;
        let hang = if after_label <= self.view.width / 3 {
            " ".repeat(after_label)
        } else {
            " ".repeat(width(indent) + 4)
        };
        let body = esc(text.trim());
        if after_label + MIN_TEXT > self.view.width {
            // No room beside the label: the text goes under it.
            if visible_width(label) + width(indent) <= self.view.width {
                self.push(format!("{indent}{label}"));
            } else {
                let label = wrap_hanging(&plain(label), self.view.width, indent, &hang);
                self.lines.extend(label);
            }
            self.lines.extend(wrap(&body, self.view.width, &hang));
            return;
        }
        let (first, rest) = body.split_once('\n').unwrap_or((&body, ""));
        // Wrap with a stand-in of the label's width (the label may carry colour codes).
        let stand_in = "x".repeat(visible_width(label));
        let mut lines = wrap_hanging(
            first,
            self.view.width,
            &format!("{indent}{stand_in} "),
            &hang,
        );
        if let Some(line) = lines.first_mut() {
            let after = line.get(indent.len() + stand_in.len()..).unwrap_or("");
            *line = format!("{indent}{label}{after}");
        }
        lines.extend(wrap(rest, self.view.width, &hang));
        self.lines.extend(lines);
    }

    /// `── Title ─────…` across the width.
    fn heading(&mut self, title: &str) {
        self.blank();
        let head = format!("── {title} ");
        let fill = self.view.width.saturating_sub(width(&head));
        let rule = format!("{head}{}", "─".repeat(fill));
        self.push(self.out().bold(&rule));
    }

    fn result(&mut self, result: &DiscussionResult) {
        let out = self.out();
        if result.metadata.simulated {
            let start = self.lines.len();
            self.labelled(
                "",
                "⚠ SIMULATED:",
                "answers came from the built-in mock providers, not from AI models.",
            );
            for line in &mut self.lines[start..] {
                *line = out.yellow(line);
            }
            let start = self.lines.len();
            self.text(
                "Install or configure a provider (see `ax providers list`) for real answers.",
                "  ",
            );
            for line in &mut self.lines[start..] {
                *line = out.dim(line);
            }
            self.blank();
        }
        self.labelled("", &out.bold("Topic:"), &result.topic);
        let speakers = if result.participating_providers.is_empty() {
            "nobody answered".to_owned()
        } else {
            result.participating_providers.join(", ")
        };
        self.labelled(
            "",
            &out.bold("Pattern:"),
            &format!(
                "{} · {} · {speakers}",
                result.pattern.as_str(),
                count(result.rounds.len(), "round"),
            ),
        );
        // Failures not visible in a round (e.g. a provider that is not installed).
        let shown_in_rounds = |provider: &str| {
            !self.view.summary
                && result
                    .rounds
                    .iter()
                    .flat_map(|r| &r.responses)
                    .any(|x| x.provider == provider && x.error.is_some())
        };
        let unseen: Vec<_> = result
            .failed_providers
            .iter()
            .filter(|f| !shown_in_rounds(&f.provider))
            .collect();
        for failed in unseen {
            let label = format!("  {} failed ({}):", esc(&failed.provider), failed.code);
            let message = if self.view.summary {
                truncate(&failed.message, 160)
            } else {
                failed.message.clone()
            };
            let start = self.lines.len();
            self.labelled("", &label, &message);
            for line in &mut self.lines[start..] {
                *line = out.red(line);
            }
        }
        self.body(result, "");
        if let Some(error) = &result.error {
            self.blank();
            let line = format!("✗ failed ({}): {}", error.code.as_str(), error.message);
            let start = self.lines.len();
            self.text(&line, "");
            for line in &mut self.lines[start..] {
                *line = out.red(line);
            }
        }
        self.blank();
        let cost = &result.metadata.cost_summary;
        let tokens = if cost.total_tokens > 0 {
            format!(" · {} tokens", cost.total_tokens)
        } else {
            String::new()
        };
        let footer = format!(
            "{} · {}, {} · at most {} in flight{tokens}",
            seconds(result.total_duration_ms),
            count(cost.total_calls as usize, "call"),
            if cost.retries == 1 {
                "1 retry".to_owned()
            } else {
                format!("{} retries", cost.retries)
            },
            result.metadata.max_in_flight
        );
        for line in wrap_hanging(&footer, self.view.width, "", "  ") {
            self.push(out.dim(&line));
        }
        // Never wrapped: the id must stay whole to be copied.
        let id = esc(&result.discussion_id);
        self.push(out.dim(&format!("saved: ax discuss show {id}")));
    }

    /// Rounds (unless summary), votes, synthesis, consensus, sub-discussions.
    fn body(&mut self, result: &DiscussionResult, numbering: &str) {
        if !self.view.summary {
            for round in &result.rounds {
                self.round(result, round);
            }
        }
        if let Some(voting) = &result.voting_results {
            self.votes(voting);
        }
        if !result.synthesis.trim().is_empty() {
            let by = match &result.consensus.synthesizer {
                Some(s) if result.voting_results.is_none() => format!(" · by {}", esc(s)),
                _ => String::new(),
            };
            let title = if result.voting_results.is_some() {
                "Result".to_owned()
            } else {
                format!("Synthesis{by}")
            };
            self.heading(&title);
            self.text(&result.synthesis, if self.view.summary { "" } else { "  " });
        }
        self.consensus(result);
        if let Some(subs) = &result.sub_discussions
            && !self.view.summary
        {
            for (n, sub) in subs.iter().enumerate() {
                self.sub_discussion(&format!("{numbering}{}", n + 1), sub);
            }
        }
    }

    fn round(&mut self, result: &DiscussionResult, round: &DiscussionRound) {
        let title = format!(
            "Round {} · {}",
            round.round_number,
            seconds(round.duration_ms)
        );
        self.heading(&title);
        if round.responses.is_empty() {
            self.push(self.out().dim("  (no answers)"));
        }
        for response in &round.responses {
            self.blank();
            self.response(result, response);
        }
    }

    fn response(&mut self, result: &DiscussionResult, r: &ProviderResponseRecord) {
        let out = self.out();
        let speaker = esc(&r.provider);
        let via = r
            .via_provider
            .as_ref()
            .map(|v| format!(" (agent, via {})", esc(v)))
            .unwrap_or_default();
        let mut facts = Vec::new();
        if let Some(role) = role_of(result, r) {
            facts.push(role);
        }
        if let Some(vote) = &r.vote {
            let confidence = r
                .confidence
                .map(|c| format!(" ({c:.2})"))
                .unwrap_or_default();
            facts.push(format!("votes {}{confidence}", esc(vote)));
        }
        let timing = if r.error.is_some() {
            format!("failed after {}", seconds(r.duration_ms))
        } else {
            seconds(r.duration_ms)
        };
        facts.push(timing.clone());
        if let Some(tokens) = r.token_count {
            facts.push(format!("{tokens} tokens"));
        }
        let plain = format!("{speaker}{via} · {}", facts.join(" · "));
        if width(&plain) <= self.view.width {
            let timing_painted = if r.error.is_some() {
                out.red(&timing)
            } else {
                timing.clone()
            };
            let facts: Vec<String> = facts
                .into_iter()
                .map(|f| {
                    if f == timing {
                        timing_painted.clone()
                    } else {
                        f
                    }
                })
                .collect();
            self.push(format!(
                "{}{via} · {}",
                out.bold(&speaker),
                facts.join(" · ")
            ));
        } else {
            let lines = wrap_hanging(
                &facts.join(" · "),
                self.view.width,
                &format!("{speaker}{via} · "),
                "  ",
            );
            self.lines.extend(lines);
        }
        match &r.error {
            Some(error) => {
                let start = self.lines.len();
                self.text(error, BODY);
                for line in &mut self.lines[start..] {
                    *line = out.red(line);
                }
            }
            None if r.content.trim().is_empty() => self.push(out.dim(&format!("{BODY}(empty)"))),
            None => self.text(&r.content, BODY),
        }
    }

    fn votes(&mut self, voting: &VotingResults) {
        let out = self.out();
        self.heading("Votes");
        let rows: Vec<Vec<String>> = voting
            .options
            .iter()
            .map(|o| {
                vec![
                    esc(o),
                    voting.votes.get(o).copied().unwrap_or(0).to_string(),
                    format!(
                        "{:.2}",
                        voting.weighted_votes.get(o).copied().unwrap_or(0.0)
                    ),
                ]
            })
            .collect();
        let option_width = self.view.width.saturating_sub(20).max(10);
        let table = out.table_lines(
            &["OPTION", "VOTES", "WEIGHTED"],
            &rows,
            &[option_width, 5, 8],
        );
        self.lines.extend(table);
        let verdict = match (&voting.winner, voting.tie) {
            (_, true) => format!("tie between {}", esc(&voting.tied_options.join(" and "))),
            (Some(w), false) => format!(
                "winner: {} (margin {:.2}{})",
                esc(w),
                voting.margin,
                if voting.unanimous { ", unanimous" } else { "" }
            ),
            (None, false) => "no winner".to_owned(),
        };
        self.push(out.bold(&verdict));
    }

    fn consensus(&mut self, result: &DiscussionResult) {
        let out = self.out();
        let consensus = &result.consensus;
        if !self.view.summary
            && result.rounds.is_empty()
            && !consensus.reached
            && consensus.agreements.is_empty()
            && consensus.dissent.is_empty()
        {
            // Nobody spoke: there is nothing to agree on, the failure says why.
            return;
        }
        let score = consensus
            .agreement_score
            .map(|s| format!(", agreement {s:.2}"))
            .unwrap_or_default();
        let reached = if consensus.reached {
            out.green("reached")
        } else {
            out.yellow("not reached")
        };
        let line = format!(
            "{} {reached} ({}{score})",
            out.bold("Consensus:"),
            consensus.method.as_str()
        );
        if self.view.summary {
            self.blank();
            self.push(line);
            for agreement in &consensus.agreements {
                self.push(format!("  agreed — {}", esc(&truncate(agreement, 160))));
            }
            for dissent in &consensus.dissent {
                self.push(format!(
                    "  dissent — {}: {}",
                    esc(&dissent.provider),
                    esc(&truncate(&dissent.position, 160))
                ));
            }
            return;
        }
        self.blank();
        let plain = format!(
            "── Consensus: {} ({}{score}) ",
            if consensus.reached {
                "reached"
            } else {
                "not reached"
            },
            consensus.method.as_str()
        );
        let fill = self.view.width.saturating_sub(width(&plain));
        self.push(format!(
            "{} {reached} {}",
            out.bold("── Consensus:"),
            out.bold(&format!(
                "({}{score}) {}",
                consensus.method.as_str(),
                "─".repeat(fill)
            ))
        ));
        for agreement in &consensus.agreements {
            self.labelled("  ", "agreed —", agreement);
        }
        for dissent in &consensus.dissent {
            self.labelled(
                "  ",
                &format!("dissent — {}:", out.bold(&esc(&dissent.provider))),
                &dissent.position,
            );
        }
        for insight in &consensus.insights {
            self.labelled("  ", "insight —", insight);
        }
        if consensus.dissent.is_empty() && consensus.reached {
            self.push(out.dim("  no dissent"));
        }
    }

    /// A sub-discussion numbered `number` (`1`, `1.2`, …) and what it said.
    fn sub_discussion(&mut self, number: &str, sub: &SubDiscussion) {
        let out = self.out();
        self.heading(&format!("Sub-discussion {number} (depth {})", sub.depth));
        self.labelled("", &out.bold("Point:"), &sub.point);
        if let Some(error) = &sub.error {
            let start = self.lines.len();
            self.text(&format!("{}: {}", error.code.as_str(), error.message), "  ");
            for line in &mut self.lines[start..] {
                *line = out.red(line);
            }
        }
        if let Some(result) = &sub.result {
            self.body(result, &format!("{number}."));
        }
    }
}

/// The speaker's role or stance: the recorded role (debate: proponent, opponent,
/// judge), or for a critique the proposer and the critics.
fn role_of(result: &DiscussionResult, r: &ProviderResponseRecord) -> Option<String> {
    if let Some(role) = r.role {
        return Some(role.as_str().to_owned());
    }
    if result.pattern != Pattern::Critique {
        return None;
    }
    // The proposer is round 1's first speaker that answered.
    let proposer = result
        .rounds
        .first()?
        .responses
        .iter()
        .find(|x| x.error.is_none())?;
    Some(if proposer.provider == r.provider {
        if r.round == 1 && std::ptr::eq(proposer, r) {
            "proposer".to_owned()
        } else {
            "proposer, revising".to_owned()
        }
    } else {
        "critic".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Format;
    use serde_json::{Value, json};

    fn sample() -> DiscussionResult {
        serde_json::from_value(json!({
            "discussionId": "d-1", "success": true, "pattern": "debate",
            "topic": "Should we use SQLite?",
            "participatingProviders": ["alpha", "beta"],
            "failedProviders": [{"provider": "gamma", "code": "timeout", "message": "no answer within 5s"}],
            "rounds": [
                {"roundNumber": 1, "durationMs": 1200, "responses": [
                    {"provider": "alpha", "round": 1, "role": "proponent", "content": "Yes: one file, no server, and WAL mode lets many readers work while one writer commits.", "durationMs": 1100, "tokenCount": 42},
                    {"provider": "gamma", "round": 1, "content": "", "durationMs": 5000, "error": "timeout: no answer within 5s"}
                ]},
                {"roundNumber": 2, "durationMs": 900, "responses": [
                    {"provider": "beta", "round": 2, "role": "opponent", "content": "No: a server scales further.", "durationMs": 800, "viaProvider": "claude"}
                ]}
            ],
            "synthesis": "SQLite, until a second machine needs the data.",
            "consensus": {"method": "moderator", "synthesizer": "judge", "reached": true, "agreementScore": 0.5,
                "agreements": ["Start simple."], "dissent": [{"provider": "beta", "position": "Plan for a server now."}]},
            "totalDurationMs": 2100,
            "metadata": {"startedAt": "x", "completedAt": "y", "costSummary": {"totalCalls": 3, "retries": 1, "totalTokens": 42, "byProvider": {}}, "maxInFlight": 2, "simulated": false}
        }))
        .expect("a valid result")
    }

    fn view(summary: bool) -> View {
        View {
            out: Out::new(Format::Text),
            width: 60,
            summary,
        }
    }

    #[test]
    fn the_full_form_shows_every_answer_labelled_then_the_conclusion() {
        let text = render(&sample(), view(false));
        for expected in [
            "── Round 1 · 1.2 s",
            "alpha · proponent · 1.1 s · 42 tokens",
            "    Yes: one file, no server, and WAL mode lets many readers",
            "    work while one writer commits.",
            "gamma · failed after 5.0 s",
            "    timeout: no answer within 5s",
            "beta (agent, via claude) · opponent · 0.8 s",
            "── Synthesis · by judge",
            "  SQLite, until a second machine needs the data.",
            "── Consensus: reached (moderator, agreement 0.50) ──",
            "  agreed — Start simple.",
            "  dissent — beta: Plan for a server now.",
            "2.1 s · 3 calls, 1 retry · at most 2 in flight · 42 tokens",
            "saved: ax discuss show d-1",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(
            !text.contains("gamma failed (timeout)"),
            "a failure shown in its round is not repeated:\n{text}"
        );
        for line in text.lines() {
            assert!(width(line) <= 60, "{line:?} is wider than 60 columns");
        }
    }

    #[test]
    fn sub_discussions_are_numbered_and_shown_in_full() {
        let mut inner = sample();
        inner.sub_discussions = Some(vec![SubDiscussion {
            point: "Is WAL enough?".into(),
            depth: 2,
            result: None,
            error: Some(ax_contracts::discussion::DiscussionFailure::new(
                ax_contracts::error::ErrorCode::DiscussionMaxDepthExceeded,
                "too deep",
            )),
        }]);
        let mut outer = sample();
        outer.sub_discussions = Some(vec![SubDiscussion {
            point: "beta holds: plan for a server now.".into(),
            depth: 1,
            result: Some(inner),
            error: None,
        }]);
        let text = render(&outer, view(false));
        for expected in [
            "── Sub-discussion 1 (depth 1) ",
            "Point: beta holds: plan for a server now.",
            "── Sub-discussion 1.1 (depth 2) ",
            "Point: Is WAL enough?",
            "  DISCUSSION_MAX_DEPTH_EXCEEDED: too deep",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert_eq!(text.matches("── Round 1 · ").count(), 2, "{text}");
        assert!(!render(&outer, view(true)).contains("Sub-discussion"));
    }

    #[test]
    fn labels_never_push_a_line_past_the_width() {
        let mut result = sample();
        result.failed_providers[0].provider = "a-provider-with-a-very-long-name".into();
        result.failed_providers[0].message = "word ".repeat(40);
        result.consensus.dissent[0].provider = "y".repeat(80);
        for width in [33, 60, 100] {
            let text = render(
                &result,
                View {
                    width,
                    ..view(false)
                },
            );
            for line in text
                .lines()
                .filter(|l| !l.starts_with("──") && !l.starts_with("saved: "))
            {
                assert!(
                    self::width(line) <= width || !line.trim().contains(' '),
                    "{line:?} is wider than {width}:\n{text}"
                );
            }
        }
    }

    #[test]
    fn the_summary_form_is_the_short_one() {
        let text = render(&sample(), view(true));
        assert!(!text.contains("Round 1"), "{text}");
        assert!(!text.contains("WAL mode"), "{text}");
        assert!(
            text.contains("gamma failed (timeout): no answer within 5s"),
            "{text}"
        );
        assert!(text.contains("SQLite, until a second machine"), "{text}");
        assert!(
            text.contains("dissent — beta: Plan for a server now."),
            "{text}"
        );
    }

    #[test]
    fn a_failed_run_with_nobody_heard_says_so_plainly() {
        let mut result = sample();
        result.rounds.clear();
        result.participating_providers.clear();
        result.success = false;
        result.error = Some(ax_contracts::discussion::DiscussionFailure::new(
            ax_contracts::error::ErrorCode::DiscussionInsufficientProviders,
            "no provider is available for this discussion",
        ));
        let text = render(&result, view(false));
        assert!(
            text.contains("debate · 0 rounds · nobody answered"),
            "{text}"
        );
        assert!(!text.contains("providers: \n"), "{text}");
        assert!(text.contains("gamma failed (timeout)"), "{text}");
        assert!(
            text.contains(
                "✗ failed (DISCUSSION_INSUFFICIENT_PROVIDERS): no provider is\navailable"
            ),
            "{text}"
        );
    }

    /// Put an escape sequence into every string of the result that can hold one and
    /// still be a valid result; none may come out.
    #[test]
    fn no_control_character_from_the_result_reaches_the_output() {
        fn strings(value: &Value, paths: &mut Vec<Vec<String>>, at: Vec<String>) {
            match value {
                Value::String(_) => paths.push(at),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let mut next = at.clone();
                        next.push(i.to_string());
                        strings(item, paths, next);
                    }
                }
                Value::Object(map) => {
                    for (k, item) in map {
                        let mut next = at.clone();
                        next.push(k.clone());
                        strings(item, paths, next);
                    }
                }
                _ => {}
            }
        }
        let clean = serde_json::to_value(sample()).expect("json");
        let mut paths = Vec::new();
        strings(&clean, &mut paths, Vec::new());
        let mut doc = clean.clone();
        let mut poisoned = 0;
        for path in paths {
            let pointer = format!("/{}", path.join("/"));
            let mut candidate = doc.clone();
            if let Some(Value::String(s)) = candidate.pointer_mut(&pointer) {
                s.push_str("\x1b]52;c;ZXZpbA==\x07\x1b[2J\u{9b}1m\r");
            }
            if serde_json::from_value::<DiscussionResult>(candidate.clone()).is_ok() {
                doc = candidate;
                poisoned += 1;
            }
        }
        assert!(poisoned > 15, "most strings poisoned ({poisoned})");
        let result: DiscussionResult = serde_json::from_value(doc).expect("valid");
        for summary in [false, true] {
            let text = render(&result, view(summary));
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "a control character got through:\n{text}"
            );
            assert!(text.contains("\\x1b]52;c;"), "shown escaped:\n{text}");
        }
    }
}
