//! The schema, as an ordered list of migrations recorded in `PRAGMA user_version`.
//!
//! Rules every step follows, so that opening a database is always harmless:
//! - steps only add (`CREATE ... IF NOT EXISTS`, columns added only when missing and
//!   filled from the row's own values, side-table rows derived from existing rows);
//!   no step changes or deletes an existing value — the one exception being a side
//!   table or index, which holds nothing but what is derived from the agent rows and
//!   may be rebuilt from them (version 4);
//! - each step is idempotent on its own, so a step re-run over a partly upgraded
//!   file (e.g. one upgraded by hand) does no harm;
//! - all pending steps run in one `BEGIN IMMEDIATE` transaction that re-reads the
//!   version first: of several processes opening a fresh file at once, one upgrades
//!   and the others, once they get the lock, find nothing left to do;
//! - a file at a version newer than [`SCHEMA_VERSION`] is refused, untouched;
//! - a released step is never edited: databases already past it would not see the
//!   edit, and two files at the same `user_version` would hold different schemas.
//!   A unit test below holds a checksum of every step's source and fails on an edit;
//!   a change is a new step. (Version 2 was edited twice before that test existed;
//!   version 4 brings files made by every variant to one schema.)

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::database::open_error;
use crate::error::{DatabaseError, is_busy};

/// The schema version this build writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 7;

/// One schema step.
struct Migration {
    /// The `user_version` the database has once this step ran.
    version: u32,
    /// What the step adds, for logs.
    summary: &'static str,
    /// The step itself, run inside the upgrade transaction.
    apply: fn(&Transaction<'_>) -> rusqlite::Result<()>,
}

/// Every step, oldest first. Never edit a released step: add a new one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        summary: "agents table with UNIQUE agent_id (REQ-2)",
        apply: v1_agents_table,
    },
    Migration {
        version: 2,
        summary: "profile JSON, revision, tag/capability/team indexes, seeded defaults, markers",
        apply: v2_registry,
    },
    Migration {
        version: 3,
        summary: "discussion history",
        apply: v3_discussions,
    },
    Migration {
        version: 4,
        summary: "one schema for files made by every released variant of version 2",
        apply: v4_reconcile_v2_variants,
    },
    Migration {
        version: 5,
        summary: "agent_terms: the term index recommend reads its candidates from",
        apply: v5_agent_terms,
    },
    Migration {
        version: 6,
        summary: "agent_counts (exact list totals kept by triggers) and each side row's tag/capability lists",
        apply: v6_list_counts,
    },
    Migration {
        version: 7,
        summary: "element_bits and each side row's tag/capability bit masks",
        apply: v7_element_masks,
    },
];

/// Version 1: the agents table exactly as the requirement (REQ-2) gives it.
///
/// INV-AGT-DB-001: the database itself enforces `agent_id` uniqueness, twice over:
/// the column's `UNIQUE` constraint and the named unique index `idx_agents_agent_id`.
/// No code path checks for existence before inserting; the constraint decides.
fn v1_agents_table(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS agents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            agent_id TEXT NOT NULL UNIQUE,
            display_name TEXT,
            description TEXT NOT NULL,
            system_prompt TEXT,
            capabilities TEXT,
            tags TEXT,
            team TEXT,
            enabled INTEGER DEFAULT 1,
            created_at TEXT DEFAULT CURRENT_TIMESTAMP,
            updated_at TEXT DEFAULT CURRENT_TIMESTAMP
        );
        CREATE UNIQUE INDEX IF NOT EXISTS idx_agents_agent_id ON agents(agent_id);",
    )
}

