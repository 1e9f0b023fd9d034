//! The `agent_terms` table (schema version 5): the term index `recommend` reads its
//! candidates from. Its rows are derived from the agents by
//! [`ax_agent_domain::recommend::terms::index_terms`] and written in the same
//! transaction as the agent row (by [`crate::agent_rows::AgentRow`]'s writes and
//! [`delete_postings`]); [`ensure_built`] fills it for databases whose agents were
//! written before it existed, or by another version of the terms.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use ax_agent_domain::recommend::terms::{index_marker, index_terms};
use ax_agent_domain::store::{CandidateQuery, StoreError};
use ax_contracts::agent::{AgentProfile, AgentRecord};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::agent_rows::{SELECT_COLUMNS, record_from_row};
use crate::database::open_error;
use crate::error::store_backend;
use crate::many_rows::insert_rows;

/// The postings an agent has: its terms when enabled, none when disabled.
pub(crate) fn postings_of(profile: &AgentProfile) -> Vec<(String, f64)> {
    if profile.enabled {
        index_terms(profile)
    } else {
        Vec::new()
    }
}

/// Inserts postings, [`insert_rows`] to a statement; one posting by its key (a row
/// written again, e.g. over a posting left behind by a profile that no longer
/// decodes, see [`delete_postings`], is replaced).
const INSERT_POSTINGS_HEAD: &str =
    "INSERT OR REPLACE INTO agent_terms (term, weight, agent_rowid, team) VALUES ";

/// Inserts the postings of a [`PostingBatch`]: `OR IGNORE`, because its rows cannot
/// meet a stored posting (they belong to rows just inserted, under rowids never used
/// before, or are written into an emptied table by a rebuild), and because a
/// statement that cannot abort half-way needs no statement journal. `OR REPLACE`
/// can: a `NOT NULL` column without a default aborts under it. Journaling each page
/// a 64-row statement changed before it was spilled took 3 % of an import's writing
/// thread.
const INSERT_NEW_POSTINGS_HEAD: &str =
    "INSERT OR IGNORE INTO agent_terms (term, weight, agent_rowid, team) VALUES ";

/// Writes the postings of the agent row `rowid`.
pub(crate) fn insert_postings(
    tx: &Connection,
    rowid: i64,
    team: Option<&str>,
    postings: &[(String, f64)],
) -> rusqlite::Result<()> {
    insert_rows(
        tx,
        INSERT_POSTINGS_HEAD,
        4,
        postings,
        |stmt, first, (term, weight)| {
            stmt.raw_bind_parameter(first, term)?;
            stmt.raw_bind_parameter(first + 1, weight)?;
            stmt.raw_bind_parameter(first + 2, rowid)?;
            stmt.raw_bind_parameter(first + 3, team)
        },
    )
}

/// Postings of many agent rows, held back and written together in the table's key
/// order `(term, weight DESC, agent_rowid)` by [`PostingBatch::flush`], inside the
/// same transaction as the rows.
///
/// Why: an agent's ~25 postings land on ~25 different leaves of `agent_terms`, one
/// per `(term, weight)` group it joins, so written agent by agent every posting
/// descends the B-tree to a page the previous one did not touch. In key order a
/// batch's postings of one group follow each other into the same leaf, and the
/// leaves are visited once each, in order: an import writes several thousand
/// agents' postings at the cost of far fewer page visits (and, in a transaction
/// larger than the page cache, far fewer pages spilled to the WAL and read back).
/// The rows written are the same as [`insert_postings`] writes, so the index stays
/// exact (INV-AGT-REC-002); only the order of the inserts changes.
#[derive(Debug, Default)]
pub(crate) struct PostingBatch {
    agents: Vec<HeldPostings>,
}

/// `(agent rowid, team, postings)` of one agent row held by a [`PostingBatch`].
type HeldPostings = (i64, Option<String>, Vec<(String, f64)>);

