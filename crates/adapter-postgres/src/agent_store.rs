//! [`PostgresAgentStore`]: the `AgentStore` port on a shared PostgreSQL database.
//!
//! Every guarantee is the server's, so it holds across every process on every
//! machine using the database:
//! - registration is one `INSERT` statement; the `UNIQUE` index on `agent_id`
//!   decides (INV-AGT-REG-001, INV-AGT-DB-001);
//! - updates are compare-and-swap on `revision` in the `UPDATE`'s own `WHERE`
//!   (INV-PG-CAS-001);
//! - seeding, one-time markers and one-time imports claim their key with
//!   `INSERT ... ON CONFLICT DO NOTHING` inside the writing transaction, so exactly
//!   one caller applies them (INV-PG-ONCE-001);
//! - multi-statement writes run in one transaction (READ COMMITTED, the server's
//!   default), and take their row locks before they read what they depend on.

use std::collections::HashSet;

use async_trait::async_trait;
use ax_agent_domain::store::{
    AgentFilter, AgentPage, AgentStore, BatchConflict, BatchOutcome, CandidateQuery, OnceKeys,
    PageRequest, RecordStream, StoreError,
};
use ax_contracts::agent::AgentRecord;
use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use crate::agent_rows::{
    AgentRow, ColumnBatch, INSERT_IF_FREE_SQL, INSERT_MANY_IF_FREE_SQL, INSERT_SQL, Params,
    REPLACE_SQL, RowError, SEED_SQL, SELECT_COLUMNS, SYNC_KEYS_SQL, UPDATE_CAS_SQL,
    record_from_row,
};
use crate::database::Shared;
use crate::error::{Failure, OutOfRange, decode_error, store_backend};
use crate::list_query::ListQuery;

/// How often a write whose row vanished or reappeared between two of its
/// statements (a concurrent remove or re-registration) is retried before giving
/// up. Each retry sees a newer state; two concurrent writers cannot keep
/// invalidating each other forever, so this is never reached in practice.
const RACE_RETRIES: usize = 8;

/// Agents per import statement ([`INSERT_MANY_IF_FREE_SQL`]): enough to spread the
/// statement's fixed cost thin, few enough that one statement's arrays stay small.
const AGENTS_PER_STATEMENT: usize = 100;

/// The PostgreSQL `AgentStore`. Cheap to clone: clones share one connection pool.
/// Obtain it from [`crate::PostgresDatabase::agent_store`].
#[derive(Debug, Clone)]
pub struct PostgresAgentStore {
    shared: Shared,
}

impl PostgresAgentStore {
    pub(crate) fn new(shared: Shared) -> Self {
        Self { shared }
    }

    fn fail(&self, what: impl AsRef<str>) -> impl FnOnce(Failure) -> StoreError + '_ {
        let what = what.as_ref().to_owned();
        move |failure| store_backend(self.shared.target(), what, failure)
    }
}

/// Runs a prepared (cached) statement returning rows.
async fn count_of<C: GenericClient + Sync>(
    client: &C,
    statement: &tokio_postgres::Statement,
    params: &Params<'_>,
) -> Result<i64, Failure> {
    let row = client.query_one(statement, params).await?;
    Ok(row.try_get(0)?)
}

/// Whether `failure` is the unique violation of `agents.agent_id`.
fn is_agent_id_taken(failure: &Failure) -> bool {
    let Failure::Driver(error) = failure else {
        return false;
    };
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
        && error.as_db_error().and_then(|db| db.table()) == Some("agents")
}

/// Overwrites `row` (its id) with `sql`/`params` and, if a row was updated,
/// brings its key rows in line — in `tx`. Returns whether a row was updated.
async fn overwrite_in(
    tx: &deadpool_postgres::Transaction<'_>,
    row: &AgentRow,
    sql: &str,
    params: &Params<'_>,
) -> Result<bool, Failure> {
    let statement = tx.prepare_cached(sql).await?;
    if tx.execute(&statement, params).await? == 0 {
        return Ok(false);
    }
    let sync = tx.prepare_cached(SYNC_KEYS_SQL).await?;
    tx.execute(&sync, &row.sync_params()).await?;
    Ok(true)
}

