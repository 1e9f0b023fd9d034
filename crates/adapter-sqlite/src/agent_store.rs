//! [`SqliteAgentStore`]: the `AgentStore` port on the shared SQLite file.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction: it takes the database's write
//! lock before reading anything, so two writers never both decide on a stale view, and
//! a waiting writer is queued by `busy_timeout` instead of failing with `SQLITE_BUSY`.
//! Reads run in WAL snapshots and never wait for writers.

use async_trait::async_trait;
use ax_agent_domain::store::{
    AgentFilter, AgentPage, AgentStore, BatchConflict, BatchOutcome, CandidateQuery, OnceKeys,
    PageRequest, RecordStream, StoreError,
};
use ax_contracts::agent::AgentRecord;
use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params, params_from_iter};

use crate::agent_rows::{
    AgentRow, PendingWrites, SELECT_COLUMNS, delete_side_entries, record_from_row,
};
use crate::blocking::{Execution, Work, run_blocking, with_pooled_connection};
use crate::database::Shared;
use crate::element_bits;
use crate::error::{BusyCause, OutOfRange, is_unique_violation, store_backend};
use crate::list_query::{ListQuery, counted_sql};
use crate::term_index::{self, delete_postings};

type Connection = PooledConnection<SqliteConnectionManager>;

/// The SQLite `AgentStore`. Cheap to clone: clones share one connection pool.
/// Obtain it from [`crate::SqliteDatabase::agent_store`].
#[derive(Debug, Clone)]
pub struct SqliteAgentStore {
    shared: Shared,
    execution: Execution,
}

impl SqliteAgentStore {
    pub(crate) fn new(shared: Shared, execution: Execution) -> Self {
        Self { shared, execution }
    }

    /// Runs `op` with a pooled connection where this store's [`Execution`] says;
    /// `what` names the operation in errors.
    async fn with_connection<R, F>(
        &self,
        what: &'static str,
        kind: Work,
        op: F,
    ) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let fail = |context, source| StoreError::Backend { context, source };
        with_pooled_connection(&self.shared, self.execution, kind, what, fail, op).await
    }

    /// A connection of its own for an import, whose transaction outlives one
    /// blocking step: free at once, or waited for on the blocking pool.
    async fn checkout(&self, what: &'static str) -> Result<Connection, StoreError> {
        if let Some(conn) = self.shared.pool().try_get() {
            return Ok(conn);
        }
        let shared = self.shared.clone();
        run_blocking(Execution::BlockingPool, Work::Other, move || {
            shared.pool().get()
        })
        .await
        .map_err(|e| store_backend(format!("{what}: the blocking task did not finish"), e))?
        .map_err(|e| store_backend(format!("{what}: getting a connection"), e))
    }

    /// Runs one step of an import (`op` on its open transaction) where this store's
    /// [`Execution`] says, handing the transaction back for the next step.
    async fn step<R, F>(&self, mut tx: ImportTx, op: F) -> Result<(ImportTx, R), StoreError>
    where
        F: FnOnce(&mut ImportTx) -> R + Send + 'static,
        R: Send + 'static,
    {
        run_blocking(self.execution, Work::Other, move || {
            let result = op(&mut tx);
            (tx, result)
        })
        .await
        .map_err(|e| store_backend("import: the blocking task did not finish", e))
    }
}

/// `BEGIN IMMEDIATE`: the write lock first, then the reads the write depends on.
fn write_tx<'c>(conn: &'c mut Connection, what: &str) -> Result<Transaction<'c>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| store_backend(format!("{what}: starting a write transaction"), e))
}

fn commit(tx: Transaction<'_>, what: &str) -> Result<(), StoreError> {
    tx.commit()
        .map_err(|e| store_backend(format!("{what}: committing"), e))
}

