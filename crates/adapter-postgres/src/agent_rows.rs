//! Mapping between [`AgentRecord`] and the `agents` table (plus its tag and
//! capability key tables), and the SQL that writes them.
//!
//! The full profile is stored as JSON text, verbatim, and is what reads return; the
//! other columns are copies of a few fields, kept only so SQL can filter on them.

use std::collections::BTreeSet;

use ax_agent_domain::recommend::terms::index_terms;
use ax_agent_domain::store::StoreError;
use ax_contracts::agent::{AgentProfile, AgentRecord};
use tokio_postgres::Row;

use crate::error::{OutOfRange, decode_error};

/// The columns every read selects, in the order [`record_from_row`] expects.
pub(crate) const SELECT_COLUMNS: &str =
    "a.agent_id, a.profile, a.created_at, a.updated_at, a.revision";

/// Registration: the agent row, its key rows and its postings in ONE statement, so it is atomic
/// without an explicit transaction and costs one round trip. Parameters: see
/// [`AgentRow::insert_params`]. Returns one row: how many agents it inserted.
///
/// INV-AGT-REG-001 / INV-AGT-DB-001: there is deliberately no existence check: the
/// `UNIQUE` constraint on `agent_id` decides atomically, across every connection,
/// process and machine; its violation (SQLSTATE 23505 on `agents`) is the one and
/// only way "already exists" is detected. A concurrent registration of the same id
/// waits on the index entry of the first and fails once the first commits.
pub(crate) const INSERT_SQL: &str = "WITH a AS (\
     INSERT INTO agents (agent_id, profile, team, enabled, created_at, updated_at, revision) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING agent_id), \
     t AS (INSERT INTO agent_tags (tag, agent_id, team, enabled) \
     SELECT e, a.agent_id, $3, $4 FROM a, unnest($8::bytea[]) AS e), \
     c AS (INSERT INTO agent_capabilities (capability, agent_id, team, enabled) \
     SELECT e, a.agent_id, $3, $4 FROM a, unnest($9::bytea[]) AS e), \
     w AS (INSERT INTO agent_terms (term, weight, agent_id, team) \
     SELECT p.term, p.weight, a.agent_id, $3 FROM a, unnest($10::text[], $11::float8[]) AS p(term, weight)) \
     SELECT COUNT(*) FROM a";

/// As [`INSERT_SQL`], but an id already taken inserts nothing (the count is 0)
/// instead of failing: inside a transaction a failed statement would abort the
/// whole transaction. Still no pre-check — the unique index decides, and waits for
/// a concurrent uncommitted registration of the same id.
pub(crate) const INSERT_IF_FREE_SQL: &str = "WITH a AS (\
     INSERT INTO agents (agent_id, profile, team, enabled, created_at, updated_at, revision) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id), \
     t AS (INSERT INTO agent_tags (tag, agent_id, team, enabled) \
     SELECT e, a.agent_id, $3, $4 FROM a, unnest($8::bytea[]) AS e), \
     c AS (INSERT INTO agent_capabilities (capability, agent_id, team, enabled) \
     SELECT e, a.agent_id, $3, $4 FROM a, unnest($9::bytea[]) AS e), \
     w AS (INSERT INTO agent_terms (term, weight, agent_id, team) \
     SELECT p.term, p.weight, a.agent_id, $3 FROM a, unnest($10::text[], $11::float8[]) AS p(term, weight)) \
     SELECT COUNT(*) FROM a";

/// Seeding one default: record the id in `seeded_defaults` (only the first time
/// ever) and, only then, insert the agent if the id is free — one statement.
/// Parameters as [`INSERT_SQL`]. Returns how many agents it inserted.
pub(crate) const SEED_SQL: &str = "WITH s AS (\
     INSERT INTO seeded_defaults (agent_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING agent_id), \
     a AS (INSERT INTO agents (agent_id, profile, team, enabled, created_at, updated_at, revision) \
     SELECT $1, $2, $3, $4, $5, $6, $7 FROM s ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id), \
     t AS (INSERT INTO agent_tags (tag, agent_id, team, enabled) \
     SELECT e, a.agent_id, $3, $4 FROM a, unnest($8::bytea[]) AS e), \
     c AS (INSERT INTO agent_capabilities (capability, agent_id, team, enabled) \
     SELECT e, a.agent_id, $3, $4 FROM a, unnest($9::bytea[]) AS e), \
     w AS (INSERT INTO agent_terms (term, weight, agent_id, team) \
     SELECT p.term, p.weight, a.agent_id, $3 FROM a, unnest($10::text[], $11::float8[]) AS p(term, weight)) \
     SELECT COUNT(*) FROM a";

