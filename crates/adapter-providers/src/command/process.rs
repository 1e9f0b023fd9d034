//! Running one provider process so that nothing it starts can outlive the call.
//!
//! Each child is the leader of its own process group (`process_group(0)`), so a
//! wrapper script and everything it spawned share one group id. [`GroupChild`] owns the
//! child and kills that whole group with `SIGKILL`:
//! - when the leader exits (stragglers holding our pipes would otherwise keep the call
//!   open, and would outlive it);
//! - when stdout passes its cap;
//! - on timeout, through [`GroupChild::kill_and_reap`];
//! - when it is dropped before the call finished — which is how the discussion engine
//!   cancels (it drops the `execute` future). Drop cannot await, so the leader is
//!   reaped by a small task on the current runtime.
//!
//! On Linux the leader also gets `PR_SET_PDEATHSIG(SIGKILL)`, so it dies when `ax`
//! dies without a chance to clean up (SIGKILL, a crash). The kernel sends that signal
//! when the *thread* that forked the child exits, not the process: a provider spawned
//! from a tokio worker or blocking-pool thread would be killed when that thread retires
//! (idle blocking threads exit after 10 s; `block_in_place` moves a worker onto one).
//! So every provider is forked by one `spawner` thread that lives as long as the
//! process. The leader's own children are not covered by the death signal; they carry
//! [`OWNER_ENV`] in their environment, and the next `ax discuss` kills those whose
//! `ax` is gone ([`kill_leftovers_of_dead_runs`]).
//!
//! A process that leaves the group (`setsid`, a daemonising CLI) is not reached by the
//! group kill. On Linux every process of a call also inherits [`CALL_ENV`], a number
//! unique to the call within this `ax`; whenever the group is killed, the processes
//! of this user carrying this `ax`'s owner marker and that call number are killed too
//! (`kill_escaped`). What clears its environment *and* leaves the group is beyond
//! reach short of a PID namespace or cgroup, which `ax` does not require.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// How long [`GroupChild::kill_and_reap`] waits for the killed leader to be reaped
/// before leaving it to the drop guard. `SIGKILL` cannot be caught, so this only
/// matters for a process stuck in uninterruptible I/O.
const REAP_GRACE: Duration = Duration::from_secs(5);

/// What a finished child left behind.
#[derive(Debug)]
pub struct ProcessOutput {
    /// How the leader ended.
    pub status: ExitStatus,
    /// Everything it printed on stdout (below the cap).
    pub stdout: Vec<u8>,
    /// The last bytes it printed on stderr.
    pub stderr_tail: Vec<u8>,
}

/// Why a run produced no [`ProcessOutput`].
#[derive(Debug)]
pub enum RunError {
    /// Stdout passed the cap; the group was killed at that point.
    StdoutTooLarge {
        /// The cap in bytes.
        limit: usize,
        /// The stderr tail read so far, for the message.
        stderr_tail: Vec<u8>,
    },
    /// Reading a pipe or waiting for the child failed.
    Io(io::Error),
}

/// Limits for one run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stdout cap in bytes.
    pub max_stdout: usize,
    /// How many trailing stderr bytes to keep.
    pub stderr_tail: usize,
}

/// What a child printed so far, readable while it still runs: when a call times out,
/// the CLI's last words (a rate limit it keeps retrying, say) explain the timeout.
/// Each stream keeps only its last [`Seen::KEEP`] bytes.
#[derive(Debug, Default)]
pub struct Seen {
    stdout: Mutex<Vec<u8>>,
    stderr: Mutex<Vec<u8>>,
}

impl Seen {
    /// Bytes kept per stream.
    pub const KEEP: usize = 32 * 1024;

    fn push(buffer: &Mutex<Vec<u8>>, bytes: &[u8]) {
        if let Ok(mut b) = buffer.lock() {
            b.extend_from_slice(bytes);
            if b.len() > Self::KEEP * 2 {
                let cut = b.len() - Self::KEEP;
                b.drain(..cut);
            }
        }
    }