/// Version 2: what the registry needs beyond the requirement's columns.
///
/// - `profile`: the full profile JSON, verbatim, so every field (including unknown
///   nested keys) round-trips; rows from version 1 have none and are read from their
///   columns instead.
/// - `revision`: the compare-and-swap counter; version-1 rows start at 1.
/// - `is_enabled`: the enabled flag as exactly 0 or 1, kept by the store beside
///   `enabled` (which version-1 rows may hold as NULL, meaning enabled by its
///   `DEFAULT 1`). It exists so that the filter indexes below cover it: SQLite
///   cannot answer a virtual generated column from an index, and would read every
///   matching agent row. Filled for version-1 rows from their `enabled`.
/// - `agent_tags` / `agent_capabilities`: one row per element, keyed by
///   `(element, agent_id)`, so "agents with tag X, in agentId order" is one ordered
///   index range, and the count is that range's length: a page at 100k agents never
///   reads the (large) agent rows it does not return. They repeat the agent's `team`
///   and enabled flag, which the store rewrites with them on every change, so
///   combined filters are answered from the same range. The store deletes an
///   agent's entries by their keys — the elements are the JSON arrays in the agent's
///   own `tags` / `capabilities` columns — in the same transaction as the agent row.
///   Why not a foreign key with `ON DELETE CASCADE`: a cascade needs an index on
///   `agent_rowid`, two more B-tree pages written by every registration for a
///   lookup the store can do by primary key (registration throughput was ~15 %
///   lower with them). Version-1 rows' tags and capabilities (JSON arrays in their
///   text columns) are copied in.
/// - `idx_agents_team` / `idx_agents_enabled`: the team and enabled filters, already
///   in listing order.
/// - `seeded_defaults`: every default agent id ever seeded, so a default the user
///   removed is not brought back.
/// - `markers`: one-time actions (e.g. the import of the reference `agents.json`).
fn v2_registry(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    add_column_if_missing(tx, "agents", "profile", "TEXT")?;
    add_column_if_missing(tx, "agents", "revision", "INTEGER NOT NULL DEFAULT 1")?;
    if !column_exists(tx, "agents", "is_enabled")? {
        tx.execute_batch(
            "ALTER TABLE agents ADD COLUMN is_enabled INTEGER NOT NULL DEFAULT 1;
             UPDATE agents SET is_enabled = 0 WHERE IFNULL(enabled, 1) = 0;",
        )?;
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS agent_tags (
            tag TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            agent_rowid INTEGER NOT NULL,
            team TEXT,
            enabled INTEGER NOT NULL,
            PRIMARY KEY (tag, agent_id)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS agent_capabilities (
            capability TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            agent_rowid INTEGER NOT NULL,
            team TEXT,
            enabled INTEGER NOT NULL,
            PRIMARY KEY (capability, agent_id)
        ) WITHOUT ROWID;

        CREATE INDEX IF NOT EXISTS idx_agents_team ON agents(team, agent_id, is_enabled);
        CREATE INDEX IF NOT EXISTS idx_agents_enabled ON agents(is_enabled, agent_id);

        CREATE TABLE IF NOT EXISTS seeded_defaults (
            agent_id TEXT PRIMARY KEY NOT NULL,
            seeded_at TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS markers (
            key TEXT PRIMARY KEY NOT NULL,
            marked_at TEXT NOT NULL
        ) WITHOUT ROWID;

        INSERT OR IGNORE INTO agent_tags (tag, agent_id, agent_rowid, team, enabled)
            SELECT j.value, a.agent_id, a.id, a.team, a.is_enabled FROM agents AS a, json_each(
                CASE WHEN json_valid(a.tags) THEN
                    CASE WHEN json_type(a.tags) = 'array' THEN a.tags END
                END) AS j
            WHERE j.type = 'text';
        INSERT OR IGNORE INTO agent_capabilities (capability, agent_id, agent_rowid, team, enabled)
            SELECT j.value, a.agent_id, a.id, a.team, a.is_enabled FROM agents AS a, json_each(
                CASE WHEN json_valid(a.capabilities) THEN
                    CASE WHEN json_type(a.capabilities) = 'array' THEN a.capabilities END
                END) AS j
            WHERE j.type = 'text';",
    )
}

/// Version 3: finished discussions, newest first by their UUID v7 id.
fn v3_discussions(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS discussions (
            id TEXT PRIMARY KEY NOT NULL,
            topic TEXT NOT NULL,
            pattern TEXT NOT NULL,
            status TEXT NOT NULL,
            success INTEGER NOT NULL,
            providers TEXT NOT NULL,
            started_at TEXT NOT NULL,
            completed_at TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            result TEXT NOT NULL
        );",
    )
}

/// Version 4: brings a file made by any of the three variants of version 2 to the
/// schema the current version 2 creates, so every file at this version has one schema.
///
/// Version 2 was edited in place twice after files had been made with it:
/// - first release: side tables keyed `(element, agent_rowid)` with a foreign key
///   `ON DELETE CASCADE` and an index on `agent_rowid`, no `is_enabled` column, and
///   `idx_agents_team` on `(team, agent_id)` only. The current store cannot use such
///   a file at all (it writes `agent_id`, `team` and `enabled` into the side tables);
/// - second variant: today's side-table columns and key, but still with the cascade
///   and the `agent_rowid` indexes (written by every registration for nothing).
///
/// Each difference is checked and fixed only when found, so the step does nothing on
/// a file made by the current version 2 and may run again:
/// - `is_enabled` added and filled from `enabled`, as version 2 does;
/// - a side table without `agent_id`, or with a foreign key, is rebuilt: renamed
///   aside, created as version 2 creates it, refilled from the agents' own `tags` /
///   `capabilities` JSON columns (the store keeps those and the side tables equal, and
///   deletes side entries by them), and the old table (with its index) dropped. The
///   side tables hold nothing else, so nothing is lost;
/// - `idx_agents_team` without `is_enabled` is dropped and created again;
/// - `idx_agents_enabled` is created if missing.
///
/// SQL is written out here, not shared with version 2: a released step must not
/// change when a later one does.
fn v4_reconcile_v2_variants(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    if !column_exists(tx, "agents", "is_enabled")? {
        tx.execute_batch(
            "ALTER TABLE agents ADD COLUMN is_enabled INTEGER NOT NULL DEFAULT 1;
             UPDATE agents SET is_enabled = 0 WHERE IFNULL(enabled, 1) = 0;",
        )?;
    }
    for (table, key, source) in [
        ("agent_tags", "tag", "tags"),
        ("agent_capabilities", "capability", "capabilities"),
    ] {
        if side_table_is_outdated(tx, table)? {
            rebuild_side_table(tx, table, key, source)?;
        }
    }
    let team_index_covers_enabled: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_index_info('idx_agents_team') WHERE name = 'is_enabled')",
        [],
        |row| row.get(0),
    )?;
    if !team_index_covers_enabled {
        tx.execute_batch(
            "DROP INDEX IF EXISTS idx_agents_team;
            CREATE INDEX idx_agents_team ON agents(team, agent_id, is_enabled);",
        )?;
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS idx_agents_enabled ON agents(is_enabled, agent_id);",
    )
}

