//! The registry and the history on one PostgreSQL server shared by two "machines":
//! two data directories with HOMEs of their own, every `ax` a real process pointed
//! at the server through `AX_DATABASE_URL` (or `--database-url`, or `config.toml`).
//! The server is a throw-away cluster started by `ax-adapter-postgres`'s
//! `test-support` (a fresh schema per test); these tests fail, never skip, when no
//! server can be had (only `AX_SKIP_POSTGRES=1` skips them).
//!
//! The guarantees are the server's: INV-AGT-REG-001 / INV-AGT-DB-001 (one winner
//! per id across machines), INV-PG-UNREACH-001 (a stopped server is reported as
//! `STORAGE_UNAVAILABLE` within 5 s), INV-PG-SECRET-001 (the password never shows).

use std::collections::BTreeSet;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ax_adapter_postgres::test_support::{DATABASE_URL_ENV, TestCluster, TestDatabase};
use serde_json::{Value, json};

use crate::helpers::{DataDir, assert_exit, code, feed, json_of, json_stdout, spawn_piped, text};
use crate::mcp_client::{call, connect_http, ok, start_http_with};

/// One "machine": a data directory (and HOME) of its own, `ax` pointed at the
/// shared server.
struct Machine {
    data: DataDir,
    url: String,
}

impl Machine {
    fn new(url: &str) -> Self {
        Self {
            data: DataDir::new(),
            url: patient(url),
        }
    }

    fn ax(&self) -> Command {
        let mut command = self.data.ax();
        command.env("AX_DATABASE_URL", &self.url);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.ax().args(args).output().expect("ax runs")
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        json_of(self.ax(), args)
    }

    fn spawn_with_stdin(&self, args: &[&str]) -> Child {
        spawn_piped(self.ax(), args)
    }

