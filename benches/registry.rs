//! Benchmarks of the agent registry as users meet it: real `ax` processes importing at
//! once, `ax agent list` start-up end to end, and the [`AgentRegistry`] over the
//! SQLite store in process (reads at 1k / 10k / 100k agents, registration with
//! validation). A small self-written harness: each case times a fixed number of
//! operations and prints a markdown table; nothing here asserts on time.
//!
//! ```text
//! cargo bench --bench registry                      # every group but scale and postgres
//! cargo bench --bench registry -- startup reads     # only the named groups
//! AX_BENCH_QUICK=1 cargo bench --bench registry     # smaller sizes, a smoke run
//! AX_BENCH_SCALE=1k,10k,100k,1m cargo bench --bench registry -- scale
//! AX_BENCH_PG_SIZE=100k cargo bench --bench registry -- postgres
//! ```
//!
//! Groups: `processes` (8 `ax agent import -` processes at once vs 1 alone), `startup`
//! (`ax agent list` wall time and peak RSS), `reads` (`get`, filtered `list` pages and
//! `recommend` at 1k/10k/100k agents), `register` (sequential `AgentRegistry`
//! registration, small and heavy profiles, against the bare store insert). Run only
//! when named, as they take minutes: `scale` (one registry grown through the sizes of
//! `AX_BENCH_SCALE` by `ax agent import`, whole-process `list` / filtered `list` /
//! `get` / `recommend`, peak RSS, database bytes — `registry/scale.rs`) and
//! `postgres` (a throw-away loopback PostgreSQL beside SQLite: registrations/s from
//! one client and from 8 processes, `get`, filtered pages and `recommend` at
//! `AX_BENCH_PG_SIZE` agents — `registry/postgres.rs`).
//! Figures go to `docs/BENCHMARKS.md`, with the machine and its load average, which
//! every group prints before and after it runs.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ax_adapter_sqlite::{DatabaseOptions, Execution, SqliteDatabase};
use ax_agent_domain::AgentRegistry;
use ax_agent_domain::recommend::RecommendRequest;
use ax_agent_domain::sample::{
    CAPABILITIES, KEYWORDS, NOUNS, TAGS, TEAMS, VERBS, mix, typical_profile,
};
use ax_agent_domain::store::{AgentFilter, AgentStore, PageRequest};
use ax_contracts::agent::{AgentProfile, AgentRecord};
use serde_json::{Value, json};

#[path = "registry/postgres.rs"]
mod postgres;
#[path = "registry/scale.rs"]
mod scale;
#[path = "support/mod.rs"]
mod support;
use support::{Samples, children_cpu, machine, ms, nearest_rank, own_cpu, us};

/// The release `ax` binary Cargo built for this bench.
const AX: &str = env!("CARGO_BIN_EXE_ax");

// ---------------------------------------------------------------------------------
// Measuring and printing
// ---------------------------------------------------------------------------------

/// Thousands separators for counts and rates: `12,345`.
fn count(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A markdown table, columns padded to their widest cell; the first column is
/// left-aligned, the others right-aligned.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn print(&self) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| {
                    let fill = " ".repeat(w.saturating_sub(cell.chars().count()));
                    if i == 0 {
                        format!("{cell}{fill}")
                    } else {
                        format!("{fill}{cell}")
                    }
                })
                .collect();
            println!("| {} |", padded.join(" | "));
        };
        line(&self.header);
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                if i == 0 {
                    "-".repeat(w)
                } else {
                    format!("{}:", "-".repeat(w.saturating_sub(1)))
                }
            })
            .collect();
        println!("| {} |", rule.join(" | "));
        for row in &self.rows {
            line(row);
        }
        println!();
    }
}