/// Version 5: `agent_terms`, the term index `recommend` reads its candidates from
/// (see `ax_agent_domain::recommend::terms`): one row per enabled agent and term,
/// with the upper bound of what the term can add to the agent's score.
///
/// Keyed `(term, weight DESC, agent_rowid)`, so "the heaviest N postings of a term"
/// is the first N entries of one index range, whatever the registry's size. It
/// repeats the agent's `team`, so the team filter is answered from the same range.
/// No foreign key (as for the tag and capability tables): the store deletes an
/// agent's postings by their keys, recomputed from the agent's stored profile, in the
/// same transaction as the agent row. Disabled agents have no postings.
///
/// The table is filled from the agents after the migration, by the store (the terms
/// are computed in Rust, and a new version of them rebuilds the table), see
/// `term_index::ensure_built`.
fn v5_agent_terms(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS agent_terms (
            term TEXT NOT NULL,
            weight REAL NOT NULL,
            agent_rowid INTEGER NOT NULL,
            team TEXT,
            PRIMARY KEY (term, weight DESC, agent_rowid)
        ) WITHOUT ROWID;",
    )
}

/// Version 6: what keeps `ax agent list` as fast at a million agents as at a thousand
/// (see `list_query`).
///
/// - `agent_counts`: how many agents, tag entries and capability entries there are
///   per (kind, key, enabled flag, team): the exact total of every listing filtered by
///   at most one tag or one capability, read from a few rows instead of counting an
///   index range of up to every agent. `has_team` tells an agent without a team from
///   one whose team is the empty string (the key cannot hold NULL).
/// - Triggers keep it: every insert, delete, and change of team or enabled flag of an
///   agent row or a side-table row adds or subtracts one, in the statement (and so the
///   transaction) that made the change, whichever code wrote it. Rows reaching zero
///   are deleted. INV-AGT-DB-002.
/// - `tag_list` / `capability_list` on the side tables: the agent's tags (and, on
///   `agent_tags`, its capabilities) as one text, `,` + each element + `,`, with `%`
///   and `,` inside an element written `%25` and `%2C`, so `instr(list, ',x,') > 0`
///   is exact membership. A listing filtered by several tags, or by tags and a
///   capability, then reads one index range per filter element and checks the others
///   inside the row, instead of probing another table per agent (142 ms at 1M).
///   Filled here for existing rows from the agents' own JSON columns; the store writes
///   them with every side row.
///
/// The counts are rebuilt from the tables at the end, so the step is exact on any
/// file and idempotent. Later steps that rename or recreate a counted table must
/// recreate these triggers.
fn v6_list_counts(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    add_column_if_missing(tx, "agent_tags", "tag_list", "TEXT")?;
    add_column_if_missing(tx, "agent_tags", "capability_list", "TEXT")?;
    add_column_if_missing(tx, "agent_capabilities", "tag_list", "TEXT")?;
    let list = |column: &str| {
        format!(
            "(SELECT ',' || IFNULL(group_concat(replace(replace(j.value, '%', '%25'), ',', '%2C') || ',', ''), '') \
             FROM agents AS a, json_each(CASE WHEN json_valid(a.{column}) THEN \
             CASE WHEN json_type(a.{column}) = 'array' THEN a.{column} END END) AS j \
             WHERE a.id = s.agent_rowid AND j.type = 'text')"
        )
    };
    tx.execute_batch(&format!(
        "UPDATE agent_tags AS s SET tag_list = {tags}, capability_list = {capabilities}
            WHERE s.tag_list IS NULL OR s.capability_list IS NULL;
        UPDATE agent_capabilities AS s SET tag_list = {tags} WHERE s.tag_list IS NULL;",
        tags = list("tags"),
        capabilities = list("capabilities"),
    ))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS agent_counts (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            has_team INTEGER NOT NULL,
            team TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (kind, key, enabled, has_team, team)
        ) WITHOUT ROWID;",
    )?;
    for (table, kind, key, changed) in [
        ("agents", "'agent'", "''", "team, is_enabled"),
        ("agent_tags", "'tag'", "{row}.tag", "tag, team, enabled"),
        (
            "agent_capabilities",
            "'capability'",
            "{row}.capability",
            "capability, team, enabled",
        ),
    ] {
        let enabled = if table == "agents" {
            "is_enabled"
        } else {
            "enabled"
        };
        let add = |row: &str| {
            format!(
                "INSERT INTO agent_counts (kind, key, enabled, has_team, team, n) \
                 VALUES ({kind}, {key}, {row}.{enabled}, {row}.team IS NOT NULL, IFNULL({row}.team, ''), 1) \
                 ON CONFLICT DO UPDATE SET n = n + 1;",
                key = key.replace("{row}", row),
            )
        };
        let subtract = |row: &str| {
            let matches = format!(
                "kind = {kind} AND key = {key} AND enabled = {row}.{enabled} \
                 AND has_team = ({row}.team IS NOT NULL) AND team = IFNULL({row}.team, '')",
                key = key.replace("{row}", row),
            );
            format!(
                "UPDATE agent_counts SET n = n - 1 WHERE {matches}; \
                 DELETE FROM agent_counts WHERE {matches} AND n <= 0;"
            )
        };
        let (old_key, new_key) = (key.replace("{row}", "OLD"), key.replace("{row}", "NEW"));
        tx.execute_batch(&format!(
            "CREATE TRIGGER IF NOT EXISTS {table}_count_insert AFTER INSERT ON {table} BEGIN {add_new} END;
            CREATE TRIGGER IF NOT EXISTS {table}_count_delete AFTER DELETE ON {table} BEGIN {subtract_old} END;
            CREATE TRIGGER IF NOT EXISTS {table}_count_update AFTER UPDATE OF {changed} ON {table}
                WHEN {old_key} IS NOT {new_key} OR OLD.team IS NOT NEW.team OR OLD.{enabled} IS NOT NEW.{enabled}
                BEGIN {subtract_old} {add_new} END;",
            add_new = add("NEW"),
            subtract_old = subtract("OLD"),
        ))?;
    }
    tx.execute_batch(
        "DELETE FROM agent_counts;
        INSERT INTO agent_counts (kind, key, enabled, has_team, team, n)
            SELECT 'agent', '', is_enabled, team IS NOT NULL, IFNULL(team, ''), COUNT(*)
            FROM agents GROUP BY 3, 4, 5;
        INSERT INTO agent_counts (kind, key, enabled, has_team, team, n)
            SELECT 'tag', tag, enabled, team IS NOT NULL, IFNULL(team, ''), COUNT(*)
            FROM agent_tags GROUP BY 2, 3, 4, 5;
        INSERT INTO agent_counts (kind, key, enabled, has_team, team, n)
            SELECT 'capability', capability, enabled, team IS NOT NULL, IFNULL(team, ''), COUNT(*)
            FROM agent_capabilities GROUP BY 2, 3, 4, 5;",
    )
}