    fn tail(buffer: &Mutex<Vec<u8>>) -> Vec<u8> {
        buffer
            .lock()
            .map(|b| b[b.len().saturating_sub(Self::KEEP)..].to_vec())
            .unwrap_or_default()
    }

    /// The last bytes printed on stdout.
    pub fn stdout(&self) -> Vec<u8> {
        Self::tail(&self.stdout)
    }

    /// The last bytes printed on stderr.
    pub fn stderr(&self) -> Vec<u8> {
        Self::tail(&self.stderr)
    }
}

/// A child process leading its own process group, killed with its group unless it
/// finished on its own.
pub struct GroupChild {
    child: Option<Child>,
    group: Group,
    finished: bool,
}

/// Everything one call started: its process group, and on Linux the processes that
/// carry its call number though they left the group.
#[derive(Debug, Clone, Copy)]
struct Group {
    pgid: Option<Pid>,
    /// The value of [`CALL_ENV`] this call's processes inherit.
    #[cfg(target_os = "linux")]
    call: u64,
}

impl Group {
    /// INV-PROV-KILL-001: `SIGKILL` to the whole group and to whatever of the call
    /// left it.
    fn kill(self) {
        kill_group(self.pgid);
        #[cfg(target_os = "linux")]
        kill_escaped(self.call);
    }
}

impl GroupChild {
    /// Spawns `command` with piped stdout/stderr, stdin piped when `with_stdin`, as the
    /// leader of a new process group.
    pub fn spawn(command: &mut Command, with_stdin: bool) -> io::Result<Self> {
        command
            .stdin(if with_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            // Last line of defence if this guard is dropped outside a runtime: tokio
            // then kills the leader itself and reaps it in the background.
            .kill_on_drop(true);
        set_death_signal(command);
        #[cfg(target_os = "linux")]
        let call = {
            static NEXT_CALL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let call = NEXT_CALL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(owner) = owner_marker() {
                command.env(OWNER_ENV, owner);
                command.env(CALL_ENV, call.to_string());
            }
            call
        };
        let child = spawn_on_spawner_thread(command)?;
        // process_group(0) makes the group id equal to the leader's pid.
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw);
        tracing::debug!(pgid = pgid.map(Pid::as_raw_pid), "provider process started");
        Ok(Self {
            child: Some(child),
            group: Group {
                pgid,
                #[cfg(target_os = "linux")]
                call,
            },
            finished: false,
        })
    }

    /// The leader's pid (also the group id).
    pub fn pid(&self) -> Option<i32> {
        self.group.pgid.map(Pid::as_raw_pid)
    }

    /// Feeds `input` to stdin (then closes it), reads stdout up to the cap and the
    /// stderr tail, and waits for the leader to exit; then kills whatever is left of the
    /// group. All of it runs concurrently, so a child that writes before it reads, or
    /// never reads at all, cannot deadlock us.
    pub async fn communicate(
        &mut self,
        input: Option<Vec<u8>>,
        limits: Limits,
        seen: Arc<Seen>,
    ) -> Result<ProcessOutput, RunError> {
        let group = self.group;
        let Some(child) = self.child.as_mut() else {
            return Err(RunError::Io(io::Error::other(
                "the provider process was already collected",
            )));
        };
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();

        let write = async move {
            if let (Some(mut stdin), Some(bytes)) = (stdin, input)
                && let Err(e) = stdin.write_all(&bytes).await
            {
                // A CLI that exits without reading its whole input closes the pipe;
                // its exit status and output tell what happened.
                tracing::debug!(error = %e, "provider did not read the whole prompt");
            }
            // stdin was moved into this block and is dropped at its end: closing it is
            // the end-of-prompt signal.
        };
        let seen_out = seen.clone();
        let read_out = async move {
            match stdout {
                Some(out) => read_capped(out, limits.max_stdout, group, &seen_out).await,
                None => Ok(Vec::new()),
            }
        };
        let read_err = async move {
            match stderr {
                Some(err) => read_tail(err, limits.stderr_tail, &seen).await,
                None => Vec::new(),
            }
        };
        let wait = async {
            let status = child.wait().await;
            // The leader is gone; anything it left in its group is a straggler.
            group.kill();
            status
        };
        let ((), stdout, stderr_tail, status) = tokio::join!(write, read_out, read_err, wait);
        self.finished = true;
        let status = status.map_err(RunError::Io)?;
        match stdout {
            Ok(stdout) => Ok(ProcessOutput {
                status,
                stdout,
                stderr_tail,
            }),
            Err(ReadError::TooLarge) => Err(RunError::StdoutTooLarge {
                limit: limits.max_stdout,
                stderr_tail,
            }),
            Err(ReadError::Io(e)) => Err(RunError::Io(e)),
        }
    }

