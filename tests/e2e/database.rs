//! The database's edges (issue 9, items 5 and 7), through the real binary: no wait
//! past the busy timeout and a "busy" error that says so, `data.db` complete after
//! every command, `ax db backup`, and `ax doctor` on a read-only file system.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{DataDir, assert_exit, code, text};

/// The `ax` busy timeout (`DatabaseOptions::default`).
const BUSY: &str = "locked by another process for more than 10 s";

/// Runs `cmd` to completion, killing it after `limit`; returns its output and how
/// long it ran.
fn run_within(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax starts");
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    (child.wait_with_output().expect("output"), took)
}

/// A data directory whose `data.db` is in rollback-journal mode (made by another
/// tool), while a connection of this process reads it: a shared lock that keeps
/// `ax` from switching the file to WAL. `ax` gives up after its busy timeout with a
/// message that says busy — it used to block 169 s.
#[test]
fn opening_behind_a_reader_of_a_rollback_mode_file_gives_up_busy_after_the_timeout() {
    let data = DataDir::new();
    let reader = rusqlite::Connection::open(data.db_path()).expect("open");
    reader
        .execute_batch(
            "PRAGMA journal_mode = DELETE; CREATE TABLE t (x); INSERT INTO t VALUES (1);
             BEGIN; SELECT * FROM t;",
        )
        .expect("hold a shared lock on a rollback-mode file");
    let mut cmd = data.ax();
    cmd.args(["agent", "list"]);
    let (out, took) = run_within(cmd, Duration::from_secs(18));
    assert!(took < Duration::from_secs(14), "ax waited {took:?}");
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("is busy ({BUSY})")), "{stderr}");
    assert_eq!(stderr.matches("data.db").count(), 1, "{stderr}");
    reader.execute_batch("COMMIT").expect("release");
    assert_exit(&data.run(&["agent", "list"]), 0);
}

/// A write that waits the whole busy timeout for another process's write lock fails
/// with a message that says the database is busy, not SQLite's "database is locked".
#[test]
fn a_write_behind_a_held_write_lock_says_the_database_is_busy() {
    let data = DataDir::new();
    assert_exit(&data.run(&["agent", "list"]), 0);
    let holder = data.db();
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let mut cmd = data.ax();
    cmd.args([
        "--format",
        "json",
        "agent",
        "register",
        "--id",
        "late",
        "--description",
        "waits",
    ]);
    let (out, took) = run_within(cmd, Duration::from_secs(18));
    holder.execute_batch("ROLLBACK").expect("release");
    assert!(took < Duration::from_secs(14), "ax waited {took:?}");
    assert_exit(&out, 1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(&format!("the database is busy ({BUSY})")),
        "{message}"
    );
    // A code of its own, not INTERNAL_ERROR: a client can tell "retry" from "broken".
    assert_eq!(doc["error"]["code"], "STORAGE_BUSY", "{doc}");
    // In text mode the same, with the next step.
    let holder = data.db();
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let mut cmd = data.ax();
    cmd.args([
        "agent",
        "register",
        "--id",
        "late",
        "--description",
        "waits",
    ]);
    let (out, _) = run_within(cmd, Duration::from_secs(18));
    holder.execute_batch("ROLLBACK").expect("release");
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("retry when it is done"), "{stderr}");
}

/// While another process keeps `data.db` open (so SQLite's own checkpoint on the last
/// close does not happen), a command's commits still reach `data.db` itself by the
/// time it exits: copying `data.db` alone is a complete backup.
#[test]
fn after_a_command_exits_data_db_alone_holds_its_commits() {
    let data = DataDir::new();
    assert_exit(&data.run(&["agent", "list"]), 0);
    let other = data.db();
    let _: i64 = other
        .query_row("SELECT COUNT(*) FROM agents", [], |r| r.get(0))
        .expect("read");
    assert_exit(
        &data.run(&["agent", "register", "--id", "kept", "--description", "d"]),
        0,
    );
    let copy = data.path().join("copy.db");
    std::fs::copy(data.db_path(), &copy).expect("copy data.db alone");
    let alone = rusqlite::Connection::open(&copy).expect("open the copy");
    let kept: i64 = alone
        .query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id = 'kept'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    assert_eq!(kept, 1, "the registration stayed in data.db-wal");
    drop(other);
}