/// Version 7: bit masks that answer a combined filter's membership tests with one
/// integer `&` per side row instead of `instr` over its element lists (which cost
/// two thirds of `list --tag A --tag B --capability C` at 1M agents: 28 ms of 40).
///
/// - `element_bits`: a bit number (0–62) per tag and per capability, given to the
///   first 63 distinct elements of each kind, once and for ever: a bit is never
///   moved or taken back, so a mask written once stays right. Elements past the 63rd
///   get none and are tested through the element lists, as before.
/// - `tag_mask` / `capability_mask` on the side rows: the OR of the bits of the
///   agent's tags (on both side tables) and capabilities (on `agent_tags`). The store
///   writes them with every side row, giving a new element its bit in the same
///   transaction (INV-AGT-DB-003).
///
/// For an existing file the bits go to the most frequent elements (by
/// `agent_counts`), only when the kind has none yet, and every side row's masks are
/// computed from the agent's own JSON columns, so the step is exact on any file and
/// idempotent.
fn v7_element_masks(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    add_column_if_missing(tx, "agent_tags", "tag_mask", "INTEGER NOT NULL DEFAULT 0")?;
    add_column_if_missing(
        tx,
        "agent_tags",
        "capability_mask",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    add_column_if_missing(
        tx,
        "agent_capabilities",
        "tag_mask",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS element_bits (
            kind TEXT NOT NULL,
            element TEXT NOT NULL,
            bit INTEGER NOT NULL,
            PRIMARY KEY (kind, element)
        ) WITHOUT ROWID;",
    )?;
    for kind in ["tag", "capability"] {
        tx.execute(
            "INSERT INTO element_bits (kind, element, bit)
                SELECT ?1, key, ROW_NUMBER() OVER (ORDER BY SUM(n) DESC, key) - 1
                FROM agent_counts WHERE kind = ?1
                    AND NOT EXISTS (SELECT 1 FROM element_bits WHERE kind = ?1)
                GROUP BY key ORDER BY SUM(n) DESC, key LIMIT 63",
            [kind],
        )?;
    }
    // Each agent's masks, computed once from its JSON columns in rowid order, then
    // copied to its side rows: at 1M agents 30 s, where a subquery per side row took
    // 330 s.
    let mask = |kind: &str, column: &str| {
        format!(
            "(SELECT IFNULL(SUM(DISTINCT 1 << (SELECT b.bit FROM element_bits AS b \
             WHERE b.kind = '{kind}' AND b.element = j.value)), 0) \
             FROM json_each(CASE WHEN json_valid(a.{column}) THEN \
             CASE WHEN json_type(a.{column}) = 'array' THEN a.{column} END END) AS j \
             WHERE j.type = 'text')"
        )
    };
    tx.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.agent_masks_v7;
        CREATE TEMP TABLE agent_masks_v7 (
            agent_rowid INTEGER PRIMARY KEY,
            tag_mask INTEGER NOT NULL,
            capability_mask INTEGER NOT NULL
        );
        INSERT INTO agent_masks_v7 SELECT a.id, {tags}, {capabilities} FROM agents AS a;
        UPDATE agent_tags AS s SET tag_mask = m.tag_mask, capability_mask = m.capability_mask
            FROM agent_masks_v7 AS m WHERE m.agent_rowid = s.agent_rowid;
        UPDATE agent_capabilities AS s SET tag_mask = m.tag_mask
            FROM agent_masks_v7 AS m WHERE m.agent_rowid = s.agent_rowid;
        DROP TABLE temp.agent_masks_v7;",
        tags = mask("tag", "tags"),
        capabilities = mask("capability", "capabilities"),
    ))
}