    /// Kills the whole group and reaps the leader (bounded by a short grace period).
    pub async fn kill_and_reap(&mut self) {
        if self.finished {
            return;
        }
        self.group.kill();
        if let Some(child) = self.child.as_mut()
            && tokio::time::timeout(REAP_GRACE, child.wait()).await.is_ok()
        {
            self.finished = true;
        }
    }
}

/// INV-PROV-KILL-001: a provider call leaves no process behind — when the future is
/// dropped (timeout, cancellation, a discussion ending), the whole process group,
/// grandchildren included, is killed and the leader reaped.
impl Drop for GroupChild {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        tracing::debug!(
            pgid = self.pid(),
            "provider call dropped; killing its process group"
        );
        self.group.kill();
        if let Some(mut child) = self.child.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    // Reap the (now dying) leader so it does not linger as a zombie.
                    handle.spawn(async move {
                        let _ = child.wait().await;
                    });
                }
                Err(_) => {
                    // No runtime: kill_on_drop and tokio's orphan reaping take over.
                    let _ = child.start_kill();
                }
            }
        }
    }
}

/// On Linux, the child asks for `SIGKILL` when its parent thread (see [`spawner`])
/// goes away, and gives up if `ax` already died between fork and that request.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn set_death_signal(command: &mut Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the hook runs in the forked child before exec; it only makes two
    // async-signal-safe system calls (prctl, getppid) and allocates nothing on success.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            if rustix::process::getppid() != Some(parent) {
                // `ax` died before the death signal was armed.
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

/// Elsewhere there is no per-child death signal; the group kill on every way the
/// call ends is all there is.
#[cfg(not(target_os = "linux"))]
fn set_death_signal(_command: &mut Command) {}

/// The thread every provider is forked from (see the module docs): it never exits, so
/// the children's death signal fires only when `ax` itself goes away.
mod spawner {
    use std::io;
    use std::sync::mpsc;
    use std::sync::{Mutex, OnceLock};

    use tokio::process::{Child, Command};

    /// One spawn: the command (handed over and back, so the caller's `&mut` is kept),
    /// the runtime to register the child with, and where to answer.
    pub(super) struct Job {
        pub(super) command: Command,
        pub(super) runtime: tokio::runtime::Handle,
        pub(super) reply: mpsc::SyncSender<(Command, io::Result<Child>)>,
    }

    static QUEUE: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();

    /// The queue to the spawner thread, started on first use; `None` if the thread
    /// could not be started (then the caller spawns on its own thread).
    pub(super) fn queue() -> Option<&'static Mutex<mpsc::Sender<Job>>> {
        QUEUE
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel::<Job>();
                std::thread::Builder::new()
                    .name("ax-provider-spawner".into())
                    .spawn(move || {
                        for mut job in rx {
                            let result = {
                                let _runtime = job.runtime.enter();
                                job.command.spawn()
                            };
                            let _ = job.reply.send((job.command, result));
                        }
                    })
                    .ok()
                    .map(|_| Mutex::new(tx))
            })
            .as_ref()
    }
}