    /// Every stored agent id (listing pages through all rows, so a duplicate row
    /// would show twice).
    fn agent_ids(&self) -> Vec<String> {
        let (exit, listing) = self.json(&["agent", "list", "--limit", "10000"]);
        assert_eq!(exit, 0, "{listing}");
        listing["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|a| a["agentId"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// `url` with a 60 s connect timeout: sixteen processes authenticating at once on
/// a loaded 2-core CI machine can take longer than the product's 5 s (seen in the
/// adapter's own race tests), and these tests are about what happens after
/// connecting. The down-server check uses the product's default.
fn patient(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout=60")
}

/// The tests that start many processes run one at a time, beside the rest of the
/// e2e binary on a 2-core machine.
static HEAVY: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh schema on the test server, or `None` under `AX_SKIP_POSTGRES=1`.
fn shared_database() -> Option<TestDatabase> {
    TestDatabase::create()
}

#[track_caller]
fn assert_no_password(what: &str, output: &str, password: Option<&str>) {
    if let Some(password) = password {
        assert!(
            !output.contains(password),
            "INV-PG-SECRET-001: the password shows in {what}:\n{output}"
        );
    }
}

/// INV-AGT-REG-001 / INV-AGT-DB-001 across machines: 16 processes, 8 per machine,
/// register one id at once → one success, fifteen `AGENT_ALREADY_EXISTS`, one row.
#[test]
fn sixteen_processes_on_two_machines_registering_one_id_have_exactly_one_winner() {
    let _heavy = one_at_a_time();
    let Some(db) = shared_database() else { return };
    let machines = [Machine::new(db.url()), Machine::new(db.url())];
    for machine in &machines {
        assert_exit(&machine.run(&["agent", "list"]), 0); // migrate and seed first
    }
    let mut racers: Vec<Child> = (0..16)
        .map(|n| {
            machines[n % 2]
                .spawn_with_stdin(&["--format", "json", "agent", "register", "--file", "-"])
        })
        .collect();
    for (n, child) in racers.iter_mut().enumerate() {
        feed(
            child,
            &json!({"agentId": "contested", "description": format!("racer {n}"), "team": format!("racer-{n}")})
                .to_string(),
        );
    }
    let outputs: Vec<Output> = racers
        .into_iter()
        .map(|c| c.wait_with_output().expect("racer finishes"))
        .collect();
    let codes: Vec<i32> = outputs.iter().map(code).collect();
    let winners: Vec<usize> = (0..16).filter(|&n| codes[n] == 0).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one success; exit codes {codes:?}"
    );
    for (n, out) in outputs.iter().enumerate().filter(|(n, _)| *n != winners[0]) {
        assert_exit(out, 4);
        let doc: Value = serde_json::from_slice(&out.stdout).expect("error envelope");
        assert_eq!(doc["error"]["code"], "AGENT_ALREADY_EXISTS", "racer {n}");
    }
    for machine in &machines {
        let ids = machine.agent_ids();
        assert_eq!(ids.iter().filter(|id| *id == "contested").count(), 1);
        let (_, shown) = machine.json(&["agent", "get", "contested"]);
        assert_eq!(shown["team"], format!("racer-{}", winners[0]));
    }
}

/// 16 processes (8 per machine) × 25 distinct ids at once: all 400 stored.
#[test]
fn sixteen_processes_on_two_machines_registering_twenty_five_ids_each_store_four_hundred() {
    let _heavy = one_at_a_time();
    let Some(db) = shared_database() else { return };
    let machines = [Machine::new(db.url()), Machine::new(db.url())];
    let mut racers: Vec<Child> = (0..16)
        .map(|n| machines[n % 2].spawn_with_stdin(&["--format", "json", "agent", "import", "-"]))
        .collect();
    for (p, child) in racers.iter_mut().enumerate() {
        let agents: Vec<Value> = (0..25)
            .map(|n| json!({"agentId": format!("p{p}-agent{n}"), "description": format!("agent {n} of process {p}"), "tags": ["storm"]}))
            .collect();
        feed(
            child,
            &json!({"version": "1", "updatedAt": "2026-01-01T00:00:00Z", "agents": agents})
                .to_string(),
        );
    }
    for (p, child) in racers.into_iter().enumerate() {
        let out = child.wait_with_output().expect("racer finishes");
        assert_exit(&out, 0);
        let report: Value = serde_json::from_slice(&out.stdout).expect("import report");
        assert_eq!(
            report["imported"].as_array().map(Vec::len),
            Some(25),
            "process {p}"
        );
    }
    for machine in &machines {
        let (_, listing) = machine.json(&["agent", "list", "--tag", "storm", "--limit", "10000"]);
        assert_eq!(listing["total"], 400, "{}", listing["total"]);
        let ids: BTreeSet<String> = listing["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|a| a["agentId"].as_str().expect("id").to_owned())
            .collect();
        assert_eq!(ids.len(), 400);
    }
}

/// A discussion saved on one machine (mock providers) is listed and shown on the
/// other; the selection works through `--database-url` and `config.toml` too, and
/// the flag wins over the environment.
#[test]
fn a_discussion_saved_on_one_machine_is_listed_and_shown_on_the_other() {
    let Some(db) = shared_database() else { return };
    let (a, b) = (Machine::new(db.url()), Machine::new(db.url()));
    let (exit, result) = a.json(&["discuss", "Shared history?", "--fast"]);
    assert_eq!(exit, 0, "{result}");
    let id = result["discussionId"].as_str().expect("id").to_owned();

    let (exit, history) = b.json(&["discuss", "history"]);
    assert_eq!(exit, 0);
    assert_eq!(history["discussions"][0]["discussionId"], id.as_str());
    let (exit, shown) = b.json(&["discuss", "show", &id]);
    assert_eq!(exit, 0);
    assert_eq!(
        shown, result,
        "the other machine shows the same saved result"
    );

    // `database_url` in config.toml, without the environment.
    let c = DataDir::new();
    std::fs::write(
        c.path().join("config.toml"),
        format!("database_url = \"{}\"\n", db.url()),
    )
    .expect("write config.toml");
    let (exit, shown) = c.json(&["discuss", "show", &id]);
    assert_eq!(exit, 0, "{shown}");
    assert_eq!(shown["discussionId"], id.as_str());

    // The flag wins over the environment (which names a port nothing listens on).
    let out = c
        .ax()
        .env("AX_DATABASE_URL", "postgres://nobody:x@127.0.0.1:1/none")
        .args(["--database-url", db.url(), "discuss", "show", &id])
        .output()
        .expect("ax runs");
    assert_exit(&out, 0);
    // No URL at all: SQLite in the data directory, where the discussion is not.
    let sqlite = DataDir::new();
    assert_exit(&sqlite.run(&["discuss", "show", &id]), 3);
    assert!(sqlite.db_path().is_file());
}

/// `ax doctor` names the backend, server version, schema version and latency; no
/// output, log line or help text shows the password.
#[test]
fn doctor_reports_postgres_and_the_password_never_shows() {
    let Some(db) = shared_database() else { return };
    let machine = Machine::new(db.url());
    let password = db.password();

    let (exit, doctor) = machine.json(&["doctor"]);
    assert_eq!(exit, 0, "{doctor}");
    let database = &doctor["database"];
    assert_eq!(database["backend"], "postgresql");
    assert!(
        database["serverVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with(char::is_numeric)),
        "{database}"
    );
    assert_eq!(
        database["schemaVersion"],
        database["supportedSchemaVersion"]
    );
    assert!(database["latencyMs"].as_f64().is_some(), "{database}");
    assert!(
        database["target"]
            .as_str()
            .is_some_and(|t| t.contains("127.0.0.1"))
    );
    assert_no_password("doctor --format json", &doctor.to_string(), password);

    let out = machine.run(&["doctor"]);
    assert_exit(&out, 0);
    let shown = text(&out.stdout);
    assert!(shown.contains("database        postgresql "), "{shown}");
    assert!(
        shown.contains("(PostgreSQL ") && shown.contains("schema ") && shown.contains("latency "),
        "{shown}"
    );
    assert_no_password("doctor", &format!("{shown}{}", text(&out.stderr)), password);

    // Trace logs and help text.
    let out = machine.run(&["-vvv", "agent", "list"]);
    assert_exit(&out, 0);
    assert_no_password("trace logs", &text(&out.stderr), password);
    let out = machine.run(&["--help"]);
    assert_no_password("--help", &text(&out.stdout), password);

    // A URL with a wrong password: refused, and neither password shows.
    let wrong = db.url().replace(password.unwrap_or("@"), "Wr0ng-pw-77");
    let out = machine
        .ax()
        .env("AX_DATABASE_URL", &wrong)
        .args(["agent", "list"])
        .output()
        .expect("ax runs");
    assert_exit(&out, 1);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("Wr0ng-pw-77"), "{all}");
    assert_no_password("a refused login", &all, password);
    // A malformed URL is a usage error that does not quote it.
    let out = machine
        .ax()
        .env("AX_DATABASE_URL", "postgres://u:Wr0ng-pw-77@h:port/db")
        .args(["agent", "list"])
        .output()
        .expect("ax runs");
    assert_exit(&out, 2);
    assert!(
        !text(&out.stderr).contains("Wr0ng-pw-77"),
        "{}",
        text(&out.stderr)
    );
}

/// `ax db backup` on PostgreSQL writes a SQLite database with every agent
/// (revisions and timestamps kept) and every discussion; put in a data directory as
/// `data.db`, it serves them without the server.
#[test]
fn db_backup_on_postgres_writes_a_sqlite_file_that_restores_agents_and_discussions() {
    let Some(db) = shared_database() else { return };
    let machine = Machine::new(db.url());
    let register = machine.run(&["agent", "register", "--id", "kept", "--description", "v1"]);
    assert_exit(&register, 0);
    let update = machine.run(&[
        "agent",
        "update",
        "kept",
        "--json",
        r#"{"description":"v2"}"#,
    ]);
    assert_exit(&update, 0);
    let (_, original) = machine.json(&["agent", "get", "kept"]);
    let (exit, discussion) = machine.json(&["discuss", "Backed up?", "--fast"]);
    assert_eq!(exit, 0);
    let id = discussion["discussionId"].as_str().expect("id").to_owned();
    let (_, listing) = machine.json(&["agent", "list", "--limit", "10000"]);

    let backup = machine.data.path().join("backup.db");
    let (exit, report) = machine.json(&["db", "backup", backup.to_str().expect("utf-8")]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["agents"], listing["total"], "{report}");
    assert_eq!(report["discussions"], 1, "{report}");
    assert_no_password("db backup", &report.to_string(), db.password());
    let leftovers: Vec<_> = std::fs::read_dir(machine.data.path())
        .expect("read dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".ax-backup-"))
        .collect();
    assert!(leftovers.is_empty(), "the scratch folder is removed");
    // Again without --force: refused, as for SQLite.
    let (exit, _) = machine.json(&["db", "backup", backup.to_str().expect("utf-8")]);
    assert_eq!(exit, 4);

    // Restore: the file as a data directory's data.db, no database URL.
    let restored = DataDir::new();
    std::fs::copy(&backup, restored.db_path()).expect("copy the backup in");
    let (exit, kept) = restored.json(&["agent", "get", "kept"]);
    assert_eq!(exit, 0, "{kept}");
    assert_eq!(kept, original, "revision and timestamps kept");
    assert_eq!(kept["revision"], 2);
    let (exit, shown) = restored.json(&["discuss", "show", &id]);
    assert_eq!(exit, 0);
    assert_eq!(shown, discussion);
    let (_, restored_listing) = restored.json(&["agent", "list", "--limit", "10000"]);
    assert_eq!(restored_listing, listing);
}

/// Two `ax mcp serve --http` on two machines, one server: what one registers the
/// other lists and gets, and both give the same answers.
#[test]
fn two_http_mcp_servers_on_one_database_give_the_same_answers() {
    let Some(db) = shared_database() else { return };
    let (a, b) = (Machine::new(db.url()), Machine::new(db.url()));
    let url = patient(db.url());
    let env = [("AX_DATABASE_URL", url.as_str())];
    let server_a = start_http_with(&a.data, &[], &env);
    let server_b = start_http_with(&b.data, &[], &env);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (client_a, _) = connect_http(&server_a.url, None).await;
        let (client_b, _) = connect_http(&server_b.url, None).await;
        let registered = ok(&call(
            &client_a,
            "ax_agent_register",
            json!({"agentId": "shared-reviewer", "description": "Registered through server A", "tags": ["team"]}),
        )
        .await);
        assert_eq!(registered["registered"], true);
        let from_a = ok(&call(&client_a, "ax_agent_get", json!({"agentId": "shared-reviewer"})).await);
        let from_b = ok(&call(&client_b, "ax_agent_get", json!({"agentId": "shared-reviewer"})).await);
        assert_eq!(from_a, from_b);
        let list_a = ok(&call(&client_a, "ax_agent_list", json!({"limit": 100})).await);
        let list_b = ok(&call(&client_b, "ax_agent_list", json!({"limit": 100})).await);
        assert_eq!(list_a, list_b);
        let quick = ok(&call(&client_b, "ax_discuss_quick", json!({"topic": "Shared?"})).await);
        let id = quick["discussionId"].as_str().expect("id").to_owned();
        let saved = ok(&call(&client_a, "ax_discussion_get", json!({"discussionId": id})).await);
        assert_eq!(saved["discussionId"], id.as_str());
        let page_a = ok(&call(&client_a, "ax_discussion_list", json!({"limit": 10})).await);
        let page_b = ok(&call(&client_b, "ax_discussion_list", json!({"limit": 10})).await);
        assert_eq!(page_a, page_b);
        let _ = client_a.cancel().await;
        let _ = client_b.cancel().await;
    });
}

/// INV-PG-UNREACH-001 with real processes: writers on two machines keep
/// registering while the server is stopped (`-m immediate`, like a crash) and
/// started again. Every write `ax` acknowledged (exit 0) is there afterwards; a
/// command run while it is down fails within 5 s, exit 1, `STORAGE_UNAVAILABLE`,
/// "database unreachable", no password; a long-running MCP server started before
/// the stop answers again afterwards without a restart (its pool reconnects).
#[test]
fn acknowledged_writes_survive_a_server_restart_and_a_down_server_is_storage_unavailable() {
    let _heavy = one_at_a_time();
    if std::env::var("AX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    let mut cluster = match TestCluster::start() {
        Ok(cluster) => cluster,
        // An external server was configured; stopping it is not ours to do.
        Err(error) if std::env::var(DATABASE_URL_ENV).is_ok() => {
            eprintln!("not run: needs a cluster of its own ({error})");
            return;
        }
        Err(error) => panic!("{error}"),
    };
    let url = cluster.url("postgres");
    let password = cluster.password().to_owned();
    let machines = Arc::new([Machine::new(&url), Machine::new(&url)]);
    assert_exit(&machines[0].run(&["agent", "list"]), 0);
    let server = start_http_with(
        &machines[1].data,
        &[],
        &[("AX_DATABASE_URL", &machines[1].url)],
    );

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (machines, acknowledged, stop) =
                (machines.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let id = format!("w{w}-{n}");
                    let out = machines[w % 2].run(&[
                        "agent",
                        "register",
                        "--id",
                        &id,
                        "--description",
                        "storm",
                    ]);
                    if code(&out) == 0 {
                        acknowledged.lock().expect("lock").push(id);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    let count = || acknowledged.lock().expect("lock").len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    cluster.stop().expect("stop the server");

    let started = Instant::now();
    // The product's default connect timeout (5 s), not the tests' patient one.
    let out = machines[0]
        .data
        .ax()
        .env("AX_DATABASE_URL", &url)
        .args(["--format", "json", "agent", "list"])
        .output()
        .expect("ax runs");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_exit(&out, 1);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("error envelope");
    assert_eq!(doc["error"]["code"], "STORAGE_UNAVAILABLE", "{doc}");
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("database unreachable"), "{message}");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(&password), "INV-PG-SECRET-001: {all}");
    assert!(
        text(&out.stderr).contains("database unreachable"),
        "{}",
        text(&out.stderr)
    );

    std::thread::sleep(Duration::from_millis(500)); // let writers fail a while
    cluster.restart().expect("restart the server");
    let before = count();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() < before + 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        writer.join().expect("writer");
    }

    let stored: BTreeSet<String> = machines[1].agent_ids().into_iter().collect();
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 40,
        "the storm wrote on both sides of the restart: {}",
        acknowledged.len()
    );
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    // The MCP server kept running through the outage; its pool reconnects by itself.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (client, _) = connect_http(&server.url, None).await;
        let page = ok(&call(&client, "ax_agent_list", json!({"limit": 1})).await);
        assert!(
            page["total"]
                .as_u64()
                .is_some_and(|t| t as usize >= acknowledged.len()),
            "{page}"
        );
        let _ = client.cancel().await;
    });
}

