//! Shared test helpers: temporary databases, records, and running port futures.

use std::future::Future;
use std::path::PathBuf;

use ax_adapter_sqlite::SqliteDatabase;
use ax_contracts::agent::AgentRecord;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A fresh database in its own temporary directory (kept alive by the `TempDir`).
pub fn temp_db() -> (TempDir, SqliteDatabase) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let db = SqliteDatabase::open(db_path(&dir)).expect("open a fresh database");
    (dir, db)
}

/// Where the tests put the database file inside `dir`.
pub fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("data.db")
}

/// A record for `id`, with `extra` profile fields merged in. Built through serde like
/// any record read from JSON, so it only depends on the contract's field names.
pub fn record(id: &str, extra: Value) -> AgentRecord {
    let mut doc = json!({
        "agentId": id,
        "description": format!("agent {id}"),
        "createdAt": "2026-01-20T10:00:00.000Z",
        "updatedAt": "2026-01-20T10:00:00.000Z",
        "revision": 1,
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut doc, extra) {
        base.extend(more);
    }
    serde_json::from_value(doc).expect("test records are well-formed JSON")
}

/// Runs a port future on a current-thread Tokio runtime, so the store goes through
/// its `spawn_blocking` path as it does under the CLI and the MCP server.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a Tokio runtime")
        .block_on(future)
}

/// Rows in `table`, counted with raw SQL (not through the store).
pub fn count_rows(db: &SqliteDatabase, table: &str) -> i64 {
    db.connection()
        .expect("connection")
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .expect("count rows")
}

/// The agent ids of a listing, in order.
pub fn ids(records: &[AgentRecord]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r.profile.agent_id.as_str())
        .collect()
}
