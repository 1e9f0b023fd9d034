//! `ax mcp install`: put `ax` into an MCP client's configuration. It edits each
//! client's own file, keeping everything else in it:
//!
//! | client | project scope | user scope | key |
//! |---|---|---|---|
//! | claude | `.mcp.json` | `~/.claude.json` | `mcpServers` |
//! | cursor | `.cursor/mcp.json` | `~/.cursor/mcp.json` | `mcpServers` |
//! | gemini | `.gemini/settings.json` | `~/.gemini/settings.json` | `mcpServers` |
//! | vscode | `.vscode/mcp.json` | VS Code's user `mcp.json` | `servers` |
//! | codex | `.codex/config.toml` | `~/.codex/config.toml` | `[mcp_servers.ax]` |
//!
//! Why write Claude Code's files rather than run `claude mcp add`: the same code path
//! (and the same idempotency and preservation tests) then serves every client, and
//! it works without the `claude` executable; `--dry-run` prints the equivalent
//! `claude mcp add` command for people who prefer it. User paths come from `HOME`.
//!
//! Idempotent: an entry that is already right is left alone (`unchanged`); a stale
//! one (e.g. another `ax` path) is replaced; other servers and settings are kept. A
//! file that cannot be read as JSON/TOML is never overwritten.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::entry::ServerEntry;
use super::{codex, json};
use crate::args::{InstallArgs, InstallScope, McpClient};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// Gemini CLI's per-server request timeout (ms); its default is 10 minutes.
const GEMINI_TIMEOUT_MS: u64 = 1_800_000;

/// What `install` did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InstallReport {
    client: &'static str,
    scope: &'static str,
    path: String,
    /// `added`, `updated` or `unchanged`.
    action: &'static str,
    dry_run: bool,
    /// With `--dry-run`: the file as it would be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    /// For Claude Code: the equivalent `claude mcp add` command.
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<String>,
}

/// Where a client keeps its MCP servers.
struct Target {
    path: PathBuf,
    format: TargetFormat,
}

enum TargetFormat {
    /// A JSON file with servers under this key.
    Json {
        key: &'static str,
        with_type: bool,
        timeout_ms: Option<u64>,
    },
    /// Codex's TOML.
    CodexToml,
}

fn client_name(client: McpClient) -> &'static str {
    match client {
        McpClient::Claude => "claude",
        McpClient::Cursor => "cursor",
        McpClient::Codex => "codex",
        McpClient::Gemini => "gemini",
        McpClient::Vscode => "vscode",
    }
}

fn home() -> Result<PathBuf, CliError> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| CliError::usage("HOME is not set: cannot find the user configuration"))
}

fn target(client: McpClient, scope: InstallScope) -> Result<Target, CliError> {
    let base = match scope {
        InstallScope::Project => std::env::current_dir()
            .map_err(|e| CliError::failure(format!("cannot read the current directory: {e}")))?,
        InstallScope::User => home()?,
    };
    let json = |key| TargetFormat::Json {
        key,
        with_type: false,
        timeout_ms: None,
    };
    Ok(match (client, scope) {
        (McpClient::Claude, InstallScope::Project) => Target {
            path: base.join(".mcp.json"),
            format: json("mcpServers"),
        },
        (McpClient::Claude, InstallScope::User) => Target {
            path: base.join(".claude.json"),
            format: json("mcpServers"),
        },
        (McpClient::Cursor, _) => Target {
            path: base.join(".cursor").join("mcp.json"),
            format: json("mcpServers"),
        },
        (McpClient::Gemini, _) => Target {
            path: base.join(".gemini").join("settings.json"),
            format: TargetFormat::Json {
                key: "mcpServers",
                with_type: false,
                timeout_ms: Some(GEMINI_TIMEOUT_MS),
            },
        },
        (McpClient::Vscode, InstallScope::Project) => Target {
            path: base.join(".vscode").join("mcp.json"),
            format: TargetFormat::Json {
                key: "servers",
                with_type: true,
                timeout_ms: None,
            },
        },
        (McpClient::Vscode, InstallScope::User) => Target {
            path: vscode_user_dir(&base).join("mcp.json"),
            format: TargetFormat::Json {
                key: "servers",
                with_type: true,
                timeout_ms: None,
            },
        },
        (McpClient::Codex, _) => Target {
            path: base.join(".codex").join("config.toml"),
            format: TargetFormat::CodexToml,
        },
    })
}

