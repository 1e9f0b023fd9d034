//! Group `scale` (issue 11 item 5): one registry grown through the sizes of
//! `AX_BENCH_SCALE` by the real import path, and at each size whole-process runs of
//! the release `ax` binary as a user meets them.
//!
//! ```text
//! cargo bench --bench registry -- scale                        # 1k, 10k, 100k
//! AX_BENCH_SCALE=1k,10k,100k,1m cargo bench --bench registry -- scale
//! ```
//!
//! Per size: the agents still missing (typical profiles, written as a stream into a
//! directory of registry documents of 10,000 agents each) are imported with one `ax
//! agent import DIR` under GNU time — the import rate and the importer's peak RSS —
//! then `ax agent list`, `ax agent
//! list --tag A --tag B --capability C`, `ax agent get ID` and `ax agent recommend
//! TASK` run as whole processes (p50 and the slowest run; recommend's peak RSS), and
//! the database's bytes are read. A row is printed as soon as its size is done, so a
//! run stopped early still reports the sizes it finished.

use super::*;

/// Sizes when `AX_BENCH_SCALE` is not set: a few minutes on the reference machine.
const DEFAULT_SIZES: &str = "1k,10k,100k";
/// `AX_BENCH_QUICK`: a smoke run.
const QUICK_SIZES: &str = "1k,10k";

/// The five tasks of [`TASKS`] that use the profiles' vocabulary (the sixth, a task
/// no agent fits, is a different case).
const SCALE_TASKS: &[&str] = &[TASKS[0], TASKS[1], TASKS[2], TASKS[3], TASKS[4]];

/// The filtered list: two tags and a capability (all three indexed side tables).
const FILTERED: [&str; 8] = [
    "agent",
    "list",
    "--tag",
    "rust",
    "--tag",
    "sql",
    "--capability",
    "code-review",
];

/// `12k`, `1m`, `250000`, `1_000` → a count of agents.
pub(super) fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim().to_ascii_lowercase().replace('_', "");
    let (digits, factor) = match text.as_bytes().last() {
        Some(b'k') => (&text[..text.len() - 1], 1_000),
        Some(b'm') => (&text[..text.len() - 1], 1_000_000),
        _ => (&text[..], 1),
    };
    match digits.parse::<usize>() {
        Ok(n) if n > 0 => n
            .checked_mul(factor)
            .ok_or_else(|| format!("{text:?} is too large")),
        _ => Err(format!(
            "{text:?} is not a size: write a positive count such as 1000, 10k or 1m"
        )),
    }
}

/// The sizes to measure, ascending, from `AX_BENCH_SCALE` (comma-separated).
fn sizes() -> Vec<usize> {
    let spec = std::env::var("AX_BENCH_SCALE")
        .unwrap_or_else(|_| (if quick() { QUICK_SIZES } else { DEFAULT_SIZES }).into());
    let mut sizes: Vec<usize> = spec
        .split(',')
        .map(parse_size)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("AX_BENCH_SCALE={spec:?}: {e}"));
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// `1k`, `100k`, `1m`, `2,500`.
pub(super) fn size_label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n.is_multiple_of(1_000_000) => format!("{}m", n / 1_000_000),
        n if n >= 1_000 && n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        n => count(n as f64),
    }
}

/// The id of generated agent `n` (seven digits: ids sort as numbers up to 10M).
pub(super) fn scale_id(n: usize) -> String {
    format!("agent-{n:07}")
}

/// Agents per file of an import directory: ~7.8 MB of JSON, under the 16 MiB
/// that `ax` reads of one document (`MAX_DOCUMENT_BYTES`).
const AGENTS_PER_FILE: usize = 10_000;

/// Writes the typical agents `ids` as registry documents of [`AGENTS_PER_FILE`]
/// agents each into the new directory `dir` (`part-0000000.json`, ... in id order),
/// one profile at a time, so a million agents never sit in this process's memory.
/// Returns the bytes written.
fn write_import_dir(dir: &Path, ids: std::ops::Range<usize>) -> u64 {
    std::fs::create_dir_all(dir).expect("create the import directory");
    let mut bytes = 0;
    for first in ids.clone().step_by(AGENTS_PER_FILE) {
        let path = dir.join(format!("part-{first:07}.json"));
        let file = File::create(&path).expect("create a registry document");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let part = first..(first + AGENTS_PER_FILE).min(ids.end);
        write_registry_document(&mut out, part.map(|n| (scale_id(n), n)))
            .expect("write a registry document");
        out.flush().expect("flush a registry document");
        bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
    }
    bytes
}

/// Whole-process latencies of `make(i)` for run `i`: `warmup` untimed runs, then
/// timed runs until `runs` are done or `budget` is spent (at least three).
pub(super) fn process_latencies(
    make: &dyn Fn(usize) -> Command,
    warmup: usize,
    runs: usize,
    budget: Duration,
    scratch: &Path,
) -> Samples {
    for i in 0..warmup {
        measured_run(&make(i), false, scratch);
    }
    let start = Instant::now();
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        if i >= 3 && start.elapsed() > budget {
            break;
        }
        samples.push(measured_run(&make(warmup + i), false, scratch).wall);
    }
    Samples::new(samples)
}

