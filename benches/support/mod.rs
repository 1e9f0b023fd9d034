//! What every benchmark of the workspace measures and prints the same way: the
//! machine line, latency percentiles, CPU time and memory from `/proc`, and the units.
//!
//! Included by path (`#[path = ".../benches/support/mod.rs"] mod support;`) from
//! `benches/mcp.rs`, `benches/registry.rs`, `crates/adapter-sqlite/benches/store.rs`
//! and `crates/discussion-domain/benches/engine.rs`. Why a file and not a crate: the
//! design fixes the workspace's crates, and a crate only for four bench binaries
//! would be a member every `cargo` command of the workspace builds and lints; one
//! file keeps one copy with no new package. (It lives in a directory so that Cargo
//! does not take it for a bench target of its own.)
//!
//! Linux facts (`/proc`) are `None` elsewhere; nothing here panics on their absence.

// Each bench uses only part of this module.
#![allow(dead_code)]

use std::time::Duration;

/// One line about the machine for a report's header: the CPU model and how many
/// logical CPUs this process may use (a container may see fewer than the host has).
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cpus} logical CPUs available to this process")
}

/// The one percentile convention of every report: **nearest rank**, `p` in 0..=100 —
/// the smallest of the ascending `sorted` values with at least `p` % of them at or
/// below it. A percentile is so always a measured value, p100 is the maximum, p0 the
/// minimum and p50 of an even count the lower middle value. `None` when empty.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// The latencies of one case, sorted once, with [`nearest_rank`] percentiles.
pub struct Samples(Vec<Duration>);

impl Samples {
    /// `samples`, sorted.
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    /// The nearest-rank percentile `p` (0..=100); zero for no samples.
    pub fn percentile(&self, p: f64) -> Duration {
        nearest_rank(&self.0, p).unwrap_or_default()
    }

    /// The smallest sample (zero for none).
    pub fn min(&self) -> Duration {
        self.0.first().copied().unwrap_or_default()
    }

    /// The arithmetic mean (zero for none).
    pub fn mean(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        self.0.iter().sum::<Duration>() / self.0.len() as u32
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// `(user + system CPU time of this process, of its waited-for children)`, from
/// `/proc/self/stat` in clock ticks of 10 ms. Reports print CPU time beside wall time
/// because the machine may be shared: CPU per operation is what the code costs, wall
/// time is what a user waits.
pub fn cpu_times() -> Option<(Duration, Duration)> {
    stat_cpu_times(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// [`cpu_times`] of the process whose `/proc/<pid>/stat` line is `stat`.
pub fn stat_cpu_times(stat: &str) -> Option<(Duration, Duration)> {
    // The fields after the parenthesised command name; utime, stime, cutime and
    // cstime are the 12th to the 15th of them.
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = fields[..] else {
        return None;
    };
    let tick = |t: u64| Duration::from_millis(t * 10);
    Some((tick(utime + stime), tick(cutime + cstime)))
}

/// CPU time of this process so far (all threads).
pub fn own_cpu() -> Option<Duration> {
    cpu_times().map(|(own, _)| own)
}

/// CPU time of this process's waited-for children so far.
pub fn children_cpu() -> Option<Duration> {
    cpu_times().map(|(_, children)| children)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, ...) in KiB; `pid` `None`
/// reads this process.
pub fn status_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Microseconds with one decimal: `12.3`.
pub fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

/// Milliseconds with two decimals: `1.23`.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}