impl PostingBatch {
    /// Holds `postings` of the row `rowid` (written with `team`) for the next flush.
    pub(crate) fn add(&mut self, rowid: i64, team: Option<String>, postings: Vec<(String, f64)>) {
        if !postings.is_empty() {
            self.agents.push((rowid, team, postings));
        }
    }

    /// Writes every posting held, in key order, and forgets them. Must run before
    /// anything reads or deletes postings of the rows held (an overwrite of one of
    /// them, the end of the writing), in the same transaction.
    pub(crate) fn flush(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        if self.agents.is_empty() {
            return Ok(());
        }
        let agents = &self.agents;
        let order = key_order(agents);
        let bind = |stmt: &mut rusqlite::Statement<'_>, first: usize, &(a, p): &(u32, u32)| {
            let (rowid, team, postings) = &agents[a as usize];
            let (term, weight) = &postings[p as usize];
            stmt.raw_bind_parameter(first, term)?;
            stmt.raw_bind_parameter(first + 1, weight)?;
            stmt.raw_bind_parameter(first + 2, rowid)?;
            stmt.raw_bind_parameter(first + 3, team)
        };
        insert_rows(tx, INSERT_NEW_POSTINGS_HEAD, 4, &order, bind)?;
        self.agents.clear();
        Ok(())
    }
}

/// `(agent, posting)` positions of every posting held, in the table's key order
/// `(term, weight DESC, agent_rowid)`.
///
/// Why integers: comparing the term texts themselves was nearly a tenth of an
/// import's writing thread (a batch of 1,000 agents holds some 25,000 postings over
/// a few thousand distinct terms). Each distinct term is given its rank in byte
/// order once, and the sort compares `(rank, weight, rowid)` as integers: the same
/// order.
fn key_order(agents: &[HeldPostings]) -> Vec<(u32, u32)> {
    // A batch holds a few thousand agents of a few dozen postings each.
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    let distinct: HashSet<&str> = agents
        .iter()
        .flat_map(|(_, _, postings)| postings.iter().map(|(term, _)| term.as_str()))
        .collect();
    let mut terms: Vec<&str> = distinct.into_iter().collect();
    terms.sort_unstable();
    let ranks: HashMap<&str, u32> = terms
        .into_iter()
        .enumerate()
        .map(|(rank, term)| (term, index(rank)))
        .collect();
    let mut keyed: Vec<(u32, u64, i64, u32, u32)> = Vec::new();
    for (a, (rowid, _, postings)) in agents.iter().enumerate() {
        keyed.extend(postings.iter().enumerate().map(|(p, (term, weight))| {
            let rank = ranks.get(term.as_str()).copied().unwrap_or(u32::MAX);
            (rank, descending(*weight), *rowid, index(a), index(p))
        }));
    }
    keyed.sort_unstable();
    keyed.into_iter().map(|(.., a, p)| (a, p)).collect()
}

/// A key that sorts weights in descending [`f64::total_cmp`] order as an integer.
fn descending(weight: f64) -> u64 {
    let bits = weight.to_bits();
    // `total_cmp`'s order as unsigned: negative numbers have every bit flipped,
    // positive ones only the sign bit; then reversed.
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    !ascending
}

/// Deletes the postings of the agent row `rowid` by their keys, recomputed from the
/// row's stored profile (the index was built from it by the same, pure function).
/// Runs before the row is rewritten or removed, inside the same transaction. A row
/// whose profile no longer decodes has its postings left behind: they only make it a
/// candidate that the scorer then judges on its real profile, and rowids are never
/// reused (`AUTOINCREMENT`).
pub(crate) fn delete_postings(tx: &Connection, rowid: i64) -> rusqlite::Result<()> {
    let stored = tx
        .prepare_cached(&format!(
            "SELECT {SELECT_COLUMNS} FROM agents AS a WHERE a.id = ?1"
        ))?
        .query_row([rowid], |row| Ok(record_from_row(row).ok()))
        .optional()?
        .flatten();
    let Some(record) = stored else {
        return Ok(());
    };
    let postings = postings_of(&record.profile);
    if postings.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "DELETE FROM agent_terms WHERE term = ?1 AND weight = ?2 AND agent_rowid = ?3",
    )?;
    for (term, weight) in &postings {
        stmt.execute(params![term, weight, rowid])?;
    }
    Ok(())
}