/// `ax --data-dir DIR db copy --format json --from FROM --to TO [EXTRA]`: the exit
/// code and the summary, with neither output showing the password
/// (INV-PG-SECRET-001).
fn db_copy(
    data: &DataDir,
    from: &str,
    to: &str,
    extra: &[&str],
    password: Option<&str>,
) -> (i32, Value) {
    let args = [&["db", "copy", "--from", from, "--to", to], extra].concat();
    let out = data
        .ax()
        .args(["--format", "json"])
        .args(&args)
        .output()
        .expect("ax runs");
    assert_no_password("db copy stdout", &text(&out.stdout), password);
    assert_no_password("db copy stderr", &text(&out.stderr), password);
    (code(&out), json_stdout(&out, &args))
}

/// What a registry shows, byte for byte, as `--format json` stdout: every agent
/// whole (`agent export`: profiles, revisions, timestamps — without the export's own
/// time stamp), `agent get` of the agents not made in bulk (and a sample), the history and each
/// discussion's `show`.
fn visible_state(ax: impl Fn() -> Command, discussions: &[String]) -> Vec<(String, String)> {
    let run = |args: &[&str]| {
        let out = ax()
            .args(["--format", "json"])
            .args(args)
            .output()
            .expect("ax runs");
        assert_exit(&out, 0);
        (args.join(" "), text(&out.stdout))
    };
    let (label, export) = run(&["agent", "export"]);
    let export: String = export
        .lines()
        .filter(|line| !line.starts_with("  \"updatedAt\""))
        .collect::<Vec<_>>()
        .join("\n");
    let doc: Value = serde_json::from_str(&export).expect("export");
    let mut state = vec![(label, export), run(&["discuss", "history"])];
    for agent in doc["agents"].as_array().expect("agents") {
        let id = agent["agentId"].as_str().expect("id");
        // Agents made in bulk end in a number: a sample of them.
        if !id.ends_with(|c: char| c.is_ascii_digit()) || id.ends_with("000") {
            state.push(run(&["agent", "get", id]));
        }
    }
    for id in discussions {
        state.push(run(&["discuss", "show", id]));
    }
    state
}

