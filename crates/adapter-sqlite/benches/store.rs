//! Benchmarks of the SQLite store, with a small self-written harness (no bench
//! framework): each case runs a fixed number of operations on a real WAL database file
//! in a temporary directory and prints throughput and latency percentiles as a table.
//!
//! Run with `cargo bench -p ax-adapter-sqlite` (release build). Figures are for
//! `docs/BENCHMARKS.md`; nothing here asserts on time.

use std::future::Future;
use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::store::{AgentFilter, AgentStore, PageRequest};
use ax_contracts::agent::AgentRecord;
use serde_json::json;

#[path = "../../../benches/support/mod.rs"]
mod support;
use support::{Samples, machine, own_cpu, us};

/// Latencies of one case.
struct Sample {
    name: String,
    latencies: Samples,
    wall: Duration,
    /// CPU time the whole process used during the case (all threads), when known.
    cpu: Option<Duration>,
}

impl Sample {
    fn print(&self) {
        let ops = self.latencies.len();
        let cpu_per_op = self
            .cpu
            .map_or_else(|| "-".to_owned(), |cpu| us(cpu / ops as u32));
        println!(
            "| {:<52} | {:>7} | {:>10.0} | {:>9} | {:>9} | {:>10} |",
            self.name,
            ops,
            ops as f64 / self.wall.as_secs_f64(),
            us(self.latencies.percentile(50.0)),
            us(self.latencies.percentile(99.0)),
            cpu_per_op,
        );
    }
}

fn header() {
    println!(
        "| {:<52} | {:>7} | {:>10} | {:>9} | {:>9} | {:>10} |",
        "case", "ops", "ops/s", "p50 µs", "p99 µs", "CPU µs/op"
    );
    println!(
        "|{:-<54}|{:->9}|{:->12}|{:->11}|{:->11}|{:->12}|",
        "", "", "", "", "", ""
    );
}

/// Times `ops` calls of `op(i)`.
fn measure(name: impl Into<String>, ops: usize, mut op: impl FnMut(usize)) -> Sample {
    let mut latencies = Vec::with_capacity(ops);
    let cpu_before = own_cpu();
    let start = Instant::now();
    for i in 0..ops {
        let t = Instant::now();
        op(i);
        latencies.push(t.elapsed());
    }
    let wall = start.elapsed();
    Sample {
        name: name.into(),
        latencies: Samples::new(latencies),
        wall,
        cpu: cpu_before
            .zip(own_cpu())
            .map(|(before, after)| after.saturating_sub(before)),
    }
}

const TAGS: usize = 20;
const CAPABILITIES: usize = 50;
const TEAMS: usize = 10;

/// Agent `n` of the data set: 3 of 20 tags, 4 of 50 capabilities, 1 of 10 teams, so
/// a tag matches ~15% of agents and a capability ~8% — pages are cut from large sets.
fn agent(n: usize) -> AgentRecord {
    let tags: Vec<String> = (0..3)
        .map(|k| format!("tag-{:02}", (n * 7 + k * 3) % TAGS))
        .collect();
    let capabilities: Vec<String> = (0..4)
        .map(|k| format!("cap-{:02}", (n * 11 + k * 13) % CAPABILITIES))
        .collect();
    serde_json::from_value(json!({
        "agentId": format!("agent-{n:06}"),
        "displayName": format!("Agent {n}"),
        "description": format!("Benchmark agent number {n}, which reviews and writes code."),
        "systemPrompt": "You are a careful engineer. Answer briefly and cite the files you read.",
        "team": format!("team-{}", n % TEAMS),
        "tags": tags,
        "capabilities": capabilities,
        "enabled": !n.is_multiple_of(10),
        "createdAt": "2026-01-20T10:00:00.000Z",
        "updatedAt": "2026-01-20T10:00:00.000Z",
        "revision": 1,
    }))
    .expect("benchmark records are well-formed")
}

/// A cheap deterministic spread of indexes (no RNG dependency).
fn spread(i: usize, len: usize) -> usize {
    (i.wrapping_mul(2_654_435_761)) % len
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a Tokio runtime")
}

/// Runs a port future the way the CLI and the MCP server do (inside Tokio, so the
/// store uses `spawn_blocking`).
fn in_tokio<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

fn registration(dir: &Path) {
    let rt = runtime();
    let ops = 5_000;

    let db = SqliteDatabase::open(dir.join("register-tokio.db")).expect("open");
    let store = db.agent_store();
    measure("register, sequential (Tokio, spawn_blocking)", ops, |i| {
        in_tokio(&rt, store.insert(&agent(i))).expect("insert");
    })
    .print();

    let db = SqliteDatabase::open(dir.join("register-inline.db")).expect("open");
    let store = db.agent_store();
    measure("register, sequential (no runtime, inline)", ops, |i| {
        futures::executor::block_on(store.insert(&agent(i))).expect("insert");
    })
    .print();

    // Eight writers in one process, each with its own SqliteDatabase (own pool and
    // connections, like separate processes), all on one file.
    let path = dir.join("register-parallel.db");
    SqliteDatabase::open(&path).expect("create");
    let writers = 8;
    let per_writer = 1_000;
    let barrier = Arc::new(Barrier::new(writers + 1));
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                let db = SqliteDatabase::open(&path).expect("open");
                let store = db.agent_store();
                let rt = runtime();
                barrier.wait();
                let mut latencies = Vec::with_capacity(per_writer);
                for i in 0..per_writer {
                    let t = Instant::now();
                    in_tokio(&rt, store.insert(&agent(w * per_writer + i))).expect("insert");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let cpu_before = own_cpu();
    barrier.wait();
    let start = Instant::now();
    let latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("writer thread"))
        .collect();
    let wall = start.elapsed();
    Sample {
        name: format!("register, {writers} writers × {per_writer} (own pools, one file)"),
        latencies: Samples::new(latencies),
        wall,
        cpu: cpu_before
            .zip(own_cpu())
            .map(|(before, after)| after.saturating_sub(before)),
    }
    .print();
}

