//! Real OS processes racing on one database, standing in for many `ax` processes on
//! many machines: the guarantees come from the server, not from anything shared in
//! one process.
//!
//! The children are this test binary itself, started with `--ignored --exact
//! race::child` and `AX_PG_RACE_*` variables saying what to do; each connects with
//! its own pool, signals it is ready, and starts only once every child is ready, so
//! their writes really overlap.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ax_adapter_postgres::test_support::{TestDatabase, report, wait_for_file};
use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase};
use ax_agent_domain::conformance::record;
use ax_agent_domain::store::{AgentFilter, AgentStore, PageRequest, StoreError};
use ax_contracts::agent::AgentRecord;
use serde_json::json;

use crate::helpers::connect;

const MODE: &str = "AX_PG_RACE_MODE";
const URL: &str = "AX_PG_RACE_URL";
const DIR: &str = "AX_PG_RACE_DIR";
const INDEX: &str = "AX_PG_RACE_INDEX";
const PROCESSES: usize = 16;
/// The race tests run one at a time: three of them at once would start 48 processes
/// beside the other tests of this binary on a 2-core CI machine.
static RACES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// Successful compare-and-swap increments each child makes.
const CAS_PER_CHILD: u64 = 2;

/// The child side. Does nothing unless started by a race test.
#[test]
#[ignore = "child process of the multi-process race tests, which start it themselves"]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"));
    let (url, dir, index) = (var(URL), PathBuf::from(var(DIR)), var(INDEX));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Sixteen processes connecting at once on a loaded 2-core CI machine can take
        // longer than the product's 5 s connect timeout (seen in CI: `Timeout(Create)`);
        // the race is about what happens after connecting, so wait longer here.
        let mut url = DatabaseUrl::parse(&url).expect("test URL parses");
        url.set_connect_timeout(Duration::from_secs(60));
        let db = match PostgresDatabase::connect(&url).await {
            Ok(db) => db,
            Err(error) => panic!("connecting to the test database: {error:?}"),
        };
        let store = db.agent_store();
        std::fs::write(dir.join(format!("ready-{index}")), b"").expect("ready file");
        assert!(
            wait_for_file(&dir.join("go"), Duration::from_secs(120)),
            "no start signal"
        );
        match mode.as_str() {
            "register" => {
                let rec = record("contested", json!({"team": format!("child-{index}")}));
                match store.insert(&rec).await {
                    Ok(()) => report("RACE-RESULT ok"),
                    Err(StoreError::AlreadyExists { .. }) => report("RACE-RESULT exists"),
                    Err(other) => report(&format!("RACE-RESULT error {other:?}")),
                }
            }
            "distinct" => {
                for n in 0..25 {
                    let id = format!("p{index}-n{n}");
                    if let Err(error) = store.insert(&record(&id, json!({}))).await {
                        report(&format!("RACE-RESULT error {error:?}"));
                        return;
                    }
                }
                report("RACE-RESULT ok");
            }
            "cas" => {
                let mut mismatches = 0;
                for _ in 0..CAS_PER_CHILD {
                    loop {
                        let current = store.get("counter").await.expect("get").expect("there");
                        let next = incremented(&current);
                        match store.update(&next, current.revision).await {
                            Ok(()) => break,
                            Err(StoreError::RevisionMismatch { .. }) => mismatches += 1,
                            Err(other) => {
                                report(&format!("RACE-RESULT error {other:?}"));
                                return;
                            }
                        }
                    }
                }
                report(&format!("RACE-RESULT ok mismatches={mismatches}"));
            }
            other => panic!("unknown mode {other}"),
        }
    });
}

/// The record with `metadata.counter` one higher and the revision one higher.
fn incremented(current: &AgentRecord) -> AgentRecord {
    let mut doc = serde_json::to_value(current).expect("encode");
    let counter = counter_of(current) + 1;
    doc["metadata"] = json!({ "counter": counter });
    doc["revision"] = json!(current.revision + 1);
    serde_json::from_value(doc).expect("decode")
}

