//! Copying one store's agents, one-time keys and discussions into another, through
//! the ports only — so it works between any two backends (`ax db copy`, and
//! `ax db backup` on PostgreSQL).
//!
//! INV-COPY-001 (what a copy keeps): an agent arrives as it was — profile,
//! `revision`, `createdAt`, `updatedAt` — because `insert`/`import_batch` store a new
//! record's own revision and timestamps (pinned by the `AgentStore` conformance
//! suite); a discussion arrives whole. The one-time keys (recorded one-time actions
//! and every id ever seeded) arrive first, so the target does not seed a built-in the
//! user removed, or import the reference registry again, even if the copy is
//! interrupted before its agents are all there.
//!
//! INV-COPY-002 (rerunning is safe): nothing on the target is removed, and what the
//! target already has is never changed unless asked (`overwrite`). A record present
//! on both sides and equal is skipped; one that differs is a conflict, reported and
//! left alone — or, with `overwrite`, replaced by the source's by a compare-and-swap
//! on the revision just read, so a concurrent edit on the target is not lost. Each
//! batch is written in one transaction, so an interrupted copy leaves whole batches,
//! and running it again copies only what is missing.
//!
//! Memory is bounded by the page size: agents are read on both sides in keyset
//! pages ([`AgentStore::list_after`]) and merged by id, so a rerun over a million
//! agents costs two scans, not a million point reads.

use std::collections::{HashSet, VecDeque};

use ax_agent_domain::store::{AgentStore, BatchConflict, StoreError};
use ax_contracts::agent::AgentRecord;
use ax_discussion_domain::history::{DiscussionHistory, DiscussionRecord, HistoryError};
use serde::Serialize;

/// Agents read (and written) per batch.
pub const AGENT_PAGE: u64 = 500;
/// Discussions read (and written) per batch: their results are larger.
pub const DISCUSSION_PAGE: usize = 100;
/// How many conflicting ids a report names; the count is always exact.
pub const CONFLICTS_NAMED: usize = 100;

/// What a copy did with one kind of record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Written to the target (it had no such record).
    pub copied: u64,
    /// Already on the target, equal to the source's.
    pub skipped: u64,
    /// On the target but different, replaced by the source's (`overwrite`).
    pub overwritten: u64,
    /// On the target but different, left alone.
    pub conflicts: u64,
    /// The first [`CONFLICTS_NAMED`] conflicting ids.
    pub conflict_ids: Vec<String>,
}

impl Tally {
    fn conflict(&mut self, id: &str) {
        self.conflicts += 1;
        if self.conflict_ids.len() < CONFLICTS_NAMED {
            self.conflict_ids.push(id.to_owned());
        }
    }
}

/// Why a copy stopped: a store failed (what was written until then stays).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// An agent store failed.
    #[error(transparent)]
    Agents(#[from] StoreError),
    /// A discussion history failed.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// Adds the source's one-time keys to the target's: `copied` counts the new ones,
/// `skipped` those the target had. A union cannot conflict.
pub async fn copy_once_keys(
    from: &dyn AgentStore,
    to: &dyn AgentStore,
) -> Result<Tally, CopyError> {
    let keys = from.once_keys().await?;
    let added = to.add_once_keys(&keys).await?;
    let (given, new) = (
        keys.markers.len() + keys.seeded.len(),
        added.markers.len() + added.seeded.len(),
    );
    Ok(Tally {
        copied: new as u64,
        skipped: (given - new) as u64,
        ..Tally::default()
    })
}

/// The target's agents in id order, read a page at a time as the merge needs them.
struct TargetScan<'s> {
    store: &'s dyn AgentStore,
    buffered: VecDeque<AgentRecord>,
    cursor: Option<String>,
    done: bool,
}