/// What handing blocking work to Tokio costs by itself (a no-op closure), to read the
/// store's Tokio-vs-inline differences against.
fn handoff() {
    let current = runtime();
    measure(
        "hand-off only: spawn_blocking, current_thread rt",
        5_000,
        |_| {
            current
                .block_on(async { tokio::task::spawn_blocking(|| black_box(1)).await })
                .expect("join");
        },
    )
    .print();
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("multi-thread runtime");
    measure(
        "hand-off only: spawn_blocking, multi_thread rt",
        5_000,
        |_| {
            multi
                .block_on(async {
                    tokio::spawn(async { tokio::task::spawn_blocking(|| black_box(1)).await }).await
                })
                .expect("join")
                .expect("join");
        },
    )
    .print();
    measure(
        "hand-off only: block_in_place, multi_thread rt",
        5_000,
        |_| {
            multi
                .block_on(async {
                    tokio::spawn(async { tokio::task::block_in_place(|| black_box(1)) }).await
                })
                .expect("join");
        },
    )
    .print();
    measure(
        "hand-off only: tokio::spawn round trip, multi_thread rt",
        5_000,
        |_| {
            multi
                .block_on(async { tokio::spawn(async { black_box(1) }).await })
                .expect("join");
        },
    )
    .print();
}

fn open_cost(dir: &Path) {
    let path = dir.join("open.db");
    let rt = runtime();
    {
        let db = SqliteDatabase::open(&path).expect("create");
        for n in 0..100 {
            in_tokio(&rt, db.agent_store().insert(&agent(n))).expect("insert");
        }
    }
    measure("open up-to-date file + first get", 300, |i| {
        let db = SqliteDatabase::open(&path).expect("open");
        let id = format!("agent-{:06}", i % 100);
        black_box(in_tokio(&rt, db.agent_store().get(&id)).expect("get"));
    })
    .print();
}

/// A labelled filter, varied by iteration so pages come from different ranges.
type FilterCase = (&'static str, fn(usize) -> AgentFilter);

fn reads_at(size_label: &str, db: &SqliteDatabase, agents: usize) {
    let rt = runtime();
    let store = db.agent_store();
    measure(format!("get @ {size_label} (Tokio)"), 5_000, |i| {
        let id = format!("agent-{:06}", spread(i, agents));
        black_box(
            in_tokio(&rt, store.get(&id))
                .expect("get")
                .expect("present"),
        );
    })
    .print();
    measure(format!("get @ {size_label} (inline)"), 5_000, |i| {
        let id = format!("agent-{:06}", spread(i, agents));
        black_box(
            futures::executor::block_on(store.get(&id))
                .expect("get")
                .expect("present"),
        );
    })
    .print();
    let page = PageRequest {
        offset: 0,
        limit: Some(50),
    };
    let cases: [FilterCase; 4] = [
        ("list tag, 50 + total", |i| AgentFilter {
            tags: vec![format!("tag-{:02}", i % TAGS)],
            ..Default::default()
        }),
        ("list capability, 50 + total", |i| AgentFilter {
            capability: Some(format!("cap-{:02}", i % CAPABILITIES)),
            ..Default::default()
        }),
        ("list team+enabled, 50 + total", |i| AgentFilter {
            team: Some(format!("team-{}", i % TEAMS)),
            enabled: Some(true),
            ..Default::default()
        }),
        ("list 2 tags + capability, 50 + total", |i| AgentFilter {
            tags: vec![
                format!("tag-{:02}", i % TAGS),
                format!("tag-{:02}", (i + 7) % TAGS),
            ],
            capability: Some(format!("cap-{:02}", i % CAPABILITIES)),
            ..Default::default()
        }),
    ];
    for (label, filter) in cases {
        measure(format!("{label} @ {size_label}"), 300, |i| {
            let result = in_tokio(&rt, store.list(&filter(i), page)).expect("list");
            black_box(result);
        })
        .print();
    }
}

fn reads(dir: &Path) {
    let db = SqliteDatabase::open(dir.join("reads.db")).expect("open");
    let store = db.agent_store();
    let mut loaded = 0;
    for (label, size) in [("1k", 1_000), ("10k", 10_000), ("100k", 100_000)] {
        while loaded < size {
            futures::executor::block_on(store.insert(&agent(loaded))).expect("load");
            loaded += 1;
        }
        reads_at(label, &db, size);
    }
}

fn main() {
    // `cargo bench -p ax-adapter-sqlite -- register` runs only the groups whose name
    // contains one of the given words (register, open, reads); flags that cargo adds
    // (`--bench`) are ignored.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |group: &str| wanted.is_empty() || wanted.iter().any(|w| group.contains(w.as_str()));
    let dir = tempfile::tempdir().expect("temporary directory");
    println!("ax-adapter-sqlite store benchmarks — {}", machine());
    println!(
        "database: file-backed, WAL, synchronous=NORMAL, in {}",
        dir.path().display()
    );
    println!();
    header();
    if run("register") {
        registration(dir.path());
    }
    if run("handoff") {
        handoff();
    }
    if run("open") {
        open_cost(dir.path());
    }
    if run("reads") {
        reads(dir.path());
    }
}
