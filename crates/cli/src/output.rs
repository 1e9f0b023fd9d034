//! Printing for people and for programs: `--format json` prints exactly one JSON
//! document on stdout; text output uses aligned tables, truncates long fields with an
//! ellipsis, and uses colour only on a terminal and never with `NO_COLOR`.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::args::Format;
use crate::error::CliError;

/// Where command output goes, in which format.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// The chosen format.
    pub format: Format,
    colour: bool,
    quiet: bool,
}

impl Out {
    /// Output in `format`, with colour decided from the environment.
    pub fn new(format: Format) -> Self {
        let colour = std::io::stdout().is_terminal() && colour_allowed();
        Self {
            format,
            colour,
            quiet: false,
        }
    }

    /// The same, quiet or not (`-q`).
    pub fn with_quiet(self, quiet: bool) -> Self {
        Self { quiet, ..self }
    }

    /// True for `--format json`.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// True with `-q`: text output is only what went wrong, on stderr; no progress,
    /// no confirmations. (`--format json` still prints its one document.)
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Print `value` as the one JSON document of this command.
    pub fn print_json<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::failure(format!("cannot encode output: {e}")))?;
        self.line(&text)
    }

    /// Write `bytes` to stdout as they are; a closed pipe is not an error.
    pub fn raw(&self, bytes: &[u8]) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(|e| CliError::failure(format!("cannot write output: {e}"))),
        }
    }

    /// Print one line of text on stdout. A closed pipe (`ax agent list | head`) ends
    /// output quietly.
    pub fn line(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        match writeln!(stdout, "{text}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(|e| CliError::failure(format!("cannot write output: {e}"))),
        }
    }

    /// `text` in bold when colour is on.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// `text` dimmed when colour is on.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// `text` in green when colour is on.
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// `text` in red when colour is on.
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// `text` in yellow when colour is on.
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Print an aligned table: a header row and rows of cells, each column at most
    /// `max_widths[i]` characters (longer cells end in `…`).
    pub fn table(
        &self,
        header: &[&str],
        rows: &[Vec<String>],
        max_widths: &[usize],
    ) -> Result<(), CliError> {
        for line in self.table_lines(header, rows, max_widths) {
            self.line(&line)?;
        }
        Ok(())
    }

    /// The lines [`Out::table`] prints.
    pub fn table_lines(
        &self,
        header: &[&str],
        rows: &[Vec<String>],
        max_widths: &[usize],
    ) -> Vec<String> {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, cell)| {
                        truncate(cell, max_widths.get(i).copied().unwrap_or(usize::MAX))
                    })
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &cells {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let render = |row: &[String]| {
            let last = row.len().saturating_sub(1);
            row.iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        c.clone()
                    } else {
                        pad(c, widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let head: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        let mut lines = vec![self.bold(&render(&head))];
        lines.extend(cells.iter().map(|row| render(row)));
        lines
    }
}

/// Colour is allowed unless `NO_COLOR` is set to a non-empty value (no-color.org).
pub fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` on one line, cut to `max` characters with a trailing ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// The stderr part of a failed command: `error: message`, its detail lines and the
/// hint. Also used when a command prints its result on stdout and still failed (a
/// discussion that ran and failed).
pub fn explain(err: &CliError) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {}", err.message);
    for line in &err.lines {
        let _ = writeln!(stderr, "{line}");
    }
    if let Some(hint) = &err.hint {
        let _ = writeln!(stderr, "hint: {hint}");
    }
}

/// Print a failed command: one line on stderr (plus detail lines and a hint) and, for
/// `--format json`, the error document on stdout.
pub fn report_error(format: Format, err: &CliError) {
    explain(err);
    if format == Format::Json
        && let Ok(text) = serde_json::to_string_pretty(&err.envelope())
    {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_flattens_lines() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a\nmulti   line\ttext", 100), "a multi line text");
        assert_eq!(truncate("日本語のテキスト", 4), "日本語…");
        assert_eq!(truncate("abcdef", 3), "ab…");
    }
}