/// VS Code's user settings folder.
fn vscode_user_dir(home: &Path) -> PathBuf {
    if cfg!(target_os = "macos") {
        home.join("Library/Application Support/Code/User")
    } else if cfg!(windows) {
        std::env::var_os("APPDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("AppData/Roaming"))
            .join("Code/User")
    } else {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"))
            .join("Code/User")
    }
}

/// `ax mcp install --client C [--scope S] [--dry-run]`.
pub(super) fn install(
    data_dir: Option<&Path>,
    args: InstallArgs,
    out: Out,
) -> Result<Exit, CliError> {
    let entry = ServerEntry::for_this_ax(data_dir)?;
    let target = target(args.client, args.scope)?;
    let existing = match std::fs::read_to_string(&target.path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(CliError::failure(format!(
                "cannot read {}: {e}",
                target.path.display()
            )));
        }
    };
    let (content, action) = match &target.format {
        TargetFormat::Json {
            key,
            with_type,
            timeout_ms,
        } => json::merge_json(
            existing.as_deref(),
            key,
            entry.json(*with_type, *timeout_ms),
            &target.path,
        )?,
        TargetFormat::CodexToml => {
            codex::merge_codex_toml(existing.as_deref(), &entry, &target.path)?
        }
    };
    if !args.dry_run && action != "unchanged" {
        write_atomically(&target.path, &content)?;
    }
    let report = InstallReport {
        client: client_name(args.client),
        scope: match args.scope {
            InstallScope::Project => "project",
            InstallScope::User => "user",
        },
        path: target.path.display().to_string(),
        action,
        dry_run: args.dry_run,
        content: args.dry_run.then(|| content.clone()),
        command: (args.client == McpClient::Claude).then(|| entry.claude_command(args.scope)),
    };
    if out.json() {
        out.print_json(&report)?;
    } else {
        let verb = match (action, args.dry_run) {
            ("unchanged", _) => "already configured in",
            ("added", false) => "added to",
            ("updated", false) => "updated in",
            ("added", true) => "would be added to",
            _ => "would be updated in",
        };
        out.line(&format!(
            "ax MCP server {verb} {} ({} scope): {}",
            report.client, report.scope, report.path
        ))?;
        if args.dry_run {
            out.line(&content)?;
        }
        if let Some(command) = &report.command
            && args.dry_run
        {
            out.line(&format!("equivalent command: {command}"))?;
        }
        if action != "unchanged" && !args.dry_run {
            out.line("restart the client (or reload its MCP servers) to pick it up")?;
        }
    }
    Ok(Exit::Ok)
}

pub(super) fn not_editable(path: &Path, why: &str) -> CliError {
    CliError::failure(format!("not changing {}: {why}", path.display()))
        .hint("add the server by hand; `ax mcp config` prints the snippet")
}

/// Write through a temporary file in the same folder and rename, so a crash never
/// leaves a half-written client configuration; an existing file keeps its mode. A
/// symlinked configuration (dotfiles kept in a repository) is written through: the
/// link stays, its target gets the new content. The temporary file is created
/// exclusively under an unpredictable name.
fn write_atomically(path: &Path, content: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let path = through_links(path);
    let fail = |what: &str, e: std::io::Error| {
        CliError::failure(format!("cannot {what} {}: {e}", path.display()))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| fail("create the folder of", e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".ax.tmp")
        .tempfile_in(dir)
        .map_err(|e| fail("write", e))?;
    temp.write_all(content.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| fail("write", e))?;
    if let Ok(meta) = std::fs::metadata(&path) {
        let _ = std::fs::set_permissions(temp.path(), meta.permissions());
    }
    temp.persist(&path).map_err(|e| fail("replace", e.error))?;
    Ok(())
}

/// `path` with its symbolic links followed, also when the final target does not
/// exist yet (a dangling link is written at its target).
fn through_links(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut current = path.to_owned();
    // As many hops as the kernel allows before it reports a loop.
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(target) if target.is_absolute() => current = target,
            Ok(target) => {
                current = current.parent().unwrap_or(Path::new(".")).join(target);
            }
            Err(_) => break,
        }
    }
    current
}
