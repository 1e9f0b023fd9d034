//! Spawning the real `ax` on a temporary data directory, and reading its database.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The `ax` binary under test.
pub fn ax_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ax")
}

/// A temporary data directory; removed when dropped.
pub struct DataDir {
    dir: tempfile::TempDir,
}

impl DataDir {
    /// A new, empty data directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The database file `ax` uses.
    pub fn db_path(&self) -> PathBuf {
        self.path().join("data.db")
    }

    /// `ax --data-dir DIR` with a clean environment: no colour, HOME pointing inside
    /// the temp dir so nothing ever touches the real `~/.automatosx`.
    pub fn ax(&self) -> Command {
        self.ax_in(self.path())
    }

    /// Like [`DataDir::ax`] with another data directory (e.g. one not created yet).
    pub fn ax_in(&self, data_dir: &Path) -> Command {
        let mut cmd = Command::new(ax_bin());
        cmd.arg("--data-dir")
            .arg(data_dir)
            .env("HOME", self.path().join("home"))
            .env("NO_COLOR", "1")
            .env_remove("AX_DATA_DIR")
            .env_remove("AX_LOG")
            .env_remove("AX_MAX_CONCURRENT_PROVIDER_CALLS")
            .stdin(Stdio::null());
        cmd
    }

    /// Run `ax ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.ax().args(args).output().expect("ax runs")
    }

    /// Run `ax --format json ARGS`; the exit code and the one JSON document on stdout.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        json_of(self.ax(), args)
    }

    /// Start `ax ARGS` with stdin piped (the caller writes the document later).
    pub fn spawn_with_stdin(&self, args: &[&str]) -> Child {
        spawn_piped(self.ax(), args)
    }

    /// The database, opened directly (not through `ax`).
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).expect("database opens")
    }
}

/// Run `ax` (as `command` is set up) with `--format json ARGS`; the exit code and the
/// one JSON document on stdout. Shared by every way the tests point `ax` somewhere.
pub fn json_of(mut command: Command, args: &[&str]) -> (i32, Value) {
    let out = command
        .arg("--format")
        .arg("json")
        .args(args)
        .output()
        .expect("ax runs");
    (code(&out), json_stdout(&out, args))
}

/// Start `ax ARGS` (as `command` is set up) with stdin, stdout and stderr piped.
pub fn spawn_piped(mut command: Command, args: &[&str]) -> Child {
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax starts")
}

/// The one JSON document on the stdout of `ax ARGS`; a panic showing both outputs
/// if it is not one.
pub fn json_stdout(out: &Output, args: &[&str]) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout of ax {args:?} is not one JSON document ({e}):\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// Write `input` to a child's stdin and close it.
pub fn feed(child: &mut Child, input: &str) {
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(input.as_bytes()).expect("write stdin");
}

/// The exit code (-1 when killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert `out` exited with `expected`, showing its output otherwise.
#[track_caller]
pub fn assert_exit(out: &Output, expected: i32) {
    assert_eq!(
        code(out),
        expected,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// How many rows `agents` has for `agent_id`.
pub fn rows_for(db: &rusqlite::Connection, agent_id: &str) -> i64 {
    db.query_row(
        "SELECT COUNT(*) FROM agents WHERE agent_id = ?1",
        [agent_id],
        |r| r.get(0),
    )
    .expect("count")
}

/// The fake provider programs kept in the repo.
pub fn fake(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers")
        .join(name)
}

/// A config.toml of command providers running fake programs, each with a pid file.
pub fn write_fake_providers(data: &DataDir, providers: &[(&str, &str)]) {
    write_fake_providers_with(data, providers, "");
}

/// [`write_fake_providers`] after `extra` top-level TOML (e.g. the provider limit).
pub fn write_fake_providers_with(data: &DataDir, providers: &[(&str, &str)], extra: &str) {
    let mut toml = String::from(extra);
    for (id, program) in providers {
        let pid_file = data.path().join(format!("{id}.pid"));
        toml.push_str(&format!(
            "\n[providers.{id}]\nkind = \"command\"\ncommand = [\"{}\"]\nenv = {{ AX_FAKE_PID_FILE = \"{}\" }}\n",
            fake(program).display(),
            pid_file.display()
        ));
    }
    std::fs::write(data.path().join("config.toml"), toml).expect("write config.toml");
}

/// Every pid the fakes wrote under `dir`.
pub fn recorded_pids(dir: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "pid") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    pids
}

/// Whether a process exists (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
