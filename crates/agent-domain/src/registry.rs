//! [`AgentRegistry`]: the registry's use cases — register, get, list, update, remove —
//! over any [`AgentStore`].

use std::sync::Arc;

use ax_contracts::agent::{AgentProfile, AgentRecord};
use ax_contracts::parse::Valid;
use ax_contracts::validation::{JsonPath, ValidationErrors, rule};
use serde_json::{Map, Value};

use crate::capabilities::{self, CapabilityIndex};
use crate::defaults;
use crate::error::AgentError;
use crate::recommend::{self, RecommendRequest, Recommendation};
use crate::store::{AgentFilter, AgentPage, AgentStore, CandidateQuery, PageRequest, StoreError};

/// How many times an update without `if_revision` re-reads and re-applies its patch
/// when another writer got in first, before reporting `Conflict`.
const UPDATE_ATTEMPTS: u32 = 32;

/// Wait a little before retrying a lost compare-and-swap, growing with each attempt
/// (capped at ~50 ms) and jittered, so contending writers spread out instead of
/// colliding again in lock step.
async fn backoff(attempt: u32) {
    let base_us = 500u64 << attempt.min(7);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()),
    ) % base_us;
    tokio::time::sleep(std::time::Duration::from_micros(base_us / 2 + jitter)).await;
}

/// Fields the registry owns; a patch may not set them.
const REGISTRY_FIELDS: [&str; 3] = ["createdAt", "updatedAt", "revision"];

/// The agent registry. Cheap to clone; clones share the store.
#[derive(Clone)]
pub struct AgentRegistry {
    store: Arc<dyn AgentStore>,
}

impl std::fmt::Debug for AgentRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentRegistry").finish_non_exhaustive()
    }
}

/// The current time as the registry writes it: RFC 3339, UTC, milliseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Agents read per page when the registry scans every agent
/// ([`AgentRegistry::capabilities`], [`AgentRegistry::recommend_exhaustive`]): few
/// round trips, and a page of decoded profiles (~3 KB each) stays small.
const SCAN_PAGE: u64 = 1000;

impl AgentRegistry {
    /// A registry over `store`.
    pub fn new(store: Arc<dyn AgentStore>) -> Self {
        Self { store }
    }

    /// The store, for operations the registry does not wrap.
    pub fn store(&self) -> &Arc<dyn AgentStore> {
        &self.store
    }

    /// Register a parsed profile (the edge parses it with `AgentProfile::from_json`
    /// or `AgentProfile::parse_registration`; nothing here checks it again).
    ///
    /// INV-AGT-REG-001: there is no existence pre-check. The store's uniqueness
    /// decides atomically; a duplicate yields [`AgentError::AlreadyExists`] and
    /// nothing is overwritten. A `get`-then-`insert` here would reopen the race the
    /// reference tool had (16 processes, 11 told "registered").
    pub async fn register(&self, profile: Valid<AgentProfile>) -> Result<AgentRecord, AgentError> {
        let now = now_rfc3339();
        let record = AgentRecord {
            profile: profile.into_inner(),
            created_at: now.clone(),
            updated_at: now,
            revision: 1,
        };
        self.store.insert(&record).await?;
        Ok(record)
    }

    /// The agent with this id.
    pub async fn get(&self, agent_id: &str) -> Result<AgentRecord, AgentError> {
        self.store
            .get(agent_id)
            .await?
            .ok_or_else(|| AgentError::NotFound {
                agent_id: agent_id.to_owned(),
            })
    }

    /// Agents matching `filter`, ordered by `agentId`, one page, with the total.
    pub async fn list(
        &self,
        filter: &AgentFilter,
        page: PageRequest,
    ) -> Result<AgentPage, AgentError> {
        Ok(self.store.list(filter, page).await?)
    }