/// Rebuilds side table `table` (one row per `key`, e.g. `agent_tags` by `tag`) as the
/// current version 2 creates it, refilled from each agent's own JSON array column
/// `source` (e.g. `tags`).
fn rebuild_side_table(
    tx: &Transaction<'_>,
    table: &str,
    key: &str,
    source: &str,
) -> rusqlite::Result<()> {
    tx.execute_batch(&format!(
        "ALTER TABLE {table} RENAME TO {table}_before_v4;
        CREATE TABLE {table} (
            {key} TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            agent_rowid INTEGER NOT NULL,
            team TEXT,
            enabled INTEGER NOT NULL,
            PRIMARY KEY ({key}, agent_id)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO {table} ({key}, agent_id, agent_rowid, team, enabled)
            SELECT j.value, a.agent_id, a.id, a.team, a.is_enabled FROM agents AS a, json_each(
                CASE WHEN json_valid(a.{source}) THEN
                    CASE WHEN json_type(a.{source}) = 'array' THEN a.{source} END
                END) AS j
            WHERE j.type = 'text';
        DROP TABLE {table}_before_v4;"
    ))
}

/// True when side table `table` is not as the current version 2 creates it: it lacks
/// the `agent_id` column (first release) or still has the foreign key (both earlier
/// variants).
fn side_table_is_outdated(tx: &Transaction<'_>, table: &str) -> rusqlite::Result<bool> {
    let has_foreign_key: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_foreign_key_list(?1))",
        [table],
        |row| row.get(0),
    )?;
    Ok(has_foreign_key || !column_exists(tx, table, "agent_id")?)
}

