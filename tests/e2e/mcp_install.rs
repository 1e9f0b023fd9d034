//! `ax mcp install` and `ax mcp config`: each client's file written with the absolute
//! path of this `ax`, idempotently, keeping the user's other servers and settings
//! (and, for Codex's TOML, every other byte); user paths resolved from `HOME`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::{DataDir, assert_exit, ax_bin, code, text};

/// The user's home as `DataDir::ax` sets it.
fn home(data: &DataDir) -> PathBuf {
    data.path().join("home")
}

/// `ax mcp install ARGS --format json` run in `cwd`; the report.
fn install(data: &DataDir, cwd: &Path, args: &[&str]) -> Value {
    std::fs::create_dir_all(cwd).expect("cwd");
    let out = data
        .ax()
        .current_dir(cwd)
        .env("XDG_CONFIG_HOME", home(data).join(".config"))
        .args(["--format", "json", "mcp", "install"])
        .args(args)
        .output()
        .expect("ax runs");
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("one JSON report")
}

/// What every client's entry must say.
fn expected_entry(data: &DataDir) -> (String, Vec<String>) {
    let exe = std::fs::canonicalize(ax_bin()).expect("ax path");
    (
        exe.display().to_string(),
        vec![
            "--data-dir".into(),
            data.path().display().to_string(),
            "mcp".into(),
            "serve".into(),
        ],
    )
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("file written")).expect("JSON")
}

#[test]
fn json_clients_get_an_entry_once_and_keep_their_other_servers() {
    let data = DataDir::new();
    let project = data.path().join("project");
    let (command, args) = expected_entry(&data);
    let cases: [(&str, &str, PathBuf, &str); 6] = [
        (
            "cursor",
            "user",
            home(&data).join(".cursor/mcp.json"),
            "mcpServers",
        ),
        (
            "cursor",
            "project",
            project.join(".cursor/mcp.json"),
            "mcpServers",
        ),
        (
            "gemini",
            "user",
            home(&data).join(".gemini/settings.json"),
            "mcpServers",
        ),
        (
            "claude",
            "user",
            home(&data).join(".claude.json"),
            "mcpServers",
        ),
        ("claude", "project", project.join(".mcp.json"), "mcpServers"),
        (
            "vscode",
            "project",
            project.join(".vscode/mcp.json"),
            "servers",
        ),
    ];
    for (client, scope, path, key) in cases {
        // The user's file already has another server and other settings.
        std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
        let before = json!({"theme": "dark", key: {"other": {"command": "/usr/bin/other", "args": ["--x"]}}});
        std::fs::write(&path, serde_json::to_string_pretty(&before).expect("json")).expect("write");

        let report = install(&data, &project, &["--client", client, "--scope", scope]);
        assert_eq!(report["action"], "added", "{client} {scope}: {report}");
        assert_eq!(report["path"], path.display().to_string());
        let doc = read_json(&path);
        assert_eq!(doc["theme"], "dark", "{client}: other settings kept");
        assert_eq!(
            doc[key]["other"], before[key]["other"],
            "{client}: other server kept"
        );
        assert_eq!(
            doc[key]["ax"]["command"], command,
            "{client}: absolute path of this ax"
        );
        assert_eq!(doc[key]["ax"]["args"], json!(args), "{client}");
        if client == "gemini" {
            assert_eq!(doc[key]["ax"]["timeout"], 1_800_000, "long discussions fit");
        }
        if client == "vscode" {
            assert_eq!(doc[key]["ax"]["type"], "stdio");
        }
        if client == "claude" {
            assert!(
                report["command"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("claude mcp add --scope"))
            );
        }

        // Twice is the same as once, to the byte.
        let bytes = std::fs::read(&path).expect("read");
        let again = install(&data, &project, &["--client", client, "--scope", scope]);
        assert_eq!(again["action"], "unchanged", "{client} {scope}");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "{client}: file untouched"
        );
    }

    // VS Code's user file lives in its settings folder.
    let report = install(&data, &project, &["--client", "vscode"]);
    let path = home(&data).join(".config/Code/User/mcp.json");
    assert_eq!(report["path"], path.display().to_string());
    assert_eq!(read_json(&path)["servers"]["ax"]["command"], command);
}

#[test]
fn a_stale_entry_is_replaced_and_a_file_ax_cannot_read_is_left_alone() {
    let data = DataDir::new();
    let path = home(&data).join(".cursor/mcp.json");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    std::fs::write(
        &path,
        r#"{"mcpServers": {"ax": {"command": "/old/ax", "args": ["mcp", "serve"]}}}"#,
    )
    .expect("write");
    let report = install(&data, data.path(), &["--client", "cursor"]);
    assert_eq!(report["action"], "updated");
    assert_ne!(read_json(&path)["mcpServers"]["ax"]["command"], "/old/ax");

    // JSON with comments is not plain JSON: refuse rather than lose the comments.
    let commented = "{\n  // my servers\n  \"mcpServers\": {}\n}\n";
    std::fs::write(&path, commented).expect("write");
    let out = data.run(&["mcp", "install", "--client", "cursor"]);
    assert_ne!(code(&out), 0);
    assert!(
        text(&out.stderr).contains("ax mcp config"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), commented);
}

