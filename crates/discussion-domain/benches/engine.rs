//! Benchmarks of the discussion engine's own overhead (issue 3, item 8), with a small
//! self-written harness: every case is timed with `std::time::Instant` and printed as
//! a Markdown table, ready for `docs/BENCHMARKS.md`. Nothing here asserts on time.
//!
//! Run: `cargo bench -p ax-discussion-domain --bench engine` (release profile).
//! Pass `throughput` (or only `limiter` / `discussions`), `schedule` or `memory` after
//! `--` to run one section only.
//!
//! - **throughput**: calls per second with zero-latency providers, through the bare
//!   limiter path (acquire a permit, call, release) and through whole discussions
//!   (`DiscussionService::discuss`: validate, prepare, run, save to a no-op history).
//!   The providers answer instantly, so all the time measured is the engine's.
//! - **schedule**: providers that take exactly 50 ms of tokio time; wall time of N
//!   calls under a limit of L against the ideal `ceil(N / L) × 50 ms`.
//! - **memory**: resident memory per call waiting for a permit (10,000 calls behind
//!   a limit of 1), from `VmRSS` in `/proc/self/status`. Each case runs in a fresh
//!   child process so that memory freed by earlier cases cannot hide its cost.

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ax_contracts::discussion::DiscussionConfig;
use ax_contracts::parse::Valid;
use ax_discussion_domain::history::{
    DiscussionHistory, DiscussionRecord, DiscussionSummary, HistoryError,
};
use ax_discussion_domain::provider::{
    Expects, ProviderError, ProviderExecutor, ProviderInfo, ProviderKind, ProviderRequest,
    ProviderResponse,
};
use ax_discussion_domain::{DiscussionEngine, DiscussionService, ProviderLimiter, RunOptions};

#[path = "../../../benches/support/mod.rs"]
mod support;
use support::{machine, own_cpu};

/// The latency every provider of the schedule section takes.
const LATENCY: Duration = Duration::from_millis(50);

/// A provider port whose providers answer after `latency` (zero: without touching a
/// timer) with a short answer in the format the request expects. The answers are
/// built once, so the fake costs one string copy per call and the figures are the
/// engine's.
struct Fake {
    infos: Vec<ProviderInfo>,
    latency: Duration,
    answers: Vec<[String; 4]>,
}

impl Fake {
    fn new(count: usize, latency: Duration) -> Arc<Self> {
        let ids: Vec<String> = (1..=count).map(|i| format!("p{i}")).collect();
        let stores = [
            "SQLite",
            "PostgreSQL",
            "LMDB",
            "RocksDB",
            "Redis",
            "sled",
            "DuckDB",
        ];
        let answers = ids
            .iter()
            .zip(stores.iter().cycle())
            .map(|(id, store)| {
                [
                    format!("VOTE: 1\nCONFIDENCE: 0.8\nREASON: {id} prefers the first option."),
                    "POSITION: AGREE\nREASON: it matches the discussion.".to_owned(),
                    format!(
                        "AGREEMENTS:\n- use a single store\nDISAGREEMENTS:\n- none\nINSIGHTS:\n- none\nCONCLUSION:\n{id}: keep agents in SQLite with a unique index."
                    ),
                    format!(
                        "{id} recommends {store}: keep registrations in {store}, which gives atomic writes; the main risk with {store} is operating it."
                    ),
                ]
            })
            .collect();
        Arc::new(Self {
            infos: ids
                .iter()
                .map(|id| ProviderInfo {
                    id: id.clone(),
                    kind: ProviderKind::Mock,
                    description: "benchmark fake".into(),
                    simulated: true,
                    max_concurrent: None,
                    default_timeout: None,
                })
                .collect(),
            latency,
            answers,
        })
    }

    fn ids(&self) -> Vec<String> {
        self.infos.iter().map(|p| p.id.clone()).collect()
    }
}

#[async_trait]
impl ProviderExecutor for Fake {
    async fn execute(&self, req: ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let index = req
            .provider_id
            .strip_prefix('p')
            .and_then(|n| n.parse::<usize>().ok())
            .map_or(0, |n| n - 1);
        let format = match req.expects {
            Expects::Vote { .. } => 0,
            Expects::Position => 1,
            Expects::Synthesis { .. } => 2,
            Expects::Text { .. } => 3,
        };
        Ok(ProviderResponse {
            content: self.answers[index][format].clone(),
            input_tokens: None,
            output_tokens: None,
            duration: self.latency,
            simulated: true,
        })
    }

