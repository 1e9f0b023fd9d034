//! [`SqliteHistory`]: the `DiscussionHistory` port on the shared SQLite file.
//!
//! Listing is newest first by discussion id: ids are UUID v7, which sort by start
//! time, so `ORDER BY id DESC` on the primary key is the recency order, and "after
//! `before`" is simply `id < before` — a cursor that stays valid even when the
//! discussion it names is gone (INV-DISC-HIST-001, proved by the shared kit in
//! `tests/sqlite/history.rs`).

use async_trait::async_trait;
use ax_contracts::discussion::{DiscussionStatus, Pattern};
use ax_discussion_domain::history::{
    DiscussionHistory, DiscussionRecord, DiscussionSummary, HistoryError,
};
use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Row, TransactionBehavior, params};

use crate::blocking::{Execution, Work, with_pooled_connection};
use crate::database::Shared;
use crate::error::{OutOfRange, history_backend};

type Connection = PooledConnection<SqliteConnectionManager>;

/// The SQLite discussion history. Cheap to clone: clones share one connection pool.
/// Obtain it from [`crate::SqliteDatabase::history`].
#[derive(Debug, Clone)]
pub struct SqliteHistory {
    shared: Shared,
    execution: Execution,
}

/// A discussion as column values, computed before the blocking work starts.
struct DiscussionRow {
    id: String,
    topic: String,
    pattern: &'static str,
    status: &'static str,
    success: bool,
    providers: String,
    started_at: String,
    completed_at: String,
    duration_ms: i64,
    result: String,
}

impl DiscussionRow {
    fn from_record(record: &DiscussionRecord) -> Result<Self, HistoryError> {
        let context = || format!("saving discussion \"{}\"", record.discussion_id);
        let duration_ms = i64::try_from(record.total_duration_ms).map_err(|_| {
            history_backend(
                context(),
                OutOfRange {
                    what: "totalDurationMs",
                    value: record.total_duration_ms.to_string(),
                },
            )
        })?;
        Ok(Self {
            id: record.discussion_id.clone(),
            topic: record.topic.clone(),
            pattern: record.pattern.as_str(),
            status: record.status.as_str(),
            success: record.success,
            providers: serde_json::to_string(&record.providers)
                .map_err(|e| history_backend(context(), e))?,
            started_at: record.started_at.clone(),
            completed_at: record.completed_at.clone(),
            duration_ms,
            result: serde_json::to_string(&record.result)
                .map_err(|e| history_backend(context(), e))?,
        })
    }
}