/// INV-COPY-001 / INV-COPY-002: SQLite → PostgreSQL → a second, fresh SQLite file
/// keeps every agent (ids, revisions, timestamps, profiles), the one-time keys (a
/// removed built-in stays removed) and every discussion byte for byte; a rerun
/// copies nothing; a record that differs on the target is a conflict (exit 4) left
/// alone unless `--overwrite`; a database is never copied onto itself.
#[test]
fn db_copy_sqlite_to_postgres_and_back_keeps_everything_and_reruns_copy_nothing() {
    let Some(db) = shared_database() else { return };
    let password = db.password();
    let source = DataDir::new();
    assert_exit(
        &source.run(&["agent", "register", "--id", "edited", "--description", "v1"]),
        0,
    );
    for n in 2..=3 {
        let patch = format!(r#"{{"description":"v{n}","tags":["t{n}"]}}"#);
        assert_exit(
            &source.run(&["agent", "update", "edited", "--json", &patch]),
            0,
        );
    }
    assert_exit(&source.run(&["agent", "remove", "writer"]), 0);
    let mut import = source.spawn_with_stdin(&["agent", "import", "-"]);
    let many: Vec<Value> = (0..1200)
        .map(|n| json!({"agentId": format!("bulk-{n:04}"), "description": format!("bulk agent {n}"), "capabilities": ["copying"], "team": "bulk"}))
        .collect();
    feed(
        &mut import,
        &json!({"version": "1", "updatedAt": "2026-01-01T00:00:00Z", "agents": many}).to_string(),
    );
    assert_exit(&import.wait_with_output().expect("import"), 0);
    let mut discussions = Vec::new();
    for topic in ["Copied whole?", "Résumé — 日本語 \"quoted\""] {
        let (exit, result) = source.json(&["discuss", topic, "--fast"]);
        assert_eq!(exit, 0, "{result}");
        discussions.push(result["discussionId"].as_str().expect("id").to_owned());
    }
    let original = visible_state(|| source.ax(), &discussions);
    let agents = serde_json::from_str::<Value>(&original[0].1).expect("export")["agents"]
        .as_array()
        .expect("agents")
        .len() as u64;
    assert_eq!(
        agents,
        1 + 10 + 1200,
        "ten built-ins left after removing one"
    );

    // SQLite → PostgreSQL.
    let (exit, report) = db_copy(&source, "sqlite", db.url(), &[], password);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["agents"]["copied"], agents, "{report}");
    assert_eq!(report["discussions"]["copied"], 2, "{report}");
    assert!(
        report["onceKeys"]["copied"].as_u64() >= Some(12),
        "{report}"
    );
    assert!(
        report["to"]
            .as_str()
            .is_some_and(|t| t.starts_with("PostgreSQL ")),
        "{report}"
    );
    let server = Machine::new(db.url());
    assert_eq!(
        visible_state(|| server.ax(), &discussions),
        original,
        "PostgreSQL shows what SQLite showed, byte for byte (and did not seed `writer` again)"
    );

    // A rerun copies nothing.
    let (exit, again) = db_copy(&source, "sqlite", db.url(), &[], password);
    assert_eq!(exit, 0, "{again}");
    for kind in ["agents", "discussions", "onceKeys"] {
        assert_eq!(again[kind]["copied"], 0, "{kind}: {again}");
        assert_eq!(again[kind]["conflicts"], 0, "{kind}: {again}");
    }
    assert_eq!(again["agents"]["skipped"], agents);
    assert_eq!(again["discussions"]["skipped"], 2);

    // PostgreSQL → a fresh SQLite file (a path), used as another data directory's data.db.
    let back = DataDir::new();
    let back_db = back.db_path();
    let server_to_back = |extra: &[&str]| {
        db_copy(
            &source,
            db.url(),
            back_db.to_str().expect("utf-8"),
            extra,
            password,
        )
    };
    let (exit, report) = server_to_back(&[]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["agents"]["copied"], agents);
    assert_eq!(
        visible_state(|| back.ax(), &discussions),
        original,
        "the round trip keeps everything, byte for byte"
    );

    // A change on one side: a conflict, reported and left alone; --overwrite takes the source's.
    assert_exit(
        &server.run(&[
            "agent",
            "update",
            "edited",
            "--json",
            r#"{"description":"server"}"#,
        ]),
        0,
    );
    let (exit, report) = server_to_back(&[]);
    assert_eq!(exit, 4, "{report}");
    assert_eq!(report["agents"]["conflicts"], 1, "{report}");
    assert_eq!(report["agents"]["conflictIds"], json!(["edited"]));
    let (_, kept) = back.json(&["agent", "get", "edited"]);
    assert_eq!(kept["description"], "v3", "left alone");
    let (exit, report) = server_to_back(&["--overwrite"]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["agents"]["overwritten"], 1, "{report}");
    let (_, on_server) = server.json(&["agent", "get", "edited"]);
    let (_, overwritten) = back.json(&["agent", "get", "edited"]);
    assert_eq!(overwritten, on_server, "revision and timestamps kept");
    assert_eq!(overwritten["revision"], 4);

    // Never onto itself: the same file by another path, the same server spelled another way.
    let other_path = source.path().join(".").join("data.db");
    let (exit, refused) = db_copy(
        &source,
        "sqlite",
        other_path.to_str().expect("utf-8"),
        &[],
        password,
    );
    assert_eq!(exit, 2, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("same database")),
        "{refused}"
    );
    let respelled = format!("{}&application_name=other", db.url());
    let (exit, refused) = db_copy(&source, db.url(), &respelled, &[], password);
    assert_eq!(exit, 2, "{refused}");
    // A URL that is not PostgreSQL's is refused without being quoted.
    let (exit, refused) = db_copy(
        &source,
        "sqlite",
        "mysql://u:pa55-Zx81@h/db",
        &[],
        Some("pa55-Zx81"),
    );
    assert_eq!(exit, 2, "{refused}");
}