    async fn is_available(&self, _provider_id: &str) -> bool {
        true
    }

    fn providers(&self) -> Vec<ProviderInfo> {
        self.infos.clone()
    }
}

/// A history that keeps nothing, so that saving costs only building the record.
struct NoHistory;

#[async_trait]
impl DiscussionHistory for NoHistory {
    async fn save(&self, record: &DiscussionRecord) -> Result<(), HistoryError> {
        black_box(record);
        Ok(())
    }

    async fn get(&self, _id: &str) -> Result<Option<DiscussionRecord>, HistoryError> {
        Ok(None)
    }

    async fn list(
        &self,
        _limit: usize,
        _before: Option<&str>,
    ) -> Result<Vec<DiscussionSummary>, HistoryError> {
        Ok(Vec::new())
    }

    async fn save_missing(
        &self,
        records: &[DiscussionRecord],
    ) -> Result<Vec<String>, HistoryError> {
        black_box(records);
        Ok(Vec::new())
    }
}

/// A two-worker runtime like the one `ax discuss` and the MCP server use.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `VmRSS` of this process, in bytes.
fn rss_bytes() -> u64 {
    support::status_kib(None, "VmRSS").expect("VmRSS in /proc/self/status") * 1024
}

fn request(provider: &str, prompt: &str) -> ProviderRequest {
    ProviderRequest {
        provider_id: provider.to_owned(),
        prompt: prompt.to_owned(),
        expects: Expects::default(),
        system_prompt: None,
        temperature: Some(0.7),
        max_tokens: None,
        timeout: Duration::from_secs(600),
    }
}

/// A prompt of the size a first round sends (the intro, the topic, the instructions).
fn typical_prompt() -> String {
    "You are one of 3 participants (p1, p2, p3) in a structured discussion.\n\n<topic>\nWhere should a CLI keep its agent registry so that concurrent processes never lose a registration?\n</topic>\n\nAnswer the topic independently. Be concrete and concise (at most about 300 words); state your recommendation first, then the reasons and the main risk.".to_owned()
}

/// A synthesis discussion of `providers` over `rounds` rounds, otherwise with every
/// default — early exit included: it is measured after each round but the fake's
/// answers differ enough (each names another store) never to trigger it, so every
/// discussion makes exactly `rounds × providers + 1` calls.
fn discussion(providers: Vec<String>, rounds: u32) -> Valid<DiscussionConfig> {
    let mut config = DiscussionConfig::new(
        "Where should a CLI keep its agent registry so that concurrent processes never lose a registration?",
    );
    config.providers = Some(providers);
    config.rounds = rounds;
    Valid::from_typed(&config).expect("the benchmark configuration is valid")
}

fn rounds_label(rounds: u32) -> String {
    if rounds == 1 {
        "1 round".to_owned()
    } else {
        format!("{rounds} rounds")
    }
}

fn service(fake: &Arc<Fake>, limit: usize) -> (DiscussionService, ProviderLimiter) {
    let limiter = ProviderLimiter::new(limit);
    let engine = DiscussionEngine::new(fake.clone(), limiter.clone());
    (DiscussionService::new(engine, Arc::new(NoHistory)), limiter)
}

/// One row of the throughput table.
struct Throughput {
    case: String,
    calls: u64,
    wall: Duration,
    cpu: Option<Duration>,
    note: String,
}

impl Throughput {
    fn print(&self) {
        let secs = self.wall.as_secs_f64();
        let cpu = self.cpu.map_or("n/a".to_owned(), |c| {
            format!("{:.2} µs", c.as_secs_f64() * 1e6 / self.calls as f64)
        });
        println!(
            "| {} | {} | {:.3} s | {:.0} | {:.2} µs | {} | {} |",
            self.case,
            self.calls,
            secs,
            self.calls as f64 / secs,
            secs * 1e6 / self.calls as f64,
            cpu,
            self.note
        );
    }
}

fn measure(case: String, work: impl FnOnce() -> (u64, String)) -> Throughput {
    let cpu0 = own_cpu();
    let t0 = Instant::now();
    let (calls, note) = work();
    let wall = t0.elapsed();
    let cpu = own_cpu().zip(cpu0).map(|(a, b)| a.saturating_sub(b));
    Throughput {
        case,
        calls,
        wall,
        cpu,
        note,
    }
}