/// `ax db backup FILE` while other `ax` processes register agents: the copy is a
/// sound database on its own holding everything registered before it started; an
/// existing file needs --force; the data directory's own files are refused.
#[test]
fn db_backup_makes_a_consistent_copy_while_others_write() {
    let data = DataDir::new();
    for n in 0..5 {
        let id = format!("before-{n}");
        assert_exit(
            &data.run(&["agent", "register", "--id", &id, "--description", "d"]),
            0,
        );
    }
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let mut cmds: Vec<Command> = Vec::new();
            for n in 0..6 {
                let mut cmd = data.ax();
                cmd.args([
                    "agent",
                    "register",
                    "--id",
                    &format!("during-{w}-{n}"),
                    "--description",
                    "d",
                ]);
                cmds.push(cmd);
            }
            std::thread::spawn(move || {
                cmds.into_iter()
                    .map(|mut c| c.output().expect("ax runs"))
                    .all(|o| o.status.success())
            })
        })
        .collect();
    let dest = data.path().join("home-backup.db");
    let dest_arg = dest.to_str().expect("utf-8 path");
    let (status, doc) = data.json(&["db", "backup", dest_arg]);
    for w in writers {
        assert!(
            w.join().expect("writer"),
            "a writer failed during the backup"
        );
    }
    assert_eq!(status, 0, "{doc}");
    assert_eq!(doc["path"], dest_arg);
    let copy = rusqlite::Connection::open(&dest).expect("open the backup");
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    let before: i64 = copy
        .query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id LIKE 'before-%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(before, 5);
    let wal = dest.with_file_name("home-backup.db-wal");
    assert!(!wal.exists(), "the backup needs no -wal beside it");
    // Usable as a data directory's data.db.
    let restored = DataDir::new();
    std::fs::copy(&dest, restored.db_path()).expect("restore");
    let (status, agent) = restored.json(&["agent", "get", "before-3"]);
    assert_eq!(status, 0, "{agent}");

    let again = data.run(&["db", "backup", dest_arg]);
    assert_exit(&again, 4);
    assert!(text(&again.stderr).contains("already exists"));
    assert_exit(&data.run(&["db", "backup", dest_arg, "--force"]), 0);
    let own = data.db_path();
    let refused = data.run(&["db", "backup", own.to_str().expect("utf-8"), "--force"]);
    assert_exit(&refused, 2);
    assert!(text(&refused.stderr).contains("own data.db"));
    let dir = data.run(&["db", "backup", data.path().to_str().expect("utf-8")]);
    assert_exit(&dir, 2);
    assert!(code(&data.run(&["agent", "get", "before-0"])) == 0);
}

/// Runs `script` with `dir` bind-mounted read-only over itself, in a mount namespace
/// of its own (needs root); `None` when that is not possible here.
fn on_read_only_mount(dir: &Path, script: &str) -> Option<Output> {
    let dir = dir.to_str()?;
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(format!(
            "mount --bind '{dir}' '{dir}' && mount -o remount,ro,bind '{dir}' || exit 97; {script}"
        ))
        .env("NO_COLOR", "1")
        .env("HOME", Path::new(dir).join("home"))
        .env_remove("AX_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    (out.status.code() != Some(97)).then_some(out)
}

/// On a read-only file system, `ax doctor` still checks the database (quick_check)
/// and says it is read-only; other commands say "read-only" once, not a doubled
/// "cannot open the database" line.
#[test]
fn doctor_says_read_only_on_a_read_only_file_system() {
    let data = DataDir::new();
    assert_exit(
        &data.run(&["agent", "register", "--id", "kept", "--description", "d"]),
        0,
    );
    let ax = crate::helpers::ax_bin();
    let dir = data.path().display().to_string();
    let script = format!(
        "'{ax}' --data-dir '{dir}' --format json doctor; echo \"doctor-exit=$?\" >&2; \
         '{ax}' --data-dir '{dir}' agent register --id new --description d"
    );
    let Some(out) = on_read_only_mount(data.path(), &script) else {
        eprintln!("skipped: cannot mount a read-only file system here (needs root and unshare)");
        return;
    };
    let stderr = text(&out.stderr);
    assert!(stderr.contains("doctor-exit=1"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor JSON ({e}): {}\n{stderr}", text(&out.stdout)));
    assert_eq!(doc["database"]["readOnly"], true, "{doc}");
    assert_eq!(doc["database"]["check"], "quick_check", "{doc}");
    assert_eq!(
        doc["database"]["integrity"],
        serde_json::json!(["ok"]),
        "{doc}"
    );
    assert_eq!(doc["healthy"], false);
    assert!(
        doc["problems"].as_array().is_some_and(|p| p
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains("read-only")))),
        "{doc}"
    );
    let register = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(register.contains("is read-only"), "{stderr}");
    assert_eq!(register.matches("data.db").count(), 1, "{stderr}");
    assert_eq!(code(&out), 1);
}