/// Inserts `row` unless its id is taken, in `tx`; whether it did.
async fn insert_if_free(
    tx: &deadpool_postgres::Transaction<'_>,
    row: &AgentRow,
) -> Result<bool, Failure> {
    let statement = tx.prepare_cached(INSERT_IF_FREE_SQL).await?;
    Ok(count_of(tx, &statement, &row.insert_params()).await? == 1)
}

/// The stored revision of `agent_id`, if any, read in `tx`.
async fn stored_revision(
    tx: &deadpool_postgres::Transaction<'_>,
    agent_id: &str,
) -> Result<Option<i64>, Failure> {
    let statement = tx
        .prepare_cached("SELECT revision FROM agents WHERE agent_id = $1")
        .await?;
    match tx.query_opt(&statement, &[&agent_id]).await? {
        Some(row) => Ok(Some(row.try_get(0)?)),
        None => Ok(None),
    }
}

#[async_trait]
impl AgentStore for PostgresAgentStore {
    async fn insert(&self, record: &AgentRecord) -> Result<(), StoreError> {
        let row = AgentRow::from_record(record)?;
        let fail = self.fail(format!("inserting agent \"{}\"", row.agent_id));
        let outcome: Result<i64, Failure> = async {
            let client = self.shared.client().await?;
            let statement = client.prepare_cached(INSERT_SQL).await?;
            count_of(&client, &statement, &row.insert_params()).await
        }
        .await;
        match outcome {
            Ok(_) => Ok(()),
            // INV-AGT-DB-001: the constraint's verdict, the only existence check.
            Err(failure) if is_agent_id_taken(&failure) => Err(StoreError::AlreadyExists {
                agent_id: row.agent_id,
            }),
            Err(failure) => Err(fail(failure)),
        }
    }