/// The rowid and revision stored for `agent_id`, if any.
fn current_version(tx: &Transaction<'_>, agent_id: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    tx.prepare_cached("SELECT id, revision FROM agents WHERE agent_id = ?1")?
        .query_row([agent_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

/// Inserts `row`, mapping a taken id to [`StoreError::AlreadyExists`].
///
/// INV-AGT-REG-001 / INV-AGT-DB-001: there is deliberately no existence check before
/// the `INSERT`. The `UNIQUE` constraint on `agent_id` decides atomically, also
/// between processes; its violation (extended code `SQLITE_CONSTRAINT_UNIQUE`) is
/// the one and only way "already exists" is detected.
fn insert_row(tx: &rusqlite::Connection, row: &AgentRow) -> Result<i64, StoreError> {
    inserted(&row.agent_id, row.insert(tx))
}

/// The result of inserting agent `agent_id`'s row, with a taken id as
/// [`StoreError::AlreadyExists`] (see [`insert_row`]).
fn inserted(agent_id: &str, result: rusqlite::Result<i64>) -> Result<i64, StoreError> {
    result.map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists {
                agent_id: agent_id.to_owned(),
            }
        } else {
            store_backend(format!("inserting agent \"{agent_id}\""), e)
        }
    })
}

fn insert(conn: &mut Connection, row: &AgentRow) -> Result<(), StoreError> {
    let tx = write_tx(conn, "insert")?;
    insert_row(&tx, row)?;
    commit(tx, "insert")
}

fn get(conn: &mut Connection, agent_id: &str) -> Result<Option<AgentRecord>, StoreError> {
    let context = || format!("reading agent \"{agent_id}\"");
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SELECT_COLUMNS} FROM agents AS a WHERE a.agent_id = ?1"
        ))
        .map_err(|e| store_backend(context(), e))?;
    let mut rows = stmt
        .query([agent_id])
        .map_err(|e| store_backend(context(), e))?;
    match rows.next().map_err(|e| store_backend(context(), e))? {
        Some(row) => record_from_row(row)
            .map(Some)
            .map_err(|e| store_backend(context(), e)),
        None => Ok(None),
    }
}

fn list(
    conn: &mut Connection,
    filter: &AgentFilter,
    page: PageRequest,
) -> Result<AgentPage, StoreError> {
    let fail = |e: rusqlite::Error| store_backend("listing agents", e);
    // One read transaction: the sizes that plan the query, the total and the page
    // come from the same snapshot.
    let tx = conn.transaction().map_err(fail)?;
    let query = ListQuery::new(
        filter,
        page,
        &mut |counted| {
            let (sql, params) = counted_sql(counted, filter);
            tx.prepare_cached(&sql)?
                .query_row(params_from_iter(params), |row| row.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or_default())
        },
        &mut |kind, element| element_bits::bit(&tx, kind, element),
    )
    .map_err(fail)?;
    let total: i64 = tx
        .prepare_cached(&query.count_sql)
        .map_err(fail)?
        .query_row(params_from_iter(query.count_params()), |row| row.get(0))
        .map_err(fail)?;
    let mut agents = Vec::new();
    if !query.empty_page {
        let mut stmt = tx.prepare_cached(&query.page_sql).map_err(fail)?;
        let mut rows = stmt
            .query(params_from_iter(query.page_params()))
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            agents.push(record_from_row(row).map_err(|e| store_backend("listing agents", e))?);
        }
    }
    tx.commit().map_err(fail)?;
    // Counts are never negative.
    let total = u64::try_from(total).unwrap_or_default();
    Ok(AgentPage { agents, total })
}

