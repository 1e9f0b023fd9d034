//! The JSON client files (Claude Code, Cursor, Gemini CLI, VS Code): servers under
//! one key, everything else kept.

use std::path::Path;

use serde_json::{Map, Value};

use super::install::not_editable;
use super::{SERVER_NAME, pretty};
use crate::error::CliError;

/// Put `entry` under `key.ax` in the JSON document `existing` (or a new one).
pub(super) fn merge_json(
    existing: Option<&str>,
    key: &str,
    entry: Value,
    path: &Path,
) -> Result<(String, &'static str), CliError> {
    let mut doc = match existing.map(str::trim) {
        None | Some("") => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(not_editable(path, "it is not a JSON object")),
            Err(e) => return Err(not_editable(path, &format!("it is not plain JSON ({e})"))),
        },
    };
    let servers = doc
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(not_editable(path, &format!("`{key}` is not an object")));
    };
    let action = match servers.get(SERVER_NAME) {
        Some(current) if *current == entry => "unchanged",
        Some(_) => "updated",
        None => "added",
    };
    servers.insert(SERVER_NAME.to_owned(), entry);
    let mut text = pretty(&Value::Object(doc))?;
    text.push('\n');
    if action == "unchanged"
        && let Some(existing) = existing
    {
        return Ok((existing.to_owned(), action));
    }
    Ok((text, action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mcp::entry::ServerEntry;

    #[test]
    fn json_merge_keeps_other_servers_and_is_idempotent() {
        let existing = r#"{"theme": "dark", "mcpServers": {"other": {"command": "x"}}}"#;
        let (text, action) = merge_json(
            Some(existing),
            "mcpServers",
            ServerEntry::sample().json(false, None),
            Path::new("f"),
        )
        .expect("merge");
        assert_eq!(action, "added");
        let doc: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["theme"], "dark");
        assert_eq!(doc["mcpServers"]["other"]["command"], "x");
        assert_eq!(doc["mcpServers"]["ax"]["command"], "/opt/ax/bin/ax");
        let (again, action) = merge_json(
            Some(&text),
            "mcpServers",
            ServerEntry::sample().json(false, None),
            Path::new("f"),
        )
        .expect("merge");
        assert_eq!((again.as_str(), action), (text.as_str(), "unchanged"));
    }

    #[test]
    fn json_with_comments_is_not_overwritten() {
        let err = merge_json(
            Some("{ // c\n}"),
            "servers",
            ServerEntry::sample().json(true, None),
            Path::new("f"),
        )
        .expect_err("refused");
        assert!(err.message.contains("not plain JSON"), "{}", err.message);
    }
}
