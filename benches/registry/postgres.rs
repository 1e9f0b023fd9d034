//! Group `postgres` (issue 12 item 7): the registry on a throw-away loopback
//! PostgreSQL beside the same figures on SQLite, taken in one run.
//!
//! ```text
//! cargo bench --bench registry -- postgres                      # 100k agents
//! AX_BENCH_PG_SIZE=10k cargo bench --bench registry -- postgres
//! ```
//!
//! The server is the one the tests use (`ax_adapter_postgres::test_support`:
//! `initdb` into a temporary directory, a free port on 127.0.0.1, password
//! authentication, run as `nobody` when the bench runs as root, stopped when the
//! bench ends; or `AX_TEST_DATABASE_URL`). Each registry is a fresh schema on it.
//! Measured on both backends: sequential registration through `AgentRegistry` in
//! process (one client), 1 and 8 real `ax agent import` processes at once, then on
//! a registry of `AX_BENCH_PG_SIZE` agents `get`, filtered pages and `recommend` in
//! process, and `ax agent get` / `ax agent recommend` as whole processes.

use super::scale::{p50_max, parse_size, peak_over, process_latencies, scale_id};
use super::*;
use ax_adapter_postgres::test_support::TestDatabase;
use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase};
use ax_agent_domain::store::BatchConflict;

/// Registry size for the reads when `AX_BENCH_PG_SIZE` is not set.
const DEFAULT_SIZE: usize = 100_000;

/// Agents per `import_batch` transaction while building the read registries.
const BUILD_BATCH: usize = 1_000;

/// The two registries of one comparison, SQLite first.
struct Pair {
    sqlite: Arc<dyn AgentStore>,
    postgres: Arc<dyn AgentStore>,
}

/// A fresh schema on the test server, kept for the whole run (on the throw-away
/// cluster nothing is dropped before the cluster goes).
fn fresh_schema(keep: &mut Vec<TestDatabase>) -> String {
    let db = TestDatabase::create().expect("checked at the start: PostgreSQL is not skipped");
    let url = db.url().to_owned();
    keep.push(db);
    url
}

/// The PostgreSQL database at `url`, connected and migrated, with the default pool.
fn connect_database(rt: &tokio::runtime::Runtime, url: &str) -> PostgresDatabase {
    let url = DatabaseUrl::parse(url).expect("the test server's URL parses");
    rt.block_on(PostgresDatabase::connect(&url))
        .expect("connect to the test server")
}

/// The agent store of [`connect_database`].
fn connect(rt: &tokio::runtime::Runtime, url: &str) -> Arc<dyn AgentStore> {
    Arc::new(connect_database(rt, url).agent_store())
}

/// The SQLite store of the data directory `dir`, run inline as `ax agent` runs it.
fn sqlite_store(dir: &Path) -> Arc<dyn AgentStore> {
    let options = DatabaseOptions {
        execution: Execution::Inline,
        ..DatabaseOptions::default()
    };
    let db = SqliteDatabase::open_with(dir.join("data.db"), options).expect("open data.db");
    Arc::new(db.agent_store())
}

/// Inserts typical agents `0..size` in transactions of [`BUILD_BATCH`]; returns
/// agents/s.
fn build(rt: &tokio::runtime::Runtime, store: &dyn AgentStore, size: usize) -> f64 {
    let start = Instant::now();
    for first in (0..size).step_by(BUILD_BATCH) {
        let records: Vec<AgentRecord> = (first..(first + BUILD_BATCH).min(size))
            .map(|n| record(typical_profile(&scale_id(n), n)))
            .collect();
        let outcome = rt
            .block_on(store.import_batch(&records, BatchConflict::Fail, None))
            .expect("import batch")
            .expect("no one-time key");
        assert_eq!(outcome.inserted.len(), records.len(), "a fresh registry");
    }
    size as f64 / start.elapsed().as_secs_f64()
}

/// CPU time the PostgreSQL server has used so far: every `postgres` process's own
/// time plus that of its exited children (a backend's time goes to the postmaster's
/// children's time when its connection ends). `None` off Linux. The benchmark's
/// own CPU column counts only client processes; this is the server's side.
fn server_cpu() -> Option<Duration> {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if !stat
            .split_once(')')
            .is_some_and(|(head, _)| head.ends_with("(postgres"))
        {
            continue;
        }
        if let Some((own, children)) = support::stat_cpu_times(&stat) {
            total += own + children;
        }
    }
    Some(total)
}

