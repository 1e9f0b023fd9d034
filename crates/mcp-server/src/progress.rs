//! Discussion progress as MCP `notifications/progress`: one notification per provider
//! call that finished (done or failed), with the engine's status line as the message
//! (`round 1: gemini done in 3.2 s (3/6)`), plus one when the discussion starts
//! naming its id — so a client that gives up waiting can still fetch the result with
//! `discussion_get` later.
//!
//! Why a forwarding task: the engine calls the progress callback inline on its own
//! task, and sending a notification awaits the transport. The callback only queues a
//! line; the forwarder sends them in order. It stops when the discussion returns,
//! after sending what was queued, so no progress follows the response.

use std::sync::atomic::{AtomicBool, Ordering};

use ax_discussion_domain::ProgressSink;
use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::Peer;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the forwarder is told.
enum Message {
    /// A line to send as the next notification.
    Line(String),
    /// The discussion returned: stop after what came before.
    End,
}

/// Progress reporting for one request.
pub(crate) struct ProgressForwarder {
    sender: mpsc::UnboundedSender<Message>,
    task: JoinHandle<()>,
    discussion_id: String,
}

impl ProgressForwarder {
    /// Start forwarding to `peer` under `token`.
    pub(crate) fn start(peer: Peer<RoleServer>, token: ProgressToken, discussion_id: &str) -> Self {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Message>();
        let task = tokio::spawn(async move {
            let mut progress = 0.0;
            while let Some(Message::Line(message)) = receiver.recv().await {
                let param =
                    ProgressNotificationParam::new(token.clone(), progress).with_message(message);
                if let Err(error) = peer.notify_progress(param).await {
                    tracing::debug!(%error, "progress notification not delivered");
                    break;
                }
                progress += 1.0;
            }
        });
        Self {
            sender,
            task,
            discussion_id: discussion_id.to_owned(),
        }
    }

    /// The sink to give the engine: the discussion's first event (a call waiting
    /// for its permit, right at the start) announces its id; every finished call
    /// becomes a notification. A configuration refused before anything ran
    /// announces nothing.
    pub(crate) fn sink(&self) -> ProgressSink {
        let sender = self.sender.clone();
        let announced = AtomicBool::new(false);
        let start = format!("discussion {} started", self.discussion_id);
        ProgressSink::new(move |event| {
            if !announced.swap(true, Ordering::Relaxed) {
                let _ = sender.send(Message::Line(start.clone()));
            }
            if event.is_final() {
                let _ = sender.send(Message::Line(event.to_string()));
            }
        })
    }

    /// Send what is queued, then stop, so that no progress follows the response.
    /// (The queue is FIFO: every line queued before `End` is sent first.)
    pub(crate) async fn finish(self) {
        let _ = self.sender.send(Message::End);
        if let Err(error) = self.task.await {
            tracing::debug!(%error, "progress forwarder ended abnormally");
        }
    }
}