    async fn get(&self, agent_id: &str) -> Result<Option<AgentRecord>, StoreError> {
        let what = format!("reading agent \"{agent_id}\"");
        let row = async {
            let client = self.shared.client().await?;
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {SELECT_COLUMNS} FROM agents AS a WHERE a.agent_id = $1"
                ))
                .await?;
            Ok::<_, Failure>(client.query_opt(&statement, &[&agent_id]).await?)
        }
        .await
        .map_err(self.fail(&what))?;
        match row {
            Some(row) => record_from_row(&row, 0)
                .map(Some)
                .map_err(|e| decode_error(what, e)),
            None => Ok(None),
        }
    }

    async fn list(&self, filter: &AgentFilter, page: PageRequest) -> Result<AgentPage, StoreError> {
        let query = ListQuery::new(filter, page);
        let rows = async {
            let client = self.shared.client().await?;
            let statement = client.prepare_cached(&query.sql).await?;
            Ok::<_, Failure>(client.query(&statement, &query.params()).await?)
        }
        .await
        .map_err(self.fail("listing agents"))?;
        let mut total = 0_i64;
        let mut agents = Vec::new();
        let decode = |e: RowError| decode_error("listing agents", e);
        for row in &rows {
            total = row.try_get(0).map_err(|e| decode(e.into()))?;
            // The empty page is one row with NULL agent columns.
            let agent_id: Option<String> = row.try_get(1).map_err(|e| decode(e.into()))?;
            if agent_id.is_some() {
                agents.push(record_from_row(row, 1).map_err(decode)?);
            }
        }
        let total = u64::try_from(total).map_err(|_| {
            decode_error(
                "listing agents",
                OutOfRange {
                    what: "count",
                    value: total.to_string(),
                },
            )
        })?;
        Ok(AgentPage { agents, total })
    }

    async fn update(&self, record: &AgentRecord, expected_revision: u64) -> Result<(), StoreError> {
        let row = AgentRow::from_record(record)?;
        let agent_id = row.agent_id.clone();
        let fail = self.fail(format!("updating agent \"{agent_id}\""));
        let Ok(expected) = i64::try_from(expected_revision) else {
            // No stored revision is this large: the agent is missing or elsewhere.
            return Err(StoreError::NotFound { agent_id });
        };
        let outcome: Result<Result<(), StoreError>, Failure> = async {
            let mut client = self.shared.client().await?;
            let tx = client.transaction().await?;
            for _ in 0..RACE_RETRIES {
                let mut params = row.row_params();
                params.push(&expected);
                // INV-PG-CAS-001: the revision check is the UPDATE's own WHERE,
                // evaluated on the row under its lock.
                if overwrite_in(&tx, &row, UPDATE_CAS_SQL, &params).await? {
                    tx.commit().await?;
                    return Ok(Ok(()));
                }
                // Not updated: missing, or at another revision — told apart in the
                // same transaction.
                match stored_revision(&tx, &agent_id).await? {
                    None => {
                        return Ok(Err(StoreError::NotFound {
                            agent_id: agent_id.clone(),
                        }));
                    }
                    Some(actual) if actual != expected => {
                        let actual = u64::try_from(actual).unwrap_or_default();
                        return Ok(Err(StoreError::RevisionMismatch {
                            agent_id: agent_id.clone(),
                            expected: expected_revision,
                            actual,
                        }));
                    }
                    // Registered (again) at the expected revision after the UPDATE
                    // looked: try again with a newer snapshot.
                    Some(_) => {}
                }
            }
            Err(Failure::Contended)
        }
        .await;
        outcome.map_err(fail)?
    }

    async fn remove(&self, agent_id: &str) -> Result<bool, StoreError> {
        // The key rows go with the agent row (ON DELETE CASCADE); its postings are
        // removed by a second statement of the same transaction (INV-PG-TERMS-001).
        // A second statement, not a CTE of the first: it takes its snapshot after the
        // DELETE got the row lock, so it also sees postings a concurrent update of
        // this agent committed while the DELETE waited for that lock.
        let removed = async {
            let mut client = self.shared.client().await?;
            let tx = client.transaction().await?;
            let statement = tx
                .prepare_cached("DELETE FROM agents WHERE agent_id = $1")
                .await?;
            let removed = tx.execute(&statement, &[&agent_id]).await?;
            if removed > 0 {
                let postings = tx
                    .prepare_cached("DELETE FROM agent_terms WHERE agent_id = $1")
                    .await?;
                tx.execute(&postings, &[&agent_id]).await?;
            }
            tx.commit().await?;
            Ok::<_, Failure>(removed)
        }
        .await
        .map_err(self.fail(format!("removing agent \"{agent_id}\"")))?;
        Ok(removed > 0)
    }

    async fn seed(&self, records: &[AgentRecord]) -> Result<Vec<String>, StoreError> {
        let rows = records
            .iter()
            .map(AgentRow::from_record)
            .collect::<Result<Vec<_>, _>>()?;
        // Every seeder claims ids in the same (sorted) order, so two seeders never
        // wait on each other's claims crosswise (a deadlock).
        let mut order: Vec<&AgentRow> = rows.iter().collect();
        order.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
        let inserted: HashSet<String> = async {
            let mut client = self.shared.client().await?;
            let tx = client.transaction().await?;
            let statement = tx.prepare_cached(SEED_SQL).await?;
            let mut inserted = HashSet::new();
            for row in order {
                // INV-PG-ONCE-001: `seeded_defaults` remembers every id ever seeded
                // (a concurrent seeder's claim waits for this one's commit, then
                // finds it), so a default the user removed is not brought back, and
                // a user's own agent with the same id stays as it is.
                if count_of(&tx, &statement, &row.insert_params()).await? == 1 {
                    inserted.insert(row.agent_id.clone());
                }
            }
            tx.commit().await?;
            Ok::<_, Failure>(inserted)
        }
        .await
        .map_err(self.fail("seeding default agents"))?;
        // In the caller's order.
        Ok(rows
            .iter()
            .filter(|r| inserted.contains(&r.agent_id))
            .map(|r| r.agent_id.clone())
            .collect())
    }

    async fn mark_once(&self, key: &str) -> Result<bool, StoreError> {
        let recorded = async {
            let client = self.shared.client().await?;
            let statement = client
                .prepare_cached("INSERT INTO markers (key) VALUES ($1) ON CONFLICT DO NOTHING")
                .await?;
            Ok::<_, Failure>(client.execute(&statement, &[&key]).await?)
        }
        .await
        .map_err(self.fail(format!("recording one-time action \"{key}\"")))?;
        Ok(recorded == 1)
    }

    async fn is_marked(&self, key: &str) -> Result<bool, StoreError> {
        async {
            let client = self.shared.client().await?;
            let statement = client
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM markers WHERE key = $1)")
                .await?;
            let row = client.query_one(&statement, &[&key]).await?;
            Ok::<_, Failure>(row.try_get(0)?)
        }
        .await
        .map_err(self.fail(format!("reading one-time action \"{key}\"")))
    }

    async fn import_stream(
        &self,
        records: &mut dyn RecordStream,
        on_conflict: BatchConflict,
        once: Option<&str>,
    ) -> Result<Option<bool>, StoreError> {
        let mut client = self
            .shared
            .client()
            .await
            .map_err(self.fail("importing agents"))?;
        // One transaction for every batch; dropped without commit (an error, a
        // caller that stopped waiting) it is rolled back.
        let tx = client
            .transaction()
            .await
            .map_err(|e| self.fail("importing agents")(e.into()))?;
        if let Some(key) = once {
            // INV-PG-ONCE-001: the claim is the first write of the import's own
            // transaction. A concurrent importer's claim of the same key waits for
            // this transaction: it finds the key if this one commits, and claims it
            // itself if this one rolls back.
            let claimed = async {
                let claim = tx
                    .prepare_cached("INSERT INTO markers (key) VALUES ($1) ON CONFLICT DO NOTHING")
                    .await?;
                Ok::<_, Failure>(tx.execute(&claim, &[&key]).await? == 1)
            }
            .await
            .map_err(self.fail(format!("claiming one-time action \"{key}\"")))?;
            if !claimed {
                return Ok(None);
            }
        }
        while let Some(batch) = records.next_batch().await {
            let rows = batch
                .iter()
                .map(AgentRow::from_record)
                .collect::<Result<Vec<_>, _>>()?;
            drop(batch);
            let outcome = write_rows(&tx, &rows, on_conflict)
                .await
                .map_err(self.fail("importing agents"))?;
            let stop = outcome.conflict.is_some();
            records.written(outcome);
            if stop {
                break;
            }
        }
        let commit = records.commit().await;
        let ended = if commit {
            tx.commit().await
        } else {
            tx.rollback().await
        };
        ended.map_err(|e| self.fail("importing agents")(e.into()))?;
        Ok(Some(commit))
    }

    async fn list_after(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AgentRecord>, StoreError> {
        let what = "listing agents after a cursor";
        // A limit past i64::MAX asks for everything, which is what i64::MAX gives.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = async {
            let client = self.shared.client().await?;
            // `agent_id` is `COLLATE "C"`: the comparison and the order are bytes,
            // and both use the unique index. Two statements rather than
            // `$1 IS NULL OR agent_id > $1`, which a generic plan cannot turn into
            // an index range.
            let (condition, params): (&str, Params<'_>) = match &after {
                Some(id) => (
                    "WHERE a.agent_id > $1 ORDER BY a.agent_id LIMIT $2",
                    vec![id, &limit],
                ),
                None => ("ORDER BY a.agent_id LIMIT $1", vec![&limit]),
            };
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {SELECT_COLUMNS} FROM agents AS a {condition}"
                ))
                .await?;
            Ok::<_, Failure>(client.query(&statement, &params).await?)
        }
        .await
        .map_err(self.fail(what))?;
        rows.iter()
            .map(|row| record_from_row(row, 0).map_err(|e| decode_error(what, e)))
            .collect()
    }

    async fn once_keys(&self) -> Result<OnceKeys, StoreError> {
        let rows = async {
            let client = self.shared.client().await?;
            // One statement: both tables from one snapshot. The term index's build
            // marker describes this database's derived data, not the registry's
            // history: a copy builds its own index.
            let statement = client
                .prepare_cached(
                    "SELECT 'm', key FROM markers WHERE key NOT LIKE 'recommend-index:%' UNION ALL \
                     SELECT 's', agent_id FROM seeded_defaults ORDER BY 1, 2",
                )
                .await?;
            Ok::<_, Failure>(client.query(&statement, &[]).await?)
        }
        .await
        .map_err(self.fail("reading one-time keys"))?;
        let mut keys = OnceKeys::default();
        for row in &rows {
            let read = |i| row.try_get::<_, String>(i);
            let (kind, key) = read(0)
                .and_then(|kind| Ok((kind, read(1)?)))
                .map_err(|e| decode_error("reading one-time keys", RowError::from(e)))?;
            if kind == "m" {
                keys.markers.push(key);
            } else {
                keys.seeded.push(key);
            }
        }
        Ok(keys)
    }

    async fn add_once_keys(&self, keys: &OnceKeys) -> Result<OnceKeys, StoreError> {
        let added = async {
            let mut client = self.shared.client().await?;
            let tx = client.transaction().await?;
            // Set-wise, one statement per table; RETURNING names what was new.
            let mut added = OnceKeys::default();
            for (sql, given, new) in [
                (
                    "INSERT INTO markers (key) SELECT unnest($1::text[]) \
                     ON CONFLICT DO NOTHING RETURNING key",
                    &keys.markers,
                    &mut added.markers,
                ),
                (
                    "INSERT INTO seeded_defaults (agent_id) SELECT unnest($1::text[]) \
                     ON CONFLICT DO NOTHING RETURNING agent_id",
                    &keys.seeded,
                    &mut added.seeded,
                ),
            ] {
                let statement = tx.prepare_cached(sql).await?;
                for row in tx.query(&statement, &[given]).await? {
                    new.push(row.try_get(0)?);
                }
                new.sort();
            }
            tx.commit().await?;
            Ok::<_, Failure>(added)
        }
        .await
        .map_err(self.fail("recording one-time keys"))?;
        Ok(added)
    }

    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<AgentRecord>, StoreError> {
        crate::term_index::candidates(&self.shared, query).await
    }
}