fn update(conn: &mut Connection, row: &AgentRow, expected_revision: u64) -> Result<(), StoreError> {
    let context = || format!("updating agent \"{}\"", row.agent_id);
    let tx = write_tx(conn, "update")?;
    let Some((rowid, actual)) =
        current_version(&tx, &row.agent_id).map_err(|e| store_backend(context(), e))?
    else {
        return Err(StoreError::NotFound {
            agent_id: row.agent_id.clone(),
        });
    };
    let actual = u64::try_from(actual).map_err(|_| {
        store_backend(
            context(),
            OutOfRange {
                what: "stored revision",
                value: actual.to_string(),
            },
        )
    })?;
    // The write lock is held since BEGIN IMMEDIATE, so this comparison and the write
    // below are one atomic compare-and-swap, also against other processes.
    if actual != expected_revision {
        return Err(StoreError::RevisionMismatch {
            agent_id: row.agent_id.clone(),
            expected: expected_revision,
            actual,
        });
    }
    row.overwrite(&tx, rowid)
        .map_err(|e| store_backend(context(), e))?;
    commit(tx, "update")
}

fn remove(conn: &mut Connection, agent_id: &str) -> Result<bool, StoreError> {
    let tx = write_tx(conn, "remove")?;
    // Tag and capability entries and postings go with the row, in the same transaction.
    let removed = current_version(&tx, agent_id)
        .and_then(|found| match found {
            Some((rowid, _)) => delete_postings(&tx, rowid),
            None => Ok(()),
        })
        .and_then(|()| delete_side_entries(&tx, agent_id))
        .and_then(|()| tx.prepare_cached("DELETE FROM agents WHERE agent_id = ?1"))
        .and_then(|mut stmt| stmt.execute([agent_id]))
        .map_err(|e| store_backend(format!("removing agent \"{agent_id}\""), e))?;
    commit(tx, "remove")?;
    Ok(removed > 0)
}

