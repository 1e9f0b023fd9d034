//! Codex's `config.toml`: the `[mcp_servers.ax]` table, every other byte kept.

use std::path::Path;

use super::SERVER_NAME;
use super::entry::ServerEntry;
use super::install::not_editable;
use crate::error::CliError;

/// Codex stops waiting for a tool after 60 s by default; discussions take longer.
const CODEX_TOOL_TIMEOUT_SEC: u64 = 1800;

impl ServerEntry {
    /// The `[mcp_servers.ax]` table for Codex.
    fn toml(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| toml_string(a)).collect();
        format!(
            "[mcp_servers.{SERVER_NAME}]\ncommand = {}\nargs = [{}]\ntool_timeout_sec = {CODEX_TOOL_TIMEOUT_SEC}\n",
            toml_string(&self.command),
            args.join(", ")
        )
    }
}

/// Replace (or append) the `[mcp_servers.ax]` table of a Codex `config.toml`,
/// leaving every other byte of the file as it was (comments included).
pub(super) fn merge_codex_toml(
    existing: Option<&str>,
    entry: &ServerEntry,
    path: &Path,
) -> Result<(String, &'static str), CliError> {
    let block = entry.toml();
    let text = existing.unwrap_or("");
    let parsed: toml::Table = text
        .parse()
        .map_err(|e| not_editable(path, &format!("it is not valid TOML ({e})")))?;
    let had_entry = parsed
        .get("mcp_servers")
        .and_then(|s| s.get(SERVER_NAME))
        .is_some();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.iter().position(|l| is_our_header(l));
    let (new_text, action) = match start {
        None if had_entry => {
            return Err(not_editable(
                path,
                "mcp_servers.ax is defined in a form ax does not edit (inline or dotted keys); replace it with the snippet of `ax mcp config`",
            ));
        }
        None => {
            let mut new_text = text.to_owned();
            if !new_text.is_empty() && !new_text.ends_with('\n') {
                new_text.push('\n');
            }
            if !new_text.is_empty() {
                new_text.push('\n');
            }
            new_text.push_str(&block);
            (new_text, "added")
        }
        Some(start) => {
            // Our table runs to the next header that is not one of its sub-tables.
            let end = lines[start + 1..]
                .iter()
                .position(|l| is_header(l) && !is_our_header(l))
                .map_or(lines.len(), |i| start + 1 + i);
            let current: String = lines[start..end].concat();
            if current.trim_end() == block.trim_end() {
                return Ok((text.to_owned(), "unchanged"));
            }
            let mut new_text: String = lines[..start].concat();
            new_text.push_str(&block);
            if end < lines.len() {
                new_text.push('\n');
                new_text.push_str(&lines[end..].concat());
            }
            (new_text, "updated")
        }
    };
    // Check the edit: valid TOML, our entry as written, everything else as it was.
    let mut after: toml::Table = new_text.parse().map_err(|e| {
        CliError::failure(format!(
            "editing {} produced invalid TOML: {e}",
            path.display()
        ))
    })?;
    let written = after
        .get_mut("mcp_servers")
        .and_then(|s| s.as_table_mut())
        .and_then(|s| s.remove(SERVER_NAME));
    let mut before = parsed;
    if let Some(servers) = before.get_mut("mcp_servers").and_then(|s| s.as_table_mut()) {
        servers.remove(SERVER_NAME);
    }
    let drop_empty = |t: &mut toml::Table| {
        if t.get("mcp_servers")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.is_empty())
        {
            t.remove("mcp_servers");
        }
    };
    drop_empty(&mut before);
    drop_empty(&mut after);
    if written.is_none() || before != after {
        return Err(CliError::failure(format!(
            "cannot edit {} safely; add the [mcp_servers.ax] table yourself:\n{block}",
            path.display()
        )));
    }
    Ok((new_text, action))
}

/// A TOML table header line (`[x]`, not `[[x]]`).
fn is_header(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('[') && !line.starts_with("[[")
}

/// `[mcp_servers.ax]` or one of its sub-tables, however spaced or quoted.
fn is_our_header(line: &str) -> bool {
    if !is_header(line) {
        return false;
    }
    let line = line.trim();
    let Some(end) = line.find(']') else {
        return false;
    };
    let key: String = line[1..end]
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    key == format!("mcp_servers.{SERVER_NAME}")
        || key.starts_with(&format!("mcp_servers.{SERVER_NAME}."))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    // JSON string escaping is valid TOML basic-string escaping for every character.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_merge_keeps_every_other_byte() {
        let existing = "# my codex config\nmodel = \"o3\"\n\n[mcp_servers.other]\ncommand = \"x\" # keep me\n\n[profiles.fast]\nmodel = \"mini\"\n";
        let (text, action) =
            merge_codex_toml(Some(existing), &ServerEntry::sample(), Path::new("c"))
                .expect("merge");
        assert_eq!(action, "added");
        assert!(text.starts_with(existing), "{text}");
        assert!(text.contains(
            "[mcp_servers.ax]\ncommand = \"/opt/ax/bin/ax\"\nargs = [\"mcp\", \"serve\"]"
        ));
        let (again, action) =
            merge_codex_toml(Some(&text), &ServerEntry::sample(), Path::new("c")).expect("merge");
        assert_eq!((again.as_str(), action), (text.as_str(), "unchanged"));

        let moved = ServerEntry {
            command: "/usr/local/bin/ax".into(),
            ..ServerEntry::sample()
        };
        let (updated, action) =
            merge_codex_toml(Some(&text), &moved, Path::new("c")).expect("merge");
        assert_eq!(action, "updated");
        assert!(updated.starts_with(existing));
        assert!(updated.contains("/usr/local/bin/ax") && !updated.contains("/opt/ax/bin/ax"));
    }

    #[test]
    fn toml_table_in_the_middle_is_replaced_in_place() {
        let existing = "[mcp_servers.ax]\ncommand = \"old\"\n[mcp_servers.ax.env]\nA = \"1\"\n\n[tui]\nnotifications = true\n";
        let (text, action) =
            merge_codex_toml(Some(existing), &ServerEntry::sample(), Path::new("c"))
                .expect("merge");
        assert_eq!(action, "updated");
        assert!(text.ends_with("[tui]\nnotifications = true\n"), "{text}");
        assert!(!text.contains("old"));
    }
}
