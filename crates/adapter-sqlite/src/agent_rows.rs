//! Mapping between [`AgentRecord`] and the `agents` table (plus its tag and
//! capability side tables).
//!
//! The full profile is stored as JSON, verbatim, and is what reads return; the other
//! columns are copies of a few fields, kept only so SQL can filter and order on them.
//! Rows written by schema version 1 have no profile JSON: they are read back from
//! their columns (see [`legacy_profile`]).

use ax_agent_domain::store::StoreError;
use ax_contracts::agent::{AgentProfile, AgentRecord};
use rusqlite::{Connection, Row, params};
use serde_json::{Map, Value};

use crate::element_bits::{self, Kind, KnownBits};
use crate::error::{OutOfRange, store_backend};
use crate::list_query::element_list;
use crate::many_rows::insert_rows;
use crate::term_index::{PostingBatch, delete_postings, insert_postings, postings_of};

/// The columns every read selects, in the order [`record_from_row`] expects.
pub(crate) const SELECT_COLUMNS: &str = "a.agent_id, a.profile, a.description, a.display_name, \
     a.system_prompt, a.team, a.enabled, a.tags, a.capabilities, a.created_at, a.updated_at, \
     a.revision";

/// A record flattened into column values, computed on the caller's thread before any
/// blocking work starts.
#[derive(Debug, Clone)]
pub(crate) struct AgentRow {
    pub(crate) agent_id: String,
    display_name: Option<String>,
    description: String,
    system_prompt: Option<String>,
    team: Option<String>,
    enabled: bool,
    tags: Vec<String>,
    capabilities: Vec<String>,
    tags_json: String,
    capabilities_json: String,
    /// The side rows' `tag_list` and `capability_list` (see `list_query`).
    tag_list: String,
    capability_list: String,
    profile_json: String,
    /// The agent's `agent_terms` postings (none when disabled).
    postings: Vec<(String, f64)>,
    pub(crate) created_at: String,
    updated_at: String,
    pub(crate) revision: i64,
}

impl AgentRow {
    /// Flattens `record`; fails only when it cannot be serialised or its revision
    /// does not fit SQLite's signed 64-bit integers.
    pub(crate) fn from_record(record: &AgentRecord) -> Result<Self, StoreError> {
        let profile = &record.profile;
        let agent_id = profile.agent_id.clone();
        let encode = |what: &str, result: serde_json::Result<String>| {
            result.map_err(|e| store_backend(format!("agent \"{agent_id}\": encoding {what}"), e))
        };
        let tags: Vec<String> = profile
            .tags()
            .into_iter()
            .map(ToString::to_string)
            .collect();
        let capabilities: Vec<String> = profile
            .capabilities()
            .into_iter()
            .map(ToString::to_string)
            .collect();
        let revision = i64::try_from(record.revision).map_err(|_| {
            store_backend(
                format!("agent \"{agent_id}\": storing the revision"),
                OutOfRange {
                    what: "revision",
                    value: record.revision.to_string(),
                },
            )
        })?;
        Ok(Self {
            profile_json: encode("the profile", serde_json::to_string(profile))?,
            tags_json: encode("tags", serde_json::to_string(&tags))?,
            capabilities_json: encode("capabilities", serde_json::to_string(&capabilities))?,
            tag_list: element_list(&tags),
            capability_list: element_list(&capabilities),
            postings: postings_of(profile),
            display_name: profile.display_name.clone(),
            description: profile.description.clone(),
            system_prompt: profile.system_prompt.clone(),
            team: profile.team.clone(),
            enabled: profile.enabled,
            tags,
            capabilities,
            created_at: record.created_at.clone(),
            updated_at: record.updated_at.clone(),
            revision,
            agent_id,
        })
    }

    /// Inserts the row, its side-table entries and its postings; returns its rowid. A taken
    /// `agent_id` surfaces as SQLite's `UNIQUE` error for the caller to map.
    pub(crate) fn insert(&self, tx: &Connection) -> rusqlite::Result<i64> {
        let rowid = self.insert_without_postings(tx)?;
        insert_postings(tx, rowid, self.team.as_deref(), &self.postings)?;
        Ok(rowid)
    }

    /// [`Self::insert`] of the row at `index` of an import batch, with its side rows
    /// and postings held in `pending` (for its flush to write in key order) instead of
    /// written now; the postings are moved out of the row.
    pub(crate) fn insert_deferred(
        &mut self,
        tx: &Connection,
        index: usize,
        pending: &mut PendingWrites,
    ) -> rusqlite::Result<i64> {
        let rowid = self.insert_agent_row(tx)?;
        let (tag_mask, capability_mask) = self.masks(tx, &mut pending.known_bits)?;
        pending.side.push((index, rowid, tag_mask, capability_mask));
        pending
            .postings
            .add(rowid, self.team.clone(), std::mem::take(&mut self.postings));
        Ok(rowid)
    }