#[test]
fn codex_toml_keeps_every_other_byte() {
    let data = DataDir::new();
    let path = home(&data).join(".codex/config.toml");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    let original = "# Codex settings, hand-written\nmodel = \"o3\"  # the default model\n\n[mcp_servers.other]\ncommand = \"/usr/bin/other\"\nargs = [\"--x\"]\n\n[profiles.fast]\nmodel = \"mini\"\n";
    std::fs::write(&path, original).expect("write");

    let report = install(&data, data.path(), &["--client", "codex"]);
    assert_eq!(report["action"], "added");
    let written = std::fs::read_to_string(&path).expect("read");
    assert!(
        written.starts_with(original),
        "the rest of the file is kept:\n{written}"
    );
    let (command, args) = expected_entry(&data);
    let parsed: toml::Table = written.parse().expect("valid TOML");
    let ax = &parsed["mcp_servers"]["ax"];
    assert_eq!(ax["command"].as_str(), Some(command.as_str()));
    let written_args: Vec<&str> = ax["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(written_args, args);
    assert!(
        ax["tool_timeout_sec"]
            .as_integer()
            .is_some_and(|t| t >= 600)
    );
    assert_eq!(
        parsed["mcp_servers"]["other"]["command"].as_str(),
        Some("/usr/bin/other")
    );

    let again = install(&data, data.path(), &["--client", "codex"]);
    assert_eq!(again["action"], "unchanged");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), written);
}

/// A stale `[mcp_servers.ax]` between the user's own tables: only its lines change —
/// the comments above, inside and below the other tables, their spacing and quoting,
/// and a comment at the end of the file all survive.
#[test]
fn codex_install_keeps_the_users_comments_and_other_tables() {
    let data = DataDir::new();
    let path = home(&data).join(".codex/config.toml");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    let stale = "command = \"/old/ax\"\nargs = [\"mcp\",\"serve\"]\n";
    let original = format!(
        "# Codex settings, hand-written\nmodel = \"o3\"  # the default model\n\n\
         # ax, installed by hand\n[mcp_servers.ax]\n{stale}\n\
         # my other server\n[mcp_servers.other]\ncommand = '/usr/bin/other'   # literal string\nargs = [ \"--x\",  \"--y\" ]\n\n\
         [profiles.fast]\nmodel = \"mini\"\n# the end\n"
    );
    std::fs::write(&path, &original).expect("write");

    let report = install(&data, data.path(), &["--client", "codex"]);
    assert_eq!(report["action"], "updated");
    let (command, args) = expected_entry(&data);
    let quote = |s: &str| serde_json::to_string(s).expect("quoted");
    let entry = format!(
        "command = {}\nargs = [{}]\ntool_timeout_sec = 1800\n",
        quote(&command),
        args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(", ")
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        original.replace(stale, &entry),
        "only the entry's lines changed"
    );
}

#[test]
fn dry_run_writes_nothing_and_config_prints_the_snippet() {
    let data = DataDir::new();
    let report = install(&data, data.path(), &["--client", "gemini", "--dry-run"]);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["action"], "added");
    assert!(
        report["content"]
            .as_str()
            .is_some_and(|c| c.contains("\"mcpServers\""))
    );
    assert!(!home(&data).join(".gemini/settings.json").exists());

    let out = data.run(&["mcp", "config"]);
    assert_exit(&out, 0);
    let snippet: Value = serde_json::from_slice(&out.stdout).expect("JSON snippet");
    let (command, args) = expected_entry(&data);
    assert_eq!(snippet["mcpServers"]["ax"]["command"], command);
    assert_eq!(snippet["mcpServers"]["ax"]["args"], json!(args));
    assert!(Path::new(&command).is_absolute());
}

/// A client configuration that is a symbolic link (dotfiles kept elsewhere) is written
/// through: the link stays a link and its target gets the entry (issue 9: it was
/// replaced by a regular file).
#[test]
fn a_symlinked_client_config_is_written_through_the_link() {
    let data = DataDir::new();
    let settings = home(&data).join(".gemini/settings.json");
    let dotfiles = home(&data).join("dotfiles/gemini.json");
    std::fs::create_dir_all(dotfiles.parent().expect("dir")).expect("dotfiles");
    std::fs::create_dir_all(settings.parent().expect("dir")).expect(".gemini");
    std::fs::write(&dotfiles, r#"{"theme": "dark"}"#).expect("target");
    std::os::unix::fs::symlink(&dotfiles, &settings).expect("link");

    install(&data, &data.path().join("cwd"), &["--client", "gemini"]);

    let meta = std::fs::symlink_metadata(&settings).expect("still there");
    assert!(meta.file_type().is_symlink(), "the link is kept");
    let written = read_json(&dotfiles);
    assert_eq!(written["theme"], "dark", "{written}");
    assert!(written["mcpServers"]["ax"].is_object(), "{written}");
}
