//! Text from outside (model answers, provider error messages, agent fields) made safe
//! and readable on a terminal: [`escape_controls`] so no escape sequence a model wrote
//! reaches the terminal, [`wrap`] to a width counted in terminal columns (a CJK
//! character takes two), and [`output_width`] for the width to wrap to.

use std::io::IsTerminal;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The widest text is wrapped to, even on a wider terminal: longer lines are hard to
/// read.
pub const MAX_WIDTH: usize = 100;
/// The width used when stdout is not a terminal and `COLUMNS` does not say.
pub const DEFAULT_WIDTH: usize = 100;
const MIN_WIDTH: usize = 20;

/// `text` with every control character except newline and tab — C0, DEL, C1 (ESC,
/// CSI, OSC, BEL …) — and the Unicode bidirectional overrides written out visibly as
/// `\x1b`, `\u{202e}`. A `\r\n` line end becomes `\n`.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// How many terminal columns `text` takes.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// The width to wrap output to: the terminal's when stdout is one; else `COLUMNS`;
/// else the terminal's that stderr is on (`ax discuss … | head` on a terminal); else
/// [`DEFAULT_WIDTH`]. Never more than [`MAX_WIDTH`].
pub fn output_width() -> usize {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let tty = |fd: Option<(terminal_size::Width, terminal_size::Height)>| {
        fd.map(|(w, _)| usize::from(w.0)).filter(|w| *w > 0)
    };
    let from_stdout = if stdout.is_terminal() {
        tty(terminal_size::terminal_size_of(&stdout))
    } else {
        None
    };
    let from_columns = || {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|c| *c > 0)
    };
    let from_stderr = || {
        if stderr.is_terminal() {
            tty(terminal_size::terminal_size_of(&stderr))
        } else {
            None
        }
    };
    from_stdout
        .or_else(from_columns)
        .or_else(from_stderr)
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// `text` cut to at most `columns` terminal columns, ending in `…` when cut.
pub fn cut(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > columns {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `text` (already escaped) as lines of at most `width` columns, each starting with
/// `indent`. Lines that fit are kept as they are (so code and tables in an answer keep
/// their layout); longer ones are broken between words, keeping their own leading
/// spaces (and a list marker's width) on the continuation lines; a word longer than
/// a line is cut. Tabs become four spaces. Trailing blank lines are dropped.
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let room = width.saturating_sub(self::width(indent)).max(MIN_WIDTH / 2);
    let mut lines = Vec::new();
    for line in text.replace('\t', "    ").lines() {
        let line = line.trim_end();
        if line.is_empty() {
            lines.push(String::new());
            continue;
        }
        if self::width(line) <= room {
            lines.push(format!("{indent}{line}").trim_end().to_owned());
            continue;
        }
        let body = line.trim_start();
        let lead = &line[..line.len() - body.len()];
        let marker = ["- ", "* ", "• "]
            .iter()
            .find(|m| body.starts_with(**m))
            .map_or(0, |m| self::width(m));
        let hang = format!("{indent}{lead}{}", " ".repeat(marker));
        let limit = self::width(indent) + room;
        fill(body, limit, format!("{indent}{lead}"), &hang, &mut lines);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// One paragraph (no newlines) `text` after `first` on the first line, broken between
/// words into lines of at most `width` columns, the others starting with `hang`.
pub fn wrap_hanging(text: &str, width: usize, first: &str, hang: &str) -> Vec<String> {
    let limit = width.max(self::width(hang) + MIN_WIDTH / 2);
    let mut lines = Vec::new();
    fill(text.trim(), limit, first.to_owned(), hang, &mut lines);
    lines
}

/// Word-wrap `body` into `lines`: the first line starts as `current`, the others with
/// `hang`; none wider than `limit` unless one word cannot be cut shorter.
fn fill(body: &str, limit: usize, mut current: String, hang: &str, lines: &mut Vec<String>) {
    let mut fresh = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if !fresh && width(&current) + 1 + width(word) > limit {
            lines.push(std::mem::replace(&mut current, hang.to_owned()));
            fresh = true;
        }
        if !fresh {
            current.push(' ');
        }
        for c in word.chars() {
            let w = c.width().unwrap_or(0);
            if width(&current) + w > limit && width(&current) > width(hang) {
                let full = std::mem::replace(&mut current, hang.to_owned());
                lines.push(full.trim_end().to_owned());
            }
            current.push(c);
        }
        fresh = false;
    }
    lines.push(current.trim_end().to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_out_not_sent() {
        let evil = "a\x1b[2J\x1b]52;c;ZXZpbA==\x07b\u{9b}31m\r\nc\td\re\u{7f}\u{202e}f";
        let safe = escape_controls(evil);
        assert_eq!(
            safe,
            "a\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07b\\x9b31m\nc\td\\x0de\\x7f\\u{202e}f"
        );
        assert!(
            !safe
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
        assert_eq!(escape_controls("日本語 ✓ émoji 🎉"), "日本語 ✓ émoji 🎉");
    }

    #[test]
    fn long_lines_wrap_between_words_at_the_width_in_columns() {
        let text = "one two three four five six seven eight nine ten";
        assert_eq!(
            wrap(text, 20, "  "),
            [
                "  one two three four",
                "  five six seven",
                "  eight nine ten"
            ]
        );
        for line in wrap(text, 20, "  ") {
            assert!(width(&line) <= 20, "{line:?}");
        }
        // Double-width characters count twice.
        let cjk = "日本語のテキストはとても長いのでここで折り返す必要があります";
        let lines = wrap(cjk, 20, "");
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(width(line) <= 20, "{line:?} is {} wide", width(line));
        }
        assert_eq!(lines.concat(), cjk, "nothing lost");
    }

    #[test]
    fn cutting_counts_columns() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
        assert_eq!(cut("日本語のテキスト", 7), "日本語…");
        assert!(width(&cut("日本語のテキスト", 7)) <= 7);
    }

    #[test]
    fn short_lines_keep_their_layout_and_lists_hang() {
        let code = "fn main() {\n    println!(\"hi\");\n}\n\n\n";
        assert_eq!(
            wrap(code, 40, "| "),
            ["| fn main() {", "|     println!(\"hi\");", "| }"]
        );
        assert_eq!(
            wrap("- alpha beta gamma delta", 14, ""),
            ["- alpha beta", "  gamma delta"]
        );
        assert_eq!(wrap("\tx", 40, ""), ["    x"]);
        let long_word = "x".repeat(25);
        assert_eq!(wrap(&long_word, 20, ""), ["x".repeat(20), "x".repeat(5)]);
        assert!(wrap("", 40, "  ").is_empty());
        assert_eq!(
            wrap_hanging("alpha beta gamma delta", 16, "label: ", "  "),
            ["label: alpha", "  beta gamma", "  delta"]
        );
    }
}