/// Compare-and-swap: overwrite the agent row only at the expected revision.
/// Parameters: [`AgentRow::row_params`] then the expected revision (`$8`). Locks the
/// row; a concurrent writer of the same agent waits, then re-checks the revision
/// against the row as the first writer left it, so one of two updates from the
/// same revision loses.
pub(crate) const UPDATE_CAS_SQL: &str = "UPDATE agents SET profile = $2, team = $3, \
     enabled = $4, created_at = $5, updated_at = $6, revision = $7 \
     WHERE agent_id = $1 AND revision = $8";

/// Import's replace: keeps the stored `createdAt`, continues the stored revision.
/// Parameters: `$1` id, `$2` profile, `$3` team, `$4` enabled, `$5` updatedAt.
pub(crate) const REPLACE_SQL: &str = "UPDATE agents SET profile = $2, team = $3, \
     enabled = $4, updated_at = $5, revision = revision + 1 WHERE agent_id = $1";

/// Brings an agent's key rows in line with its new profile: deletes the keys it no
/// longer has, inserts or refreshes (team, enabled) the ones it has. Runs after the
/// agent row was updated, in the same transaction: the update holds the row lock,
/// so no other writer touches this agent's keys meanwhile, and this statement's
/// snapshot (taken after the lock was granted) sees the keys as the previous writer
/// left them. The postings (`agent_terms`) are brought in line the same way: the
/// ones not among the new `(term, weight)` pairs are deleted, the others inserted
/// or given the new team. (A delete and an insert of the same key in one statement
/// would both see the old row and collide, hence "the ones not among".)
/// Parameters: `$1` id, `$2` team, `$3` enabled, `$4` tags, `$5` capabilities,
/// `$6` terms, `$7` their weights.
pub(crate) const SYNC_KEYS_SQL: &str = "WITH dt AS (\
     DELETE FROM agent_tags WHERE agent_id = $1 AND tag <> ALL($4::bytea[])), \
     it AS (INSERT INTO agent_tags (tag, agent_id, team, enabled) \
     SELECT e, $1, $2, $3 FROM unnest($4::bytea[]) AS e \
     ON CONFLICT (tag, agent_id) DO UPDATE SET team = EXCLUDED.team, enabled = EXCLUDED.enabled), \
     dc AS (DELETE FROM agent_capabilities WHERE agent_id = $1 AND capability <> ALL($5::bytea[])), \
     ic AS (INSERT INTO agent_capabilities (capability, agent_id, team, enabled) \
     SELECT e, $1, $2, $3 FROM unnest($5::bytea[]) AS e \
     ON CONFLICT (capability, agent_id) DO UPDATE SET team = EXCLUDED.team, enabled = EXCLUDED.enabled), \
     dw AS (DELETE FROM agent_terms WHERE agent_id = $1 AND (term, weight) NOT IN \
     (SELECT * FROM unnest($6::text[], $7::float8[]))), \
     iw AS (INSERT INTO agent_terms (term, weight, agent_id, team) \
     SELECT p.term, p.weight, $1, $2 FROM unnest($6::text[], $7::float8[]) AS p(term, weight) \
     ON CONFLICT (term, weight, agent_id) DO UPDATE SET team = EXCLUDED.team) \
     SELECT 1";

/// A record flattened into column values, computed before any connection is taken.
#[derive(Debug, Clone)]
pub(crate) struct AgentRow {
    pub(crate) agent_id: String,
    profile_json: String,
    team: Option<Vec<u8>>,
    enabled: bool,
    /// Distinct tags (a profile listing one twice has one key row).
    tags: Vec<Vec<u8>>,
    /// Distinct capabilities.
    capabilities: Vec<Vec<u8>>,
    /// The agent's postings' terms (none when disabled), and their weights.
    terms: Vec<String>,
    weights: Vec<f64>,
    created_at: String,
    updated_at: String,
    revision: i64,
}

