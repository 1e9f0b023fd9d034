//! Progress events for live UIs: one event per change of a provider call's phase
//! (waiting for a permit, running, retrying, done, failed), with enough context for a
//! line such as `round 1: gemini done in 3.2 s (3/6)` — which is exactly what
//! [`ProgressEvent`]'s `Display` prints. The CLI writes them to stderr; the MCP server
//! turns them into `notifications/progress`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

/// Which step of a discussion a call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A discussion round (1-based).
    Round(u32),
    /// The synthesizer (or moderator) writing the conclusion.
    Synthesis,
    /// A participant answering AGREE/DISAGREE on the drafted conclusion.
    Poll,
    /// A participant voting (the `voting` consensus method after other patterns).
    Vote,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Round(n) => write!(f, "round {n}"),
            Self::Synthesis => f.write_str("synthesis"),
            Self::Poll => f.write_str("consensus poll"),
            Self::Vote => f.write_str("vote"),
        }
    }
}

/// Where a call is.
#[derive(Debug, Clone, PartialEq)]
pub enum CallPhase {
    /// Waiting for a permit of the limiter.
    Waiting,
    /// Holding a permit and running (attempt is 1-based).
    Running {
        /// 1 for the first try.
        attempt: u32,
    },
    /// A retryable failure; the call will run again after `delay`.
    Retrying {
        /// The attempt that failed.
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
        /// Why it failed.
        reason: String,
    },
    /// Finished with an answer.
    Done {
        /// Wall time of the call, retries included.
        duration: Duration,
    },
    /// Finished without an answer.
    Failed {
        /// Why.
        reason: String,
    },
}

/// One progress event.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    /// The discussion the call belongs to (a sub-discussion has its own id).
    pub discussion_id: String,
    /// 0 for the top discussion.
    pub depth: u32,
    /// The step.
    pub step: Step,
    /// The speaker (provider id, or agent id).
    pub speaker: String,
    /// The provider actually called.
    pub provider: String,
    /// The phase the call just entered.
    pub phase: CallPhase,
    /// Calls of this step that have finished (done or failed), this one included.
    pub step_finished: usize,
    /// Calls this step runs.
    pub step_size: usize,
}

impl ProgressEvent {
    /// True for the phases that end a call (done, failed).
    pub fn is_final(&self) -> bool {
        matches!(
            self.phase,
            CallPhase::Done { .. } | CallPhase::Failed { .. }
        )
    }
}

impl fmt::Display for ProgressEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.depth > 0 {
            write!(f, "[sub-discussion, depth {}] ", self.depth)?;
        }
        write!(f, "{}: {}", self.step, self.speaker)?;
        if self.speaker != self.provider {
            write!(f, " (via {})", self.provider)?;
        }
        match &self.phase {
            CallPhase::Waiting => f.write_str(" waiting")?,
            CallPhase::Running { attempt: 1 } => f.write_str(" running")?,
            CallPhase::Running { attempt } => write!(f, " running (attempt {attempt})")?,
            CallPhase::Retrying { delay, reason, .. } => {
                write!(f, " retrying in {:.1} s: {reason}", delay.as_secs_f64())?
            }
            CallPhase::Done { duration } => write!(f, " done in {:.1} s", duration.as_secs_f64())?,
            CallPhase::Failed { reason } => write!(f, " failed: {reason}")?,
        }
        if self.is_final() {
            write!(f, " ({}/{})", self.step_finished, self.step_size)?;
        }
        Ok(())
    }
}

/// A progress callback.
type Callback = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;

/// Where progress events go. Cheap to clone; the default discards them.
#[derive(Clone, Default)]
pub struct ProgressSink {
    callback: Option<Callback>,
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.callback.is_some() {
            "ProgressSink(callback)"
        } else {
            "ProgressSink(none)"
        })
    }
}

impl ProgressSink {
    /// Discard every event.
    pub fn none() -> Self {
        Self::default()
    }

    /// Call `f` for every event. It runs inline on the discussion's task: keep it quick.
    pub fn new(f: impl Fn(&ProgressEvent) + Send + Sync + 'static) -> Self {
        Self {
            callback: Some(Arc::new(f)),
        }
    }

    /// Send every event into an unbounded channel (events are small and few: a handful
    /// per provider call). Events sent after the receiver is gone are dropped.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<ProgressEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self::new(move |e| {
                let _ = tx.send(e.clone());
            }),
            rx,
        )
    }

    /// True when events go somewhere. Why ask: building an event copies three
    /// strings, which for a discussion nobody watches is pure overhead on every call.
    pub(crate) fn is_active(&self) -> bool {
        self.callback.is_some()
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        if let Some(cb) = &self.callback {
            cb(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_call_reads_like_a_status_line() {
        let e = ProgressEvent {
            discussion_id: "d".into(),
            depth: 0,
            step: Step::Round(1),
            speaker: "gemini".into(),
            provider: "gemini".into(),
            phase: CallPhase::Done {
                duration: Duration::from_millis(3200),
            },
            step_finished: 3,
            step_size: 6,
        };
        assert_eq!(e.to_string(), "round 1: gemini done in 3.2 s (3/6)");
        let agent = ProgressEvent {
            speaker: "reviewer".into(),
            provider: "claude".into(),
            phase: CallPhase::Failed {
                reason: "timeout".into(),
            },
            ..e
        };
        assert_eq!(
            agent.to_string(),
            "round 1: reviewer (via claude) failed: timeout (3/6)"
        );
    }
}