/// Why a stored discussion could not be read back.
#[derive(Debug, thiserror::Error)]
enum RowError {
    #[error("reading a column")]
    Column(#[from] rusqlite::Error),
    #[error("decoding stored JSON")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Range(#[from] OutOfRange),
    #[error("unknown {what} \"{value}\" (written by another build?)")]
    UnknownName { what: &'static str, value: String },
}

/// Column `index`, a wire name, read back as its enum.
fn wire_name<T>(
    row: &Row<'_>,
    index: usize,
    what: &'static str,
    from_wire: fn(&str) -> Option<T>,
) -> Result<T, RowError> {
    let value: String = row.get(index)?;
    from_wire(&value).ok_or(RowError::UnknownName { what, value })
}

const SUMMARY_COLUMNS: &str =
    "id, topic, pattern, status, success, providers, started_at, duration_ms";

fn summary_from_row(row: &Row<'_>) -> Result<DiscussionSummary, RowError> {
    let providers: String = row.get(5)?;
    let duration: i64 = row.get(7)?;
    Ok(DiscussionSummary {
        discussion_id: row.get(0)?,
        topic: row.get(1)?,
        pattern: wire_name(row, 2, "pattern", Pattern::from_wire)?,
        status: wire_name(row, 3, "status", DiscussionStatus::from_wire)?,
        success: row.get(4)?,
        providers: serde_json::from_str(&providers)?,
        started_at: row.get(6)?,
        total_duration_ms: u64::try_from(duration).map_err(|_| OutOfRange {
            what: "duration_ms",
            value: duration.to_string(),
        })?,
    })
}

fn record_from_row(row: &Row<'_>) -> Result<DiscussionRecord, RowError> {
    let summary = summary_from_row(row)?;
    let result: String = row.get(9)?;
    Ok(DiscussionRecord {
        discussion_id: summary.discussion_id,
        topic: summary.topic,
        pattern: summary.pattern,
        status: summary.status,
        success: summary.success,
        providers: summary.providers,
        started_at: summary.started_at,
        completed_at: row.get(8)?,
        total_duration_ms: summary.total_duration_ms,
        result: serde_json::from_str(&result)?,
    })
}

impl SqliteHistory {
    pub(crate) fn new(shared: Shared, execution: Execution) -> Self {
        Self { shared, execution }
    }

    /// Runs `op` with a pooled connection where this history's [`Execution`] says;
    /// `what` names the operation in errors.
    async fn with_connection<R, F>(
        &self,
        what: &'static str,
        kind: Work,
        op: F,
    ) -> Result<R, HistoryError>
    where
        F: FnOnce(&mut Connection) -> Result<R, HistoryError> + Send + 'static,
        R: Send + 'static,
    {
        let fail = |context, source| HistoryError { context, source };
        with_pooled_connection(&self.shared, self.execution, kind, what, fail, op).await
    }
}

/// The insert both writes share; `save` adds an upsert, `save_missing` `DO NOTHING`.
const INSERT_DISCUSSION: &str = "INSERT INTO discussions (id, topic, pattern, status, \
     success, providers, started_at, completed_at, duration_ms, result) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ";

impl DiscussionRow {
    /// Runs `sql` (an [`INSERT_DISCUSSION`]) with this row; how many rows it wrote.
    fn write(&self, tx: &rusqlite::Transaction<'_>, sql: &str) -> rusqlite::Result<usize> {
        tx.prepare_cached(sql)?.execute(params![
            self.id,
            self.topic,
            self.pattern,
            self.status,
            self.success,
            self.providers,
            self.started_at,
            self.completed_at,
            self.duration_ms,
            self.result,
        ])
    }
}

fn save(conn: &mut Connection, row: &DiscussionRow) -> Result<(), HistoryError> {
    let fail = |e| history_backend(format!("saving discussion \"{}\"", row.id), e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    row.write(
        &tx,
        &format!(
            "{INSERT_DISCUSSION} ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, \
             pattern = excluded.pattern, status = excluded.status, success = excluded.success, \
             providers = excluded.providers, started_at = excluded.started_at, \
             completed_at = excluded.completed_at, duration_ms = excluded.duration_ms, \
             result = excluded.result"
        ),
    )
    .map_err(fail)?;
    tx.commit().map_err(fail)
}

/// Every row in one write transaction; an id already saved inserts nothing.
fn save_missing(
    conn: &mut Connection,
    rows: &[DiscussionRow],
) -> Result<Vec<String>, HistoryError> {
    let fail = |e| history_backend("saving missing discussions", e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let sql = format!("{INSERT_DISCUSSION} ON CONFLICT (id) DO NOTHING");
    let mut saved = Vec::new();
    for row in rows {
        if row.write(&tx, &sql).map_err(fail)? == 1 {
            saved.push(row.id.clone());
        }
    }
    tx.commit().map_err(fail)?;
    Ok(saved)
}

fn get(conn: &mut Connection, id: &str) -> Result<Option<DiscussionRecord>, HistoryError> {
    let context = || format!("reading discussion \"{id}\"");
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS}, completed_at, result FROM discussions WHERE id = ?1"
        ))
        .map_err(|e| history_backend(context(), e))?;
    let mut rows = stmt
        .query([id])
        .map_err(|e| history_backend(context(), e))?;
    match rows.next().map_err(|e| history_backend(context(), e))? {
        Some(row) => record_from_row(row)
            .map(Some)
            .map_err(|e| history_backend(context(), e)),
        None => Ok(None),
    }
}

fn list(
    conn: &mut Connection,
    limit: i64,
    before: Option<&str>,
) -> Result<Vec<DiscussionSummary>, HistoryError> {
    let fail = |e: rusqlite::Error| history_backend("listing discussions", e);
    let (sql, mut stmt_params): (String, Vec<rusqlite::types::Value>) = match before {
        Some(cursor) => (
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM discussions WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
            ),
            vec![cursor.to_owned().into()],
        ),
        None => (
            format!("SELECT {SUMMARY_COLUMNS} FROM discussions ORDER BY id DESC LIMIT ?1"),
            Vec::new(),
        ),
    };
    stmt_params.push(limit.into());
    let mut stmt = conn.prepare_cached(&sql).map_err(fail)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(stmt_params))
        .map_err(fail)?;
    let mut summaries = Vec::new();
    while let Some(row) = rows.next().map_err(fail)? {
        summaries
            .push(summary_from_row(row).map_err(|e| history_backend("listing discussions", e))?);
    }
    Ok(summaries)
}

#[async_trait]
impl DiscussionHistory for SqliteHistory {
    async fn save(&self, record: &DiscussionRecord) -> Result<(), HistoryError> {
        let row = DiscussionRow::from_record(record)?;
        self.with_connection("save", Work::Other, move |conn| save(conn, &row))
            .await
    }

    async fn get(&self, discussion_id: &str) -> Result<Option<DiscussionRecord>, HistoryError> {
        let id = discussion_id.to_owned();
        self.with_connection("get", Work::PointRead, move |conn| get(conn, &id))
            .await
    }

    async fn list(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<DiscussionSummary>, HistoryError> {
        // A limit past i64::MAX asks for everything, which is what i64::MAX gives.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let before = before.map(str::to_owned);
        self.with_connection("list", Work::Other, move |conn| {
            list(conn, limit, before.as_deref())
        })
        .await
    }

    async fn save_missing(
        &self,
        records: &[DiscussionRecord],
    ) -> Result<Vec<String>, HistoryError> {
        let rows = records
            .iter()
            .map(DiscussionRow::from_record)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_connection("save_missing", Work::Other, move |conn| {
            save_missing(conn, &rows)
        })
        .await
    }
}
