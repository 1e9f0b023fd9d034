//! [`InMemoryHistory`]: a [`DiscussionHistory`] kept in memory, for tests, embeddings
//! and the doc example. The SQLite adapter is the durable one. Both pass the same
//! `DiscussionHistory` kit (INV-DISC-HIST-001).

use std::sync::Mutex;

use async_trait::async_trait;

use crate::history::{DiscussionHistory, DiscussionRecord, DiscussionSummary, HistoryError};

/// Discussions kept in memory, newest last.
#[derive(Debug, Default)]
pub struct InMemoryHistory {
    records: Mutex<Vec<DiscussionRecord>>,
}

impl InMemoryHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every saved record, in the order saved (tests).
    pub fn records(&self) -> Vec<DiscussionRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl DiscussionHistory for InMemoryHistory {
    async fn save(&self, record: &DiscussionRecord) -> Result<(), HistoryError> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.retain(|r| r.discussion_id != record.discussion_id);
        records.push(record.clone());
        Ok(())
    }

    async fn get(&self, discussion_id: &str) -> Result<Option<DiscussionRecord>, HistoryError> {
        Ok(self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|r| r.discussion_id == discussion_id)
            .cloned())
    }

    async fn list(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<DiscussionSummary>, HistoryError> {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // UUID v7 ids sort by start time.
        records.sort_by(|a, b| b.discussion_id.cmp(&a.discussion_id));
        Ok(records
            .into_iter()
            .filter(|r| before.is_none_or(|b| r.discussion_id.as_str() < b))
            .take(limit)
            .map(|r| DiscussionSummary {
                discussion_id: r.discussion_id,
                topic: r.topic,
                pattern: r.pattern,
                status: r.status,
                success: r.success,
                providers: r.providers,
                started_at: r.started_at,
                total_duration_ms: r.total_duration_ms,
            })
            .collect())
    }

    async fn save_missing(
        &self,
        records: &[DiscussionRecord],
    ) -> Result<Vec<String>, HistoryError> {
        let mut stored = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let mut saved = Vec::new();
        for record in records {
            if !stored
                .iter()
                .any(|r| r.discussion_id == record.discussion_id)
            {
                stored.push(record.clone());
                saved.push(record.discussion_id.clone());
            }
        }
        Ok(saved)
    }
}

#[cfg(test)]
mod conformance_tests {
    //! The in-memory history runs the shared `DiscussionHistory` kit.
    use std::sync::Arc;

    use super::InMemoryHistory;
    use crate::history::DiscussionHistory;

    crate::discussion_history_conformance!(|| async {
        (
            Arc::new(InMemoryHistory::new()) as Arc<dyn DiscussionHistory>,
            (),
        )
    });
}
