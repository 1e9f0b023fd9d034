//! The PostgreSQL adapter: one database, shared by every process on every machine
//! pointed at it, holds the agent registry ([`PostgresAgentStore`], the
//! `AgentStore` port) and the discussion history ([`PostgresHistory`], the
//! `DiscussionHistory` port). It gives the same guarantees as the SQLite adapter,
//! enforced by the server rather than by a file lock, so a team can share one
//! registry.
//!
//! **Architecture invariant:** the database, not the code, decides whether an agent
//! id is taken. `agent_id` is `UNIQUE` with the unique index `idx_agents_agent_id`
//! (INV-AGT-DB-001); registration is one `INSERT` without looking first, and the
//! unique violation (SQLSTATE 23505) becomes `AlreadyExists` (INV-AGT-REG-001).
//! Updates are compare-and-swap on `revision` (INV-PG-CAS-001); seeding and one-time
//! actions are claimed with `INSERT ... ON CONFLICT DO NOTHING` in the writing
//! transaction (INV-PG-ONCE-001); migrations are serialised by an advisory lock
//! (INV-PG-MIGRATE-001). An unreachable server is reported as such, quickly
//! (INV-PG-UNREACH-001), and no message or `Debug` output holds the password
//! (INV-PG-SECRET-001).
//!
//! **API boundary:** [`DatabaseUrl::parse`], [`PostgresDatabase::connect`] and the
//! two port implementations; `ax doctor` reads [`PostgresDatabase::health`]. Only
//! the composition roots construct it. Everything is async on Tokio (the pool needs
//! a Tokio runtime with the time driver enabled).
//!
//! ```no_run
//! use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase};
//! use ax_agent_domain::store::{AgentStore, StoreError};
//! use ax_contracts::agent::AgentRecord;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let url = DatabaseUrl::parse("postgres://ax:secret@db.internal:5432/ax?sslmode=require")?;
//! // Connects (5 s at most by default) and migrates the schema.
//! let db = PostgresDatabase::connect(&url).await?;
//! let store = db.agent_store();
//!
//! let record: AgentRecord = serde_json::from_value(serde_json::json!({
//!     "agentId": "reviewer",
//!     "description": "Reviews pull requests",
//!     "createdAt": "2026-01-20T10:00:00Z",
//!     "updatedAt": "2026-01-20T10:00:00Z",
//!     "revision": 1
//! }))?;
//! store.insert(&record).await?;
//! // The second registration of the same id is refused by the database.
//! assert!(matches!(store.insert(&record).await, Err(StoreError::AlreadyExists { .. })));
//! # Ok(())
//! # }
//! ```

mod agent_rows;
mod agent_store;
mod config;
mod database;
mod error;
mod history;
mod list_query;
mod migrations;
mod term_index;
mod tls;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use agent_store::PostgresAgentStore;
pub use config::{DEFAULT_CONNECT_TIMEOUT, DatabaseUrl, InvalidUrl, PoolOptions};
pub use database::{DatabaseHealth, PostgresDatabase};
pub use error::PostgresError;
pub use history::PostgresHistory;
pub use migrations::{MIGRATION_LOCK, SCHEMA_VERSION};