/// `ALTER TABLE ... ADD COLUMN` has no `IF NOT EXISTS`; checking the columns first
/// keeps the step idempotent. `table_xinfo`, not `table_info`: only the former lists
/// generated columns.
fn add_column_if_missing(
    tx: &Transaction<'_>,
    table: &str,
    column: &str,
    definition: &str,
) -> rusqlite::Result<()> {
    if !column_exists(tx, table, column)? {
        tx.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN {column} {definition}"
        ))?;
    }
    Ok(())
}

fn column_exists(tx: &Transaction<'_>, table: &str, column: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_xinfo(?1) WHERE name = ?2)",
        [table, column],
        |row| row.get(0),
    )
}

/// `PRAGMA user_version` of the database `conn` is open on.
pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings the database to [`SCHEMA_VERSION`] and WAL mode; returns the version the
/// file had before. When the file is already current this is one read of
/// `user_version` and one of `journal_mode`, which keeps CLI start-up cheap.
///
/// Every lock it waits for is waited for until `deadline` at most, all steps
/// together (`busy_timeout` is what the deadline was made of, for the error).
pub(crate) fn bring_up_to_date(
    conn: &mut Connection,
    path: &Path,
    deadline: Instant,
    busy_timeout: Duration,
) -> Result<i64, DatabaseError> {
    let result = up_to_date(conn, path, deadline, busy_timeout);
    // The connection waits its full busy timeout again from here on.
    let _ = conn.busy_timeout(busy_timeout);
    result
}

