//! The `AgentStore` port: what the registry needs from storage. Implementations live
//! beside it ([`crate::memory::MemoryAgentStore`]) and in adapter crates
//! (`ax-adapter-sqlite`, `ax-adapter-postgres`); every one of them runs the same conformance suite
//! ([`crate::conformance`], feature `conformance`).

use async_trait::async_trait;
use ax_contracts::agent::AgentRecord;

/// Which agents a listing returns. Empty/`None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFilter {
    /// Exact team name.
    pub team: Option<String>,
    /// Agents carrying any of these tags.
    pub tags: Vec<String>,
    /// Agents whose `capabilities` contain exactly this element.
    pub capability: Option<String>,
    /// Only enabled (`Some(true)`) or only disabled (`Some(false)`) agents.
    pub enabled: Option<bool>,
}

/// A page request: skip `offset` agents in `agentId` order, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Number of agents to skip.
    pub offset: u64,
    /// Maximum number of agents to return; `None` returns all remaining.
    pub limit: Option<u64>,
}

impl PageRequest {
    /// Everything, from the start.
    pub const ALL: PageRequest = PageRequest {
        offset: 0,
        limit: None,
    };
}

/// One page of agents, ordered by `agentId` (byte order), plus the total number of
/// agents matching the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentPage {
    /// The agents on this page.
    pub agents: Vec<AgentRecord>,
    /// How many agents match the filter in all.
    pub total: u64,
}

/// How [`AgentStore::import_batch`] treats a record whose id is already registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchConflict {
    /// Keep the registered agent; the id is reported as skipped.
    Skip,
    /// Overwrite it, keeping its `createdAt` and continuing its revision. This is the
    /// port's only overwrite (import's `--on-conflict replace`, one profile or many):
    /// a backend writes its replace logic once, inside the batch's transaction.
    Replace,
    /// Change nothing at all (the whole batch is rolled back); the id is reported.
    Fail,
}

/// What [`AgentStore::import_batch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Ids inserted.
    pub inserted: Vec<String>,
    /// Ids overwritten ([`BatchConflict::Replace`]).
    pub replaced: Vec<String>,
    /// Ids already registered and kept ([`BatchConflict::Skip`]).
    pub skipped: Vec<String>,
    /// With [`BatchConflict::Fail`]: the first id already registered. Nothing was
    /// written (the other lists are empty).
    pub conflict: Option<String>,
}

/// A store's record of what ran once: the one-time actions recorded by
/// [`AgentStore::mark_once`] (and `import_batch`'s `once`), and every id
/// [`AgentStore::seed`] ever seeded. Copying a registry to another store copies
/// these too, so the copy does not seed a built-in the user removed or import the
/// reference registry again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnceKeys {
    /// Recorded one-time action keys, in byte order.
    pub markers: Vec<String>,
    /// Ids ever seeded, in byte order.
    pub seeded: Vec<String>,
}

/// Which agents [`AgentStore::candidates`] returns: a bounded pre-selection for
/// `recommend`, read from the store's term index (terms and weights from
/// [`crate::recommend::terms::index_terms`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateQuery {
    /// The task's terms ([`crate::recommend::terms::query_terms`]), sorted, distinct.
    pub terms: Vec<String>,
    /// Only agents of this team (exact).
    pub team: Option<String>,
    /// Only agents having every one of these capabilities (exact elements).
    pub required_capabilities: Vec<String>,
    /// Never these agents.
    pub exclude_agents: Vec<String>,
    /// Most postings read per term, heaviest first: the bound on the work done,
    /// whatever the registry's size. A term with more postings is read only this far.
    pub budget: usize,
    /// Most agents returned.
    pub limit: usize,
    /// Agents whose summed weight is below this are left out (an agent's summed
    /// weight bounds its score from above, INV-AGT-REC-001).
    pub min_weight: f64,
}

