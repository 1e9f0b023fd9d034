//! The schema, as an ordered list of migrations recorded in the `schema_version`
//! table (one row per applied step).
//!
//! Rules every step follows, so that connecting is always harmless:
//! - steps only add (`CREATE ... IF NOT EXISTS`); no step changes or deletes a
//!   stored value, and each is idempotent on its own;
//! - INV-PG-MIGRATE-001: all pending steps run in ONE transaction that first takes
//!   the transaction-level advisory lock [`MIGRATION_LOCK`] and only then reads the
//!   version. Of many processes (on many machines) starting against a fresh
//!   database at once, one migrates and the others, once they get the lock, find
//!   nothing left to do. Without the lock, two concurrent `CREATE TABLE IF NOT
//!   EXISTS` can both pass the existence check and one fails on the catalog's
//!   unique index. The lock is released by the commit or the rollback, so a process
//!   that dies mid-migration never leaves it held;
//! - a database at a version newer than [`SCHEMA_VERSION`] is refused, untouched.
//!
//! Text that users control is never stored in a plain `TEXT` column that the store
//! compares on: PostgreSQL text cannot hold U+0000, which profiles may contain.
//! Profiles and discussions are stored as JSON text (which escapes it as `\u0000`),
//! and the filter keys (team, tag, capability) as their UTF-8 bytes (`BYTEA`), which
//! also compare exactly, byte for byte, whatever the database's collation.

use tokio_postgres::{Client, Transaction};

use crate::error::PostgresError;

/// The schema version this build writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 3;

/// The key of the advisory lock that serialises migrations (ASCII "ax_schem").
/// Advisory locks are per database; any other application using this exact key on
/// the same database would only be made to wait.
pub const MIGRATION_LOCK: i64 = 0x6178_5f73_6368_656d;

/// One schema step.
struct Migration {
    /// The version the database has once this step ran.
    version: u32,
    /// What the step adds, for logs and the `schema_version` row.
    summary: &'static str,
    /// The step itself: statements run in order inside the migration transaction.
    sql: &'static str,
}

/// Every step, oldest first. Never edit a released step: add a new one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        summary: "agents (UNIQUE agent_id), tag/capability keys, seeded defaults, markers, discussions",
        sql: V1,
    },
    Migration {
        version: 2,
        summary: "agent_terms: the term index recommend reads its candidates from",
        sql: V2,
    },
    Migration {
        version: 3,
        summary: "agent_terms without its foreign key: the store removes an agent's postings itself",
        sql: V3,
    },
];

/// Version 1: everything the registry and the history need.
///
/// - `agents.agent_id`: INV-AGT-DB-001 — the database itself enforces uniqueness,
///   twice over: the column's `UNIQUE` constraint and the named unique index
///   `idx_agents_agent_id` (as in the SQLite schema). No code path checks for
///   existence before inserting; the constraint decides. `COLLATE "C"` makes
///   `ORDER BY agent_id` byte order, the order the port promises, whatever the
///   database's default collation.
/// - `profile`: the profile JSON text, verbatim (not `jsonb`, which reorders keys
///   and rejects `\u0000`): reads return exactly what was written.
/// - `team` / `enabled`: filter keys, copies of profile fields.
/// - `revision`: the compare-and-swap counter.
/// - `agent_tags` / `agent_capabilities`: one row per distinct element, keyed by
///   `(element, agent_id)`, so "agents with tag X in agentId order" is one ordered
///   index range; they repeat team and enabled so combined filters are answered from
///   that range. `ON DELETE CASCADE` removes them with their agent, in the same
///   statement; the `agent_id` indexes serve that cascade and the store's rewrite.
/// - `seeded_defaults`: every default agent id ever seeded, so a default the user
///   removed is not brought back.
/// - `markers`: one-time actions (e.g. the import of the reference `agents.json`).
/// - `discussions`: finished discussions, newest first by their UUID v7 id; the
///   summary (every field but the result) and the result as JSON text.
const V1: &str = r#"
CREATE TABLE IF NOT EXISTS agents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id TEXT COLLATE "C" NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    team BYTEA,
    enabled BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    revision BIGINT NOT NULL CHECK (revision >= 0)
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_agents_agent_id ON agents (agent_id);
CREATE INDEX IF NOT EXISTS idx_agents_team ON agents (team, agent_id) INCLUDE (enabled);
CREATE INDEX IF NOT EXISTS idx_agents_enabled ON agents (enabled, agent_id);

CREATE TABLE IF NOT EXISTS agent_tags (
    tag BYTEA NOT NULL,
    agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    team BYTEA,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (tag, agent_id)
);
CREATE INDEX IF NOT EXISTS idx_agent_tags_agent_id ON agent_tags (agent_id);

CREATE TABLE IF NOT EXISTS agent_capabilities (
    capability BYTEA NOT NULL,
    agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    team BYTEA,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (capability, agent_id)
);
CREATE INDEX IF NOT EXISTS idx_agent_capabilities_agent_id ON agent_capabilities (agent_id);

