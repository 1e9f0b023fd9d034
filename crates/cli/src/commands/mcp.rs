//! `ax mcp serve | install | config`: run the MCP server, and put it into MCP
//! clients' configuration.
//!
//! `install` edits each client's own file, keeping everything else in it:
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

use ax_mcp_server::{HttpOptions, HttpServer, McpOptions, McpServices};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::args::{InstallArgs, InstallScope, McpClient, McpCommand, ServeArgs};
use crate::error::{CliError, Exit};
use crate::output::Out;
use crate::signals::StopSignals;

/// The name `ax` is registered under in every client.
const SERVER_NAME: &str = "ax";

/// Codex stops waiting for a tool after 60 s by default; discussions take longer.
const CODEX_TOOL_TIMEOUT_SEC: u64 = 1800;

/// Gemini CLI's per-server request timeout (ms); its default is 10 minutes.
const GEMINI_TIMEOUT_MS: u64 = 1_800_000;

/// Run `ax mcp ...`.
pub async fn run(data_dir: Option<&Path>, command: McpCommand, out: Out) -> Result<Exit, CliError> {
    match command {
        McpCommand::Serve(args) => serve(data_dir, args).await,
        McpCommand::Install(args) => install(data_dir, args, out),
        McpCommand::Config => {
            let entry = ServerEntry::for_this_ax(data_dir)?;
            let snippet = json!({ "mcpServers": { SERVER_NAME: entry.json(false, None) } });
            out.line(&pretty(&snippet)?)?;
            Ok(Exit::Ok)
        }
    }
}

/// `ax mcp serve [--http [ADDR]] [--token T] [--max-concurrent N]`.
async fn serve(data_dir: Option<&Path>, args: ServeArgs) -> Result<Exit, CliError> {
    let token = match &args.token_file {
        Some(path) => Some(read_token_file(path)?),
        None => args.token.clone(),
    };
    forget_token_env();
    let app = App::open(data_dir).await?;
    let wiring = app.discussions(args.max_concurrent)?;
    let services = McpServices {
        agents: app.agents.clone(),
        discussions: wiring.service.clone(),
        history: wiring.history.clone(),
    };
    let options = McpOptions {
        max_in_flight: args.max_in_flight,
        tool_prefix: args.tool_prefix.clone(),
        ..McpOptions::default()
    };
    let shutdown = CancellationToken::new();
    let signals = tokio::spawn(cancel_on_signal(shutdown.clone()));
    let outcome = match args.http {
        None => on_one_thread(ax_mcp_server::serve_stdio(services, options, shutdown)).await,
        Some(addr) => {
            let http = HttpOptions {
                token,
                max_sessions: args.max_sessions,
                allowed_hosts: trimmed(&args.allowed_hosts),
                allowed_origins: trimmed(&args.allowed_origins),
                ..HttpOptions::new(addr)
            };
            // HTTP stays on the CLI's multi-threaded runtime: many clients may
            // share it, and one thread measured no better here (docs/BENCHMARKS.md).
            match HttpServer::bind(services, options, http).await {
                Ok(server) => {
                    eprintln!(
                        "ax: MCP server listening on http://{}/mcp (Ctrl-C to stop)",
                        server.local_addr()
                    );
                    server.run(shutdown).await
                }
                Err(err) => Err(err),
            }
        }
    };
    signals.abort();
    outcome.map_err(|err| match err {
        ax_mcp_server::ServeError::Config(message) => CliError::usage(message),
        other => CliError::failure(other.to_string()),
    })?;
    Ok(Exit::Ok)
}

/// The non-empty entries of a comma-separated list, trimmed (`a, b,` is `a`, `b`).
fn trimmed(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The bearer token in a file: its content without surrounding whitespace.
fn read_token_file(path: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    Ok(text.trim().to_owned())
}

/// Take `AX_MCP_TOKEN` out of this process's environment once it is read, so no
/// provider process (the discussions this server runs) inherits the secret.
///
/// Why here rather than at each spawn: every child (providers, their version
/// probes, whatever they start) inherits this environment, and removing the
/// variable once covers all of them without the provider adapter knowing about MCP.
#[allow(unsafe_code)]
fn forget_token_env() {
    if std::env::var_os("AX_MCP_TOKEN").is_some() {
        // SAFETY: called before the server opens the database or spawns any task or
        // process; the runtime's worker threads are idle and nothing else in this
        // process reads the environment concurrently.
        unsafe { std::env::remove_var("AX_MCP_TOKEN") };
    }
}

/// Run the stdio server on a runtime of its own with one thread.
///
/// Why: a stdio server has one client; on a multi-threaded runtime every request
/// hops between worker threads (reader, handler, response writer), and on a small
/// machine those wake-ups cost more than the work (see docs/BENCHMARKS.md). Requests are still served concurrently — they are tasks — and
/// blocking SQLite work still runs on the blocking pool, so a discussion never holds
/// up an `agent_get`.
async fn on_one_thread<F>(server: F) -> Result<(), ax_mcp_server::ServeError>
where
    F: std::future::Future<Output = Result<(), ax_mcp_server::ServeError>> + Send + 'static,
{
    let server = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let outcome = runtime.block_on(server);
        // When stdin is not a pipe, a read of it sits on the blocking pool and cannot
        // be cancelled; dropping the runtime would wait for that read (for input that
        // may never come) instead of exiting.
        runtime.shutdown_background();
        outcome
    });
    match server.await {
        Ok(outcome) => outcome,
        Err(join) => Err(ax_mcp_server::ServeError::Io(std::io::Error::other(join))),
    }
}