fn cpu_per_op(before: Option<Duration>, after: Option<Duration>, ops: usize) -> String {
    match before.zip(after) {
        Some((b, a)) if ops > 0 => us(a.saturating_sub(b) / ops as u32),
        _ => "-".into(),
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Runs `group`, printing its title and the load average before and after.
fn group(title: &str, body: impl FnOnce()) {
    println!("## {title}\n");
    println!("load average before: {}\n", load_average());
    let start = Instant::now();
    body();
    println!(
        "load average after: {} ({:.1} s)\n",
        load_average(),
        start.elapsed().as_secs_f64()
    );
}

fn quick() -> bool {
    std::env::var_os("AX_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A current-thread Tokio runtime: what `ax agent ...` runs its commands on. The
/// store then does its SQLite work through `spawn_blocking`, as in the CLI.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

// ---------------------------------------------------------------------------------
// Realistic agent profiles (the typical one is shared: ax_agent_domain::sample)
// ---------------------------------------------------------------------------------

/// A heavy profile near the contract's limits: 20 tags, 50 capabilities, 20
/// expertise, full selection metadata, a 4,000-character system prompt and a
/// 10-step workflow with dependencies.
fn heavy_profile(id: &str, n: usize) -> Value {
    let capabilities: Vec<String> = (0..50)
        .map(|k| format!("{}-{k}", CAPABILITIES[k % CAPABILITIES.len()]))
        .collect();
    let workflow: Vec<Value> = (0..10)
        .map(|s| {
            let mut step = json!({
                "stepId": format!("step-{s}"),
                "name": format!("Step {s}: {}", VERBS[s % VERBS.len()]),
                "type": "prompt",
                "config": {"prompt": format!("{} the {} and report findings.", VERBS[s % VERBS.len()], NOUNS[s % NOUNS.len()])},
                "timeoutMs": 60_000,
                "outputs": ["findings"],
            });
            if s > 0 {
                step["dependencies"] = json!([format!("step-{}", s - 1)]);
            }
            step
        })
        .collect();
    let mut doc = typical_profile(id, n);
    let extra = json!({
        "tags": TAGS[..20],
        "capabilities": capabilities,
        "expertise": KEYWORDS[..20],
        "thinkingPatterns": VERBS.iter().map(|v| format!("first {v}, then explain why")).collect::<Vec<_>>(),
        "systemPrompt": "Be thorough and precise; cite every file and line you rely on. ".repeat(62),
        "collaboratesWith": ["reviewer", "security", "quality", "devops"],
        "selectionMetadata": {
            "primaryIntents": VERBS.iter().map(|v| format!("{v} code")).collect::<Vec<_>>(),
            "secondarySignals": NOUNS[..10],
            "negativeIntents": ["write marketing copy", "plan a party"],
            "keywords": KEYWORDS[..],
            "antiKeywords": ["poem", "recipe", "horoscope"],
            "exampleTasks": NOUNS[..10].iter().map(|noun| format!("review the {noun} for bugs")).collect::<Vec<_>>(),
            "notForTasks": ["design the company logo", "translate the newsletter"],
            "redirectWhen": [{"phrase": "deploy", "suggest": "devops"}],
            "agentCategory": "specialist",
        },
        "personality": {"traits": ["careful", "direct", "curious"], "communicationStyle": "concise"},
        "providerAffinity": {"preferred": ["claude", "codex"], "fallbackStrategy": "cascade"},
        "workflow": workflow,
    });
    if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
        doc.extend(extra);
    }
    doc
}

/// A stored record around a profile, with fixed timestamps (the store does not
/// validate; the registry does).
fn record(profile: Value) -> AgentRecord {
    AgentRecord {
        profile: AgentProfile::from_json(&profile)
            .expect("benchmark profiles are valid")
            .into_inner(),
        created_at: "2026-01-20T10:00:00.000Z".into(),
        updated_at: "2026-01-20T10:00:00.000Z".into(),
        revision: 1,
    }
}

/// Writes the reference tool's registry-file shape, which `ax agent import` reads,
/// with the typical profile `n` under each `(id, n)` — one profile at a time, so a
/// document of any size can go to a file without being held.
fn write_registry_document(
    out: &mut impl Write,
    agents: impl Iterator<Item = (String, usize)>,
) -> std::io::Result<()> {
    out.write_all(br#"{"version":"1","updatedAt":"2026-01-20T10:00:00.000Z","agents":["#)?;
    for (k, (id, n)) in agents.enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &typical_profile(&id, n))?;
    }
    out.write_all(b"]}")
}

/// A registry document of `agents` typical profiles with ids `{prefix}-00000`, ...
fn registry_document(prefix: &str, agents: usize) -> String {
    let mut out = Vec::new();
    write_registry_document(
        &mut out,
        (0..agents).map(|n| (format!("{prefix}-{n:05}"), n)),
    )
    .expect("writing to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

// ---------------------------------------------------------------------------------
// Driving the real binary
// ---------------------------------------------------------------------------------

/// Where the `ax` processes of a case keep their registry: a data directory (its
/// `data.db`, the default), or a PostgreSQL database named by `AX_DATABASE_URL`
/// (the data directory then holds only configuration).
#[derive(Debug, Clone)]
struct Site {
    dir: PathBuf,
    url: Option<String>,
}

impl Site {
    /// The SQLite file `dir/data.db`.
    fn sqlite(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            url: None,
        }
    }

    /// The PostgreSQL database at `url`, with `dir` as the data directory.
    fn postgres(dir: impl Into<PathBuf>, url: &str) -> Self {
        Self {
            dir: dir.into(),
            url: Some(url.to_owned()),
        }
    }
}

/// An `ax` command on `site`, with `HOME` pointed away from the user's own (and none
/// of the user's `AX_*` settings redirecting it).
fn ax(home: &Path, site: &Site) -> Command {
    let mut cmd = Command::new(AX);
    cmd.env("HOME", home)
        .env_remove("AX_DATA_DIR")
        .env_remove("AX_LOG")
        .env_remove("AX_DATABASE_URL")
        .arg("--data-dir")
        .arg(&site.dir);
    if let Some(url) = &site.url {
        cmd.env("AX_DATABASE_URL", url);
    }
    cmd
}

/// Runs `ax ... args` to completion and returns its stdout; panics with stderr on
/// failure (a failing setup step makes every figure meaningless).
fn ax_ok(home: &Path, site: &Site, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = ax(home, site)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ax");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for ax");
    assert!(
        out.status.success(),
        "ax {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How many agents `site` holds, asked of `ax` itself.
fn agent_total(home: &Path, site: &Site) -> u64 {
    let text = ax_ok(
        home,
        site,
        &["--format", "json", "agent", "list", "--limit", "1"],
        None,
    );
    let doc: Value = serde_json::from_str(&text).expect("agent list JSON");
    doc["total"].as_u64().expect("total")
}

/// One run of `docs.len()` `ax agent import -` processes at once.
struct ImportRun {
    /// From the moment every process had been given its input until the last exited.
    from_input: Duration,
    /// From the first spawn until the last exit (includes start-up and the pause).
    from_spawn: Duration,
    /// CPU time of all the processes together.
    children_cpu: Option<Duration>,
}

/// How long the importers are given to start and open the database before their
/// input is released; they block on stdin meanwhile.
const SETTLE: Duration = Duration::from_millis(500);

/// Spawns one `ax agent import -` per document on `site`, lets them all open the
/// database, then writes every stdin at once (one thread each, behind a barrier) and
/// waits for all of them.
fn import_at_once(home: &Path, site: &Site, docs: &[String], logs: &Path) -> ImportRun {
    let cpu_before = children_cpu();
    let spawned_at = Instant::now();
    let mut children = Vec::with_capacity(docs.len());
    for i in 0..docs.len() {
        let log = logs.join(format!("import-{i}.stderr"));
        let child = ax(home, site)
            .args(["agent", "import", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("stderr log"))
            .spawn()
            .expect("spawn ax agent import");
        children.push((child, log));
    }
    std::thread::sleep(SETTLE);
    let barrier = Arc::new(Barrier::new(docs.len() + 1));
    let writers: Vec<_> = children
        .iter_mut()
        .zip(docs)
        .map(|((child, _), doc)| {
            let mut stdin = child.stdin.take().expect("piped stdin");
            let (doc, barrier) = (doc.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                stdin
                    .write_all(doc.as_bytes())
                    .expect("feed ax agent import");
                // Dropping stdin closes it: the import starts reading at end of input.
            })
        })
        .collect();
    barrier.wait();
    let released_at = Instant::now();
    for writer in writers {
        writer.join().expect("stdin writer");
    }
    for (child, log) in &mut children {
        let status = child.wait().expect("wait for ax agent import");
        assert!(
            status.success(),
            "ax agent import failed ({status}): {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
    let end = Instant::now();
    ImportRun {
        from_input: end - released_at,
        from_spawn: end - spawned_at,
        children_cpu: cpu_before
            .zip(children_cpu())
            .map(|(b, a)| a.saturating_sub(b)),
    }
}

/// Task (a): 8 real processes importing distinct agents into one data directory at
/// once, against 1 process alone importing the same amount per process.
fn processes(root: &Path) {
    let medians = processes_on(root, "data directory (SQLite)", &mut |name| {
        Site::sqlite(root.join(name))
    });
    if let (Some(one), Some(eight)) = (medians.one, medians.eight) {
        println!(
            "8 processes / 1 process throughput (medians, same run): {:.2}×\n",
            eight / one
        );
    }
}

/// How many agents [`processes_on`] imports.
struct ImportPlan {
    /// Agents each process imports.
    per_process: usize,
    /// Runs of each configuration (1 process, 8 processes).
    repeats: usize,
}

impl ImportPlan {
    fn new() -> Self {
        if quick() {
            Self {
                per_process: 200,
                repeats: 1,
            }
        } else {
            Self {
                per_process: 2_000,
                repeats: 3,
            }
        }
    }

    /// All agents imported over every run of both configurations.
    fn total(&self) -> usize {
        self.per_process * (1 + 8) * self.repeats
    }
}

/// Median registrations/s of [`processes_on`]'s configurations.
struct ProcessMedians {
    one: Option<f64>,
    eight: Option<f64>,
}

/// 1 process, then 8 processes at once, importing distinct agents into a fresh
/// `site(name)` per run (configurations alternate, several runs each); prints the
/// table and returns the medians. Every agent must be stored after every run.
fn processes_on(root: &Path, what: &str, site: &mut dyn FnMut(&str) -> Site) -> ProcessMedians {
    let ImportPlan {
        per_process,
        repeats,
    } = ImportPlan::new();
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    println!(
        "Each process: `ax --data-dir D agent import -` fed a registry document of \
         {} distinct typical agents on stdin; the registry: {what}. All processes are \
         spawned, given {} ms to start and open the database (migrated and seeded \
         beforehand by one `ax agent list`), then all stdins are written at once. \
         Registrations/s = all agents / wall time from input release to the last exit. \
         Each configuration runs {repeats} times on a fresh registry; configurations \
         alternate.\n",
        count(per_process as f64),
        SETTLE.as_millis()
    );
    let mut table = Table::new(&[
        "case",
        "run",
        "agents",
        "wall ms (input → last exit)",
        "registrations/s",
        "wall ms incl. spawn + 500 ms pause",
        "CPU µs/registration (all processes)",
    ]);
    let mut rates: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for run in 1..=repeats {
        for processes in [1usize, 8] {
            let site = site(&format!("import-{processes}p-run{run}"));
            // Migrated and seeded before timing; the built-in agents are the baseline.
            let baseline = agent_total(&home, &site);
            let docs: Vec<String> = (0..processes)
                .map(|p| registry_document(&format!("proc{p}"), per_process))
                .collect();
            let result = import_at_once(&home, &site, &docs, root);
            let agents = processes * per_process;
            let stored = agent_total(&home, &site);
            assert_eq!(
                stored,
                baseline + agents as u64,
                "every imported agent is stored"
            );
            let rate = agents as f64 / result.from_input.as_secs_f64();
            rates.entry(processes).or_default().push(rate);
            table.row(vec![
                format!(
                    "{processes} process{}",
                    if processes == 1 { "" } else { "es" }
                ),
                run.to_string(),
                count(agents as f64),
                ms(result.from_input),
                count(rate),
                ms(result.from_spawn),
                result
                    .children_cpu
                    .map_or("-".into(), |cpu| us(cpu / agents as u32)),
            ]);
        }
    }
    table.print();
    let mut median = |processes: usize| {
        let r = rates.get_mut(&processes)?;
        r.sort_by(f64::total_cmp);
        let m = nearest_rank(r, 50.0)?;
        println!(
            "median over runs, {processes} process(es): {} registrations/s",
            count(m)
        );
        Some(m)
    };
    ProcessMedians {
        one: median(1),
        eight: median(8),
    }
}

/// One whole-process run of a command: wall time from spawn to exit, and its peak
/// resident set size when measured.
struct Measured {
    wall: Duration,
    peak_kib: Option<u64>,
}

/// Runs `cmd` (stdin and stdout to `/dev/null`, stderr kept for the failure
/// message) to completion and panics if it fails: a failed step makes every figure
/// meaningless. With `rss`, under GNU time (`/usr/bin/time -f %M`, if installed) for
/// the peak RSS; its own fork and exec add about a millisecond to `wall`, so latency
/// cases run without it.
fn measured_run(cmd: &Command, rss: bool, scratch: &Path) -> Measured {
    let time_out = scratch.join("time.out");
    let under_time = rss && Path::new("/usr/bin/time").is_file();
    let mut run = if under_time {
        let mut timed = Command::new("/usr/bin/time");
        timed.arg("-f").arg("%M").arg("-o").arg(&time_out);
        timed.arg(cmd.get_program());
        timed
    } else {
        Command::new(cmd.get_program())
    };
    run.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => run.env(key, v),
            None => run.env_remove(key),
        };
    }
    let start = Instant::now();
    let out = run
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run ax");
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "{:?} failed ({}): {}",
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let peak_kib = under_time
        .then(|| std::fs::read_to_string(&time_out).ok()?.trim().parse().ok())
        .flatten();
    Measured { wall, peak_kib }
}

/// MiB with one decimal from KiB, `-` when not measured.
fn mib(kib: Option<u64>) -> String {
    kib.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// Task (b): `ax agent list` start-up, end to end, as a user's shell sees it.
fn startup(root: &Path) {
    let (warmup, runs, rss_runs) = if quick() { (3, 20, 3) } else { (20, 200, 20) };
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let seeded = Site::sqlite(root.join("startup-defaults"));
    agent_total(&home, &seeded);
    let larger = Site::sqlite(root.join("startup-1k"));
    agent_total(&home, &larger);
    ax_ok(
        &home,
        &larger,
        &["agent", "import", "-"],
        Some(&registry_document("agent", 1_000)),
    );
    let has_time = Path::new("/usr/bin/time").is_file();
    println!(
        "Each case: {warmup} warm-up runs, then {runs} timed runs, one after another \
         (spawn → exit, stdout to /dev/null). Peak RSS: max and median over {rss_runs} \
         runs under `/usr/bin/time -f %M`{}.\n",
        if has_time {
            ""
        } else {
            " — /usr/bin/time is not installed here, so RSS is not measured"
        }
    );
    let cases: Vec<(&str, Command)> = vec![
        ("ax --version (no database)", {
            let mut c = Command::new(AX);
            c.env("HOME", &home).arg("--version");
            c
        }),
        ("ax agent list (11 built-in agents)", {
            let mut c = ax(&home, &seeded);
            c.args(["agent", "list"]);
            c
        }),
        ("ax agent list --format json (11 agents)", {
            let mut c = ax(&home, &seeded);
            c.args(["--format", "json", "agent", "list"]);
            c
        }),
        ("ax agent list (1,011 agents, first page of 50)", {
            let mut c = ax(&home, &larger);
            c.args(["agent", "list"]);
            c
        }),
        ("ax agent list --tag rust (1,011 agents)", {
            let mut c = ax(&home, &larger);
            c.args(["agent", "list", "--tag", "rust"]);
            c
        }),
    ];
    let mut table = Table::new(&[
        "command",
        "runs",
        "p50 ms",
        "p99 ms",
        "mean ms",
        "min ms",
        "peak RSS MiB (max / median)",
    ]);
    for (label, mut cmd) in cases {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let run_once = |cmd: &mut Command| {
            let t = Instant::now();
            let status = cmd.status().expect("run ax");
            let elapsed = t.elapsed();
            assert!(status.success(), "{label} failed: {status}");
            elapsed
        };
        for _ in 0..warmup {
            run_once(&mut cmd);
        }
        let stats = Samples::new((0..runs).map(|_| run_once(&mut cmd)).collect());
        let rss = if has_time {
            let mut kib: Vec<u64> = (0..rss_runs)
                .filter_map(|_| measured_run(&cmd, true, root).peak_kib)
                .collect();
            kib.sort_unstable();
            match (nearest_rank(&kib, 100.0), nearest_rank(&kib, 50.0)) {
                (Some(max), Some(median)) => {
                    format!("{:.1} / {:.1}", max as f64 / 1024.0, median as f64 / 1024.0)
                }
                _ => "-".into(),
            }
        } else {
            "not measured".into()
        };
        table.row(vec![
            label.to_owned(),
            stats.len().to_string(),
            ms(stats.percentile(50.0)),
            ms(stats.percentile(99.0)),
            ms(stats.mean()),
            ms(stats.min()),
            rss,
        ]);
    }
    table.print();
}

/// Times `ops` calls of `op(i)` on `rt`; returns the table row.
fn timed_row<F, Fut>(
    label: String,
    rt: &tokio::runtime::Runtime,
    ops: usize,
    mut op: F,
) -> Vec<String>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let cpu_before = own_cpu();
    let start = Instant::now();
    let mut samples = Vec::with_capacity(ops);
    for i in 0..ops {
        let t = Instant::now();
        rt.block_on(op(i));
        samples.push(t.elapsed());
    }
    let wall = start.elapsed();
    let cpu = cpu_per_op(cpu_before, own_cpu(), ops);
    let stats = Samples::new(samples);
    vec![
        label,
        count(ops as f64),
        count(ops as f64 / wall.as_secs_f64()),
        us(stats.percentile(50.0)),
        us(stats.percentile(99.0)),
        us(stats.mean()),
        cpu,
    ]
}

const OP_HEADER: [&str; 7] = [
    "case",
    "ops",
    "ops/s",
    "p50 µs",
    "p99 µs",
    "mean µs",
    "CPU µs/op",
];

/// Tasks a user might ask `recommend` about (matching the profiles' vocabulary to
/// different degrees).
const TASKS: [&str; 6] = [
    "review the checkout service for race condition and deadlock bugs",
    "profile the search index latency and fix the query plan",
    "write a tutorial and changelog for the billing pipeline",
    "migrate the nightly ETL job to kafka with retry and idempotency",
    "audit the oauth login flow for csrf and xss",
    "plan a party for the team",
];

/// A filter of a benchmark case, varied by the operation's number.
type Filter = fn(usize) -> AgentFilter;

/// The filter shapes of `ax agent list` the read benchmarks time: one of each kind
/// of index (tags, capabilities, team + enabled) and the slowest combination.
const LIST_FILTERS: [(&str, Filter); 5] = [
    ("list, no filter (first page)", |_| AgentFilter::default()),
    ("list --tag T", |i| AgentFilter {
        tags: vec![TAGS[i % TAGS.len()].into()],
        ..Default::default()
    }),
    ("list --capability C", |i| AgentFilter {
        capability: Some(CAPABILITIES[i % CAPABILITIES.len()].into()),
        ..Default::default()
    }),
    ("list --team T --enabled", |i| AgentFilter {
        team: Some(TEAMS[i % TEAMS.len()].into()),
        enabled: Some(true),
        ..Default::default()
    }),
    ("list --tag T1 --tag T2 --capability C", |i| AgentFilter {
        tags: vec![
            TAGS[i % TAGS.len()].into(),
            TAGS[(i + 11) % TAGS.len()].into(),
        ],
        capability: Some(CAPABILITIES[i % CAPABILITIES.len()].into()),
        ..Default::default()
    }),
];

/// Task (c): `get`, filtered `list` pages and `recommend` through the registry at
/// 1k, 10k and 100k agents. One database, grown between sizes.
fn reads(root: &Path) {
    let rt = runtime();
    let db = SqliteDatabase::open(root.join("reads.db")).expect("open database");
    let store = Arc::new(db.agent_store());
    let registry = AgentRegistry::new(store.clone());
    rt.block_on(registry.seed_defaults()).expect("seed");
    let sizes: &[(&str, usize, usize)] = if quick() {
        &[("1k", 1_000, 20), ("10k", 10_000, 3)]
    } else {
        &[
            ("1k", 1_000, 100),
            ("10k", 10_000, 20),
            ("100k", 100_000, 5),
        ]
    };
    println!(
        "`AgentRegistry` over `SqliteDatabase` (file-backed, WAL), in process, on a \
         current-thread Tokio runtime, the store on Tokio's blocking pool (its default; \
         `ax agent` runs SQLite inline, faster still). Agents are typical profiles (2–3 of 30 tags, 2–3 of 40 \
         capabilities, 1 of 12 teams, keywords, example tasks on 2 of 3, 10% disabled) \
         plus the 11 built-in agents. Pages are 50 agents plus the total. The database \
         grows from one size to the next.\n"
    );
    let mut build = Table::new(&["size", "agents inserted", "inserts/s (store, to build)"]);
    let mut table = Table::new(&OP_HEADER);
    let mut loaded = 0usize;
    for &(label, size, recommend_ops) in sizes {
        let start = Instant::now();
        let before = loaded;
        while loaded < size {
            let r = record(typical_profile(&format!("agent-{loaded:06}"), loaded));
            rt.block_on(store.insert(&r)).expect("insert");
            loaded += 1;
        }
        build.row(vec![
            label.to_owned(),
            count((loaded - before) as f64),
            count((loaded - before) as f64 / start.elapsed().as_secs_f64()),
        ]);

        let id = |i: usize| format!("agent-{:06}", mix(i as u64) as usize % size);
        table.row(timed_row(format!("get @ {label}"), &rt, 5_000, |i| {
            let (registry, id) = (&registry, id(i));
            async move {
                std::hint::black_box(registry.get(&id).await.expect("get"));
            }
        }));
        table.row(timed_row(
            format!("get, unknown id (NotFound) @ {label}"),
            &rt,
            2_000,
            |i| {
                let registry = &registry;
                async move {
                    let missing = format!("missing-{i}");
                    std::hint::black_box(registry.get(&missing).await.is_err());
                }
            },
        ));
        let page = PageRequest {
            offset: 0,
            limit: Some(50),
        };
        for (name, make_filter) in LIST_FILTERS {
            table.row(timed_row(format!("{name} @ {label}"), &rt, 300, |i| {
                let (registry, filter) = (&registry, make_filter(i));
                async move {
                    std::hint::black_box(registry.list(&filter, page).await.expect("list"));
                }
            }));
        }
        // Pages from the middle of a result: offset paging walks the skipped entries.
        let tag_filter = AgentFilter {
            tags: vec![TAGS[0].into()],
            ..Default::default()
        };
        let deep_pages = [
            ("list, no filter", AgentFilter::default()),
            ("list --tag rust", tag_filter),
        ];
        for (name, filter) in deep_pages {
            let total = rt
                .block_on(registry.list(
                    &filter,
                    PageRequest {
                        offset: 0,
                        limit: Some(1),
                    },
                ))
                .expect("list")
                .total;
            let page = PageRequest {
                offset: total / 2,
                limit: Some(50),
            };
            table.row(timed_row(
                format!(
                    "{name}, page at offset {} of {} @ {label}",
                    count(page.offset as f64),
                    count(total as f64)
                ),
                &rt,
                100,
                |_| {
                    let (registry, filter) = (&registry, &filter);
                    async move {
                        std::hint::black_box(registry.list(filter, page).await.expect("list"));
                    }
                },
            ));
        }
        table.row(timed_row(
            format!("recommend (all enabled agents) @ {label}"),
            &rt,
            recommend_ops,
            |i| {
                let registry = &registry;
                async move {
                    let request = RecommendRequest {
                        task: TASKS[i % TASKS.len()].into(),
                        ..Default::default()
                    };
                    std::hint::black_box(registry.recommend(&request).await.expect("recommend"));
                }
            },
        ));
        table.row(timed_row(
            format!("recommend --team T @ {label}"),
            &rt,
            recommend_ops * 4,
            |i| {
                let registry = &registry;
                async move {
                    let request = RecommendRequest {
                        task: TASKS[i % TASKS.len()].into(),
                        team: Some(TEAMS[i % TEAMS.len()].into()),
                        ..Default::default()
                    };
                    std::hint::black_box(registry.recommend(&request).await.expect("recommend"));
                }
            },
        ));
    }
    build.print();
    table.print();
}

/// Task (d): sequential registration as `ax agent register` and MCP `agent_register`
/// do it (`AgentProfile::from_json`, the one parser, then `AgentRegistry::register`:
/// store insert), against the bare store insert of the same records
/// and against validation alone — all in this run, so the ratios compare like with
/// like.
fn register(root: &Path) {
    let rt = runtime();
    let (small_ops, heavy_ops) = if quick() { (500, 100) } else { (5_000, 1_000) };
    println!(
        "Sequential, one process, current-thread Tokio runtime, a fresh database file per \
         case. \"typical\" = the profile of the reads group (~{:.1} KB of JSON); \"heavy\" = \
         20 tags, 50 capabilities, 20 expertise, full selection metadata, a 4,000-character \
         system prompt and a 10-step workflow (~{:.1} KB). Documents are built before timing. \
         \"Execution::Inline\" runs SQLite on the calling thread, as `ax agent` does, \
         instead of handing each statement to the blocking pool.\n",
        mean_json_kib(typical_profile),
        mean_json_kib(heavy_profile),
    );
    let mut table = Table::new(&OP_HEADER);
    let mut rows: Vec<(String, f64)> = Vec::new();
    for (kind, ops, make) in [
        (
            "typical",
            small_ops,
            typical_profile as fn(&str, usize) -> Value,
        ),
        ("heavy", heavy_ops, heavy_profile),
    ] {
        let docs: Vec<Value> = (0..ops)
            .map(|n| make(&format!("agent-{n:06}"), n))
            .collect();

        let db = SqliteDatabase::open(root.join(format!("register-{kind}.db"))).expect("open");
        let registry = AgentRegistry::new(Arc::new(db.agent_store()));
        let row = timed_row(
            format!("AgentRegistry::register_json, {kind}"),
            &rt,
            ops,
            |i| {
                let (registry, doc) = (&registry, &docs[i]);
                async move {
                    registry
                        .register(AgentProfile::from_json(doc).expect("valid"))
                        .await
                        .expect("register");
                }
            },
        );
        rows.push((row[0].clone(), ops_per_s(&row)));
        table.row(row);

        // What `ax agent register` uses: the same runtime, SQLite run inline.
        let options = DatabaseOptions {
            execution: Execution::Inline,
            ..DatabaseOptions::default()
        };
        let db =
            SqliteDatabase::open_with(root.join(format!("register-inline-{kind}.db")), options)
                .expect("open");
        let registry = AgentRegistry::new(Arc::new(db.agent_store()));
        let row = timed_row(
            format!("AgentRegistry::register_json, {kind}, Execution::Inline (as `ax agent`)"),
            &rt,
            ops,
            |i| {
                let (registry, doc) = (&registry, &docs[i]);
                async move {
                    registry
                        .register(AgentProfile::from_json(doc).expect("valid"))
                        .await
                        .expect("register");
                }
            },
        );
        rows.push((row[0].clone(), ops_per_s(&row)));
        table.row(row);

        let records: Vec<AgentRecord> = docs.iter().cloned().map(record).collect();
        let db = SqliteDatabase::open(root.join(format!("insert-{kind}.db"))).expect("open");
        let store = db.agent_store();
        let row = timed_row(
            format!("store insert only (no validation), {kind}"),
            &rt,
            ops,
            |i| {
                let (store, record) = (&store, &records[i]);
                async move {
                    store.insert(record).await.expect("insert");
                }
            },
        );
        rows.push((row[0].clone(), ops_per_s(&row)));
        table.row(row);

        let row = timed_row(format!("parsing only (from_json), {kind}"), &rt, ops, |i| {
            let doc = &docs[i];
            async move {
                let profile = AgentProfile::from_json(doc).expect("valid");
                std::hint::black_box(profile);
            }
        });
        table.row(row);

        let db = SqliteDatabase::open(root.join(format!("duplicate-{kind}.db"))).expect("open");
        let registry = AgentRegistry::new(Arc::new(db.agent_store()));
        rt.block_on(registry.register(AgentProfile::from_json(&docs[0]).expect("valid")))
            .expect("first registration");
        table.row(timed_row(
            format!("register_json of a taken id (AlreadyExists), {kind}"),
            &rt,
            ops.min(1_000),
            |_| {
                let (registry, doc) = (&registry, &docs[0]);
                async move {
                    let refused = registry
                        .register(AgentProfile::from_json(doc).expect("valid"))
                        .await
                        .is_err();
                    assert!(refused, "a duplicate is refused");
                }
            },
        ));
    }
    table.print();
    // Per profile kind: the registry on the blocking pool, the registry inline, the
    // bare store.
    for kind in rows.chunks(3) {
        if let [
            (pooled, pooled_rate),
            (inline, inline_rate),
            (store, store_rate),
        ] = kind
        {
            for (name, rate) in [(pooled, pooled_rate), (inline, inline_rate)] {
                println!(
                    "{name}: {:.0}% of the bare store's throughput ({store})",
                    100.0 * rate / store_rate
                );
            }
        }
    }
    println!();
}

/// Mean size in KiB of the JSON of 100 profiles made by `make`.
fn mean_json_kib(make: fn(&str, usize) -> Value) -> f64 {
    let bytes: usize = (0..100)
        .map(|n| make(&format!("agent-{n:06}"), n).to_string().len())
        .sum();
    bytes as f64 / 100.0 / 1024.0
}

fn ops_per_s(row: &[String]) -> f64 {
    row[2].replace(',', "").parse().unwrap_or(0.0)
}

fn main() {
    // `cargo bench --bench registry -- startup reads` runs only the named groups;
    // flags cargo adds (`--bench`) are ignored.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let named = |name: &str| wanted.iter().any(|w| name.contains(w.as_str()));
    let run = |name: &str| wanted.is_empty() || named(name);
    let dir = tempfile::tempdir().expect("temporary directory");
    let root: PathBuf = dir.path().to_owned();
    println!("# ax registry benchmarks\n");
    println!("- machine: {}", machine());
    println!("- binary: {AX}");
    println!("- data: file-backed SQLite (WAL) in {}", root.display());
    if quick() {
        println!("- AX_BENCH_QUICK: reduced sizes (smoke run, not for publishing)");
    }
    println!();
    if run("register") {
        group("Registration through AgentRegistry (task d)", || {
            register(&root)
        });
    }
    if run("startup") {
        group("`ax agent list` start-up, end to end (task b)", || {
            startup(&root)
        });
    }
    if run("processes") {
        group("8 `ax agent import` processes at once (task a)", || {
            processes(&root)
        });
    }
    // Minutes long and sized by their own knobs (one starts a PostgreSQL server):
    // only when named.
    if named("scale") {
        group(
            "Scale: one registry grown by `ax agent import`, whole `ax` processes (issue 11)",
            || scale::scale(&root),
        );
    }
    if named("postgres") {
        group("PostgreSQL beside SQLite (issue 12)", || {
            postgres::postgres(&root)
        });
    }
    if run("reads") {
        group(
            "get / filtered list / recommend at 1k, 10k, 100k (task c)",
            || reads(&root),
        );
    }
}