impl CandidateQuery {
    /// Whether `record` passes every filter: enabled, team, capabilities, exclusions.
    /// Every backend applies this same check to what it returns.
    pub fn admits(&self, record: &AgentRecord) -> bool {
        let profile = &record.profile;
        profile.enabled
            && self
                .team
                .as_ref()
                .is_none_or(|t| profile.team.as_deref() == Some(t.as_str()))
            && !self.exclude_agents.contains(&profile.agent_id)
            && {
                let capabilities = profile.capabilities();
                self.required_capabilities
                    .iter()
                    .all(|c| capabilities.contains(&c.as_str()))
            }
    }

    /// Sums the postings (`key`, weight) read per agent and orders the agents by
    /// their sum, heaviest first, ties by key; sums below `min_weight` are dropped.
    /// Backends that sum outside SQL share this, so they order alike.
    ///
    /// Sorted, not hashed: a recommend at a large registry reads tens of thousands
    /// of postings. Summed in a hash map keyed by agent and then stable-sorted, this
    /// was a third of reading the candidates at 1M agents (`perf`); grouping by a
    /// sort and summing each run took about 4 ms off the whole `ax agent recommend`.
    pub fn rank_postings<K: Ord>(
        &self,
        postings: impl IntoIterator<Item = (K, f64)>,
    ) -> Vec<(K, f64)> {
        let mut postings: Vec<(K, f64)> = postings.into_iter().collect();
        // Stable, so an agent's weights are summed in the order they were read.
        postings.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ranked: Vec<(K, f64)> = Vec::with_capacity(postings.len());
        for (key, weight) in postings {
            match ranked.last_mut() {
                Some((last, sum)) if *last == key => *sum += weight,
                _ => ranked.push((key, weight)),
            }
        }
        ranked.retain(|(_, sum)| *sum >= self.min_weight);
        // Keys are distinct now, so an unstable sort orders exactly as a stable one.
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked
    }
}

/// The records of one import, handed to [`AgentStore::import_stream`] batch by batch
/// while the store holds ONE transaction open, so an import of any size stays one
/// atomic step without the store (or the caller) holding every record at once.
#[async_trait]
pub trait RecordStream: Send {
    /// The next records to write, in order; `None` when there are no more.
    async fn next_batch(&mut self) -> Option<Vec<AgentRecord>>;

    /// What the store did with the batch last handed out. A [`BatchConflict::Fail`]
    /// conflict ends the stream: `outcome.conflict` names the id, and the lists hold
    /// what the batch wrote before it.
    fn written(&mut self, outcome: BatchOutcome);

    /// Asked once, at the end (no more batches, or a `Fail` conflict): `true` commits
    /// everything written, `false` rolls all of it back (and the `once` claim with it).
    async fn commit(&mut self) -> bool;
}

/// One batch as a [`RecordStream`]: [`AgentStore::import_batch`] is this stream.
struct OneBatch {
    records: Option<Vec<AgentRecord>>,
    outcome: BatchOutcome,
}

#[async_trait]
impl RecordStream for OneBatch {
    async fn next_batch(&mut self) -> Option<Vec<AgentRecord>> {
        self.records.take()
    }

    fn written(&mut self, outcome: BatchOutcome) {
        self.outcome = outcome;
    }

    async fn commit(&mut self) -> bool {
        if self.outcome.conflict.is_some() {
            // A rolled-back batch wrote nothing: only the conflict is reported.
            self.outcome = BatchOutcome {
                conflict: self.outcome.conflict.take(),
                ..BatchOutcome::default()
            };
            return false;
        }
        true
    }
}

