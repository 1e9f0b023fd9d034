//! The signals that stop a running command — SIGINT, SIGTERM and SIGHUP — for
//! `ax discuss` and `ax mcp serve` alike, so both stop their providers and save their
//! work on every one of them (a closed terminal, `timeout`, a CI job cancelled), not
//! only on Ctrl-C. SIGHUP is left alone when it was ignored at start (`nohup`).

use crate::error::Exit;

/// Exit codes: 128 + the signal's number.
pub(crate) const TERMINATE_EXIT: u8 = 143;
pub(crate) const HANGUP_EXIT: u8 = 129;

/// The signals that stop a discussion, registered up front.
pub(crate) struct StopSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    pub(crate) fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
                hangup: if sighup_ignored() {
                    None
                } else {
                    signal(SignalKind::hangup()).ok()
                },
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// The exit code and name of the first stop signal to arrive.
    pub(crate) async fn next(self) -> (u8, &'static str) {
        #[cfg(unix)]
        {
            async fn recv(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut s) => {
                        if s.recv().await.is_none() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(self.interrupt) => (Exit::Interrupted as u8, "interrupted"),
                () = recv(self.terminate) => (TERMINATE_EXIT, "terminated"),
                () = recv(self.hangup) => (HANGUP_EXIT, "hung up"),
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            (Exit::Interrupted as u8, "interrupted")
        }
    }
}

/// Whether SIGHUP was ignored when `ax` started (`nohup`): then a closed terminal must
/// not stop the run. Read from `/proc/self/status` on Linux; assumed not elsewhere.
#[cfg(unix)]
fn sighup_ignored() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))
                .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        })
        .is_some_and(|mask| mask & 1 != 0) // SIGHUP is signal 1: bit 0
}