/// Forks `command` from the [`spawner`] thread when inside a runtime (its children
/// are registered with the caller's runtime); on the calling thread otherwise.
fn spawn_on_spawner_thread(command: &mut Command) -> io::Result<Child> {
    let (Ok(runtime), Some(queue)) = (tokio::runtime::Handle::try_current(), spawner::queue())
    else {
        return command.spawn();
    };
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    // Hand the command over; a placeholder stands in until it comes back.
    let owned = std::mem::replace(command, Command::new("/nonexistent"));
    let job = spawner::Job {
        command: owned,
        runtime,
        reply,
    };
    let sent = match queue.lock() {
        Ok(q) => q.send(job).map_err(|e| e.0),
        Err(_) => Err(job),
    };
    if let Err(job) = sent {
        // Cannot happen (the thread never ends); spawn here rather than fail.
        *command = job.command;
        return command.spawn();
    }
    let (back, result) = answer
        .recv()
        .map_err(|_| io::Error::other("the provider spawner did not answer"))?;
    *command = back;
    result
}

/// `SIGKILL` to every process of the group. "No such process" means the group is
/// already empty, which is the outcome we want.
fn kill_group(pgid: Option<Pid>) {
    let Some(pgid) = pgid else { return };
    match kill_process_group(pgid, Signal::KILL) {
        Ok(()) => tracing::trace!(pgid = pgid.as_raw_pid(), "process group killed"),
        Err(rustix::io::Errno::SRCH) => {}
        Err(e) => {
            tracing::warn!(pgid = pgid.as_raw_pid(), error = %e, "could not kill provider process group")
        }
    }
}

enum ReadError {
    TooLarge,
    Io(io::Error),
}

const CHUNK: usize = 64 * 1024;

/// Reads to EOF, keeping at most `limit` bytes; one byte more kills the group at once
/// (so a 100 MB answer is never buffered) and fails.
async fn read_capped<R: AsyncRead + Unpin>(
    mut reader: R,
    limit: usize,
    group: Group,
    seen: &Seen,
) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = reader.read(&mut buf).await.map_err(ReadError::Io)?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > limit {
            group.kill();
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&buf[..n]);
        Seen::push(&seen.stdout, &buf[..n]);
    }
}

/// Reads to EOF keeping only the last `keep` bytes. Never stops early: a child blocked
/// on a full stderr pipe would hang the call.
async fn read_tail<R: AsyncRead + Unpin>(mut reader: R, keep: usize, seen: &Seen) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                Seen::push(&seen.stderr, &buf[..n]);
                if tail.len() > keep.saturating_mul(2) {
                    tail.drain(..tail.len() - keep);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "reading provider stderr failed");
                break;
            }
        }
    }
    if tail.len() > keep {
        tail.drain(..tail.len() - keep);
    }
    tail
}

/// The environment variable every provider process (and, by inheritance, what it
/// starts) carries on Linux: `<ax pid>.<ax start time>`, naming the `ax` that started
/// it, so that a later `ax` can find what a killed one left behind.
#[cfg(target_os = "linux")]
pub const OWNER_ENV: &str = "AX_PROVIDER_OWNER";

/// The environment variable every process of one provider call carries on Linux: a
/// number unique to the call within the `ax` named by [`OWNER_ENV`], so that what
/// left the call's process group can still be found and killed with it.
#[cfg(target_os = "linux")]
pub const CALL_ENV: &str = "AX_PROVIDER_CALL";