/// INV-COPY-002 with a real interruption: `ax db copy` killed (SIGKILL) after its
/// first batches reached the server leaves whole batches; the rerun copies exactly
/// the rest, and the server then holds what SQLite holds.
#[test]
fn an_interrupted_db_copy_completes_when_run_again() {
    let _heavy = one_at_a_time();
    let Some(db) = shared_database() else { return };
    let password = db.password();
    let source = DataDir::new();
    let total: u64 = 12_000;
    let mut import = source.spawn_with_stdin(&["agent", "import", "-"]);
    let many: Vec<Value> = (0..total)
        .map(|n| json!({"agentId": format!("many-{n:05}"), "description": format!("agent {n}"), "systemPrompt": "x".repeat(512)}))
        .collect();
    feed(
        &mut import,
        &json!({"version": "1", "updatedAt": "2026-01-01T00:00:00Z", "agents": many}).to_string(),
    );
    assert_exit(&import.wait_with_output().expect("import"), 0);
    let total = total + 11; // and the built-ins

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = ax_adapter_postgres::DatabaseUrl::parse(db.url()).expect("url");
    // Counted through the adapter, not `ax`: an `ax` command would seed the target.
    let count = || {
        runtime.block_on(async {
            use ax_agent_domain::store::{AgentStore, PageRequest};
            let database = ax_adapter_postgres::PostgresDatabase::connect(&url)
                .await
                .expect("connect");
            let page = PageRequest {
                offset: 0,
                limit: Some(0),
            };
            database
                .agent_store()
                .list(&Default::default(), page)
                .await
                .expect("count")
                .total
        })
    };
    let mut copy = source
        .ax()
        .args(["db", "copy", "--from", "sqlite", "--to", db.url()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax starts");
    let started = Instant::now();
    let mut partial = 0;
    while partial == 0 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
        partial = count();
    }
    copy.kill().expect("kill");
    let killed = copy.wait_with_output().expect("ax ends");
    let partial = count();
    assert!(
        partial > 0 && partial < total,
        "killed mid-copy: {partial} of {total} agents on the server ({:?}; stderr: {})",
        killed.status,
        text(&killed.stderr)
    );
    assert_eq!(partial % COPY_BATCH, 0, "whole batches only: {partial}");

    let (exit, report) = db_copy(&source, "sqlite", db.url(), &[], password);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["agents"]["copied"], total - partial, "{report}");
    assert_eq!(report["agents"]["skipped"], partial, "{report}");
    assert_eq!(report["agents"]["conflicts"], 0, "{report}");
    let server = Machine::new(db.url());
    assert!(
        visible_state(|| server.ax(), &[]) == visible_state(|| source.ax(), &[]),
        "after the rerun the server holds exactly what SQLite holds"
    );
}

