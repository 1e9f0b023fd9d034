//! Many real `ax` processes writing one database file at once — the scenario that lost
//! data in the reference tool (16 processes registering 16 agents left 3; 16
//! registering one id were told "registered" 11 times).
//!
//! Start gate: each racer is started with its profile coming on stdin
//! (`--file -` / `import -`). `ax` opens the database (migrations, seeding) and then
//! blocks reading stdin, so when every racer is up the test writes all the stdins and
//! the writes really happen together.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{DataDir, assert_exit, code, feed, rows_for, text};

/// INV-AGT-REG-001 / INV-AGT-DB-001: 16 processes register the same id at once →
/// exactly one exit 0, fifteen "already exists" (exit 4), one row with the winner's data.
#[test]
fn sixteen_processes_registering_one_id_have_exactly_one_winner() {
    let data = DataDir::new();
    assert_exit(&data.run(&["agent", "list"]), 0); // create the database first
    let mut racers: Vec<_> = (0..16)
        .map(|_| data.spawn_with_stdin(&["agent", "register", "--file", "-"]))
        .collect();
    for (n, child) in racers.iter_mut().enumerate() {
        feed(child, &json!({"agentId": "contested", "description": format!("written by racer {n}"), "team": format!("racer-{n}")}).to_string());
    }
    let outputs: Vec<_> = racers
        .into_iter()
        .map(|c| c.wait_with_output().expect("racer finishes"))
        .collect();

    let winners: Vec<usize> = outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| code(o) == 0)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one registration succeeds; exit codes: {:?}",
        outputs.iter().map(code).collect::<Vec<_>>()
    );
    for (n, out) in outputs.iter().enumerate().filter(|(n, _)| *n != winners[0]) {
        assert_exit(out, 4);
        assert!(
            text(&out.stderr).contains("error: agent \"contested\" already exists"),
            "racer {n}: {}",
            text(&out.stderr)
        );
    }
    let db = data.db();
    assert_eq!(rows_for(&db, "contested"), 1);
    let team: String = db
        .query_row(
            "SELECT team FROM agents WHERE agent_id = 'contested'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(
        team,
        format!("racer-{}", winners[0]),
        "the stored row holds the winner's data"
    );
}

/// 16 processes × 50 distinct ids at once: all 800 are stored.
#[test]
fn sixteen_processes_registering_fifty_ids_each_store_all_eight_hundred() {
    let data = DataDir::new();
    assert_exit(&data.run(&["agent", "list"]), 0);
    let mut racers: Vec<_> = (0..16)
        .map(|_| data.spawn_with_stdin(&["--format", "json", "agent", "import", "-"]))
        .collect();
    for (p, child) in racers.iter_mut().enumerate() {
        let agents: Vec<Value> = (0..50)
            .map(|n| json!({"agentId": format!("p{p}-agent{n}"), "description": format!("agent {n} of process {p}"), "tags": [format!("p{p}")]}))
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
            Some(50),
            "process {p}: {report}"
        );
    }
    let db = data.db();
    let stored: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id LIKE 'p%-agent%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(stored, 800);
    let (_, listing) = data.json(&["agent", "list", "--tag", "p7", "--limit", "100"]);
    assert_eq!(listing["total"], 50);
}