/// `p50 / max` in milliseconds, and the number of runs.
pub(super) fn p50_max(samples: &Samples) -> String {
    format!(
        "{} / {}",
        ms(samples.percentile(50.0)),
        ms(samples.percentile(100.0))
    )
}

/// Largest peak RSS over `runs` runs of `make(i)`.
pub(super) fn peak_over(
    make: &dyn Fn(usize) -> Command,
    runs: usize,
    scratch: &Path,
) -> Option<u64> {
    (0..runs)
        .filter_map(|i| measured_run(&make(i), true, scratch).peak_kib)
        .max()
}

/// Bytes of the data directory's database: `data.db` and its WAL.
fn database_bytes(dir: &Path) -> u64 {
    ["data.db", "data.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(dir.join(name)).ok())
        .map(|m| m.len())
        .sum()
}

pub(super) fn scale(root: &Path) {
    let sizes = sizes();
    let (runs, recommend_runs) = if quick() { (5, 3) } else { (30, 15) };
    let budget = Duration::from_secs(if quick() { 10 } else { 60 });
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let site = Site::sqlite(root.join("scale"));
    // Migrated and seeded first; the built-in agents come on top of every size.
    let baseline = agent_total(&home, &site) as usize;
    println!(
        "One data directory grown through {}: per size, the missing typical agents \
         (2–3 of 30 tags, 2–3 of 40 capabilities, 12 teams, keywords, example tasks on 2 \
         of 3, 10% disabled; {baseline} built-in agents on top) are written to a directory \
         of registry documents of {} agents each and imported with one `ax agent import \
         DIR` under `/usr/bin/time` (rate = agents imported / wall time of the process; \
         peak RSS of the importer). Then \
         whole-process runs of the release binary, spawn → exit, stdout to /dev/null, the \
         database warm in the page cache: 2 warm-up runs, then up to {runs} runs (recommend: \
         up to {recommend_runs}, at least 3, within {} s). Figures are p50 / slowest run in \
         ms. `get` asks for a different id each run; `recommend` cycles through {} tasks. \
         `filtered` is `ax {}`. Database bytes: data.db + its WAL.\n",
        sizes
            .iter()
            .map(|&n| size_label(n))
            .collect::<Vec<_>>()
            .join(" → "),
        count(AGENTS_PER_FILE as f64),
        budget.as_secs(),
        SCALE_TASKS.len(),
        FILTERED.join(" ")
    );
    let mut table = Table::new(&[
        "agents",
        "list",
        "filtered list",
        "get",
        "recommend",
        "recommend peak RSS MiB",
        "import agents/s",
        "import peak RSS MiB",
        "database MB",
        "load (1 min)",
    ]);
    let mut loaded = 0usize;
    for size in sizes {
        let label = size_label(size);
        let docs = root.join("scale-import");
        let doc_bytes = write_import_dir(&docs, loaded..size);
        let mut import = ax(&home, &site);
        import.args(["agent", "import"]).arg(&docs);
        let imported = measured_run(&import, true, root);
        std::fs::remove_dir_all(&docs).expect("remove the import directory");
        let added = size - loaded;
        loaded = size;
        assert_eq!(
            agent_total(&home, &site) as usize,
            baseline + size,
            "every imported agent is stored"
        );
        let import_rate = added as f64 / imported.wall.as_secs_f64();
        println!(
            "{label}: imported {} agents ({:.1} MB of JSON) in {:.1} s — {} agents/s, peak RSS \
             {} MiB",
            count(added as f64),
            doc_bytes as f64 / 1e6,
            imported.wall.as_secs_f64(),
            count(import_rate),
            mib(imported.peak_kib)
        );

        let command = |args: &[&str]| {
            let mut c = ax(&home, &site);
            c.args(args);
            c
        };
        let list = process_latencies(&|_| command(&["agent", "list"]), 2, runs, budget, root);
        let filtered = process_latencies(&|_| command(&FILTERED), 2, runs, budget, root);
        let get_id = |i: usize| scale_id(mix(i as u64) as usize % size);
        let get = process_latencies(
            &|i| command(&["agent", "get", &get_id(i)]),
            2,
            runs,
            budget,
            root,
        );
        let recommend_cmd =
            |i: usize| command(&["agent", "recommend", SCALE_TASKS[i % SCALE_TASKS.len()]]);
        let recommend = process_latencies(&recommend_cmd, 2, recommend_runs, budget, root);
        let recommend_rss = peak_over(&recommend_cmd, 3, root);
        let row = vec![
            label.clone(),
            p50_max(&list),
            p50_max(&filtered),
            p50_max(&get),
            p50_max(&recommend),
            mib(recommend_rss),
            count(import_rate),
            mib(imported.peak_kib),
            format!("{:.1}", database_bytes(&site.dir) as f64 / 1e6),
            load_average()
                .split_whitespace()
                .next()
                .unwrap_or("?")
                .to_owned(),
        ];
        println!(
            "{label}: list {} | filtered {} | get {} | recommend {} ({} runs) | recommend \
             RSS {} MiB | {} MB",
            row[1],
            row[2],
            row[3],
            row[4],
            recommend.len(),
            row[5],
            row[8]
        );
        table.row(row);
    }
    println!();
    table.print();
}