impl TargetScan<'_> {
    /// The target's record with `id`, if it has one. Ids must be asked for in
    /// increasing order; records with smaller ids are passed over.
    async fn find(&mut self, id: &str) -> Result<Option<AgentRecord>, StoreError> {
        loop {
            if self.buffered.is_empty() && !self.done {
                let page = self
                    .store
                    .list_after(self.cursor.as_deref(), AGENT_PAGE)
                    .await?;
                match page.last() {
                    Some(last) => self.cursor = Some(last.profile.agent_id.clone()),
                    None => self.done = true,
                }
                self.buffered.extend(page);
            }
            let Some(head) = self.buffered.front() else {
                return Ok(None);
            };
            match head.profile.agent_id.as_str().cmp(id) {
                std::cmp::Ordering::Less => {
                    self.buffered.pop_front();
                }
                std::cmp::Ordering::Equal => return Ok(self.buffered.pop_front()),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
    }
}

/// Copies every agent of `from` missing on `to` (INV-COPY-001, INV-COPY-002).
pub async fn copy_agents(
    from: &dyn AgentStore,
    to: &dyn AgentStore,
    overwrite: bool,
) -> Result<Tally, CopyError> {
    let mut tally = Tally::default();
    let mut target = TargetScan {
        store: to,
        buffered: VecDeque::new(),
        cursor: None,
        done: false,
    };
    let mut cursor: Option<String> = None;
    loop {
        let page = from.list_after(cursor.as_deref(), AGENT_PAGE).await?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.profile.agent_id.clone());
        let mut missing = Vec::new();
        for record in page {
            match target.find(&record.profile.agent_id).await? {
                None => missing.push(record),
                Some(existing) => {
                    settle_agent(to, &record, &existing, overwrite, &mut tally).await?
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        // One transaction per batch. The store decides what is free: an id
        // registered on the target since the scan read it comes back as skipped.
        let outcome = to
            .import_batch(&missing, BatchConflict::Skip, None)
            .await?
            .unwrap_or_default();
        tally.copied += outcome.inserted.len() as u64;
        let raced: HashSet<&str> = outcome.skipped.iter().map(String::as_str).collect();
        for record in missing
            .iter()
            .filter(|r| raced.contains(r.profile.agent_id.as_str()))
        {
            match to.get(&record.profile.agent_id).await? {
                Some(existing) => {
                    settle_agent(to, record, &existing, overwrite, &mut tally).await?
                }
                // Registered and removed again meanwhile: the next run copies it.
                None => tally.conflict(&record.profile.agent_id),
            }
        }
    }
    Ok(tally)
}

/// An agent the target already has: equal is skipped; different is a conflict,
/// or with `overwrite` replaced by a compare-and-swap on the revision read (a
/// concurrent change on the target makes it a conflict instead).
async fn settle_agent(
    to: &dyn AgentStore,
    source: &AgentRecord,
    existing: &AgentRecord,
    overwrite: bool,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    if source == existing {
        tally.skipped += 1;
        return Ok(());
    }
    if !overwrite {
        tally.conflict(&source.profile.agent_id);
        return Ok(());
    }
    match to.update(source, existing.revision).await {
        Ok(()) => tally.overwritten += 1,
        Err(StoreError::RevisionMismatch { .. } | StoreError::NotFound { .. }) => {
            tally.conflict(&source.profile.agent_id);
        }
        Err(other) => return Err(other),
    }
    Ok(())
}

/// Copies every discussion of `from` missing on `to` (INV-COPY-001, INV-COPY-002).
pub async fn copy_discussions(
    from: &dyn DiscussionHistory,
    to: &dyn DiscussionHistory,
    overwrite: bool,
) -> Result<Tally, CopyError> {
    let mut tally = Tally::default();
    let mut before: Option<String> = None;
    loop {
        let summaries = from.list(DISCUSSION_PAGE, before.as_deref()).await?;
        let Some(last) = summaries.last() else { break };
        before = Some(last.discussion_id.clone());
        let mut records: Vec<DiscussionRecord> = Vec::with_capacity(summaries.len());
        for summary in &summaries {
            if let Some(record) = from.get(&summary.discussion_id).await? {
                records.push(record);
            }
        }
        let saved: HashSet<String> = to.save_missing(&records).await?.into_iter().collect();
        tally.copied += saved.len() as u64;
        for record in records.iter().filter(|r| !saved.contains(&r.discussion_id)) {
            if to.get(&record.discussion_id).await?.as_ref() == Some(record) {
                tally.skipped += 1;
            } else if overwrite {
                to.save(record).await?;
                tally.overwritten += 1;
            } else {
                tally.conflict(&record.discussion_id);
            }
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    //! The copy over the in-memory implementations of both ports; the same code
    //! runs between SQLite and PostgreSQL in `tests/e2e/postgres.rs`.

    use ax_agent_domain::conformance::record;
    use ax_agent_domain::memory::MemoryAgentStore;
    use ax_agent_domain::store::{AgentFilter, OnceKeys, PageRequest};
    use ax_discussion_domain::InMemoryHistory;
    use ax_discussion_domain::conformance::history::{id, record as discussion};
    use serde_json::json;

    use super::*;

    async fn all(store: &dyn AgentStore) -> Vec<AgentRecord> {
        store
            .list(&AgentFilter::default(), PageRequest::ALL)
            .await
            .expect("list")
            .agents
    }

    /// More agents than a page, with revisions and timestamps of their own.
    async fn source_with(n: u32) -> MemoryAgentStore {
        let store = MemoryAgentStore::new();
        for i in 0..n {
            let mut rec = record(&format!("agent-{i:05}"), json!({"team": "t"}));
            rec.revision = u64::from(i % 7 + 1);
            rec.created_at = format!("2020-01-01T00:00:{:02}.000Z", i % 60);
            rec.updated_at = format!("2024-06-01T00:00:{:02}.000Z", i % 60);
            store.insert(&rec).await.expect("insert");
        }
        store
    }

    #[tokio::test]
    async fn inv_copy_001_agents_arrive_verbatim_and_a_rerun_is_a_no_op() {
        let from = source_with(1234).await;
        let to = MemoryAgentStore::new();
        let first = copy_agents(&from, &to, false).await.expect("copy");
        assert_eq!((first.copied, first.skipped, first.conflicts), (1234, 0, 0));
        assert_eq!(all(&to).await, all(&from).await);
        let again = copy_agents(&from, &to, false).await.expect("rerun");
        assert_eq!((again.copied, again.skipped, again.conflicts), (0, 1234, 0));
        assert_eq!(all(&to).await, all(&from).await);
    }

    #[tokio::test]
    async fn inv_copy_002_an_interrupted_copy_completes_and_extra_target_agents_stay() {
        let from = source_with(1100).await;
        let to = MemoryAgentStore::new();
        // What an interrupted run leaves: some whole batches (here every third
        // agent, so the target's ids interleave with the missing ones), plus an
        // agent only the target has.
        for rec in all(&from).await.iter().step_by(3) {
            to.insert(rec).await.expect("insert");
        }
        let own = record("agent-00000-own", json!({}));
        to.insert(&own).await.expect("insert");
        let tally = copy_agents(&from, &to, false).await.expect("copy");
        assert_eq!(
            (tally.copied, tally.skipped, tally.conflicts),
            (733, 367, 0)
        );
        let mut expected = all(&from).await;
        expected.push(own);
        expected.sort_by(|a, b| a.profile.agent_id.cmp(&b.profile.agent_id));
        assert_eq!(all(&to).await, expected);
    }

    #[tokio::test]
    async fn inv_copy_002_a_differing_agent_is_a_conflict_unless_overwrite() {
        let from = source_with(3).await;
        let to = MemoryAgentStore::new();
        let mut edited = from.get("agent-00001").await.expect("get").expect("there");
        edited.revision += 1;
        edited.profile.team = Some("edited on the target".into());
        to.insert(&edited).await.expect("insert");
        let tally = copy_agents(&from, &to, false).await.expect("copy");
        assert_eq!((tally.copied, tally.conflicts), (2, 1));
        assert_eq!(tally.conflict_ids, ["agent-00001"]);
        assert_eq!(to.get("agent-00001").await.expect("get"), Some(edited));

        let tally = copy_agents(&from, &to, true).await.expect("overwrite");
        assert_eq!(
            (tally.skipped, tally.overwritten, tally.conflicts),
            (2, 1, 0)
        );
        assert_eq!(all(&to).await, all(&from).await, "the source's, verbatim");
    }

    #[tokio::test]
    async fn once_keys_are_a_union() {
        let (from, to) = (MemoryAgentStore::new(), MemoryAgentStore::new());
        from.add_once_keys(&OnceKeys {
            markers: vec!["seed:defaults:v1".into(), "m".into()],
            seeded: vec!["removed-builtin".into()],
        })
        .await
        .expect("keys");
        to.mark_once("m").await.expect("mark");
        let tally = copy_once_keys(&from, &to).await.expect("copy");
        assert_eq!((tally.copied, tally.skipped), (2, 1));
        assert!(
            to.seed(&[record("removed-builtin", json!({}))])
                .await
                .expect("seed")
                .is_empty(),
            "a built-in removed on the source is not seeded on the target"
        );
    }

    #[tokio::test]
    async fn discussions_are_copied_whole_once_with_conflicts_reported() {
        let (from, to) = (InMemoryHistory::new(), InMemoryHistory::new());
        for n in 1..=250 {
            from.save(&discussion(n)).await.expect("save");
        }
        let mut other = discussion(7);
        other.result = json!({"different": true});
        to.save(&other).await.expect("save");
        to.save(&discussion(8)).await.expect("save");
        let tally = copy_discussions(&from, &to, false).await.expect("copy");
        assert_eq!((tally.copied, tally.skipped, tally.conflicts), (248, 1, 1));
        assert_eq!(tally.conflict_ids, [id(7)]);
        assert_eq!(to.get(&id(7)).await.expect("get"), Some(other));
        assert_eq!(to.get(&id(200)).await.expect("get"), Some(discussion(200)));

        let tally = copy_discussions(&from, &to, true).await.expect("overwrite");
        assert_eq!(
            (tally.copied, tally.skipped, tally.overwritten),
            (0, 249, 1)
        );
        assert_eq!(to.get(&id(7)).await.expect("get"), Some(discussion(7)));
    }
}
