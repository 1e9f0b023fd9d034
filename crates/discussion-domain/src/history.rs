//! The `DiscussionHistory` port: every discussion — finished, failed or cancelled — is
//! saved with its result so it can be listed and shown later (`ax discuss history`,
//! MCP `discussion_get`). The SQLite and PostgreSQL adapters implement it, each proven by
//! `discussion_history_conformance!`.

use async_trait::async_trait;
use ax_contracts::discussion::{DiscussionStatus, Pattern};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A saved discussion: a few indexed facts plus the full result document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionRecord {
    /// The discussion id (a UUID v7, so ids sort by start time).
    pub discussion_id: String,
    /// The topic.
    pub topic: String,
    /// The pattern.
    pub pattern: Pattern,
    /// How it ended.
    pub status: DiscussionStatus,
    /// Whether the discussion succeeded.
    pub success: bool,
    /// Providers that took part.
    pub providers: Vec<String>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended (RFC 3339).
    pub completed_at: String,
    /// Wall time in milliseconds.
    pub total_duration_ms: u64,
    /// The full discussion result as returned to the user.
    pub result: Value,
}

pub use ax_contracts::discussion::DiscussionSummary;

/// A history failure; the cause is kept.
#[derive(Debug, thiserror::Error)]
#[error("discussion history: {context}")]
pub struct HistoryError {
    /// What the store was doing.
    pub context: String,
    /// The underlying error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Storage for finished discussions. INV-DISC-HIST-001: every implementation keeps
/// each discussion whole and once, and lists in id order — proved for each backend by
/// the kit in [`crate::conformance::history`] (feature `conformance`).
#[async_trait]
pub trait DiscussionHistory: Send + Sync {
    /// Save (or overwrite, for a discussion saved twice) a discussion.
    async fn save(&self, record: &DiscussionRecord) -> Result<(), HistoryError>;

    /// One discussion by id.
    async fn get(&self, discussion_id: &str) -> Result<Option<DiscussionRecord>, HistoryError>;

    /// The most recent discussions first, at most `limit`, starting after the
    /// discussion id `before` (exclusive) when given — a stable cursor.
    async fn list(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<DiscussionSummary>, HistoryError>;

    /// Save each record whose id is not saved yet, as one atomic step; a saved id
    /// keeps what it has (unlike [`Self::save`], nothing is overwritten). Returns the
    /// ids it saved, in the order given. Copying a history into another uses it:
    /// rerunning a copy adds only what is missing, and the store — not a read
    /// before the write — decides what that is.
    async fn save_missing(&self, records: &[DiscussionRecord])
    -> Result<Vec<String>, HistoryError>;
}