    fn insert_without_postings(&self, tx: &Connection) -> rusqlite::Result<i64> {
        let rowid = self.insert_agent_row(tx)?;
        self.insert_side_entries(tx, rowid)?;
        Ok(rowid)
    }

    /// Inserts the `agents` row alone; returns its rowid.
    fn insert_agent_row(&self, tx: &Connection) -> rusqlite::Result<i64> {
        tx.prepare_cached(
            "INSERT INTO agents (agent_id, display_name, description, system_prompt, \
             capabilities, tags, team, enabled, created_at, updated_at, profile, revision, is_enabled) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?8)",
        )?
        .execute(params![
            self.agent_id,
            self.display_name,
            self.description,
            self.system_prompt,
            self.capabilities_json,
            self.tags_json,
            self.team,
            self.enabled,
            self.created_at,
            self.updated_at,
            self.profile_json,
            self.revision,
        ])?;
        Ok(tx.last_insert_rowid())
    }

    /// Overwrites the row `rowid` (the same agent id) and replaces its side entries
    /// and postings.
    pub(crate) fn overwrite(&self, tx: &Connection, rowid: i64) -> rusqlite::Result<()> {
        // The old entries are found from the old row, so before it is rewritten.
        delete_side_entries(tx, &self.agent_id)?;
        delete_postings(tx, rowid)?;
        tx.prepare_cached(
            "UPDATE agents SET display_name = ?2, description = ?3, system_prompt = ?4, \
             capabilities = ?5, tags = ?6, team = ?7, enabled = ?8, created_at = ?9, \
             updated_at = ?10, profile = ?11, revision = ?12, is_enabled = ?8 WHERE id = ?1",
        )?
        .execute(params![
            rowid,
            self.display_name,
            self.description,
            self.system_prompt,
            self.capabilities_json,
            self.tags_json,
            self.team,
            self.enabled,
            self.created_at,
            self.updated_at,
            self.profile_json,
            self.revision,
        ])?;
        self.insert_side_entries(tx, rowid)?;
        insert_postings(tx, rowid, self.team.as_deref(), &self.postings)
    }

    /// The side-table entries of the row `rowid` (see [`write_side_rows`]).
    fn insert_side_entries(&self, tx: &Connection, rowid: i64) -> rusqlite::Result<()> {
        let (tag_mask, capability_mask) = self.masks(tx, &mut KnownBits::default())?;
        write_side_rows(tx, &[(self, rowid, tag_mask, capability_mask)])
    }

    /// The row's `tag_mask` and `capability_mask`, giving its new elements their bits
    /// (INV-AGT-DB-003: before any side row holds them). The capability mask is only
    /// stored on `agent_tags` rows, so an agent without tags needs none.
    fn masks(&self, tx: &Connection, known: &mut KnownBits) -> rusqlite::Result<(i64, i64)> {
        let tag_mask = element_bits::mask(tx, Kind::Tag, &self.tags, known)?;
        let capability_mask = if self.tags.is_empty() {
            0
        } else {
            element_bits::mask(tx, Kind::Capability, &self.capabilities, known)?
        };
        Ok((tag_mask, capability_mask))
    }
}

/// An inserted agent row whose side rows are to be written: the row, its rowid, its
/// tag mask and its capability mask.
type SideSource<'a> = (&'a AgentRow, i64, i64, i64);