/// Kills, with `SIGKILL`, the processes of this user that carry this `ax`'s owner
/// marker and call number `call` — those of the call that left its process group
/// (`setsid`). It reads one small `/proc/PID/environ` file per process of the
/// machine, once per call, when the call's group is killed.
#[cfg(target_os = "linux")]
fn kill_escaped(call: u64) {
    let Some(owner) = owner_marker() else { return };
    let owner_var = format!("{OWNER_ENV}={owner}");
    let call_var = format!("{CALL_ENV}={call}");
    for_each_marked_process(|pid, environ| {
        let mut vars = environ.split(|b| *b == 0);
        let (mut ours, mut this_call) = (false, false);
        for var in &mut vars {
            ours |= var == owner_var.as_bytes();
            this_call |= var == call_var.as_bytes();
        }
        if ours && this_call && rustix::process::kill_process(pid, Signal::KILL).is_ok() {
            tracing::debug!(
                pid = pid.as_raw_pid(),
                call,
                "killed a provider process that left its group"
            );
        }
    });
}

/// Calls `visit` with the pid and environment block of every process this user can
/// read that carries [`OWNER_ENV`] (other users' environments are not readable, and
/// not ours to kill).
#[cfg(target_os = "linux")]
fn for_each_marked_process(mut visit: impl FnMut(Pid, &[u8])) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let marker = OWNER_ENV.as_bytes();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i32>().ok())
            .and_then(Pid::from_raw)
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.windows(marker.len()).any(|w| w == marker) {
            visit(pid, &environ);
        }
    }
}

/// `<pid>.<start time in clock ticks since boot>` of process `pid`, which no other
/// process shares even after the pid is reused.
#[cfg(target_os = "linux")]
fn process_identity(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses).
    let (_, rest) = stat.rsplit_once(')')?;
    // rest: " state ppid ..."; start time is field 22 overall, the 20th after ')'.
    let start = rest.split_whitespace().nth(19)?;
    Some(format!("{pid}.{start}"))
}

#[cfg(target_os = "linux")]
fn owner_marker() -> Option<&'static str> {
    static MARKER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    MARKER
        .get_or_init(|| process_identity(&std::process::id().to_string()))
        .as_deref()
}

/// Kills, with `SIGKILL`, every process of this user that a provider of an `ax` no
/// longer running left behind (it carries [`OWNER_ENV`] naming a process that is
/// gone): what survives when `ax` itself was SIGKILLed — the provider's own process
/// dies by its death signal, but not its children. Returns how many were killed.
/// Linux only (reads `/proc`); elsewhere it does nothing.
pub fn kill_leftovers_of_dead_runs() -> usize {
    #[cfg(target_os = "linux")]
    {
        let prefix = format!("{OWNER_ENV}=");
        let mut killed = 0;
        for_each_marked_process(|pid, environ| {
            let Some(owner) = environ.split(|b| *b == 0).find_map(|var| {
                var.strip_prefix(prefix.as_bytes())
                    .and_then(|v| std::str::from_utf8(v).ok())
            }) else {
                return;
            };
            let Some((owner_pid, _)) = owner.split_once('.') else {
                return;
            };
            if process_identity(owner_pid).as_deref() == Some(owner) {
                return; // that `ax` is still running: its providers are its own
            }
            if rustix::process::kill_process(pid, Signal::KILL).is_ok() {
                tracing::info!(
                    pid = pid.as_raw_pid(),
                    owner,
                    "killed a provider process a killed ax left behind"
                );
                killed += 1;
            }
        });
        killed
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The death signal follows the thread that forked the child. A provider started
    /// from a thread that then exits (as idle tokio blocking threads do) keeps running,
    /// because every fork happens on the long-lived spawner thread.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_provider_outlives_the_thread_that_started_it() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime.handle().clone();
        let mut child = std::thread::spawn(move || {
            let _runtime = handle.enter();
            GroupChild::spawn(Command::new("sleep").arg("30"), false).expect("sleep starts")
        })
        .join()
        .expect("the starting thread ends");
        std::thread::sleep(Duration::from_millis(300));
        let running = child
            .child
            .as_mut()
            .map(|c| matches!(c.try_wait(), Ok(None)));
        assert_eq!(
            running,
            Some(true),
            "the provider died with its starting thread"
        );
        runtime.block_on(child.kill_and_reap());
        assert!(child.finished, "killed and reaped");
    }
}