/// 8 processes start on an empty data directory at once: creating the directory,
/// the migrations and the seeding of the built-in agents never fail, and each
/// default exists exactly once. Repeated on several fresh directories.
#[test]
fn eight_processes_starting_on_an_empty_data_directory_never_fail() {
    for round in 0..4 {
        let data = DataDir::new();
        let dir = data.path().join("fresh"); // does not exist yet
        let racers: Vec<_> = (0..8)
            .map(|_| {
                data.ax_in(&dir)
                    .args(["--format", "json", "agent", "list", "--limit", "100"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("ax starts")
            })
            .collect();
        let mut totals = BTreeSet::new();
        for child in racers {
            let out = child.wait_with_output().expect("finishes");
            assert_exit(&out, 0);
            let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
            totals.insert(doc["total"].as_u64().expect("total"));
        }
        let db = rusqlite::Connection::open(dir.join("data.db")).expect("db");
        let defaults: i64 = db
            .query_row("SELECT COUNT(*) FROM agents", [], |r| r.get(0))
            .expect("count");
        let distinct: i64 = db
            .query_row("SELECT COUNT(DISTINCT agent_id) FROM agents", [], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(defaults, distinct, "round {round}: no default seeded twice");
        assert!(
            defaults >= 9,
            "round {round}: the defaults are there ({defaults})"
        );
        assert_eq!(rows_for(&db, "standard"), 1);
        // Every racer saw either the complete seeded set or (if it listed before the
        // seeding transaction of another committed) its own complete seeding.
        assert_eq!(totals, BTreeSet::from([defaults as u64]), "round {round}");
    }
}

/// Issue 9: 32 processes start at once on a new data directory holding a reference
/// `agents.json`: the one-time import runs in exactly one of them (it ran in 6–15:
/// the "already imported?" check and the import were separate steps).
#[test]
fn thirty_two_first_runs_import_the_reference_agents_json_exactly_once() {
    for round in 0..2 {
        let data = DataDir::new();
        let dir = data.path().join("fresh");
        std::fs::create_dir(&dir).expect("mkdir");
        let agents: Vec<Value> = (0..20)
            .map(|n| json!({"agentId": format!("legacy-{n}"), "description": "from the reference tool"}))
            .collect();
        std::fs::write(
            dir.join("agents.json"),
            json!({"version": "1", "updatedAt": "2026-01-01T00:00:00Z", "agents": agents})
                .to_string(),
        )
        .expect("agents.json");
        let racers: Vec<_> = (0..32)
            .map(|_| {
                data.ax_in(&dir)
                    .args(["agent", "list", "--limit", "1"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("ax starts")
            })
            .collect();
        let mut notes = Vec::new();
        for child in racers {
            let out = child.wait_with_output().expect("finishes");
            assert_exit(&out, 0);
            let stderr = text(&out.stderr);
            if stderr.contains("from the reference registry") {
                notes.push(stderr);
            }
        }
        assert_eq!(
            notes.len(),
            1,
            "round {round}: the import ran in exactly one process: {notes:#?}"
        );
        assert!(notes[0].contains("imported 20 agent(s)"), "{}", notes[0]);
        let db = rusqlite::Connection::open(dir.join("data.db")).expect("db");
        let legacy: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM agents WHERE agent_id LIKE 'legacy-%'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(legacy, 20);
    }
}

/// `SIGKILL` in the middle of a write storm: afterwards `PRAGMA integrity_check` is
/// `ok` and every registration that was acknowledged (exit 0) is present.
///
/// Four writers register agents one process at a time; every third process is
/// killed with `SIGKILL` after a delay that varies across its short life (start-up,
/// opening, the write transaction, the commit), so kills land at every stage.
#[test]
fn sigkill_during_a_write_storm_loses_no_acknowledged_registration() {
    let data = DataDir::new();
    assert_exit(&data.run(&["agent", "list"]), 0);
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let cmd_for = {
                let data_dir = data.path().to_owned();
                move |id: &str| {
                    let mut cmd = std::process::Command::new(crate::helpers::ax_bin());
                    cmd.arg("--data-dir")
                        .arg(&data_dir)
                        .env("HOME", data_dir.join("home"))
                        .args([
                            "agent",
                            "register",
                            "--id",
                            id,
                            "--description",
                            "storm",
                            "--tag",
                            "storm",
                            "--capability",
                            "weather",
                        ])
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped());
                    cmd
                }
            };
            std::thread::spawn(move || {
                let (mut acknowledged, mut killed) = (Vec::new(), 0u32);
                for n in 0..45u64 {
                    let id = format!("storm-w{w}-n{n}");
                    let mut child = cmd_for(&id).spawn().expect("spawn");
                    if n % 3 == 0 {
                        // Spread over ~0–12 ms; the child is not reaped before the kill,
                        // so its pid cannot have been reused.
                        std::thread::sleep(Duration::from_micros((n * 2_711 + w * 977) % 12_000));
                        let _ = child.kill(); // SIGKILL
                    }
                    let out = child.wait_with_output().expect("wait");
                    if out.status.code().is_none() {
                        killed += 1;
                    } else if out.status.success() && text(&out.stdout).contains("registered agent")
                    {
                        acknowledged.push(id);
                    }
                }
                (acknowledged, killed)
            })
        })
        .collect();

    let (mut acknowledged, mut killed) = (Vec::new(), 0);
    for writer in writers {
        let (a, k) = writer.join().expect("writer");
        acknowledged.extend(a);
        killed += k;
    }
    assert!(killed > 0, "the storm must actually kill writers");
    assert!(!acknowledged.is_empty(), "some writers must get through");

    let db = data.db();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    for id in &acknowledged {
        assert_eq!(
            rows_for(&db, id),
            1,
            "acknowledged registration {id} is present"
        );
    }
    // The side tables agree with the rows that survived.
    let orphans: i64 = db
        .query_row("SELECT COUNT(*) FROM agent_tags t LEFT JOIN agents a ON a.id = t.agent_rowid WHERE a.id IS NULL", [], |r| r.get(0))
        .expect("orphans");
    assert_eq!(orphans, 0);
    let tagged: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM agent_tags WHERE tag = 'storm'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    let stored: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id LIKE 'storm-%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        tagged, stored,
        "no agent row without its tag row, none the other way round"
    );
    // And the database is still fully usable by ax.
    let (exit, listing) = data.json(&["agent", "list", "--tag", "storm", "--limit", "1000"]);
    assert_eq!(exit, 0);
    assert_eq!(listing["total"].as_i64(), Some(stored));
    eprintln!(
        "storm: {} acknowledged, {killed} killed, {stored} stored",
        acknowledged.len()
    );
}