/// All defaults in one write transaction: concurrent seeders queue on the write lock,
/// and each finds the ids the previous one recorded.
fn seed(conn: &mut Connection, rows: &[AgentRow]) -> Result<Vec<String>, StoreError> {
    let tx = write_tx(conn, "seed")?;
    let mut inserted = Vec::new();
    for row in rows {
        let context = || format!("seeding agent \"{}\"", row.agent_id);
        // `seeded_defaults` remembers every id ever seeded, so a default the user
        // removed later is not brought back by the next start.
        let first_time = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO seeded_defaults (agent_id, seeded_at) \
                 VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            )
            .and_then(|mut stmt| stmt.execute([&row.agent_id]))
            .map_err(|e| store_backend(context(), e))?
            == 1;
        if !first_time {
            continue;
        }
        // A user's own agent with the same id stays as it is.
        match insert_row(&tx, row) {
            Ok(_) => inserted.push(row.agent_id.clone()),
            Err(StoreError::AlreadyExists { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    commit(tx, "seed")?;
    Ok(inserted)
}

fn mark_once(conn: &mut Connection, key: &str) -> Result<bool, StoreError> {
    let context = || format!("recording one-time action \"{key}\"");
    let tx = write_tx(conn, "mark_once")?;
    let recorded = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO markers (key, marked_at) \
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .and_then(|mut stmt| stmt.execute([key]))
        .map_err(|e| store_backend(context(), e))?;
    commit(tx, "mark_once")?;
    Ok(recorded == 1)
}

/// The rows of an import batch, in order. Each record is dropped once its row is
/// made, so the batch and its rows are not both held whole.
fn flatten(batch: Vec<AgentRecord>) -> Result<Vec<AgentRow>, StoreError> {
    batch
        .into_iter()
        .map(|record| AgentRow::from_record(&record))
        .collect()
}

/// An import batch being flattened on a thread of its own, while the batch before
/// it is written.
///
/// Why: an import is bound by its one writing thread. Flattening a batch (profile
/// JSON, term postings) took 7 % of that thread's time even with half of each batch
/// on a second thread, which then had to be waited for; the machine's other core is
/// only partly busy reading the input. So batch N + 1 is flattened there while batch
/// N is written, and the writing thread only writes: one more batch of rows is held
/// (see `IMPORT_BATCH`).
struct Flattening(std::thread::JoinHandle<Result<Vec<AgentRow>, StoreError>>);

impl Flattening {
    fn start(batch: Vec<AgentRecord>) -> Result<Self, StoreError> {
        std::thread::Builder::new()
            .name("ax-import-flatten".into())
            .spawn(move || flatten(batch))
            .map(Self)
            .map_err(|e| store_backend("import: starting a thread to prepare a batch", e))
    }

    /// The rows; a panic while flattening is re-raised here, as if it had run inline.
    fn finish(self) -> Result<Vec<AgentRow>, StoreError> {
        self.0
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// An import's connection while its one `BEGIN IMMEDIATE` transaction is open. The
/// transaction spans every batch of the stream (each written by its own blocking
/// step), so it is begun and ended by hand; dropped while open — an error, a panic,
/// a caller that stopped waiting — it is rolled back, so the connection goes back to
/// the pool clean.
struct ImportTx {
    conn: Connection,
    open: bool,
    /// The connection's `cache_size` before the import raised it, set back at the end.
    cache_before: Option<i64>,
    /// Whether `temp_store` was set to [`IMPORT_TEMP_STORE`], set back at the end.
    temp_store_set: bool,
}

/// `temp_store` during an import: `MEMORY`, for its statement journals.
///
/// Why: every statement that may fail half-way (an insert with a `UNIQUE` key or a
/// trigger) keeps a statement journal, the original of each page it changes, to undo
/// just that statement. SQLite keeps it in memory up to 64 KiB, and once one statement
/// of a transaction goes past that, in a temporary file for the rest of the
/// transaction — every later statement then writes each page it touches to that
/// file. In one import transaction that was 20 page writes per agent (2.3 million
/// `pwrite` calls for 50k agents); in memory, the journal is emptied after each
/// statement and holds one statement's pages at most (0 to 1M agents: 3,800 → 5,000
/// agents/s, peak +4 MiB).
const IMPORT_TEMP_STORE: &str = "MEMORY";

/// The page cache of an import's connection, in KiB (SQLite's default is 2,000).
///
/// Why: an import is one transaction that writes several pages per agent, and
/// every page it changes is held in the cache until the cache is full, then spilled
/// to the WAL; a page needed again after that is read back through the WAL's index,
/// whose lookup grows with the WAL (one hash table per 4,096 frames). The pages an
/// import keeps coming back to — the B-trees' upper levels and the leaf each
/// `(term, weight)` group, tag, capability and team is being appended to — are
/// several thousand; with 2 MiB most of them were spilled and read back over and
/// over. The size is bounded so that an import's peak memory stays under 64 MiB
/// whatever its size (issue 11 item 3). With batches of 1,000 (see `Flattening`)
/// the debug build's importer of `tests/e2e/import_stream.rs` peaked at 59.6 MiB
/// with 16 MiB, too near the limit; 12 MiB was within 2 % of 16 MiB's speed
/// (0 → 1M, both at once), and the debug importer peaks at 55.2 MiB with it.
const IMPORT_CACHE_KIB: i64 = 12 * 1024;

impl ImportTx {
    /// Takes the write lock; with `once`, claims the key as the first write (an
    /// `INSERT OR IGNORE` into `markers`: concurrent callers queue on the lock and
    /// only the one whose insert added the row writes anything). `false`: already
    /// claimed, nothing written, the transaction rolled back.
    fn begin(&mut self, once: Option<&str>) -> Result<bool, StoreError> {
        // Read when the transaction begins, so set before it (see `IMPORT_TEMP_STORE`).
        self.conn
            .pragma_update(None, "temp_store", IMPORT_TEMP_STORE)
            .map_err(|e| store_backend("import: keeping statement journals in memory", e))?;
        self.temp_store_set = true;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| store_backend("import: starting a write transaction", e))?;
        self.open = true;
        let cache_before = self
            .conn
            .pragma_query_value(None, "cache_size", |row| row.get(0))
            .map_err(|e| store_backend("import: reading the page cache size", e))?;
        self.conn
            .pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)
            .map_err(|e| store_backend("import: sizing the page cache", e))?;
        self.cache_before = Some(cache_before);
        if let Some(key) = once {
            let claimed = self
                .conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO markers (key, marked_at) \
                     VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                )
                .and_then(|mut stmt| stmt.execute([key]))
                .map_err(|e| store_backend(format!("claiming one-time action \"{key}\""), e))?;
            if claimed != 1 {
                self.end(false)?;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Writes `rows` in order. Stops at a [`BatchConflict::Fail`] conflict, which the
    /// outcome names (what came before it in the batch stays written, for the
    /// stream's `commit` to keep or roll back).
    fn write(
        &mut self,
        rows: &mut [AgentRow],
        on_conflict: BatchConflict,
    ) -> Result<BatchOutcome, StoreError> {
        let conn: &rusqlite::Connection = &self.conn;
        let mut outcome = BatchOutcome::default();
        // The inserted rows' side rows and postings, written in key order once the
        // batch's rows are.
        let mut pending = PendingWrites::default();
        let flush = |pending: &mut PendingWrites, rows: &[AgentRow]| {
            pending
                .flush(conn, rows)
                .map_err(|e| store_backend("import: writing the side tables and term index", e))
        };
        for index in 0..rows.len() {
            // No existence pre-check (INV-AGT-DB-001): the UNIQUE constraint decides.
            let result = rows[index].insert_deferred(conn, index, &mut pending);
            match inserted(&rows[index].agent_id, result) {
                Ok(_) => outcome.inserted.push(rows[index].agent_id.clone()),
                Err(StoreError::AlreadyExists { agent_id }) => match on_conflict {
                    BatchConflict::Skip => outcome.skipped.push(agent_id),
                    BatchConflict::Fail => {
                        outcome.conflict = Some(agent_id);
                        break;
                    }
                    BatchConflict::Replace => {
                        // The overwrite deletes the stored agent's side rows and
                        // postings: an agent inserted earlier in this batch must have
                        // them written.
                        flush(&mut pending, rows)?;
                        let context = || format!("importing agent \"{agent_id}\"");
                        let (rowid, created_at, revision): (i64, Option<String>, i64) = conn
                            .prepare_cached(
                                "SELECT id, created_at, revision FROM agents WHERE agent_id = ?1",
                            )
                            .and_then(|mut stmt| {
                                stmt.query_row([&agent_id], |r| {
                                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                                })
                            })
                            .map_err(|e| store_backend(context(), e))?;
                        let row = &mut rows[index];
                        if let Some(created_at) = created_at {
                            row.created_at = created_at;
                        }
                        row.revision = revision.saturating_add(1);
                        row.overwrite(conn, rowid)
                            .map_err(|e| store_backend(context(), e))?;
                        outcome.replaced.push(agent_id);
                    }
                },
                Err(other) => return Err(other),
            }
        }
        // Also after a conflict stopped the batch: the rows before it stay written.
        flush(&mut pending, rows)?;
        Ok(outcome)
    }

    /// Commits (`true`) or rolls back the transaction (the page cache is set back when
    /// this is dropped).
    fn end(&mut self, commit: bool) -> Result<(), StoreError> {
        self.open = false;
        let (sql, what) = if commit {
            ("COMMIT", "import: committing")
        } else {
            ("ROLLBACK", "import: rolling back")
        };
        self.conn.execute_batch(sql).map_err(|e| {
            // A failed COMMIT leaves the transaction open: end it here, not in the pool.
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            store_backend(what, e)
        })
    }
}

impl Drop for ImportTx {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        // Back to the pool with the cache every other use of a connection has (the
        // pages above it are freed). Setting a size does not fail.
        if let Some(size) = self.cache_before.take() {
            let _ = self.conn.pragma_update(None, "cache_size", size);
        }
        if std::mem::take(&mut self.temp_store_set) {
            let _ = self.conn.pragma_update(None, "temp_store", "DEFAULT");
        }
    }
}

fn is_marked(conn: &mut Connection, key: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM markers WHERE key = ?1)")
        .and_then(|mut stmt| stmt.query_row(params![key], |row| row.get(0)))
        .map_err(|e| store_backend(format!("reading one-time action \"{key}\""), e))
}

/// A keyset page on the `agent_id` index (SQLite's default `BINARY` collation is
/// byte order, the port's order).
fn list_after(
    conn: &mut Connection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AgentRecord>, StoreError> {
    let fail = |e: rusqlite::Error| store_backend("listing agents after a cursor", e);
    // Two statements rather than `?1 IS NULL OR agent_id > ?1`, which the planner
    // cannot turn into a range on the index: every page would scan from the start.
    let (condition, args): (&str, Vec<rusqlite::types::Value>) = match after {
        Some(id) => (
            "WHERE a.agent_id > ?1 ORDER BY a.agent_id LIMIT ?2",
            vec![id.to_owned().into(), limit.into()],
        ),
        None => ("ORDER BY a.agent_id LIMIT ?1", vec![limit.into()]),
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SELECT_COLUMNS} FROM agents AS a {condition}"
        ))
        .map_err(fail)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(fail)?;
    let mut agents = Vec::new();
    while let Some(row) = rows.next().map_err(fail)? {
        agents.push(
            record_from_row(row).map_err(|e| store_backend("listing agents after a cursor", e))?,
        );
    }
    Ok(agents)
}

/// Both key tables, read in one snapshot.
fn once_keys(conn: &mut Connection) -> Result<OnceKeys, StoreError> {
    let fail = |e: rusqlite::Error| store_backend("reading one-time keys", e);
    let tx = conn.transaction().map_err(fail)?;
    let column = |sql: &str| -> rusqlite::Result<Vec<String>> {
        tx.prepare_cached(sql)?
            .query_map([], |row| row.get(0))?
            .collect()
    };
    let keys = OnceKeys {
        // The term index's build marker describes this file's derived data, not the
        // registry's history: a copy builds its own index.
        markers: column(
            "SELECT key FROM markers WHERE key NOT LIKE 'recommend-index:%' ORDER BY key",
        )
        .map_err(fail)?,
        seeded: column("SELECT agent_id FROM seeded_defaults ORDER BY agent_id").map_err(fail)?,
    };
    tx.commit().map_err(fail)?;
    Ok(keys)
}

/// `INSERT OR IGNORE` of every key in one write transaction.
fn add_once_keys(conn: &mut Connection, keys: &OnceKeys) -> Result<OnceKeys, StoreError> {
    let fail = |e: rusqlite::Error| store_backend("recording one-time keys", e);
    let tx = write_tx(conn, "add_once_keys")?;
    let mut added = OnceKeys::default();
    for (sql, given, new) in [
        (
            "INSERT OR IGNORE INTO markers (key, marked_at) \
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            &keys.markers,
            &mut added.markers,
        ),
        (
            "INSERT OR IGNORE INTO seeded_defaults (agent_id, seeded_at) \
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            &keys.seeded,
            &mut added.seeded,
        ),
    ] {
        let mut stmt = tx.prepare_cached(sql).map_err(fail)?;
        for key in given {
            if stmt.execute([key]).map_err(fail)? == 1 {
                new.push(key.clone());
            }
        }
    }
    commit(tx, "add_once_keys")?;
    Ok(added)
}

#[async_trait]
impl AgentStore for SqliteAgentStore {
    async fn insert(&self, record: &AgentRecord) -> Result<(), StoreError> {
        let row = AgentRow::from_record(record)?;
        self.with_connection("insert", Work::Other, move |conn| insert(conn, &row))
            .await
    }

    async fn get(&self, agent_id: &str) -> Result<Option<AgentRecord>, StoreError> {
        let agent_id = agent_id.to_owned();
        self.with_connection("get", Work::PointRead, move |conn| get(conn, &agent_id))
            .await
    }

    async fn list(&self, filter: &AgentFilter, page: PageRequest) -> Result<AgentPage, StoreError> {
        let filter = filter.clone();
        self.with_connection("list", Work::Other, move |conn| list(conn, &filter, page))
            .await
    }

    async fn update(&self, record: &AgentRecord, expected_revision: u64) -> Result<(), StoreError> {
        let row = AgentRow::from_record(record)?;
        self.with_connection("update", Work::Other, move |conn| {
            update(conn, &row, expected_revision)
        })
        .await
    }

    async fn remove(&self, agent_id: &str) -> Result<bool, StoreError> {
        let agent_id = agent_id.to_owned();
        self.with_connection("remove", Work::Other, move |conn| remove(conn, &agent_id))
            .await
    }

    async fn seed(&self, records: &[AgentRecord]) -> Result<Vec<String>, StoreError> {
        let rows = records
            .iter()
            .map(AgentRow::from_record)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_connection("seed", Work::Other, move |conn| seed(conn, &rows))
            .await
    }

    async fn mark_once(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.with_connection("mark_once", Work::Other, move |conn| mark_once(conn, &key))
            .await
    }

    async fn is_marked(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.with_connection("is_marked", Work::PointRead, move |conn| {
            is_marked(conn, &key)
        })
        .await
    }

    async fn import_stream(
        &self,
        records: &mut dyn RecordStream,
        on_conflict: BatchConflict,
        once: Option<&str>,
    ) -> Result<Option<bool>, StoreError> {
        let waited = self.shared.busy_timeout();
        let conn = self.checkout("import").await?;
        let tx = ImportTx {
            conn,
            open: false,
            cache_before: None,
            temp_store_set: false,
        };
        let once = once.map(str::to_owned);
        let (mut tx, claimed) = self.step(tx, move |tx| tx.begin(once.as_deref())).await?;
        if !claimed.map_err(|e| e.busy_after(waited))? {
            return Ok(None);
        }
        let mut next = records.next_batch().await.map(flatten);
        while let Some(rows) = next.take() {
            let mut rows = rows?;
            // The following batch is flattened while this one is written (see
            // `Flattening`). Should the writing fail, the thread finishes on its own.
            let following = records
                .next_batch()
                .await
                .map(Flattening::start)
                .transpose()?;
            let (after, outcome) = self
                .step(tx, move |tx| tx.write(&mut rows, on_conflict))
                .await?;
            tx = after;
            let outcome = outcome?;
            let stop = outcome.conflict.is_some();
            records.written(outcome);
            if stop {
                break;
            }
            next = following.map(Flattening::finish);
        }
        let commit = records.commit().await;
        let (_, ended) = self.step(tx, move |tx| tx.end(commit)).await?;
        ended?;
        Ok(Some(commit))
    }

    async fn list_after(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AgentRecord>, StoreError> {
        let after = after.map(str::to_owned);
        // A limit past i64::MAX asks for everything, which is what i64::MAX gives.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_connection("list_after", Work::Other, move |conn| {
            list_after(conn, after.as_deref(), limit)
        })
        .await
    }

    async fn once_keys(&self) -> Result<OnceKeys, StoreError> {
        self.with_connection("once_keys", Work::Other, once_keys)
            .await
    }

    async fn add_once_keys(&self, keys: &OnceKeys) -> Result<OnceKeys, StoreError> {
        let keys = keys.clone();
        self.with_connection("add_once_keys", Work::Other, move |conn| {
            add_once_keys(conn, &keys)
        })
        .await
    }

    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<AgentRecord>, StoreError> {
        let query = query.clone();
        self.with_connection("candidates", Work::Other, move |conn| {
            term_index::candidates(conn, &query)
        })
        .await
    }
}