    /// At most `limit` agents after `after` in `agentId` order, without a total:
    /// for reading every agent page by page (an export) in bounded memory.
    pub async fn list_after(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AgentRecord>, AgentError> {
        Ok(self.store.list_after(after, limit).await?)
    }

    /// Merge `patch` (a JSON object of top-level profile fields; `null` removes an
    /// optional field) into the agent, re-validate the whole result, bump `updatedAt`
    /// and `revision`.
    ///
    /// With `if_revision` this is a compare-and-swap: if the stored revision differs,
    /// nothing changes and [`AgentError::Conflict`] is returned, so two editors cannot
    /// silently overwrite each other. Without it, a concurrent change is not lost
    /// either: the patch is re-applied on top of the newer revision.
    pub async fn update(
        &self,
        agent_id: &str,
        patch: &Value,
        if_revision: Option<u64>,
    ) -> Result<AgentRecord, AgentError> {
        let patch = check_patch(agent_id, patch)?;
        for attempt in 0..UPDATE_ATTEMPTS {
            let current = self.get(agent_id).await?;
            if let Some(expected) = if_revision
                && current.revision != expected
            {
                return Err(AgentError::Conflict {
                    agent_id: agent_id.to_owned(),
                    expected,
                    actual: current.revision,
                });
            }
            let profile = apply_patch(&current.profile, patch)?;
            let record = AgentRecord {
                profile,
                created_at: current.created_at.clone(),
                updated_at: now_rfc3339(),
                revision: current.revision + 1,
            };
            match self.store.update(&record, current.revision).await {
                Ok(()) => return Ok(record),
                Err(StoreError::RevisionMismatch { .. }) if if_revision.is_none() => {
                    backoff(attempt).await
                }
                Err(other) => return Err(other.into()),
            }
        }
        let actual = self.get(agent_id).await?.revision;
        Err(AgentError::Conflict {
            agent_id: agent_id.to_owned(),
            expected: actual.saturating_sub(1),
            actual,
        })
    }

    /// Recommend agents for a task (see [`crate::recommend`] for the scoring): the
    /// store's term index pre-selects at most [`recommend::CANDIDATE_LIMIT`]
    /// candidates, reading at most [`recommend::CANDIDATE_BUDGET`] postings per task
    /// term ([`AgentStore::candidates`]), and the scorer judges those only. Bounded
    /// work at any registry size; exact whenever no task term is shared by more than
    /// the budget's agents and the limit holds every agent that can score (see
    /// INV-AGT-REC-002), approximate beyond. [`Self::recommend_exhaustive`] scores
    /// every agent.
    pub async fn recommend(
        &self,
        request: &RecommendRequest,
    ) -> Result<Recommendation, AgentError> {
        request.validate().map_err(AgentError::InvalidRequest)?;
        let query = CandidateQuery {
            terms: recommend::terms::query_terms(&request.task),
            team: request.team.clone(),
            required_capabilities: request.required_capabilities.clone(),
            exclude_agents: request.exclude_agents.clone(),
            budget: recommend::CANDIDATE_BUDGET,
            limit: recommend::CANDIDATE_LIMIT,
            min_weight: recommend::MIN_SCORE,
        };
        let mut agents = if query.terms.is_empty() {
            Vec::new()
        } else {
            self.store.candidates(&query).await?
        };
        // The fallback is judged by `rank` like any agent (enabled, team, exclusions),
        // so it must be among the agents even when it shares no term with the task.
        if !agents
            .iter()
            .any(|a| a.profile.agent_id == recommend::FALLBACK_AGENT)
            && let Some(fallback) = self.store.get(recommend::FALLBACK_AGENT).await?
        {
            agents.push(fallback);
        }
        Ok(recommend::rank(request, &agents))
    }

    /// Recommend by scoring every enabled agent (of the team): linear in the
    /// registry's size, kept to compare [`Self::recommend`]'s candidates against.
    /// Read page by page ([`Self::each_page`]) into a [`recommend::Ranking`], so
    /// memory stays at one page at any registry size.
    pub async fn recommend_exhaustive(
        &self,
        request: &RecommendRequest,
    ) -> Result<Recommendation, AgentError> {
        request.validate().map_err(AgentError::InvalidRequest)?;
        let mut ranking = recommend::Ranking::new(request);
        self.each_page(|page| ranking.add(page)).await?;
        Ok(ranking.finish())
    }

    /// Every capability with its agents, and each agent's capabilities and category.
    /// Read page by page ([`Self::each_page`]), each page folded into the index and
    /// dropped, so memory follows the index, not the decoded profiles.
    pub async fn capabilities(
        &self,
        category: Option<&str>,
        include_disabled: bool,
    ) -> Result<CapabilityIndex, AgentError> {
        let mut builder = capabilities::IndexBuilder::new(category, include_disabled);
        self.each_page(|page| {
            for record in page {
                builder.add(record);
            }
        })
        .await?;
        Ok(builder.finish())
    }

    /// Hands every agent to `visit`, in keyset pages of [`SCAN_PAGE`] in `agentId`
    /// order, one page held at a time. Pages are separate reads: an agent written
    /// meanwhile may or may not be seen, but none is seen twice.
    async fn each_page(&self, mut visit: impl FnMut(&[AgentRecord])) -> Result<(), AgentError> {
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list_after(after.as_deref(), SCAN_PAGE).await?;
            visit(&page);
            match page.last() {
                Some(last) if page.len() as u64 == SCAN_PAGE => {
                    after = Some(last.profile.agent_id.clone());
                }
                _ => return Ok(()),
            }
        }
    }