/// Writes one side-table row per distinct tag and capability of each source (`OR
/// IGNORE` folds a profile that lists an element twice), repeating the team and
/// enabled flag the filters read from them, and the agent's element lists and masks.
/// Each table's rows are written in its key order, `(element, agent_id)`, so rows of
/// one element follow each other into the same leaf (see `PendingWrites`).
fn write_side_rows(tx: &Connection, sources: &[SideSource<'_>]) -> rusqlite::Result<()> {
    let by_element = |list: fn(&AgentRow) -> &[String]| {
        let mut rows: Vec<(SideSource<'_>, &str)> = sources
            .iter()
            .flat_map(|source| list(source.0).iter().map(|e| (*source, e.as_str())))
            .collect();
        rows.sort_unstable_by(|(a, x), (b, y)| {
            x.cmp(y).then_with(|| a.0.agent_id.cmp(&b.0.agent_id))
        });
        rows
    };
    insert_rows(
        tx,
        "INSERT OR IGNORE INTO agent_tags (tag, agent_id, agent_rowid, team, enabled, \
         tag_list, capability_list, tag_mask, capability_mask) VALUES ",
        9,
        &by_element(|row| &row.tags),
        |stmt, first, &((row, rowid, tag_mask, capability_mask), tag)| {
            stmt.raw_bind_parameter(first, tag)?;
            stmt.raw_bind_parameter(first + 1, &row.agent_id)?;
            stmt.raw_bind_parameter(first + 2, rowid)?;
            stmt.raw_bind_parameter(first + 3, &row.team)?;
            stmt.raw_bind_parameter(first + 4, row.enabled)?;
            stmt.raw_bind_parameter(first + 5, &row.tag_list)?;
            stmt.raw_bind_parameter(first + 6, &row.capability_list)?;
            stmt.raw_bind_parameter(first + 7, tag_mask)?;
            stmt.raw_bind_parameter(first + 8, capability_mask)
        },
    )?;
    insert_rows(
        tx,
        "INSERT OR IGNORE INTO agent_capabilities (capability, agent_id, agent_rowid, team, \
         enabled, tag_list, tag_mask) VALUES ",
        7,
        &by_element(|row| &row.capabilities),
        |stmt, first, &((row, rowid, tag_mask, _), capability)| {
            stmt.raw_bind_parameter(first, capability)?;
            stmt.raw_bind_parameter(first + 1, &row.agent_id)?;
            stmt.raw_bind_parameter(first + 2, rowid)?;
            stmt.raw_bind_parameter(first + 3, &row.team)?;
            stmt.raw_bind_parameter(first + 4, row.enabled)?;
            stmt.raw_bind_parameter(first + 5, &row.tag_list)?;
            stmt.raw_bind_parameter(first + 6, tag_mask)
        },
    )
}

/// The side rows and postings of the rows an import batch inserted, held back and
/// written together by [`PendingWrites::flush`], each table's in its key order,
/// inside the same transaction as the rows.
///
/// Why: written agent by agent, each of an agent's ~30 side rows and postings goes to
/// a different leaf of its table, one statement each. Held for a batch and sorted,
/// the rows of one element or term follow each other into the same leaf, and go
/// [`crate::many_rows::ROWS_PER_STATEMENT`] to a statement. The rows written are the
/// same, so the side tables and the term index stay exact (INV-AGT-DB-002,
/// INV-AGT-DB-003, INV-AGT-REC-002); only the order of the inserts changes.
#[derive(Debug, Default)]
pub(crate) struct PendingWrites {
    /// `(index of the row in the batch, rowid, tag mask, capability mask)`.
    side: Vec<(usize, i64, i64, i64)>,
    postings: PostingBatch,
    /// The element bits this batch has looked up (its rows' masks are made from them).
    known_bits: KnownBits,
}

impl PendingWrites {
    /// Writes everything held for the rows of `rows` (the batch the indexes refer to)
    /// and forgets it. Must run before anything reads or deletes side rows or postings
    /// of the rows held (an overwrite, the end of the batch), in the same transaction.
    pub(crate) fn flush(&mut self, tx: &Connection, rows: &[AgentRow]) -> rusqlite::Result<()> {
        let sources: Vec<SideSource<'_>> = self
            .side
            .iter()
            .map(|&(index, rowid, tag_mask, capability_mask)| {
                (&rows[index], rowid, tag_mask, capability_mask)
            })
            .collect();
        write_side_rows(tx, &sources)?;
        self.side.clear();
        self.postings.flush(tx)
    }
}

/// Why a stored row could not be turned back into a record.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RowError {
    /// SQLite could not hand out a column.
    #[error("reading a column")]
    Column(#[from] rusqlite::Error),
    /// The stored profile JSON does not parse as a profile.
    #[error("decoding the stored profile")]
    Profile(#[from] serde_json::Error),
    /// The revision column holds a negative number.
    #[error(transparent)]
    Revision(#[from] OutOfRange),
}

/// Reads one row selected with [`SELECT_COLUMNS`].
pub(crate) fn record_from_row(row: &Row<'_>) -> Result<AgentRecord, RowError> {
    let profile_json: Option<String> = row.get(1)?;
    let profile = match profile_json {
        Some(json) => serde_json::from_str::<AgentProfile>(&json)?,
        None => legacy_profile(row)?,
    };
    let created_at: Option<String> = row.get(9)?;
    let updated_at: Option<String> = row.get(10)?;
    let revision: i64 = row.get(11)?;
    let revision = u64::try_from(revision).map_err(|_| OutOfRange {
        what: "revision",
        value: revision.to_string(),
    })?;
    Ok(AgentRecord {
        profile,
        created_at: rfc3339(created_at),
        updated_at: rfc3339(updated_at),
        revision,
    })
}

/// Rebuilds the profile of a row written with schema version 1 (no profile JSON)
/// from its columns. `tags` and `capabilities` are read as JSON arrays of strings;
/// any other text in them is not interpreted (it stays in the column untouched).
fn legacy_profile(row: &Row<'_>) -> Result<AgentProfile, RowError> {
    let mut doc = Map::new();
    doc.insert("agentId".into(), Value::String(row.get(0)?));
    doc.insert("description".into(), Value::String(row.get(2)?));
    for (index, key) in [(3, "displayName"), (4, "systemPrompt"), (5, "team")] {
        if let Some(text) = row.get::<_, Option<String>>(index)? {
            doc.insert(key.into(), Value::String(text));
        }
    }
    let enabled: Option<i64> = row.get(6)?;
    doc.insert(
        "enabled".into(),
        Value::Bool(enabled.is_none_or(|flag| flag != 0)),
    );
    for (index, key) in [(7, "tags"), (8, "capabilities")] {
        let text: Option<String> = row.get(index)?;
        let list = text.and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok());
        if let Some(list) = list.filter(|l| !l.is_empty()) {
            doc.insert(key.into(), Value::from(list));
        }
    }
    Ok(serde_json::from_value(Value::Object(doc))?)
}

/// Timestamps as the records carry them. Rows written by this adapter hold RFC 3339
/// already; version-1 rows may hold SQLite's `CURRENT_TIMESTAMP` form
/// (`YYYY-MM-DD HH:MM:SS`, UTC), which is rewritten to `YYYY-MM-DDTHH:MM:SSZ`. A
/// missing value reads as the Unix epoch rather than failing the whole listing.
fn rfc3339(stored: Option<String>) -> String {
    match stored {
        None => "1970-01-01T00:00:00Z".to_owned(),
        Some(text) => {
            let bytes = text.as_bytes();
            let sqlite_form = bytes.len() == 19
                && bytes[10] == b' '
                && bytes[4] == b'-'
                && bytes[13] == b':'
                && bytes
                    .iter()
                    .enumerate()
                    .all(|(i, b)| matches!(i, 4 | 7 | 10 | 13 | 16) || b.is_ascii_digit());
            if sqlite_form {
                format!("{}T{}Z", &text[..10], &text[11..])
            } else {
                text
            }
        }
    }
}

/// Deletes the tag and capability entries of `agent_id`, by primary key: the
/// elements come from the JSON arrays in the agent row's own `tags` and
/// `capabilities` columns (what [`AgentRow::insert`] indexed; version-1 rows whose
/// columns are not JSON arrays have no entries). Runs before the row is rewritten or
/// removed, inside the same transaction.
pub(crate) fn delete_side_entries(tx: &Connection, agent_id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "DELETE FROM agent_tags WHERE agent_id = ?1 AND tag IN ( \
         SELECT j.value FROM agents AS a, json_each(CASE WHEN json_valid(a.tags) THEN \
         CASE WHEN json_type(a.tags) = 'array' THEN a.tags END END) AS j \
         WHERE a.agent_id = ?1)",
    )?
    .execute([agent_id])?;
    tx.prepare_cached(
        "DELETE FROM agent_capabilities WHERE agent_id = ?1 AND capability IN ( \
         SELECT j.value FROM agents AS a, json_each(CASE WHEN json_valid(a.capabilities) THEN \
         CASE WHEN json_type(a.capabilities) = 'array' THEN a.capabilities END END) AS j \
         WHERE a.agent_id = ?1)",
    )?
    .execute([agent_id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn sqlite_current_timestamp_becomes_rfc3339() {
        assert_eq!(
            rfc3339(Some("2025-03-04 05:06:07".into())),
            "2025-03-04T05:06:07Z"
        );
    }

    #[test]
    fn rfc3339_and_unknown_text_are_kept_verbatim() {
        for text in [
            "2026-01-01T00:00:00.000Z",
            "yesterday",
            "2025-03-04 05:06:0x",
            "",
        ] {
            assert_eq!(rfc3339(Some(text.into())), text);
        }
    }

    #[test]
    fn missing_timestamp_reads_as_epoch() {
        assert_eq!(rfc3339(None), "1970-01-01T00:00:00Z");
    }
}