/// Writes `rows` in order in `tx`, as [`AgentStore::import_stream`] says; stops at a
/// [`BatchConflict::Fail`] conflict, which the outcome names.
///
/// Why in multi-row statements, pipelined: one `INSERT ... ON CONFLICT DO NOTHING`
/// per agent awaited before the next cost a loopback round trip (two process
/// wake-ups) per agent, and each statement's fixed cost a good part of the rest.
/// The batch's agents go [`AGENTS_PER_STATEMENT`] to a statement, the statements
/// back to back; the server still decides each row in order by the unique index
/// (INV-AGT-DB-001), so every row's fate is what it would have been one at a time —
/// except that under `Fail` the rows after a conflict were written too. Those are
/// taken back by a savepoint, and the rows up to the conflict are written again one
/// at a time (a conflict is the rare path: it ends the import).
async fn write_rows(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &[AgentRow],
    on_conflict: BatchConflict,
) -> Result<BatchOutcome, Failure> {
    let fail = matches!(on_conflict, BatchConflict::Fail);
    if fail {
        tx.batch_execute("SAVEPOINT import_batch").await?;
    }
    let free = insert_all_if_free(tx, rows).await?;
    let mut outcome = BatchOutcome::default();
    if fail {
        if let Some(first_taken) = free.iter().position(|free| !free) {
            tx.batch_execute("ROLLBACK TO SAVEPOINT import_batch")
                .await?;
            for row in &rows[..=first_taken] {
                if write_one(tx, row, on_conflict, &mut outcome).await? {
                    break;
                }
            }
            return Ok(outcome);
        }
        tx.batch_execute("RELEASE SAVEPOINT import_batch").await?;
    }
    for (row, free) in rows.iter().zip(free) {
        if free {
            outcome.inserted.push(row.agent_id.clone());
        } else {
            // Taken when its insert ran: `Skip` notes it, `Replace` overwrites it
            // now — in order, after every insert of the batch, which leaves what
            // one-at-a-time would (a later row of the same id still wins). Only an
            // agent removed in between goes through `write_one` (insert again).
            match on_conflict {
                BatchConflict::Skip => outcome.skipped.push(row.agent_id.clone()),
                BatchConflict::Replace
                    if overwrite_in(tx, row, REPLACE_SQL, &row.replace_params()).await? =>
                {
                    outcome.replaced.push(row.agent_id.clone());
                }
                _ => {
                    write_one(tx, row, on_conflict, &mut outcome).await?;
                }
            }
        }
    }
    Ok(outcome)
}