/// A parameter list.
pub(crate) type Params<'a> = Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)>;

impl AgentRow {
    /// Flattens `record`; fails only when it cannot be serialised or its revision
    /// does not fit PostgreSQL's `BIGINT`.
    pub(crate) fn from_record(record: &AgentRecord) -> Result<Self, StoreError> {
        let profile = &record.profile;
        let agent_id = profile.agent_id.clone();
        let keys = |list: Vec<&str>| -> Vec<Vec<u8>> {
            list.into_iter()
                .map(|s| s.as_bytes().to_vec())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let revision = i64::try_from(record.revision).map_err(|_| {
            decode_error(
                format!("agent \"{agent_id}\": storing the revision"),
                OutOfRange {
                    what: "revision",
                    value: record.revision.to_string(),
                },
            )
        })?;
        let profile_json = serde_json::to_string(profile)
            .map_err(|e| decode_error(format!("agent \"{agent_id}\": encoding the profile"), e))?;
        let (terms, weights) = if profile.enabled {
            index_terms(profile).into_iter().unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Self {
            terms,
            weights,
            profile_json,
            team: profile.team.as_ref().map(|t| t.as_bytes().to_vec()),
            enabled: profile.enabled,
            tags: keys(profile.tags()),
            capabilities: keys(profile.capabilities()),
            created_at: record.created_at.clone(),
            updated_at: record.updated_at.clone(),
            revision,
            agent_id,
        })
    }

    /// `$1`..`$7`: id, profile, team, enabled, createdAt, updatedAt, revision.
    pub(crate) fn row_params(&self) -> Params<'_> {
        vec![
            &self.agent_id,
            &self.profile_json,
            &self.team,
            &self.enabled,
            &self.created_at,
            &self.updated_at,
            &self.revision,
        ]
    }

    /// [`Self::row_params`], then `$8` tags, `$9` capabilities, `$10` terms and
    /// `$11` their weights.
    pub(crate) fn insert_params(&self) -> Params<'_> {
        let mut params = self.row_params();
        params.push(&self.tags);
        params.push(&self.capabilities);
        params.push(&self.terms);
        params.push(&self.weights);
        params
    }

    /// The parameters of [`REPLACE_SQL`].
    pub(crate) fn replace_params(&self) -> Params<'_> {
        vec![
            &self.agent_id,
            &self.profile_json,
            &self.team,
            &self.enabled,
            &self.updated_at,
        ]
    }

    /// The parameters of [`SYNC_KEYS_SQL`].
    pub(crate) fn sync_params(&self) -> Params<'_> {
        vec![
            &self.agent_id,
            &self.team,
            &self.enabled,
            &self.tags,
            &self.capabilities,
            &self.terms,
            &self.weights,
        ]
    }
}

/// Why a stored row could not be turned back into a record.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RowError {
    /// The driver could not hand out a column.
    #[error("reading a column")]
    Column(#[from] tokio_postgres::Error),
    /// The stored profile JSON does not parse as a profile.
    #[error("decoding the stored profile")]
    Profile(#[from] serde_json::Error),
    /// The revision column holds a negative number.
    #[error(transparent)]
    Revision(#[from] OutOfRange),
}

/// Reads one row selected with [`SELECT_COLUMNS`] starting at column `first`.
pub(crate) fn record_from_row(row: &Row, first: usize) -> Result<AgentRecord, RowError> {
    let profile: String = row.try_get(first + 1)?;
    let profile = serde_json::from_str::<AgentProfile>(&profile)?;
    let revision: i64 = row.try_get(first + 4)?;
    let revision = u64::try_from(revision).map_err(|_| OutOfRange {
        what: "revision",
        value: revision.to_string(),
    })?;
    Ok(AgentRecord {
        profile,
        created_at: row.try_get(first + 2)?,
        updated_at: row.try_get(first + 3)?,
        revision,
    })
}