/// Errors a store reports. Domain-level meaning is added by the registry.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The id is taken. Decided atomically by the store (INV-AGT-DB-001).
    #[error("agent \"{agent_id}\" already exists")]
    AlreadyExists {
        /// The id that is taken.
        agent_id: String,
    },
    /// No agent has this id.
    #[error("agent \"{agent_id}\" not found")]
    NotFound {
        /// The id that was looked up.
        agent_id: String,
    },
    /// A compare-and-swap update found another revision than expected.
    #[error("agent \"{agent_id}\" is at revision {actual}, not {expected}")]
    RevisionMismatch {
        /// The agent.
        agent_id: String,
        /// The revision the caller based its change on.
        expected: u64,
        /// The revision actually stored.
        actual: u64,
    },
    /// The backend failed; the cause is kept.
    #[error("storage failure: {context}")]
    Backend {
        /// What the store was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Storage for agents. All methods are atomic with respect to each other, also across
/// processes for stores shared between processes.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Insert `record` if no agent has its id; otherwise fail with
    /// [`StoreError::AlreadyExists`] and change nothing. The store alone decides
    /// (INV-AGT-REG-001, INV-AGT-DB-001): callers never check for existence first.
    async fn insert(&self, record: &AgentRecord) -> Result<(), StoreError>;

    /// The agent with this id, if any.
    async fn get(&self, agent_id: &str) -> Result<Option<AgentRecord>, StoreError>;

    /// Agents matching `filter`, ordered by `agentId`, paged, with the total.
    async fn list(&self, filter: &AgentFilter, page: PageRequest) -> Result<AgentPage, StoreError>;

    /// Replace the agent `record.profile.agent_id` with `record` if its stored revision
    /// is `expected_revision` (compare-and-swap). Fails with
    /// [`StoreError::RevisionMismatch`] or [`StoreError::NotFound`], changing nothing.
    async fn update(&self, record: &AgentRecord, expected_revision: u64) -> Result<(), StoreError>;

    /// Remove the agent; `false` when there was none.
    async fn remove(&self, agent_id: &str) -> Result<bool, StoreError>;

    /// Seed built-in agents: insert each record whose id has never been seeded in this
    /// store before, and remember that it was. An agent the user edited is not
    /// overwritten, one the user removed is not brought back. Returns the ids inserted.
    /// Safe to call from many processes at once.
    async fn seed(&self, records: &[AgentRecord]) -> Result<Vec<String>, StoreError>;

    /// Record that the one-time action `key` ran; `true` if this call recorded it
    /// first, `false` if it had already been recorded.
    async fn mark_once(&self, key: &str) -> Result<bool, StoreError>;

    /// Whether the one-time action `key` has been recorded.
    async fn is_marked(&self, key: &str) -> Result<bool, StoreError>;

    /// Write `records` in order as ONE atomic step: every record, or — on a storage
    /// failure or a [`BatchConflict::Fail`] conflict — none. An id already registered
    /// (or earlier in the batch) is treated as `on_conflict` says; a replaced record
    /// keeps the stored `createdAt` and gets the stored revision + 1.
    ///
    /// With `once = Some(key)` the one-time action `key` is claimed in the same
    /// step: if it was already recorded nothing is written and `None` is returned, so
    /// under any number of concurrent callers exactly one applies the batch (the
    /// store decides, no pre-check by the caller). A rolled-back batch (conflict)
    /// does not record `key`.
    async fn import_batch(
        &self,
        records: &[AgentRecord],
        on_conflict: BatchConflict,
        once: Option<&str>,
    ) -> Result<Option<BatchOutcome>, StoreError> {
        let mut batch = OneBatch {
            records: Some(records.to_vec()),
            outcome: BatchOutcome::default(),
        };
        Ok(self
            .import_stream(&mut batch, on_conflict, once)
            .await?
            .map(|_| batch.outcome))
    }

    /// [`Self::import_batch`] for any number of records: the store pulls `records`
    /// batch by batch into ONE transaction (each batch reported to
    /// [`RecordStream::written`]) and at the end commits or rolls back everything as
    /// [`RecordStream::commit`] says; a storage failure rolls back everything. Ids
    /// are treated as in `import_batch`, also against ids earlier in the stream; a
    /// [`BatchConflict::Fail`] conflict ends the stream (what came before it is kept
    /// only if `commit` says so).
    ///
    /// `once` as in `import_batch`: `None` is returned, and no batch pulled, when the
    /// key was already recorded. Otherwise `Some(committed)`.
    async fn import_stream(
        &self,
        records: &mut dyn RecordStream,
        on_conflict: BatchConflict,
        once: Option<&str>,
    ) -> Result<Option<bool>, StoreError>;

    /// At most `limit` agents whose id sorts after `after` (from the first without
    /// it), in `agentId` byte order: a keyset page. Unlike an `offset` page it costs
    /// the same deep into a large registry, and it neither repeats nor skips an
    /// agent when others are added or removed between pages — what copying a whole
    /// store page by page needs.
    async fn list_after(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AgentRecord>, StoreError>;

    /// Every recorded one-time key and seeded id.
    async fn once_keys(&self) -> Result<OnceKeys, StoreError>;

    /// Record `keys` in addition to those already recorded (a union: nothing is
    /// removed, no agent is written). Returns the keys that were new.
    async fn add_once_keys(&self, keys: &OnceKeys) -> Result<OnceKeys, StoreError>;

    /// Candidates for `recommend`: at most `query.limit` agents that
    /// [`CandidateQuery::admits`], ordered by summed term weight (heaviest first).
    ///
    /// For each query term the store reads at most `query.budget` postings of that
    /// term — enabled agents of `query.team` only — in weight-descending order, sums
    /// the weights read per agent, drops sums under `query.min_weight`, and returns
    /// the heaviest admitted agents. The work is bounded by terms × budget at any
    /// registry size. The term index is written in the same transaction as every
    /// write of an agent, so it never disagrees with the agents.
    ///
    /// INV-AGT-REC-002: when no term of the query has more than `budget` postings
    /// (enabled agents of the team), nothing is cut by the budget: the result is
    /// exactly the `limit` admitted agents with the largest summed weight of at least
    /// `min_weight` — so, with a large enough `limit`, every agent the exhaustive
    /// scorer gives at least `min_weight`. Ties in weight are ordered however the
    /// backend reads them.
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<AgentRecord>, StoreError>;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::CandidateQuery;

    fn query(min_weight: f64) -> CandidateQuery {
        CandidateQuery {
            terms: Vec::new(),
            team: None,
            required_capabilities: Vec::new(),
            exclude_agents: Vec::new(),
            budget: 0,
            limit: 0,
            min_weight,
        }
    }

    /// Every agent's postings summed, sums under the threshold dropped, heaviest
    /// first and equal sums by key — checked against a plain map on interleaved
    /// postings, as several terms' ranges arrive.
    #[test]
    fn postings_are_summed_per_agent_and_ranked_by_sum_then_key() {
        let mut postings = Vec::new();
        for term in 0..7_i64 {
            for agent in (0..500_i64).filter(|a| (a + term) % 3 != 0) {
                postings.push((
                    agent * 7 % 503,
                    f64::from(u8::try_from((agent + term) % 5).unwrap()) * 0.05,
                ));
            }
        }
        let mut expected: BTreeMap<i64, f64> = BTreeMap::new();
        for (agent, weight) in &postings {
            *expected.entry(*agent).or_default() += weight;
        }
        let mut expected: Vec<(i64, f64)> = expected
            .into_iter()
            .filter(|(_, sum)| *sum >= 0.5)
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let ranked = query(0.5).rank_postings(postings);
        assert!(ranked.len() > 100 && ranked.len() < 500, "{}", ranked.len());
        assert_eq!(ranked.len(), expected.len());
        for ((agent, sum), (want_agent, want_sum)) in ranked.iter().zip(&expected) {
            assert_eq!(agent, want_agent);
            assert!(
                (sum - want_sum).abs() < 1e-9,
                "{agent}: {sum} vs {want_sum}"
            );
        }
        assert!(
            ranked.windows(2).any(|w| w[0].1 == w[1].1),
            "ties are exercised"
        );
    }
}
