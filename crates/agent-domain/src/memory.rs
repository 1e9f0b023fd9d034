//! [`MemoryAgentStore`]: an in-process `AgentStore`, for tests and for embedding the
//! registry without a database. It passes the same conformance suite as the SQLite
//! store; one mutex makes every operation atomic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use ax_contracts::agent::AgentRecord;

use crate::recommend::terms::index_terms;
use crate::store::{
    AgentFilter, AgentPage, AgentStore, BatchConflict, BatchOutcome, CandidateQuery, OnceKeys,
    PageRequest, StoreError,
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
    state: Mutex<State>,
}

impl MemoryAgentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-updated: every
        // mutation below is a single map/set operation. So a poisoned lock is safe to reuse.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let mut state = self.state();
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
        Ok(self.state().agents.get(agent_id).cloned())
    }

    async fn list(&self, filter: &AgentFilter, page: PageRequest) -> Result<AgentPage, StoreError> {
        let state = self.state();
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
        let mut state = self.state();
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
        Ok(self.state().agents.remove(agent_id).is_some())
    }

    async fn seed(&self, records: &[AgentRecord]) -> Result<Vec<String>, StoreError> {
        let mut state = self.state();
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
        Ok(self.state().markers.insert(key.to_owned()))
    }

    async fn is_marked(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.state().markers.contains(key))
    }

    async fn import_batch(
        &self,
        records: &[AgentRecord],
        on_conflict: BatchConflict,
        once: Option<&str>,
    ) -> Result<Option<BatchOutcome>, StoreError> {
        let mut state = self.state();
        if once.is_some_and(|key| state.markers.contains(key)) {
            return Ok(None);
        }
        // Worked out on a copy and swapped in at the end: all or nothing.
        let mut agents = state.agents.clone();
        let mut outcome = BatchOutcome::default();
        for record in records {
            let id = &record.profile.agent_id;
            match agents.get(id) {
                None => {
                    agents.insert(id.clone(), record.clone());
                    outcome.inserted.push(id.clone());
                }
                Some(_) if on_conflict == BatchConflict::Skip => outcome.skipped.push(id.clone()),
                Some(current) if on_conflict == BatchConflict::Replace => {
                    let mut replacement = record.clone();
                    replacement.created_at = current.created_at.clone();
                    replacement.revision = current.revision + 1;
                    agents.insert(id.clone(), replacement);
                    outcome.replaced.push(id.clone());
                }
                Some(_) => {
                    return Ok(Some(BatchOutcome {
                        conflict: Some(id.clone()),
                        ..BatchOutcome::default()
                    }));
                }
            }
        }
        state.agents = agents;
        if let Some(key) = once {
            state.markers.insert(key.to_owned());
        }
        Ok(Some(outcome))
    }

    async fn list_after(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AgentRecord>, StoreError> {
        use std::ops::Bound;
        let state = self.state();
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
        let state = self.state();
        Ok(OnceKeys {
            markers: state.markers.iter().cloned().collect(),
            seeded: state.seeded.iter().cloned().collect(),
        })
    }

    async fn add_once_keys(&self, keys: &OnceKeys) -> Result<OnceKeys, StoreError> {
        let mut state = self.state();
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
        let state = self.state();
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