/// Bare limiter path, one task: acquire → call → release, back to back.
fn bare_sequential(calls: u64) -> Throughput {
    let rt = runtime();
    let fake = Fake::new(1, Duration::ZERO);
    let limiter = ProviderLimiter::new(5);
    let prompt = typical_prompt();
    measure("limiter path, 1 task, limit 5".into(), || {
        rt.block_on(async {
            let scope = limiter.scope(None);
            for _ in 0..calls {
                let permit = scope.acquire("p1").await.expect("permit");
                let answer = fake.execute(request("p1", &prompt)).await;
                drop(permit);
                black_box(answer.is_ok());
            }
        });
        (calls, format!("max in flight {}", limiter.max_in_flight()))
    })
}

/// Bare limiter path, `tasks` tasks sharing `calls` under `limit`: most of them wait.
fn bare_concurrent(calls: u64, tasks: u64, limit: usize) -> Throughput {
    let rt = runtime();
    let fake = Fake::new(6, Duration::ZERO);
    let limiter = ProviderLimiter::new(limit);
    let prompt = Arc::new(typical_prompt());
    measure(
        format!("limiter path, {tasks} tasks, limit {limit}"),
        || {
            rt.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|t| {
                        let (fake, scope, prompt) =
                            (fake.clone(), limiter.scope(None), prompt.clone());
                        let id = format!("p{}", t % 6 + 1);
                        tokio::spawn(async move {
                            for _ in 0..calls / tasks {
                                let permit = scope.acquire(&id).await.expect("permit");
                                let answer = fake.execute(request(&id, &prompt)).await;
                                drop(permit);
                                black_box(answer.is_ok());
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.expect("task");
                }
            });
            (
                calls / tasks * tasks,
                format!("max in flight {}", limiter.max_in_flight()),
            )
        },
    )
}

/// Whole discussions: `total` synthesis discussions of `providers` providers and
/// `rounds` rounds, `concurrent` at a time, all sharing one limiter of `limit`.
fn whole_discussions(
    total: u64,
    concurrent: u64,
    providers: usize,
    rounds: u32,
    limit: usize,
) -> Throughput {
    let rt = runtime();
    let fake = Fake::new(providers, Duration::ZERO);
    let (svc, limiter) = service(&fake, limit);
    let config = discussion(fake.ids(), rounds);
    let case = format!(
        "{total} discussions ({providers} providers, {}), {concurrent} at once, limit {limit}",
        rounds_label(rounds)
    );
    measure(case, || {
        let calls = Arc::new(AtomicU64::new(0));
        let next = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        rt.block_on(async {
            let workers: Vec<_> = (0..concurrent)
                .map(|_| {
                    let (svc, config) = (svc.clone(), config.clone());
                    let (calls, next, failed) = (calls.clone(), next.clone(), failed.clone());
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < total {
                            let r = svc
                                .discuss(config.clone(), RunOptions::default())
                                .await
                                .expect("valid configuration");
                            if !r.success || r.metadata.early_exit.is_some() {
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                            calls.fetch_add(
                                u64::from(r.metadata.cost_summary.total_calls),
                                Ordering::Relaxed,
                            );
                        }
                    })
                })
                .collect();
            for w in workers {
                w.await.expect("worker");
            }
        });
        let failed = failed.load(Ordering::Relaxed);
        assert_eq!(
            failed, 0,
            "every discussion succeeds and runs all its rounds"
        );
        (
            calls.load(Ordering::Relaxed),
            format!("max in flight {}", limiter.max_in_flight()),
        )
    })
}

fn throughput_section(limiter_path: bool, discussions: bool) {
    println!("\n### (a) Calls per second, zero-latency providers\n");
    println!(
        "| case | calls | wall | calls/s | wall per call | CPU per call | notes |\n|---|---:|---:|---:|---:|---:|---|"
    );
    if limiter_path {
        bare_sequential(2_000_000).print();
        bare_concurrent(2_000_000, 1_000, 5).print();
        bare_concurrent(2_000_000, 1_000, 64).print();
    }
    let cases: &[(usize, usize)] = if discussions {
        &[(3, 5), (6, 5), (6, 64)]
    } else {
        &[]
    };
    for &(providers, limit) in cases {
        let total = 20_000;
        let mut row = whole_discussions(total, 64, providers, 2, limit);
        row.note = format!(
            "{:.0} discussions/s, {}",
            total as f64 / row.wall.as_secs_f64(),
            row.note
        );
        row.print();
    }
}

