//! [`MemoryAgentStore`]: an in-process `AgentStore`, for tests and for embedding the
//! registry without a database. It passes the same conformance suite as the SQLite
//! store; one mutex makes every operation atomic.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use ax_contracts::agent::AgentRecord;

use crate::recommend::terms::index_terms;
use crate::store::{
    AgentFilter, AgentPage, AgentStore, BatchConflict, BatchOutcome, CandidateQuery, OnceKeys,
    PageRequest, RecordStream, StoreError,
};

#[derive(Debug, Default)]
struct State {
    /// Ordered by agent id, which is the listing order.
    agents: BTreeMap<String, AgentRecord>,
    seeded: BTreeSet<String>,
    markers: BTreeSet<String>,
}

/// An `AgentStore` held in memory. Cheap to create; lost when dropped.
#[derive(Debug, Default)]
pub struct MemoryAgentStore {
    /// Tokio's mutex: an import holds it across the awaits of its stream's `commit`.
    state: tokio::sync::Mutex<State>,
}

impl MemoryAgentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    async fn state(&self) -> tokio::sync::MutexGuard<'_, State> {
        self.state.lock().await
    }
}

/// Whether `record` passes `filter`. Shared semantics for every in-memory filtering.
pub fn matches_filter(record: &AgentRecord, filter: &AgentFilter) -> bool {
    let profile = &record.profile;
    if let Some(team) = &filter.team
        && profile.team.as_deref() != Some(team.as_str())
    {
        return false;
    }
    if let Some(enabled) = filter.enabled
        && profile.enabled != enabled
    {
        return false;
    }
    if !filter.tags.is_empty() {
        let tags = profile.tags();
        if !filter.tags.iter().any(|t| tags.contains(&t.as_str())) {
            return false;
        }
    }
    if let Some(capability) = &filter.capability
        && !profile.capabilities().contains(&capability.as_str())
    {
        return false;
    }
    true
}

#[async_trait]
impl AgentStore for MemoryAgentStore {
    async fn insert(&self, record: &AgentRecord) -> Result<(), StoreError> {
        let mut state = self.state().await;
        let id = &record.profile.agent_id;
        if state.agents.contains_key(id) {
            return Err(StoreError::AlreadyExists {
                agent_id: id.clone(),
            });
        }
        state.agents.insert(id.clone(), record.clone());
        Ok(())
    }

    async fn get(&self, agent_id: &str) -> Result<Option<AgentRecord>, StoreError> {
        Ok(self.state().await.agents.get(agent_id).cloned())
    }

    async fn list(&self, filter: &AgentFilter, page: PageRequest) -> Result<AgentPage, StoreError> {
        let state = self.state().await;
        let matching: Vec<&AgentRecord> = state
            .agents
            .values()
            .filter(|r| matches_filter(r, filter))
            .collect();
        let total = matching.len() as u64;
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = page
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let agents = matching
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        Ok(AgentPage { agents, total })
    }

    async fn update(&self, record: &AgentRecord, expected_revision: u64) -> Result<(), StoreError> {
        let mut state = self.state().await;
        let id = &record.profile.agent_id;
        let Some(current) = state.agents.get_mut(id) else {
            return Err(StoreError::NotFound {
                agent_id: id.clone(),
            });
        };
        if current.revision != expected_revision {
            return Err(StoreError::RevisionMismatch {
                agent_id: id.clone(),
                expected: expected_revision,
                actual: current.revision,
            });
        }
        *current = record.clone();
        Ok(())
    }

    async fn remove(&self, agent_id: &str) -> Result<bool, StoreError> {
        Ok(self.state().await.agents.remove(agent_id).is_some())
    }

    async fn seed(&self, records: &[AgentRecord]) -> Result<Vec<String>, StoreError> {
        let mut state = self.state().await;
        let mut inserted = Vec::new();
        for record in records {
            let id = &record.profile.agent_id;
            if !state.seeded.insert(id.clone()) {
                continue;
            }
            if !state.agents.contains_key(id) {
                state.agents.insert(id.clone(), record.clone());
                inserted.push(id.clone());
            }
        }
        Ok(inserted)
    }

