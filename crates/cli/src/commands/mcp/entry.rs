//! The server entry every client gets: how to start this `ax`.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::SERVER_NAME;
use crate::args::InstallScope;
use crate::error::CliError;

/// How clients start `ax`: this executable, `mcp serve`, and the data directory
/// when one was chosen explicitly.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ServerEntry {
    pub(super) command: String,
    pub(super) args: Vec<String>,
}

impl ServerEntry {
    pub(super) fn for_this_ax(data_dir: Option<&Path>) -> Result<Self, CliError> {
        let exe = std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .map_err(|e| {
                CliError::failure(format!("cannot find the path of this ax executable: {e}"))
            })?;
        let mut args = Vec::new();
        // `--data-dir` or `AX_DATA_DIR` (clap reads both), absent when not given.
        let explicit = data_dir.filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = explicit {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
            args.push("--data-dir".to_owned());
            args.push(dir.display().to_string());
        }
        args.push("mcp".to_owned());
        args.push("serve".to_owned());
        Ok(Self {
            command: exe.display().to_string(),
            args,
        })
    }

    /// The JSON entry; VS Code wants the transport type spelled out, Gemini CLI
    /// takes a request timeout.
    pub(super) fn json(&self, with_type: bool, timeout_ms: Option<u64>) -> Value {
        let mut entry = Map::new();
        if with_type {
            entry.insert("type".into(), json!("stdio"));
        }
        entry.insert("command".into(), json!(self.command));
        entry.insert("args".into(), json!(self.args));
        if let Some(timeout) = timeout_ms {
            entry.insert("timeout".into(), json!(timeout));
        }
        Value::Object(entry)
    }

    /// The equivalent `claude mcp add` command line.
    pub(super) fn claude_command(&self, scope: InstallScope) -> String {
        let scope = match scope {
            InstallScope::Project => "project",
            InstallScope::User => "user",
        };
        let mut words = vec![
            "claude".to_owned(),
            "mcp".into(),
            "add".into(),
            "--scope".into(),
            scope.into(),
            SERVER_NAME.into(),
            "--".into(),
            shell_word(&self.command),
        ];
        words.extend(self.args.iter().map(|a| shell_word(a)));
        words.join(" ")
    }
}

/// A word for a POSIX shell, quoted when needed.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
impl ServerEntry {
    /// An entry as tests use it.
    pub(super) fn sample() -> Self {
        ServerEntry {
            command: "/opt/ax/bin/ax".into(),
            args: vec!["mcp".into(), "serve".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claude_command_quotes_what_needs_quoting() {
        let e = ServerEntry {
            command: "/home/me/my tools/ax".into(),
            ..ServerEntry::sample()
        };
        assert_eq!(
            e.claude_command(InstallScope::User),
            "claude mcp add --scope user ax -- '/home/me/my tools/ax' mcp serve"
        );
    }
}