/// `calls` calls of 50 ms under `limit`, each its own task, all started at once.
fn bare_schedule(calls: u64, limit: usize) -> (String, u64, Duration, Duration, usize) {
    let rt = runtime();
    let fake = Fake::new(6, LATENCY);
    let limiter = ProviderLimiter::new(limit);
    let prompt = Arc::new(typical_prompt());
    let wall = rt.block_on(async {
        let t0 = tokio::time::Instant::now();
        let handles: Vec<_> = (0..calls)
            .map(|i| {
                let (fake, scope, prompt) = (fake.clone(), limiter.scope(None), prompt.clone());
                let id = format!("p{}", i % 6 + 1);
                tokio::spawn(async move {
                    let permit = scope.acquire(&id).await.expect("permit");
                    let answer = fake.execute(request(&id, &prompt)).await;
                    drop(permit);
                    black_box(answer.is_ok());
                })
            })
            .collect();
        for h in handles {
            h.await.expect("task");
        }
        t0.elapsed()
    });
    let ideal = LATENCY * u32::try_from(calls.div_ceil(limit as u64)).expect("small");
    (
        format!("limiter path: {calls} calls, limit {limit}"),
        calls,
        wall,
        ideal,
        limiter.max_in_flight(),
    )
}

/// The control: `lanes` tasks each sleeping 50 ms `calls / lanes` times in a row,
/// with no limiter and no engine — what tokio's timer alone adds to the ideal (its
/// deadlines are rounded up to whole milliseconds).
fn timer_control(calls: u64, lanes: u64) -> (String, u64, Duration, Duration, usize) {
    let rt = runtime();
    let wall = rt.block_on(async {
        let t0 = tokio::time::Instant::now();
        let handles: Vec<_> = (0..lanes)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..calls / lanes {
                        tokio::time::sleep(LATENCY).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("task");
        }
        t0.elapsed()
    });
    let ideal = LATENCY * u32::try_from(calls / lanes).expect("small");
    (
        format!(
            "control, no limiter: {lanes} tasks × {} sleeps of 50 ms",
            calls / lanes
        ),
        calls,
        wall,
        ideal,
        0, // no limiter
    )
}

/// `total` discussions of `providers` providers and `rounds` rounds, all at once,
/// every call taking 50 ms, under `limit`.
fn discussion_schedule(
    total: usize,
    providers: usize,
    rounds: u32,
    limit: usize,
) -> (String, u64, Duration, Duration, usize) {
    let rt = runtime();
    let fake = Fake::new(providers, LATENCY);
    let (svc, limiter) = service(&fake, limit);
    let config = discussion(fake.ids(), rounds);
    let (wall, calls) = rt.block_on(async {
        let t0 = tokio::time::Instant::now();
        let handles: Vec<_> = (0..total)
            .map(|_| {
                let (svc, config) = (svc.clone(), config.clone());
                tokio::spawn(async move {
                    let r = svc
                        .discuss(config, RunOptions::default())
                        .await
                        .expect("valid configuration");
                    assert!(r.success, "{:?}", r.error);
                    assert!(r.metadata.early_exit.is_none(), "all rounds run");
                    u64::from(r.metadata.cost_summary.total_calls)
                })
            })
            .collect();
        let mut calls = 0;
        for h in handles {
            calls += h.await.expect("discussion");
        }
        (t0.elapsed(), calls)
    });
    let ideal = LATENCY * u32::try_from(calls.div_ceil(limit as u64)).expect("small");
    (
        format!(
            "{total} discussions ({providers} providers, {}): {calls} calls, limit {limit}",
            rounds_label(rounds)
        ),
        calls,
        wall,
        ideal,
        limiter.max_in_flight(),
    )
}