    async fn mark_once(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.state().await.markers.insert(key.to_owned()))
    }

    async fn is_marked(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.state().await.markers.contains(key))
    }

    async fn import_stream(
        &self,
        records: &mut dyn RecordStream,
        on_conflict: BatchConflict,
        once: Option<&str>,
    ) -> Result<Option<bool>, StoreError> {
        if let Some(key) = once
            && self.state().await.markers.contains(key)
        {
            return Ok(None);
        }
        // Everything is held in memory here anyway: the batches are pulled first
        // (the lock is not held while the caller reads its source), then applied
        // under the lock to a copy that is swapped in on commit — all or nothing.
        let mut batches = Vec::new();
        while let Some(batch) = records.next_batch().await {
            batches.push(batch);
        }
        let mut state = self.state().await;
        if once.is_some_and(|key| state.markers.contains(key)) {
            return Ok(None);
        }
        let mut agents = state.agents.clone();
        for batch in batches {
            let mut outcome = BatchOutcome::default();
            for record in batch {
                let id = record.profile.agent_id.clone();
                match agents.get(&id) {
                    None => {
                        agents.insert(id.clone(), record);
                        outcome.inserted.push(id);
                    }
                    Some(_) if on_conflict == BatchConflict::Skip => outcome.skipped.push(id),
                    Some(current) if on_conflict == BatchConflict::Replace => {
                        let replacement = AgentRecord {
                            created_at: current.created_at.clone(),
                            revision: current.revision + 1,
                            ..record
                        };
                        agents.insert(id.clone(), replacement);
                        outcome.replaced.push(id);
                    }
                    Some(_) => {
                        outcome.conflict = Some(id);
                        break;
                    }
                }
            }
            let stop = outcome.conflict.is_some();
            records.written(outcome);
            if stop {
                break;
            }
        }
        if !records.commit().await {
            return Ok(Some(false));
        }
        state.agents = agents;
        if let Some(key) = once {
            state.markers.insert(key.to_owned());
        }
        Ok(Some(true))
    }

    async fn list_after(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AgentRecord>, StoreError> {
        use std::ops::Bound;
        let state = self.state().await;
        let start = after.map_or(Bound::Unbounded, |id| Bound::Excluded(id.to_owned()));
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(state
            .agents
            .range((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, record)| record.clone())
            .collect())
    }

    async fn once_keys(&self) -> Result<OnceKeys, StoreError> {
        let state = self.state().await;
        Ok(OnceKeys {
            markers: state.markers.iter().cloned().collect(),
            seeded: state.seeded.iter().cloned().collect(),
        })
    }

    async fn add_once_keys(&self, keys: &OnceKeys) -> Result<OnceKeys, StoreError> {
        let mut state = self.state().await;
        let mut added = OnceKeys::default();
        for key in &keys.markers {
            if state.markers.insert(key.clone()) {
                added.markers.push(key.clone());
            }
        }
        for id in &keys.seeded {
            if state.seeded.insert(id.clone()) {
                added.seeded.push(id.clone());
            }
        }
        Ok(added)
    }

    /// No index: the terms of every enabled agent of the team are worked out on each
    /// call (a scan, fine for the sizes this store is for), then cut to the budget
    /// per term, heaviest first (ties by agent id), like the indexed stores.
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<AgentRecord>, StoreError> {
        let state = self.state().await;
        let mut per_term: BTreeMap<&str, Vec<(f64, &str)>> = BTreeMap::new();
        for record in state.agents.values() {
            let profile = &record.profile;
            if !profile.enabled
                || query
                    .team
                    .as_ref()
                    .is_some_and(|t| profile.team.as_deref() != Some(t.as_str()))
            {
                continue;
            }
            for (term, weight) in index_terms(profile) {
                if let Ok(at) = query.terms.binary_search(&term) {
                    per_term
                        .entry(query.terms[at].as_str())
                        .or_default()
                        .push((weight, profile.agent_id.as_str()));
                }
            }
        }
        let postings = per_term.into_values().flat_map(|mut list| {
            list.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            list.truncate(query.budget);
            list.into_iter().map(|(weight, id)| (id, weight))
        });
        Ok(query
            .rank_postings(postings)
            .into_iter()
            .filter_map(|(id, _)| state.agents.get(id))
            .filter(|record| query.admits(record))
            .take(query.limit)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod conformance_tests {
    //! The in-memory store runs the shared `AgentStore` conformance suite.
    use std::sync::Arc;

    use super::MemoryAgentStore;
    use crate::store::AgentStore;

    crate::agent_store_conformance!(|| async {
        (Arc::new(MemoryAgentStore::new()) as Arc<dyn AgentStore>, ())
    });
}