/// Cancel `shutdown` on Ctrl-C, SIGTERM or SIGHUP (unless `nohup` ignored it):
/// running discussions stop, are saved as `cancelled`, and their provider processes
/// are killed before the server exits.
///
/// The server still exits 0: being told to stop is how a server's life ends normally
/// (a host closing it, a service manager stopping it), unlike a one-shot command whose
/// work the signal cut short.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let (_, name) = StopSignals::register().next().await;
    tracing::info!("{name}: shutting down the MCP server");
    shutdown.cancel();
}

/// How clients start `ax`: this executable, `mcp serve`, and the data directory
/// when one was chosen explicitly.
#[derive(Debug, Clone, PartialEq)]
struct ServerEntry {
    command: String,
    args: Vec<String>,
}

impl ServerEntry {
    fn for_this_ax(data_dir: Option<&Path>) -> Result<Self, CliError> {
        let exe = std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .map_err(|e| {
                CliError::failure(format!("cannot find the path of this ax executable: {e}"))
            })?;
        let mut args = Vec::new();
        let explicit = data_dir.map(Path::to_owned).or_else(|| {
            std::env::var_os("AX_DATA_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
        });
        if let Some(dir) = explicit {
            let dir = std::path::absolute(&dir).unwrap_or(dir);
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
    fn json(&self, with_type: bool, timeout_ms: Option<u64>) -> Value {
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

    /// The `[mcp_servers.ax]` table for Codex.
    fn toml(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| toml_string(a)).collect();
        format!(
            "[mcp_servers.{SERVER_NAME}]\ncommand = {}\nargs = [{}]\ntool_timeout_sec = {CODEX_TOOL_TIMEOUT_SEC}\n",
            toml_string(&self.command),
            args.join(", ")
        )
    }

    /// The equivalent `claude mcp add` command line.
    fn claude_command(&self, scope: InstallScope) -> String {
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
fn install(data_dir: Option<&Path>, args: InstallArgs, out: Out) -> Result<Exit, CliError> {
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
        } => merge_json(
            existing.as_deref(),
            key,
            entry.json(*with_type, *timeout_ms),
            &target.path,
        )?,
        TargetFormat::CodexToml => merge_codex_toml(existing.as_deref(), &entry, &target.path)?,
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

/// Put `entry` under `key.ax` in the JSON document `existing` (or a new one).
fn merge_json(
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

/// Replace (or append) the `[mcp_servers.ax]` table of a Codex `config.toml`,
/// leaving every other byte of the file as it was (comments included).
fn merge_codex_toml(
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

fn not_editable(path: &Path, why: &str) -> CliError {
    CliError::failure(format!("not changing {}: {why}", path.display()))
        .hint("add the server by hand; `ax mcp config` prints the snippet")
}

fn pretty(value: &Value) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    // JSON string escaping is valid TOML basic-string escaping for every character.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> ServerEntry {
        ServerEntry {
            command: "/opt/ax/bin/ax".into(),
            args: vec!["mcp".into(), "serve".into()],
        }
    }

    #[test]
    fn json_merge_keeps_other_servers_and_is_idempotent() {
        let existing = r#"{"theme": "dark", "mcpServers": {"other": {"command": "x"}}}"#;
        let (text, action) = merge_json(
            Some(existing),
            "mcpServers",
            entry().json(false, None),
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
            entry().json(false, None),
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
            entry().json(true, None),
            Path::new("f"),
        )
        .expect_err("refused");
        assert!(err.message.contains("not plain JSON"), "{}", err.message);
    }

    #[test]
    fn toml_merge_keeps_every_other_byte() {
        let existing = "# my codex config\nmodel = \"o3\"\n\n[mcp_servers.other]\ncommand = \"x\" # keep me\n\n[profiles.fast]\nmodel = \"mini\"\n";
        let (text, action) =
            merge_codex_toml(Some(existing), &entry(), Path::new("c")).expect("merge");
        assert_eq!(action, "added");
        assert!(text.starts_with(existing), "{text}");
        assert!(text.contains(
            "[mcp_servers.ax]\ncommand = \"/opt/ax/bin/ax\"\nargs = [\"mcp\", \"serve\"]"
        ));
        let (again, action) =
            merge_codex_toml(Some(&text), &entry(), Path::new("c")).expect("merge");
        assert_eq!((again.as_str(), action), (text.as_str(), "unchanged"));

        let moved = ServerEntry {
            command: "/usr/local/bin/ax".into(),
            ..entry()
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
            merge_codex_toml(Some(existing), &entry(), Path::new("c")).expect("merge");
        assert_eq!(action, "updated");
        assert!(text.ends_with("[tui]\nnotifications = true\n"), "{text}");
        assert!(!text.contains("old"));
    }

    #[test]
    fn the_claude_command_quotes_what_needs_quoting() {
        let e = ServerEntry {
            command: "/home/me/my tools/ax".into(),
            ..entry()
        };
        assert_eq!(
            e.claude_command(InstallScope::User),
            "claude mcp add --scope user ax -- '/home/me/my tools/ax' mcp serve"
        );
    }
}
