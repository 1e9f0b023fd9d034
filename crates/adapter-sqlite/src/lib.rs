//! The SQLite adapter: one database file holds the agent registry
//! ([`SqliteAgentStore`], the `AgentStore` port) and the discussion history
//! ([`SqliteHistory`], the `DiscussionHistory` port).
//!
//! **Architecture invariant:** the database, not the code, decides whether an agent id
//! is taken. `agent_id` is `UNIQUE` with the unique index `idx_agents_agent_id`
//! (INV-AGT-DB-001); registration inserts without looking first, and a constraint
//! violation becomes `AlreadyExists` (INV-AGT-REG-001). Every write is one
//! `BEGIN IMMEDIATE` transaction, so any number of processes can share the file and
//! nothing acknowledged is lost.
//!
//! **API boundary:** [`SqliteDatabase::open`] and the two port implementations;
//! `ax doctor` reads [`SqliteDatabase::health`]. Only the composition root,
//! `crates/cli/src/app.rs`, opens it (`tests/e2e/architecture.rs` holds that line);
//! the MCP server is handed services already wired over it and does not depend on
//! this crate.
//!
//! ```
//! use ax_adapter_sqlite::SqliteDatabase;
//! use ax_agent_domain::store::{AgentStore, StoreError};
//! use ax_contracts::agent::AgentRecord;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! // Creates the directory and the file, and migrates the schema.
//! let db = SqliteDatabase::open(dir.path().join("ax").join("data.db"))?;
//! let store = db.agent_store();
//!
//! let record: AgentRecord = serde_json::from_value(serde_json::json!({
//!     "agentId": "reviewer",
//!     "description": "Reviews pull requests",
//!     "tags": ["code"],
//!     "createdAt": "2026-01-20T10:00:00Z",
//!     "updatedAt": "2026-01-20T10:00:00Z",
//!     "revision": 1
//! }))?;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! runtime.block_on(async {
//!     store.insert(&record).await?;
//!     // The second registration of the same id is refused by the database.
//!     assert!(matches!(store.insert(&record).await, Err(StoreError::AlreadyExists { .. })));
//!     assert_eq!(store.get("reviewer").await?, Some(record));
//!     Ok::<_, StoreError>(())
//! })?;
//! # Ok(())
//! # }
//! ```

mod agent_rows;
mod agent_store;
mod backup;
mod blocking;
mod connection;
mod database;
mod diagnostics;
mod element_bits;
mod error;
mod history;
mod list_query;
mod many_rows;
mod migrations;
mod term_index;

pub use agent_store::SqliteAgentStore;
pub use backup::BackupReport;
pub use blocking::Execution;
pub use connection::ConnectionSettings;
pub use database::{DatabaseOptions, SqliteDatabase};
pub use diagnostics::{DatabaseHealth, TableCounts};
pub use error::{DatabaseBusy, DatabaseError};
pub use history::SqliteHistory;
pub use migrations::SCHEMA_VERSION;
/// The pooled connection type [`SqliteDatabase::connection`] hands out.
pub use r2d2::PooledConnection;
/// The connection manager of the pool.
pub use r2d2_sqlite::SqliteConnectionManager;