/// Sets `conn`'s busy timeout to what is left until `deadline` (none left: do not
/// wait at all).
fn wait_until(conn: &Connection, deadline: Instant) -> rusqlite::Result<()> {
    conn.busy_timeout(deadline.saturating_duration_since(Instant::now()))
}

fn up_to_date(
    conn: &mut Connection,
    path: &Path,
    deadline: Instant,
    busy_timeout: Duration,
) -> Result<i64, DatabaseError> {
    let query = |source| open_error(path, busy_timeout, source);
    wait_until(conn, deadline).map_err(query)?;
    let found = user_version(conn).map_err(query)?;
    refuse_newer(found, path)?;
    ensure_wal(conn, deadline).map_err(query)?;
    if found == i64::from(SCHEMA_VERSION) {
        return Ok(found);
    }

    wait_until(conn, deadline).map_err(query)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(query)?;
    // Another process may have upgraded while this one waited for the lock.
    let current = user_version(&tx).map_err(query)?;
    refuse_newer(current, path)?;
    let migration = |version: u32| {
        move |source: rusqlite::Error| {
            if is_busy(&source) {
                DatabaseError::Busy {
                    path: path.to_owned(),
                    waited: busy_timeout,
                }
            } else {
                DatabaseError::Migration {
                    path: path.to_owned(),
                    version,
                    source,
                }
            }
        }
    };
    for step in MIGRATIONS.iter().filter(|m| i64::from(m.version) > current) {
        (step.apply)(&tx).map_err(migration(step.version))?;
        tracing::info!(version = step.version, summary = step.summary, path = %path.display(), "database migrated");
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(migration(SCHEMA_VERSION))?;
    tx.commit().map_err(migration(SCHEMA_VERSION))?;
    Ok(found)
}

fn refuse_newer(found: i64, path: &Path) -> Result<(), DatabaseError> {
    if found < 0 || found > i64::from(SCHEMA_VERSION) {
        return Err(DatabaseError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// How long to wait between two attempts to switch to WAL while another connection
/// holds a lock.
const WAL_SWITCH_PAUSE: Duration = Duration::from_millis(25);

/// Puts the file in WAL mode (stored in the file, so this changes something only on
/// first open). Readers then never block writers and writers never block readers.
///
/// The switch needs the file to itself: SQLite may refuse at once, without its busy
/// handler, while another process reads a rollback-journal file. It is retried until
/// `deadline`, each attempt allowed to wait only for what is left, so the switch
/// never takes longer than the busy timeout (it used to retry 200 times, each
/// attempt waiting on its own: minutes behind another process's read lock).
fn ensure_wal(conn: &Connection, deadline: Instant) -> rusqlite::Result<()> {
    loop {
        wait_until(conn, deadline)?;
        let result: rusqlite::Result<String> =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0));
        match result {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                tracing::warn!(%mode, "SQLite kept another journal mode than WAL");
                return Ok(());
            }
            Err(error) if is_busy(&error) && Instant::now() + WAL_SWITCH_PAUSE < deadline => {
                std::thread::sleep(WAL_SWITCH_PAUSE);
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Released steps are frozen: a checksum of each step's source is kept here.

    use super::MIGRATIONS;

    /// This file's own text, as compiled.
    const SOURCE: &str = include_str!("migrations.rs");

    /// Every released step (version, function, checksum of its source), and the helper
    /// functions the released steps call, which are frozen with them (version 0).
    /// A step added by a change gets its line here in that change; until it is
    /// released its checksum may still be updated with it.
    const RELEASED: &[(u32, &str, u64)] = &[
        (0, "add_column_if_missing", 0x41c7_8741_2f3f_f73e),
        (0, "column_exists", 0x9b83_72f9_5f64_c3f6),
        (1, "v1_agents_table", 0xd75f_d137_b176_9bdc),
        (2, "v2_registry", 0x0903_8bf1_746c_9f68),
        (3, "v3_discussions", 0xda5a_afed_6623_fe55),
        (4, "v4_reconcile_v2_variants", 0xdd6f_9926_7b99_bb51),
        (4, "side_table_is_outdated", 0x105c_1a95_3225_9372),
        (4, "rebuild_side_table", 0x78d4_29bc_7556_9dde),
        (5, "v5_agent_terms", 0x3fec_32ac_ea3e_0e54),
        (6, "v6_list_counts", 0x2586_82ca_a0c8_b3f2),
        (7, "v7_element_masks", 0x838f_18be_007b_da5a),
    ];

    /// The source of `fn name` from its signature to its closing brace at the start of
    /// a line, with every whitespace run made one space, so that reformatting (e.g. by
    /// rustfmt) does not count as an edit, while any change to SQL or code does.
    fn function_source(name: &str) -> String {
        let start = SOURCE
            .find(&format!("\nfn {name}("))
            .unwrap_or_else(|| panic!("no `fn {name}(` in migrations.rs"));
        let end = SOURCE[start..]
            .find("\n}\n")
            .map(|at| start + at + 2)
            .unwrap_or_else(|| panic!("`fn {name}` has no closing brace on its own line"));
        SOURCE[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// 64-bit FNV-1a: fixed by its definition, unlike `std`'s `DefaultHasher`, whose
    /// output may change between Rust releases. It detects edits; nobody attacks it.
    fn fnv1a(text: &str) -> u64 {
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// `(version, function)` of each entry of `MIGRATIONS`, read from this file's text
    /// (`version: N,` then `apply: name,`).
    fn steps_in_source() -> Vec<(u32, String)> {
        let table = SOURCE
            .split("const MIGRATIONS: &[Migration] = &[")
            .nth(1)
            .and_then(|rest| rest.split("\n];").next())
            .expect("the MIGRATIONS table");
        let field = |entry: &str, key: &str| {
            entry
                .split(key)
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .map(|value| value.trim().to_owned())
        };
        table
            .split("Migration {")
            .skip(1)
            .map(|entry| {
                let version = field(entry, "version:")
                    .and_then(|v| v.parse().ok())
                    .expect("a version number");
                let apply = field(entry, "apply:").expect("an apply function");
                (version, apply)
            })
            .collect()
    }

    /// The table read from the text is the one compiled: same versions, same order.
    #[test]
    fn the_migrations_table_is_read_from_the_source() {
        let versions: Vec<u32> = steps_in_source().iter().map(|(v, _)| *v).collect();
        let compiled: Vec<u32> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions, compiled);
    }

    /// Editing a released step fails here; so does a step without a recorded checksum.
    #[test]
    fn released_migration_steps_are_never_edited() {
        let mut problems = Vec::new();
        for (version, apply) in steps_in_source() {
            if !RELEASED
                .iter()
                .any(|(v, name, _)| *v == version && *name == apply)
            {
                problems.push(format!(
                    "step v{version} (`{apply}`) has no checksum: record \
                     ({version}, \"{apply}\", {:#018x}) in RELEASED",
                    fnv1a(&function_source(&apply))
                ));
            }
        }
        for (version, name, recorded) in RELEASED {
            let found = fnv1a(&function_source(name));
            if found != *recorded {
                let what = match version {
                    0 => "a helper of released migration steps".to_owned(),
                    v => format!("migration step v{v}"),
                };
                problems.push(format!(
                    "`{name}` ({what}) was edited after its release (checksum \
                     {found:#018x}, released {recorded:#018x}): files already migrated \
                     would never see the edit, and two files at the same user_version \
                     would differ. Undo the edit and add a new step instead."
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The checksum sees a one-character change in a step's SQL, and not a re-indent.
    #[test]
    fn the_checksum_sees_edits_but_not_reformatting() {
        let step = function_source("v3_discussions");
        let edited = step.replacen("topic TEXT NOT NULL", "topic TEXT", 1);
        assert_ne!(edited, step, "the edit applies");
        assert_ne!(fnv1a(&edited), fnv1a(&step));
        let reindented = step.replace(' ', "\n        ");
        assert_eq!(
            reindented.split_whitespace().collect::<Vec<_>>().join(" "),
            step
        );
    }
}