    /// Seed the built-in agents unless this store already has the current set (one
    /// read when it has). Returns the ids inserted now. Safe to call from many
    /// processes at once: the store decides per id.
    pub async fn seed_defaults(&self) -> Result<Vec<String>, AgentError> {
        if self.store.is_marked(defaults::SEED_MARKER).await? {
            return Ok(Vec::new());
        }
        let now = now_rfc3339();
        let records: Vec<AgentRecord> = defaults::default_profiles()
            .into_iter()
            .map(|profile| AgentRecord {
                profile,
                created_at: now.clone(),
                updated_at: now.clone(),
                revision: 1,
            })
            .collect();
        let inserted = self.store.seed(&records).await?;
        self.store.mark_once(defaults::SEED_MARKER).await?;
        Ok(inserted)
    }

    /// Remove the agent; `false` when there was none (not an error).
    pub async fn remove(&self, agent_id: &str) -> Result<bool, AgentError> {
        Ok(self.store.remove(agent_id).await?)
    }
}

/// The patch as an object, with the immutable and registry-owned fields checked.
fn check_patch<'p>(agent_id: &str, patch: &'p Value) -> Result<&'p Map<String, Value>, AgentError> {
    let root = JsonPath::root();
    let Value::Object(fields) = patch else {
        return Err(ValidationErrors::single(
            &root,
            rule::TYPE,
            "an update patch must be a JSON object of profile fields",
        )
        .into());
    };
    let mut issues = Vec::new();
    if let Some(id) = fields.get("agentId")
        && id.as_str() != Some(agent_id)
    {
        issues.push(ValidationErrors::single(
            &root.key("agentId"),
            rule::CROSS_FIELD,
            "agentId is immutable and cannot be changed by an update",
        ));
    }
    for field in REGISTRY_FIELDS {
        if fields.contains_key(field) {
            issues.push(ValidationErrors::single(
                &root.key(field),
                rule::UNKNOWN_FIELD,
                format!("`{field}` is set by the registry and cannot be updated"),
            ));
        }
    }
    if issues.is_empty() {
        Ok(fields)
    } else {
        Err(ValidationErrors {
            issues: issues.into_iter().flat_map(|e| e.issues).collect(),
        }
        .into())
    }
}

/// Merge top-level patch fields into the profile's JSON and validate the result as a
/// whole (a patch can break a cross-field rule only visible in the merged profile).
fn apply_patch(
    profile: &AgentProfile,
    patch: &Map<String, Value>,
) -> Result<AgentProfile, AgentError> {
    let mut merged = match profile.to_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (key, value) in patch {
        if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    Ok(AgentProfile::from_json(&Value::Object(merged))?.into_inner())
}