/// Server CPU per operation over `ops` operations since `before`.
fn server_cpu_per_op(before: Option<Duration>, ops: usize) -> String {
    match before.zip(server_cpu()) {
        Some((b, a)) if ops > 0 => us(a.saturating_sub(b) / ops as u32),
        _ => "-".into(),
    }
}

pub(super) fn postgres(root: &Path) {
    let size = match std::env::var("AX_BENCH_PG_SIZE") {
        Ok(text) => parse_size(&text).unwrap_or_else(|e| panic!("AX_BENCH_PG_SIZE: {e}")),
        Err(_) if quick() => 10_000,
        Err(_) => DEFAULT_SIZE,
    };
    let register_ops = if quick() { 300 } else { 2_000 };
    let mut schemas = Vec::new();
    let Some(first) = TestDatabase::create() else {
        println!("AX_SKIP_POSTGRES=1: the PostgreSQL benchmark is not run.\n");
        return;
    };
    schemas.push(first);
    let rt = runtime();
    let version = {
        let db = connect_database(&rt, schemas[0].url());
        rt.block_on(db.health()).map_or_else(
            |e| format!("unknown ({e})"),
            |h| {
                format!(
                    "PostgreSQL {}, one trivial query's round trip {} µs",
                    h.server_version,
                    us(h.latency)
                )
            },
        )
    };
    println!(
        "PostgreSQL: the tests' throw-away server (test_support: loopback TCP, password \
         (SCRAM) authentication, `fsync=off`, `full_page_writes=off`, `synchronous_commit` \
         on, `shared_buffers=64MB`): {version}. `fsync=off` skips only flushing to \
         the disk, as SQLite's `synchronous=NORMAL` in WAL mode skips it at each commit: \
         both keep every commit through a process crash, neither through a power cut. \
         Each registry is a fresh schema (PostgreSQL) or data directory (SQLite). In \
         process: `AgentRegistry` on a current-thread Tokio runtime; SQLite inline, as \
         `ax agent` runs it; PostgreSQL through its pool of 8 connections.\n"
    );

    // One client, in process: sequential registration.
    let docs: Vec<Value> = (0..register_ops)
        .map(|n| typical_profile(&scale_id(n), n))
        .collect();
    let fresh = Pair {
        sqlite: sqlite_store(&root.join("pg-register-sqlite")),
        postgres: connect(&rt, &fresh_schema(&mut schemas)),
    };
    let mut table = Table::new(&OP_HEADER);
    let mut server = String::new();
    for (backend, store) in [("SQLite", &fresh.sqlite), ("PostgreSQL", &fresh.postgres)] {
        let registry = AgentRegistry::new(store.clone());
        let server_before = server_cpu();
        table.row(timed_row(
            format!("{backend}: register_json, one client, sequential"),
            &rt,
            register_ops,
            |i| {
                let (registry, doc) = (&registry, &docs[i]);
                async move {
                    registry
                        .register(AgentProfile::from_json(doc).expect("valid"))
                        .await
                        .expect("register");
                }
            },
        ));
        server = server_cpu_per_op(server_before, register_ops);
    }
    table.print();
    println!("PostgreSQL server CPU per registration (one client): {server} µs\n");

    // 1 and 8 real processes importing at once.
    println!("### SQLite\n");
    let sqlite_medians = processes_on(root, "a data directory (SQLite)", &mut |name| {
        Site::sqlite(root.join(format!("pg-sqlite-{name}")))
    });
    println!("\n### PostgreSQL\n");
    let server_before = server_cpu();
    let postgres_medians = processes_on(root, "PostgreSQL (AX_DATABASE_URL)", &mut |name| {
        Site::postgres(
            root.join(format!("pg-postgres-{name}")),
            &fresh_schema(&mut schemas),
        )
    });
    println!(
        "PostgreSQL server CPU per registration (all runs, 1 and 8 processes): {} µs",
        server_cpu_per_op(server_before, ImportPlan::new().total())
    );
    let rate = |m: Option<f64>| m.map_or("-".into(), count);
    println!(
        "\nmedian registrations/s, 1 process / 8 processes: SQLite {} / {}, PostgreSQL {} / \
         {}\n",
        rate(sqlite_medians.one),
        rate(sqlite_medians.eight),
        rate(postgres_medians.one),
        rate(postgres_medians.eight)
    );

    // Reads on a registry of `size` agents.
    let sqlite_dir = root.join("pg-reads-sqlite");
    let postgres_url = fresh_schema(&mut schemas);
    let reads_schema = schemas.last().expect("just made");
    let reads = Pair {
        sqlite: sqlite_store(&sqlite_dir),
        postgres: connect(&rt, &postgres_url),
    };
    let mut built = Table::new(&["backend", "agents", "agents/s (import_batch of 1,000)"]);
    for (backend, store) in [("SQLite", &reads.sqlite), ("PostgreSQL", &reads.postgres)] {
        let rate = build(&rt, store.as_ref(), size);
        built.row(vec![backend.into(), count(size as f64), count(rate)]);
    }
    built.print();

    let label = scale::size_label(size);
    let id = |i: usize| scale_id(mix(i as u64) as usize % size);
    let page = PageRequest {
        offset: 0,
        limit: Some(50),
    };
    let mut table = Table::new(&OP_HEADER);
    let mut server_per_get = Vec::new();
    // The last pass: PostgreSQL once more after `VACUUM ANALYZE`, which autovacuum
    // would run on its own some time after a bulk load (fresh rows are not yet in
    // the visibility map, so index-only scans still visit the table).
    let passes = [
        ("SQLite", &reads.sqlite, false),
        ("PostgreSQL", &reads.postgres, false),
        ("PostgreSQL after VACUUM ANALYZE", &reads.postgres, true),
    ];
    for (backend, store, vacuum) in passes {
        if vacuum {
            reads_schema
                .execute("VACUUM ANALYZE")
                .expect("VACUUM ANALYZE");
        }
        let registry = AgentRegistry::new(store.clone());
        let server_before = server_cpu();
        table.row(timed_row(
            format!("{backend}: get @ {label}"),
            &rt,
            5_000,
            |i| {
                let (registry, id) = (&registry, id(i));
                async move {
                    std::hint::black_box(registry.get(&id).await.expect("get"));
                }
            },
        ));
        if backend != "SQLite" {
            server_per_get.push((backend, server_cpu_per_op(server_before, 5_000)));
        }
        // One tag; two tags and a capability (the slowest shape on SQLite).
        for (name, make_filter) in [LIST_FILTERS[1], LIST_FILTERS[4]] {
            table.row(timed_row(
                format!("{backend}: {name}, page of 50 + total @ {label}"),
                &rt,
                300,
                |i| {
                    let (registry, filter) = (&registry, make_filter(i));
                    async move {
                        std::hint::black_box(registry.list(&filter, page).await.expect("list"));
                    }
                },
            ));
        }
        if vacuum {
            continue;
        }
        table.row(timed_row(
            format!("{backend}: recommend @ {label}"),
            &rt,
            if quick() { 2 } else { 5 },
            |i| {
                let registry = &registry;
                let request = RecommendRequest {
                    task: TASKS[i % 5].into(),
                    ..Default::default()
                };
                async move {
                    std::hint::black_box(registry.recommend(&request).await.expect("recommend"));
                }
            },
        ));
    }
    table.print();
    for (backend, cpu) in server_per_get {
        println!("{backend}: server CPU per get {cpu} µs");
    }
    println!();

    // The same registries through whole `ax` processes.
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let sites = [
        ("SQLite", Site::sqlite(&sqlite_dir)),
        (
            "PostgreSQL",
            Site::postgres(root.join("pg-reads-postgres"), &postgres_url),
        ),
    ];
    let mut table = Table::new(&[
        "backend",
        "`ax agent get` p50 / max ms",
        "`ax agent recommend` p50 / max ms",
        "recommend peak RSS MiB",
    ]);
    let budget = Duration::from_secs(60);
    for (backend, site) in &sites {
        // Seeds the built-in agents, so no timed run does.
        agent_total(&home, site);
        let command = |args: &[&str]| {
            let mut c = ax(&home, site);
            c.args(args);
            c
        };
        let get = process_latencies(
            &|i| command(&["agent", "get", &id(i)]),
            2,
            if quick() { 5 } else { 30 },
            budget,
            root,
        );
        let recommend_cmd = |i: usize| command(&["agent", "recommend", TASKS[i % 5]]);
        let recommend =
            process_latencies(&recommend_cmd, 1, if quick() { 3 } else { 5 }, budget, root);
        table.row(vec![
            (*backend).into(),
            p50_max(&get),
            p50_max(&recommend),
            mib(peak_over(&recommend_cmd, 2, root)),
        ]);
    }
    table.print();
}