/// Candidates for `query` (see the port's `candidates`): per term at most `budget`
/// postings, heaviest first, summed per agent; the heaviest admitted agents are read
/// by rowid. One read transaction, so postings and rows come from one snapshot.
pub(crate) fn candidates(
    conn: &mut Connection,
    query: &CandidateQuery,
) -> Result<Vec<AgentRecord>, StoreError> {
    let fail = |e: rusqlite::Error| store_backend("reading recommendation candidates", e);
    let tx = conn.transaction().map_err(fail)?;
    let budget = i64::try_from(query.budget).unwrap_or(i64::MAX);
    let mut postings: Vec<(i64, f64)> = Vec::new();
    {
        // `team IS ?2` with a NULL ?2 would mean "agents without a team"; the two
        // statements keep the unfiltered one a plain range read.
        let mut stmt = match &query.team {
            None => tx.prepare_cached(
                "SELECT agent_rowid, weight FROM agent_terms WHERE term = ?1 \
                 ORDER BY weight DESC, agent_rowid LIMIT ?2",
            ),
            Some(_) => tx.prepare_cached(
                "SELECT agent_rowid, weight FROM agent_terms WHERE term = ?1 AND team = ?3 \
                 ORDER BY weight DESC, agent_rowid LIMIT ?2",
            ),
        }
        .map_err(fail)?;
        for term in &query.terms {
            let rows = match &query.team {
                None => stmt.query(params![term, budget]),
                Some(team) => stmt.query(params![term, budget, team]),
            };
            let mut rows = rows.map_err(fail)?;
            while let Some(row) = rows.next().map_err(fail)? {
                postings.push((row.get(0).map_err(fail)?, row.get(1).map_err(fail)?));
            }
        }
    }
    let mut found = Vec::new();
    {
        let mut stmt = tx
            .prepare_cached(&format!(
                "SELECT {SELECT_COLUMNS} FROM agents AS a WHERE a.id = ?1"
            ))
            .map_err(fail)?;
        for (rowid, _) in query.rank_postings(postings) {
            if found.len() >= query.limit {
                break;
            }
            let mut rows = stmt.query([rowid]).map_err(fail)?;
            if let Some(row) = rows.next().map_err(fail)? {
                let record = record_from_row(row)
                    .map_err(|e| store_backend("reading recommendation candidates", e))?;
                if query.admits(&record) {
                    found.push(record);
                }
            }
        }
    }
    tx.commit().map_err(fail)?;
    Ok(found)
}

/// Makes sure `agent_terms` holds every enabled agent's postings as the current
/// [`index_terms`] derives them; run after the migrations by every open.
///
/// Versioned by the one-time marker [`index_marker`] (which names the terms'
/// version): when it is recorded this is one read. Otherwise the table is rebuilt in
/// one `BEGIN IMMEDIATE` transaction that re-reads the marker first and records it
/// with the rebuilt rows, so of many processes opening the file at once one rebuilds
/// and the others, once they get the write lock, find it done. Writers of this
/// version keep the table current from then on, in their own transactions.
pub(crate) fn ensure_built(
    conn: &mut Connection,
    path: &Path,
    deadline: Instant,
    busy_timeout: Duration,
) -> Result<(), crate::error::DatabaseError> {
    let fail = |source| open_error(path, busy_timeout, source);
    let marker = index_marker();
    if is_recorded(conn, &marker).map_err(fail)? {
        return Ok(());
    }
    conn.busy_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(fail)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    if is_recorded(&tx, &marker).map_err(fail)? {
        return Ok(());
    }
    let indexed = rebuild(&tx).map_err(fail)?;
    tx.execute(
        "INSERT OR IGNORE INTO markers (key, marked_at) \
         VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        [&marker],
    )
    .map_err(fail)?;
    tx.commit().map_err(fail)?;
    conn.busy_timeout(busy_timeout).map_err(fail)?;
    tracing::info!(agents = indexed, %marker, path = %path.display(), "recommend term index built");
    Ok(())
}