fn schedule_section() {
    println!("\n### (b) 50 ms providers: wall time against the ideal ceil(N / L) × 50 ms\n");
    println!("| case | ideal | measured | over ideal | max in flight |\n|---|---:|---:|---:|---:|");
    let rows = [
        timer_control(100, 5),
        timer_control(1_000, 64),
        bare_schedule(20, 5),
        bare_schedule(100, 5),
        bare_schedule(100, 10),
        bare_schedule(1_000, 5),
        bare_schedule(1_000, 64),
        bare_schedule(10_000, 64),
        discussion_schedule(40, 4, 1, 5),
        discussion_schedule(20, 3, 2, 5),
        discussion_schedule(50, 6, 2, 20),
    ];
    for (case, _calls, wall, ideal, max) in rows {
        let max = if max == 0 {
            "—".to_owned()
        } else {
            max.to_string()
        };
        println!(
            "| {case} | {:.0} ms | {:.1} ms | {:+.2} % | {max} |",
            ideal.as_secs_f64() * 1e3,
            wall.as_secs_f64() * 1e3,
            (wall.as_secs_f64() / ideal.as_secs_f64() - 1.0) * 100.0
        );
    }
}

/// Runs in a child process: queue `WAITING` calls behind a limit of 1 whose only
/// permit is held, and print the RSS growth. `kind` is `limiter` (bare tasks waiting
/// for a permit, each with its prompt) or `discussion` (whole synthesis discussions of
/// five providers whose round-1 calls all wait).
fn memory_child(kind: &str) {
    const WAITING: usize = 10_000;
    let rt = runtime();
    let fake = Fake::new(5, Duration::ZERO);
    let (svc, limiter) = service(&fake, 1);
    let started = Arc::new(AtomicUsize::new(0));
    let (before, after) = rt.block_on(async {
        let holder = limiter.scope(None).acquire("p1").await.expect("permit");
        // Let the runtime and allocator settle before the baseline.
        tokio::task::yield_now().await;
        let before = rss_bytes();
        let handles: Vec<_> = match kind {
            "limiter" => (0..WAITING)
                .map(|i| {
                    let (fake, scope) = (fake.clone(), limiter.scope(None));
                    let id = format!("p{}", i % 5 + 1);
                    let prompt = typical_prompt();
                    tokio::spawn(async move {
                        let permit = scope.acquire(&id).await.expect("permit");
                        let answer = fake.execute(request(&id, &prompt)).await;
                        drop(permit);
                        black_box(answer.is_ok());
                    })
                })
                .collect(),
            _ => (0..WAITING / 5)
                .map(|_| {
                    let svc = svc.clone();
                    let config = discussion(fake.ids(), 2);
                    let started = started.clone();
                    tokio::spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        let r = svc
                            .discuss(config, RunOptions::default())
                            .await
                            .expect("valid configuration");
                        black_box(r.success);
                    })
                })
                .collect(),
        };
        while limiter.gauge().waiting() < WAITING {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Give every task the chance to finish its first poll.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = rss_bytes();
        drop(holder);
        for h in handles {
            h.await.expect("task");
        }
        (before, after)
    });
    println!("MEMORY {WAITING} {before} {after}");
}

fn memory_section() {
    println!("\n### (c) Memory per waiting call (10,000 calls behind a limit of 1)\n");
    println!(
        "| what waits | RSS before | RSS with 10,000 waiting | per waiting call |\n|---|---:|---:|---:|"
    );
    let exe = std::env::current_exe().expect("own path");
    for (kind, label) in [
        (
            "limiter",
            "a task per call: its prompt, a permit request (limiter path)",
        ),
        (
            "discussion",
            "2,000 synthesis discussions × 5 providers, round 1 queued",
        ),
    ] {
        let out = Command::new(&exe)
            .args(["--memory-child", kind])
            .output()
            .expect("child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find_map(|l| l.strip_prefix("MEMORY ")) else {
            println!(
                "| {label} | failed: {} |",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            continue;
        };
        let n: Vec<u64> = line
            .split_whitespace()
            .map(|x| x.parse().expect("number"))
            .collect();
        let (waiting, before, after) = (n[0], n[1], n[2]);
        println!(
            "| {label} | {:.1} MiB | {:.1} MiB | {:.0} bytes |",
            before as f64 / 1_048_576.0,
            after as f64 / 1_048_576.0,
            after.saturating_sub(before) as f64 / waiting as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        memory_child(args.get(i + 1).map_or("limiter", String::as_str));
        return;
    }
    let wanted: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.contains(&name);
    println!(
        "## Discussion engine overhead\n\nMachine: {}; tokio multi-thread runtime, 2 workers",
        machine()
    );
    if run("throughput") || run("limiter") || run("discussions") {
        throughput_section(
            run("throughput") || run("limiter"),
            run("throughput") || run("discussions"),
        );
    }
    if run("schedule") {
        schedule_section();
    }
    if run("memory") {
        memory_section();
    }
}
