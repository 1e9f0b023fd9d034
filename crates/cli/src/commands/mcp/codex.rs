//! Codex's `config.toml`: the `[mcp_servers.ax]` table, every other byte kept.

use std::path::Path;

use super::SERVER_NAME;
use super::entry::ServerEntry;
use super::install::not_editable;
use crate::error::CliError;
use toml_edit::{Array, DocumentMut, Item, Table, Value};

/// Codex stops waiting for a tool after 60 s by default; discussions take longer.
const CODEX_TOOL_TIMEOUT_SEC: i64 = 1800;

impl ServerEntry {
    /// The `[mcp_servers.ax]` table for Codex: `command`, `args`, `tool_timeout_sec`.
    fn codex_table(&self) -> Table {
        let mut table = Table::new();
        table.insert("command", toml_edit::value(self.command.as_str()));
        table.insert(
            "args",
            toml_edit::value(self.args.iter().map(String::as_str).collect::<Array>()),
        );
        table.insert("tool_timeout_sec", toml_edit::value(CODEX_TOOL_TIMEOUT_SEC));
        table
    }

    /// The table as a snippet to paste: `[mcp_servers.ax]` and its keys.
    fn codex_snippet(&self) -> String {
        let mut servers = Table::new();
        servers.set_implicit(true);
        servers.insert(SERVER_NAME, Item::Table(self.codex_table()));
        let mut doc = DocumentMut::new();
        doc.insert("mcp_servers", Item::Table(servers));
        doc.to_string()
    }
}

/// Replace (or add) the `mcp_servers.ax` entry of a Codex `config.toml`, leaving the
/// rest of the file as it was: comments, order, spacing and quoting included.
///
/// The entry keeps the form the user gave it (a `[mcp_servers.ax]` table, dotted keys
/// or an inline table) and its place; a new one is appended as a
/// `[mcp_servers.ax]` table at the end of the file. The whole entry is ours: keys a
/// user added to it are replaced, as for the JSON clients.
pub(super) fn merge_codex_toml(
    existing: Option<&str>,
    entry: &ServerEntry,
    path: &Path,
) -> Result<(String, &'static str), CliError> {
    let text = existing.unwrap_or("");
    let before: toml::Table = text
        .parse()
        .map_err(|e| not_editable(path, &format!("it is not valid TOML ({e})")))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| not_editable(path, &format!("it is not valid TOML ({e})")))?;
    let wanted = entry.codex_table();
    // The same entry as plain data, to compare with what the file holds.
    let wanted_value = wanted
        .to_string()
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| CliError::failure(format!("cannot encode the Codex entry: {e}")))?;
    let current = before.get("mcp_servers").and_then(|s| s.get(SERVER_NAME));
    let action = match current {
        Some(current) if *current == wanted_value => return Ok((text.to_owned(), "unchanged")),
        Some(_) => "updated",
        None => "added",
    };
    let last_position = last_table_position(doc.as_table());
    let servers = doc.entry("mcp_servers").or_insert_with(|| {
        let mut servers = Table::new();
        servers.set_implicit(true);
        Item::Table(servers)
    });
    match servers {
        Item::Table(servers) => {
            let replaced = match servers.get_mut(SERVER_NAME) {
                Some(Item::Table(old)) => {
                    let mut new = wanted;
                    new.set_dotted(old.is_dotted());
                    new.set_position(old.position());
                    *new.decor_mut() = old.decor().clone();
                    Item::Table(new)
                }
                Some(Item::Value(Value::InlineTable(old))) => {
                    let mut new = wanted.into_inline_table();
                    *new.decor_mut() = old.decor().clone();
                    Item::Value(Value::InlineTable(new))
                }
                Some(_) => {
                    return Err(not_editable(path, "`mcp_servers.ax` is not a table"));
                }
                None => {
                    let mut new = wanted;
                    new.set_position(Some(last_position.saturating_add(1)));
                    Item::Table(new)
                }
            };
            servers.insert(SERVER_NAME, replaced);
        }
        Item::Value(Value::InlineTable(servers)) => {
            let mut new = wanted.into_inline_table();
            if let Some(old) = servers.get(SERVER_NAME) {
                *new.decor_mut() = old.decor().clone();
            }
            servers.insert(SERVER_NAME, Value::InlineTable(new));
        }
        _ => return Err(not_editable(path, "`mcp_servers` is not a table")),
    }
    let new_text = doc.to_string();
    // Check the edit: valid TOML, our entry as wanted, everything else as it was.
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
    let mut before = before;
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
    if written.as_ref() != Some(&wanted_value) || before != after {
        return Err(CliError::failure(format!(
            "cannot edit {} safely; add the [mcp_servers.ax] table yourself:\n{}",
            path.display(),
            entry.codex_snippet()
        )));
    }
    Ok((new_text, action))
}