fn counter_of(rec: &AgentRecord) -> u64 {
    serde_json::to_value(rec).expect("encode")["metadata"]["counter"]
        .as_u64()
        .unwrap_or(0)
}

/// Starts [`PROCESSES`] children in `mode` on `url`, releases them together, and
/// returns each one's `RACE-RESULT` line.
fn run_children(mode: &str, url: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..PROCESSES)
        .map(|index| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "race::child", "--nocapture"])
                .args(["--test-threads", "1"])
                .env(MODE, mode)
                .env(URL, url)
                .env(DIR, dir.path())
                .env(INDEX, index.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn a child")
        })
        .collect();
    let all_ready =
        |dir: &Path| (0..PROCESSES).all(|index| dir.join(format!("ready-{index}")).exists());
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !all_ready(dir.path()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(dir.path().join("go"), b"").expect("start signal");
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("child output");
            let stdout = String::from_utf8_lossy(&output.stdout);
            stdout
                .lines()
                .find_map(|line| {
                    // The harness may print "test race::child ... " on the same line.
                    line.split_once("RACE-RESULT ")
                        .map(|(_, result)| result.trim().to_owned())
                })
                .unwrap_or_else(|| {
                    panic!(
                        "a child reported nothing (status {:?}):\n{stdout}\n{}",
                        output.status,
                        String::from_utf8_lossy(&output.stderr)
                    )
                })
        })
        .collect()
}

/// INV-AGT-DB-001 across processes: 16 processes register one id at the same
/// moment — exactly one succeeds, 15 get `AlreadyExists`, one row is stored, and it
/// is the winner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_registering_one_id_have_exactly_one_winner() {
    let _one_race_at_a_time = RACES.lock().await;
    let Some(test) = TestDatabase::create() else {
        return;
    };
    let store = connect(test.url()).await.agent_store();
    let url = test.url().to_owned();
    let results = tokio::task::spawn_blocking(move || run_children("register", &url))
        .await
        .expect("children");
    let ok = results.iter().filter(|r| *r == "ok").count();
    let exists = results.iter().filter(|r| *r == "exists").count();
    assert_eq!((ok, exists), (1, PROCESSES - 1), "{results:?}");
    let page = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    assert!(
        page.agents[0]
            .profile
            .team
            .as_deref()
            .is_some_and(|t| t.starts_with("child-")),
        "{:?}",
        page.agents[0]
    );
}

/// 16 processes × 25 distinct ids: all 400 stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_registering_distinct_ids_store_them_all() {
    let _one_race_at_a_time = RACES.lock().await;
    let Some(test) = TestDatabase::create() else {
        return;
    };
    let store = connect(test.url()).await.agent_store();
    let url = test.url().to_owned();
    let results = tokio::task::spawn_blocking(move || run_children("distinct", &url))
        .await
        .expect("children");
    assert!(results.iter().all(|r| r == "ok"), "{results:?}");
    let page = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    assert_eq!(page.total, 400);
    assert_eq!(page.agents.len(), 400);
}

/// INV-PG-CAS-001 across processes: 16 processes × 2 compare-and-swap increments of
/// one agent's counter, retrying on `RevisionMismatch` — 32 updates, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_cas_updates_from_sixteen_processes_lose_nothing() {
    let _one_race_at_a_time = RACES.lock().await;
    let Some(test) = TestDatabase::create() else {
        return;
    };
    let store = connect(test.url()).await.agent_store();
    store
        .insert(&record("counter", json!({"metadata": {"counter": 0}})))
        .await
        .expect("insert");
    let url = test.url().to_owned();
    let results = tokio::task::spawn_blocking(move || run_children("cas", &url))
        .await
        .expect("children");
    assert!(results.iter().all(|r| r.starts_with("ok")), "{results:?}");
    let stored = store.get("counter").await.expect("get").expect("there");
    let updates = PROCESSES as u64 * CAS_PER_CHILD;
    assert_eq!(counter_of(&stored), updates, "no lost update");
    assert_eq!(stored.revision, 1 + updates);
    eprintln!("CAS contention: {results:?}");
}