/// Agents per copy batch (`ax_cli::copy::AGENT_PAGE`): the first run writes whole
/// batches of it, one transaction each.
const COPY_BATCH: u64 = 500;

/// Issue 12 item 5: 32 concurrent compare-and-swap updates of one agent from two
/// machines (16 real `ax` processes each: `agent get`, then `agent update
/// --if-version` the revision read) lose no update: every success moved the
/// revision by exactly one from a distinct revision, the final revision is 1 + the
/// successes, and every failure is `CONFLICT` (exit 4) — INV-PG-CAS-001.
#[test]
fn thirty_two_concurrent_cas_updates_from_two_machines_lose_no_update() {
    let _heavy = one_at_a_time();
    let Some(db) = shared_database() else { return };
    let machines = Arc::new([Machine::new(db.url()), Machine::new(db.url())]);
    assert_exit(
        &machines[0].run(&[
            "agent",
            "register",
            "--id",
            "counter",
            "--description",
            "r1",
        ]),
        0,
    );
    let racers: Vec<_> = (0..32)
        .map(|n| {
            let machines = machines.clone();
            std::thread::spawn(move || {
                let machine = &machines[n % 2];
                let (exit, current) = machine.json(&["agent", "get", "counter"]);
                assert_eq!(exit, 0, "{current}");
                let read = current["revision"].as_u64().expect("revision");
                let patch = json!({"description": format!("racer {n} over {read}")}).to_string();
                let (exit, doc) = machine.json(&[
                    "agent",
                    "update",
                    "counter",
                    "--json",
                    &patch,
                    "--if-version",
                    &read.to_string(),
                ]);
                (n, read, exit, doc)
            })
        })
        .collect();
    let mut from_revisions = Vec::new();
    for racer in racers {
        let (n, read, exit, doc) = racer.join().expect("racer");
        match exit {
            0 => {
                assert_eq!(doc["revision"], read + 1, "racer {n}: {doc}");
                from_revisions.push(read);
            }
            4 => assert_eq!(doc["error"]["code"], "CONFLICT", "racer {n}: {doc}"),
            other => panic!("racer {n}: exit {other}: {doc}"),
        }
    }
    from_revisions.sort_unstable();
    let successes = from_revisions.len() as u64;
    assert!(successes >= 1, "someone wins");
    assert_eq!(
        from_revisions,
        (1..=successes).collect::<Vec<_>>(),
        "each success built on a distinct revision: none overwrote another"
    );
    for machine in machines.iter() {
        let (_, stored) = machine.json(&["agent", "get", "counter"]);
        assert_eq!(stored["revision"], 1 + successes, "{stored}");
    }
}
