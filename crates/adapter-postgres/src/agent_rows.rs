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

/// Import: many agents in ONE statement, each inserted unless its id is taken
/// (as [`INSERT_IF_FREE_SQL`], row by row in the given order), with the key rows
/// and postings of exactly the agents inserted. Returns one row per agent inserted:
/// its id. Parameters: see [`ColumnBatch::params`]; the ids must be distinct (the
/// caller keeps a batch's later duplicates back: they are conflicts of the first).
///
/// Why one statement for many agents: per statement the server plans nothing (it
/// is prepared) but still opens four tables and their eleven indexes, takes their
/// locks and builds an executor; for one agent that fixed cost was about 40 % of
/// the server's time in an import (measured with pgbench: 750–900 µs of server CPU
/// per agent one by one, 450–530 µs twenty at a time).
pub(crate) const INSERT_MANY_IF_FREE_SQL: &str = "WITH i AS (SELECT * FROM unnest(\
     $1::text[], $2::text[], $3::bytea[], $4::bool[], $5::text[], $6::text[], $7::int8[]) \
     WITH ORDINALITY AS i (agent_id, profile, team, enabled, created_at, updated_at, revision, n)), \
     a AS (INSERT INTO agents (agent_id, profile, team, enabled, created_at, updated_at, revision) \
     SELECT agent_id, profile, team, enabled, created_at, updated_at, revision FROM i ORDER BY n \
     ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id, team, enabled), \
     t AS (INSERT INTO agent_tags (tag, agent_id, team, enabled) \
     SELECT k.e, a.agent_id, a.team, a.enabled FROM a \
     JOIN unnest($8::text[], $9::bytea[]) AS k (agent_id, e) ON k.agent_id = a.agent_id), \
     c AS (INSERT INTO agent_capabilities (capability, agent_id, team, enabled) \
     SELECT k.e, a.agent_id, a.team, a.enabled FROM a \
     JOIN unnest($10::text[], $11::bytea[]) AS k (agent_id, e) ON k.agent_id = a.agent_id), \
     w AS (INSERT INTO agent_terms (term, weight, agent_id, team) \
     SELECT p.term, p.weight, a.agent_id, a.team FROM a \
     JOIN unnest($12::text[], $13::text[], $14::float8[]) AS p (agent_id, term, weight) \
     ON p.agent_id = a.agent_id) \
     SELECT agent_id FROM a";

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

/// Several [`AgentRow`]s as the column arrays of [`INSERT_MANY_IF_FREE_SQL`],
/// borrowed from the rows. Key rows and postings are flattened, each beside the id
/// of the agent it belongs to.
#[derive(Debug, Default)]
pub(crate) struct ColumnBatch<'r> {
    ids: Vec<&'r str>,
    profiles: Vec<&'r str>,
    teams: Vec<Option<&'r [u8]>>,
    enabled: Vec<bool>,
    created_at: Vec<&'r str>,
    updated_at: Vec<&'r str>,
    revisions: Vec<i64>,
    tag_owners: Vec<&'r str>,
    tags: Vec<&'r [u8]>,
    capability_owners: Vec<&'r str>,
    capabilities: Vec<&'r [u8]>,
    term_owners: Vec<&'r str>,
    terms: Vec<&'r str>,
    weights: Vec<f64>,
}

impl<'r> FromIterator<&'r AgentRow> for ColumnBatch<'r> {
    fn from_iter<I: IntoIterator<Item = &'r AgentRow>>(rows: I) -> Self {
        let mut batch = Self::default();
        for row in rows {
            batch.push(row);
        }
        batch
    }
}

impl<'r> ColumnBatch<'r> {
    /// Appends `row`.
    fn push(&mut self, row: &'r AgentRow) {
        let id = row.agent_id.as_str();
        self.ids.push(id);
        self.profiles.push(&row.profile_json);
        self.teams.push(row.team.as_deref());
        self.enabled.push(row.enabled);
        self.created_at.push(&row.created_at);
        self.updated_at.push(&row.updated_at);
        self.revisions.push(row.revision);
        for (owners, keys, row_keys) in [
            (&mut self.tag_owners, &mut self.tags, &row.tags),
            (
                &mut self.capability_owners,
                &mut self.capabilities,
                &row.capabilities,
            ),
        ] {
            owners.extend(std::iter::repeat_n(id, row_keys.len()));
            keys.extend(row_keys.iter().map(Vec::as_slice));
        }
        self.term_owners
            .extend(std::iter::repeat_n(id, row.terms.len()));
        self.terms.extend(row.terms.iter().map(String::as_str));
        self.weights.extend_from_slice(&row.weights);
    }

    /// `$1`..`$14` of [`INSERT_MANY_IF_FREE_SQL`].
    pub(crate) fn params(&self) -> Params<'_> {
        vec![
            &self.ids,
            &self.profiles,
            &self.teams,
            &self.enabled,
            &self.created_at,
            &self.updated_at,
            &self.revisions,
            &self.tag_owners,
            &self.tags,
            &self.capability_owners,
            &self.capabilities,
            &self.term_owners,
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