/// Inserts every row whose id is free, [`AGENTS_PER_STATEMENT`] rows per
/// statement ([`INSERT_MANY_IF_FREE_SQL`]), the statements sent without waiting for
/// the previous answer (tokio-postgres pipelines requests polled together); whether
/// each row was inserted, in order. The server runs the statements in order and
/// each statement's rows in order, so every row's fate is what it would have been
/// one at a time: the unique index decides (INV-AGT-DB-001). A row repeating an
/// earlier row's id is not sent: by the time it would run, the first has taken the
/// id (or found it taken), so it is not free.
async fn insert_all_if_free(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &[AgentRow],
) -> Result<Vec<bool>, Failure> {
    let statement = tx.prepare_cached(INSERT_MANY_IF_FREE_SQL).await?;
    let mut seen = HashSet::with_capacity(rows.len());
    let unique: Vec<&AgentRow> = rows
        .iter()
        .filter(|row| seen.insert(row.agent_id.as_str()))
        .collect();
    let batches: Vec<ColumnBatch<'_>> = unique
        .chunks(AGENTS_PER_STATEMENT)
        .map(|chunk| chunk.iter().copied().collect())
        .collect();
    let params: Vec<Params<'_>> = batches.iter().map(ColumnBatch::params).collect();
    let answers = futures::future::try_join_all(
        params
            .iter()
            .map(|params| tx.query(&statement, params.as_slice())),
    )
    .await?;
    let mut inserted = HashSet::with_capacity(rows.len());
    for row in answers.iter().flatten() {
        inserted.insert(row.try_get::<_, String>(0)?);
    }
    // An inserted id is taken off the set by its first row, so a repeat finds it gone.
    Ok(rows
        .iter()
        .map(|row| inserted.remove(&row.agent_id))
        .collect())
}

/// Writes one row as [`write_rows`] would alone, recording its fate in `outcome`;
/// whether it was a [`BatchConflict::Fail`] conflict (the batch stops there).
async fn write_one(
    tx: &deadpool_postgres::Transaction<'_>,
    row: &AgentRow,
    on_conflict: BatchConflict,
    outcome: &mut BatchOutcome,
) -> Result<bool, Failure> {
    for _ in 0..RACE_RETRIES {
        // No existence pre-check (INV-AGT-DB-001): the unique index decides.
        if insert_if_free(tx, row).await? {
            outcome.inserted.push(row.agent_id.clone());
            return Ok(false);
        }
        match on_conflict {
            BatchConflict::Skip => {
                outcome.skipped.push(row.agent_id.clone());
                return Ok(false);
            }
            BatchConflict::Fail => {
                outcome.conflict = Some(row.agent_id.clone());
                return Ok(true);
            }
            BatchConflict::Replace => {
                if overwrite_in(tx, row, REPLACE_SQL, &row.replace_params()).await? {
                    outcome.replaced.push(row.agent_id.clone());
                    return Ok(false);
                }
                // Otherwise removed in between: insert again.
            }
        }
    }
    Err(Failure::Contended)
}