fn is_recorded(conn: &Connection, marker: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM markers WHERE key = ?1)")?
        .query_row([marker], |row| row.get(0))
}

/// Empties `agent_terms` and writes every enabled agent's postings; returns how many
/// agents were indexed. A row whose profile does not decode is skipped (listing it
/// fails the same way; it is no candidate until it is rewritten).
fn rebuild(tx: &Connection) -> rusqlite::Result<u64> {
    tx.execute("DELETE FROM agent_terms", [])?;
    let mut stmt = tx.prepare(&format!(
        "SELECT {SELECT_COLUMNS}, a.id FROM agents AS a WHERE a.is_enabled = 1"
    ))?;
    let mut rows = stmt.query([])?;
    let mut indexed = 0;
    let mut batch = PostingBatch::default();
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(12)?;
        match record_from_row(row) {
            Ok(record) => {
                let postings = postings_of(&record.profile);
                batch.add(rowid, record.profile.team, postings);
                indexed += 1;
                if indexed % REBUILD_BATCH == 0 {
                    batch.flush(tx)?;
                }
            }
            Err(error) => {
                tracing::warn!(rowid, %error, "agent row not indexed for recommend: its profile does not decode");
            }
        }
    }
    batch.flush(tx)?;
    Ok(indexed)
}

/// Agents whose postings a rebuild writes together, in key order (see
/// [`PostingBatch`]): a few MiB of postings at a time.
const REBUILD_BATCH: u64 = 2_000;

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer keys sort postings exactly as the table's key does: term text in
    /// byte order, weight descending (`total_cmp`), rowid ascending.
    #[test]
    fn key_order_is_the_tables_key_order() {
        let weights = [2.5, -0.0, 0.0, 1.0, -3.0, 7.25, f64::MIN_POSITIVE, 1e300];
        let terms = ["zeta", "alpha", "Ärger", "alp", "beta", "", "alpha2"];
        let agents: Vec<HeldPostings> = (0..9)
            .map(|a: usize| {
                let postings = (0..7)
                    .map(|p| {
                        let term = terms[(a * 3 + p) % terms.len()].to_owned();
                        (term, weights[(a + p * 5) % weights.len()])
                    })
                    .collect();
                // Rowids not in batch order, as after an overwrite.
                (1000 - i64::try_from(a * 7 % 9).unwrap(), None, postings)
            })
            .collect();
        let key = |&(a, p): &(u32, u32)| {
            let (rowid, _, postings) = &agents[a as usize];
            let (term, weight) = &postings[p as usize];
            (term.as_str(), *weight, *rowid)
        };
        let mut expected: Vec<(u32, u32)> =
            (0..9).flat_map(|a| (0..7).map(move |p| (a, p))).collect();
        expected.sort_by(|x, y| {
            let ((tx, wx, rx), (ty, wy, ry)) = (key(x), key(y));
            tx.cmp(ty).then(wy.total_cmp(&wx)).then(rx.cmp(&ry))
        });
        let got = key_order(&agents);
        assert_eq!(got.len(), 63);
        let got_keys: Vec<_> = got.iter().map(key).collect();
        let expected_keys: Vec<_> = expected.iter().map(key).collect();
        assert_eq!(
            format!("{got_keys:?}"),
            format!("{expected_keys:?}"),
            "same keys in the same order"
        );
    }

    #[test]
    fn descending_reverses_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -2.0,
            -0.0,
            0.0,
            1e-300,
            0.5,
            3.0,
            f64::INFINITY,
        ];
        for x in values {
            for y in values {
                assert_eq!(
                    descending(x).cmp(&descending(y)),
                    y.total_cmp(&x),
                    "{x} vs {y}"
                );
            }
        }
    }
}