/// The largest position of a table (header) in the document, so a new table can go
/// after all of them: a table without a position is printed after its siblings, which
/// would put `[mcp_servers.ax]` in the middle of the file.
fn last_table_position(table: &Table) -> isize {
    table
        .iter()
        .map(|(_, item)| match item {
            Item::Table(t) => t.position().unwrap_or(0).max(last_table_position(t)),
            Item::ArrayOfTables(array) => array
                .iter()
                .map(|t| t.position().unwrap_or(0).max(last_table_position(t)))
                .max()
                .unwrap_or(0),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
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

    #[test]
    fn an_update_keeps_the_comments_and_tables_around_the_entry() {
        let existing = "# Codex settings\nmodel = \"o3\" # default\n\n# ax: installed by `ax mcp install`\n[mcp_servers.ax]\ncommand = \"/old/ax\"\nargs = [\"mcp\",\"serve\"]\n\n# the other server\n[mcp_servers.other]\ncommand = \"x\"   # keep me\nargs = [ \"a\",  'b' ]\n\n[profiles.fast]\nmodel = \"mini\"\n# trailing comment\n";
        let (text, action) =
            merge_codex_toml(Some(existing), &ServerEntry::sample(), Path::new("c"))
                .expect("merge");
        assert_eq!(action, "updated");
        assert_eq!(
            text,
            existing.replace(
                "command = \"/old/ax\"\nargs = [\"mcp\",\"serve\"]\n",
                "command = \"/opt/ax/bin/ax\"\nargs = [\"mcp\", \"serve\"]\ntool_timeout_sec = 1800\n"
            ),
            "only the entry's own lines changed"
        );
    }

    #[test]
    fn dotted_and_inline_entries_are_edited_in_their_own_form() {
        let dotted = "[mcp_servers]\nax.command = \"old\"\nother.command = \"x\"\n\n[tui]\nx = 1\n";
        let inline = "mcp_servers = { other = { command = \"x\" }, ax = { command = \"old\" } }\n[tui]\nx = 1\n";
        for (existing, expected) in [
            (
                dotted,
                "[mcp_servers]\nax.command = \"/opt/ax/bin/ax\"\nax.args = [\"mcp\", \"serve\"]\nax.tool_timeout_sec = 1800\nother.command = \"x\"\n\n[tui]\nx = 1\n",
            ),
            (
                inline,
                "mcp_servers = { other = { command = \"x\" }, ax = { command = \"/opt/ax/bin/ax\", args = [\"mcp\", \"serve\"], tool_timeout_sec = 1800 } }\n[tui]\nx = 1\n",
            ),
        ] {
            let (text, action) =
                merge_codex_toml(Some(existing), &ServerEntry::sample(), Path::new("c"))
                    .expect("merge");
            assert_eq!((text.as_str(), action), (expected, "updated"));
            let (again, action) =
                merge_codex_toml(Some(&text), &ServerEntry::sample(), Path::new("c"))
                    .expect("merge");
            assert_eq!((again.as_str(), action), (text.as_str(), "unchanged"));
        }
    }

    #[test]
    fn a_file_ax_cannot_edit_is_refused_untouched() {
        for existing in [
            "[[mcp_servers]]\nx = 1\n",
            "mcp_servers = 5\n",
            "[mcp_servers]\nax = 1\n",
            "model = ",
        ] {
            let err = merge_codex_toml(Some(existing), &ServerEntry::sample(), Path::new("c"))
                .expect_err("refused");
            assert!(
                err.message.starts_with("not changing c:"),
                "{}",
                err.message
            );
        }
    }
}