CREATE TABLE IF NOT EXISTS seeded_defaults (
    agent_id TEXT COLLATE "C" PRIMARY KEY,
    seeded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS markers (
    key TEXT COLLATE "C" PRIMARY KEY,
    marked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS discussions (
    id TEXT COLLATE "C" PRIMARY KEY,
    summary TEXT NOT NULL,
    result TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#;

/// Version 2: `agent_terms`, the term index `recommend` reads its candidates from
/// (see `ax_agent_domain::recommend::terms`): one row per enabled agent and term,
/// with the upper bound of what the term can add to the agent's score. Keyed
/// `(term, weight, agent_id)`, so "the heaviest N postings of a term" is one index
/// range read backwards, whatever the registry's size; it repeats the agent's team
/// (its UTF-8 bytes, as the key tables do) for the team filter. Terms are
/// alphanumeric words, so never hold U+0000. `ON DELETE CASCADE` removed an agent's
/// postings with it until version 3 dropped the key; the `agent_id` index serves
/// the store's removal and rewrite of an agent's postings. Filled after the
/// migration by the store (the terms are computed in Rust, and a new version of them
/// rebuilds the table).
const V2: &str = r#"
CREATE TABLE IF NOT EXISTS agent_terms (
    term TEXT COLLATE "C" NOT NULL,
    weight DOUBLE PRECISION NOT NULL,
    agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    team BYTEA,
    PRIMARY KEY (term, weight, agent_id)
);
CREATE INDEX IF NOT EXISTS idx_agent_terms_agent_id ON agent_terms (agent_id);
"#;

/// Version 3: `agent_terms` loses its foreign key. The key's check ran once per
/// posting written — about 20 per agent, each a look-up in `agents` — and was a
/// third of the server's time in an import (measured with pgbench: 840 vs 530 µs
/// of server CPU per agent). What it gave, removing an agent's postings with it, the
/// store now does itself in the removing transaction (INV-PG-TERMS-001). A posting
/// left behind by some other writer would be harmless: candidates are read joined
/// to `agents`, and removed agents are not there.
const V3: &str = r#"
ALTER TABLE agent_terms DROP CONSTRAINT IF EXISTS agent_terms_agent_id_fkey;
"#;

/// The version table itself; created (idempotently) under the lock, before it is
/// read.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    summary TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// The schema version recorded in the database; 0 when it has none (a fresh
/// database). One query, no lock: what connecting runs when nothing is to be done.
pub(crate) async fn current_version(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN 0::bigint \
             ELSE (SELECT COALESCE(MAX(version), 0)::bigint FROM schema_version) END",
            &[],
        )
        .await;
    match row {
        Ok(row) => row.try_get(0),
        // The table vanished between the two halves of the query (dropped by hand):
        // treat as fresh; the locked path re-checks.
        Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
            Ok(0)
        }
        Err(error) => Err(error),
    }
}

/// Brings the database to [`SCHEMA_VERSION`]; returns the version it had before.
/// When it is already current this is one query.
pub(crate) async fn bring_up_to_date(
    client: &mut Client,
    target: &str,
) -> Result<i64, PostgresError> {
    let query = |source: tokio_postgres::Error| PostgresError::Query {
        target: target.to_owned(),
        context: "reading the schema version",
        source: Box::new(source),
    };
    let found = current_version(client).await.map_err(query)?;
    refuse_newer(found, target)?;
    if found == i64::from(SCHEMA_VERSION) {
        return Ok(found);
    }
    let migration = |version: u32| {
        move |source: tokio_postgres::Error| PostgresError::Migration {
            target: target.to_owned(),
            version,
            source,
        }
    };
    let tx = client.transaction().await.map_err(migration(0))?;
    migrate_locked(&tx, target).await?;
    tx.commit().await.map_err(migration(SCHEMA_VERSION))?;
    Ok(found)
}

/// The locked part of [`bring_up_to_date`], inside its transaction.
async fn migrate_locked(tx: &Transaction<'_>, target: &str) -> Result<(), PostgresError> {
    let migration = |version: u32| {
        move |source: tokio_postgres::Error| PostgresError::Migration {
            target: target.to_owned(),
            version,
            source,
        }
    };
    // INV-PG-MIGRATE-001: the lock first, then every read and write.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(migration(0))?;
    tx.batch_execute(VERSION_TABLE)
        .await
        .map_err(migration(0))?;
    // Another process may have migrated while this one waited for the lock.
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_version",
            &[],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(migration(0))?;
    refuse_newer(current, target)?;
    for step in MIGRATIONS.iter().filter(|m| i64::from(m.version) > current) {
        tx.batch_execute(step.sql)
            .await
            .map_err(migration(step.version))?;
        let version = i32::try_from(step.version).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_version (version, summary) VALUES ($1, $2)",
            &[&version, &step.summary],
        )
        .await
        .map_err(migration(step.version))?;
        tracing::info!(version = step.version, summary = step.summary, %target, "database migrated");
    }
    Ok(())
}

fn refuse_newer(found: i64, target: &str) -> Result<(), PostgresError> {
    if found < 0 || found > i64::from(SCHEMA_VERSION) {
        return Err(PostgresError::SchemaTooNew {
            target: target.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}
