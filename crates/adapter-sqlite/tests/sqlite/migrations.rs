//! Versioned migrations: re-running them, upgrading an older file (including files
//! made by the earlier variants of version 2), refusing a newer one, and many first
//! opens at once.

use std::sync::{Arc, Barrier};

use ax_adapter_sqlite::{DatabaseError, SCHEMA_VERSION, SqliteDatabase};
use ax_agent_domain::store::{AgentFilter, AgentStore, PageRequest, StoreError};
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{block_on, count_rows, db_path, ids, record, temp_db};

/// The schema of version 1, exactly as an older build created it (the requirement's
/// table). A fixture: it must not change when later versions are added.
const VERSION_1_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS agents (
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
    CREATE UNIQUE INDEX IF NOT EXISTS idx_agents_agent_id ON agents(agent_id);
    PRAGMA journal_mode = WAL;
    PRAGMA user_version = 1;";

/// A file at user_version 3 made by an earlier, since edited, variant of version 2:
/// its name, the SQL that build ran on a fresh file (a fixture), and what that build's
/// store wrote for an agent beyond the requirement's columns (flag, side tables).
struct EarlierVersion3 {
    variant: &'static str,
    schema: &'static str,
    side_rows: &'static str,
}

const EARLIER_VERSION_3_FILES: [EarlierVersion3; 2] = [
    EarlierVersion3 {
        variant: "first release",
        schema: include_str!("fixtures/v3_first_release.sql"),
        side_rows: "
            INSERT INTO agent_tags (tag, agent_rowid)
                SELECT j.value, a.id FROM agents AS a, json_each(a.tags) AS j;
            INSERT INTO agent_capabilities (capability, agent_rowid)
                SELECT j.value, a.id FROM agents AS a, json_each(a.capabilities) AS j;",
    },
    EarlierVersion3 {
        variant: "with cascade",
        schema: include_str!("fixtures/v3_with_cascade.sql"),
        side_rows: "
            UPDATE agents SET is_enabled = enabled;
            INSERT INTO agent_tags (tag, agent_id, agent_rowid, team, enabled)
                SELECT j.value, a.agent_id, a.id, a.team, a.is_enabled
                FROM agents AS a, json_each(a.tags) AS j;
            INSERT INTO agent_capabilities (capability, agent_id, agent_rowid, team, enabled)
                SELECT j.value, a.agent_id, a.id, a.team, a.is_enabled
                FROM agents AS a, json_each(a.capabilities) AS j;",
    },
];

/// One object of `sqlite_master`: type, name, table and SQL.
type SchemaObject = (String, String, String, Option<String>);

/// `sqlite_master` reduced to what defines the schema: every object's type, name,
/// table and SQL, the SQL with whitespace runs made one space and none kept next to
/// brackets and commas (fixtures and code indent the same statement differently).
/// `rootpage` is left out: it is only where the object happens to be stored.
fn normalised_schema(conn: &Connection) -> Vec<SchemaObject> {
    let normalise = |sql: String| {
        let spaced = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        ["(", ")", ","].iter().fold(spaced, |text, mark| {
            text.replace(&format!(" {mark}"), mark)
                .replace(&format!("{mark} "), mark)
        })
    };
    conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .expect("prepare")
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get::<_, Option<String>>(3)?.map(normalise),
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn schema_objects(db: &SqliteDatabase) -> Vec<(String, Option<String>)> {
    db.connection()
        .expect("connection")
        .prepare("SELECT name, sql FROM sqlite_master ORDER BY name")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Opening an up-to-date database again changes neither schema nor rows.
#[test]
fn opening_twice_is_harmless() {
    let (dir, db) = temp_db();
    let rec = record("kept", json!({"tags": ["a"], "capabilities": ["b"]}));
    block_on(db.agent_store().insert(&rec)).expect("insert");
    let schema_before = schema_objects(&db);
    drop(db);

    let again = SqliteDatabase::open(db_path(&dir)).expect("second open");
    assert_eq!(
        again.schema_version().expect("version"),
        i64::from(SCHEMA_VERSION)
    );
    assert_eq!(schema_objects(&again), schema_before);
    assert_eq!(
        block_on(again.agent_store().get("kept")).expect("get"),
        Some(rec)
    );
    assert_eq!(count_rows(&again, "agent_tags"), 1);
}

/// Every step is idempotent: forcing the whole list to run again over the current
/// schema (user_version reset to 0) fails nothing and duplicates nothing.
#[test]
fn rerunning_every_migration_changes_nothing() {
    let (dir, db) = temp_db();
    let rec = record("kept", json!({"tags": ["a", "b"], "capabilities": ["c"]}));
    block_on(db.agent_store().insert(&rec)).expect("insert");
    let schema_before = schema_objects(&db);
    db.connection()
        .expect("connection")
        .pragma_update(None, "user_version", 0)
        .expect("reset user_version");
    drop(db);

    let again = SqliteDatabase::open(db_path(&dir)).expect("open re-runs every step");
    assert_eq!(
        again.schema_version().expect("version"),
        i64::from(SCHEMA_VERSION)
    );
    assert_eq!(schema_objects(&again), schema_before);
    assert_eq!(
        block_on(again.agent_store().get("kept")).expect("get"),
        Some(rec)
    );
    assert_eq!(count_rows(&again, "agents"), 1);
    assert_eq!(count_rows(&again, "agent_tags"), 2);
    assert_eq!(count_rows(&again, "agent_capabilities"), 1);
}

type LegacyColumns = Vec<(
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
)>;

fn legacy_columns(conn: &Connection) -> LegacyColumns {
    conn.prepare(
        "SELECT id, agent_id, display_name, description, tags, capabilities, enabled, created_at \
         FROM agents ORDER BY id",
    )
    .expect("prepare")
    .query_map([], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// A database created by schema version 1, with rows in it, is upgraded on open: the
/// old rows keep every column value, read back as records, are found by the new tag
/// and capability filters, and take part in uniqueness and compare-and-swap.
#[test]
fn version_1_database_with_rows_is_upgraded_and_readable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let before = {
        let conn = Connection::open(&path).expect("create a version-1 file");
        conn.execute_batch(VERSION_1_SCHEMA)
            .expect("version-1 schema");
        conn.execute(
            "INSERT INTO agents (agent_id, display_name, description, system_prompt, capabilities, tags, team) \
             VALUES ('old-reviewer', 'Old Reviewer', 'reviews code', 'be strict', '[\"code-review\"]', '[\"quality\", \"rust\"]', 'core')",
            [],
        )
        .expect("legacy row 1");
        conn.execute(
            "INSERT INTO agents (agent_id, description, tags, enabled, created_at, updated_at) \
             VALUES ('old-disabled', 'switched off', 'not json at all', 0, '2024-05-06 07:08:09', '2024-05-06 07:08:09')",
            [],
        )
        .expect("legacy row 2");
        conn.execute(
            "INSERT INTO agents (agent_id, description, tags, enabled) \
             VALUES ('old-null-flag', 'enabled left NULL', '[\"rust\"]', NULL)",
            [],
        )
        .expect("legacy row 3");
        legacy_columns(&conn)
    };

    let db = SqliteDatabase::open(&path).expect("open upgrades the file");
    assert_eq!(
        db.schema_version().expect("version"),
        i64::from(SCHEMA_VERSION)
    );
    assert_eq!(
        legacy_columns(&db.connection().expect("connection")),
        before,
        "old columns untouched"
    );

    let store = db.agent_store();
    let reviewer = block_on(store.get("old-reviewer"))
        .expect("get")
        .expect("present");
    assert_eq!(reviewer.profile.description, "reviews code");
    assert_eq!(
        reviewer.profile.display_name.as_deref(),
        Some("Old Reviewer")
    );
    assert_eq!(reviewer.profile.system_prompt.as_deref(), Some("be strict"));
    assert_eq!(reviewer.profile.team.as_deref(), Some("core"));
    assert!(reviewer.profile.enabled);
    assert_eq!(reviewer.profile.tags(), ["quality", "rust"]);
    assert_eq!(reviewer.profile.capabilities(), ["code-review"]);
    assert_eq!(reviewer.revision, 1);

    let disabled = block_on(store.get("old-disabled"))
        .expect("get")
        .expect("present");
    assert!(!disabled.profile.enabled);
    assert!(
        disabled.profile.tags().is_empty(),
        "non-JSON tags are not interpreted"
    );
    assert_eq!(disabled.created_at, "2024-05-06T07:08:09Z");

    let by_tag = block_on(store.list(
        &AgentFilter {
            tags: vec!["rust".into()],
            ..Default::default()
        },
        PageRequest::ALL,
    ))
    .expect("list by tag");
    assert_eq!(ids(&by_tag.agents), ["old-null-flag", "old-reviewer"]);
    let by_capability = block_on(store.list(
        &AgentFilter {
            capability: Some("code-review".into()),
            ..Default::default()
        },
        PageRequest::ALL,
    ))
    .expect("list by capability");
    assert_eq!(ids(&by_capability.agents), ["old-reviewer"]);
    // NULL means enabled (the column's DEFAULT 1), for the agents-driven filter and
    // for the tag-driven one alike.
    let enabled = block_on(store.list(
        &AgentFilter {
            enabled: Some(true),
            ..Default::default()
        },
        PageRequest::ALL,
    ))
    .expect("list enabled");
    assert_eq!(ids(&enabled.agents), ["old-null-flag", "old-reviewer"]);
    let disabled = block_on(store.list(
        &AgentFilter {
            enabled: Some(false),
            ..Default::default()
        },
        PageRequest::ALL,
    ))
    .expect("list disabled");
    assert_eq!(ids(&disabled.agents), ["old-disabled"]);
    let enabled_rust = block_on(store.list(
        &AgentFilter {
            tags: vec!["rust".into()],
            enabled: Some(true),
            ..Default::default()
        },
        PageRequest::ALL,
    ))
    .expect("list enabled with tag");
    assert_eq!(ids(&enabled_rust.agents), ["old-null-flag", "old-reviewer"]);
    assert!(
        block_on(store.get("old-null-flag"))
            .expect("get")
            .expect("present")
            .profile
            .enabled
    );

    match block_on(store.insert(&record("old-reviewer", json!({})))) {
        Err(StoreError::AlreadyExists { .. }) => {}
        other => panic!("an upgraded row still owns its id, got {other:?}"),
    }
    let mut edited = reviewer.clone();
    edited.profile.description = "reviews code carefully".into();
    edited.revision = 2;
    block_on(store.update(&edited, 1)).expect("CAS from the legacy revision 1");
    assert_eq!(
        block_on(store.get("old-reviewer")).expect("get"),
        Some(edited)
    );

    // Removing upgraded rows takes their copied side entries with them, and a row
    // whose tags were never JSON has none to take.
    for id in ["old-null-flag", "old-reviewer", "old-disabled"] {
        assert!(block_on(store.remove(id)).expect("remove"));
    }
    let conn = db.connection().expect("connection");
    for table in ["agent_tags", "agent_capabilities"] {
        let left: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .expect("count");
        assert_eq!(left, 0, "{table} keeps nothing of removed agents");
    }
}

/// Version 2 was edited in place twice, so files at user_version 3 came in three
/// schemas. Opening a file made by either earlier variant (built from its fixture,
/// with agent rows and side entries as that build's store wrote them) upgrades it to
/// exactly the schema a fresh file gets — `sqlite_master` compared object by object —
/// and its agents are found by every filter and removed cleanly afterwards.
#[test]
fn files_made_by_every_earlier_variant_of_version_2_get_the_fresh_schema() {
    let (_fresh_dir, fresh) = temp_db();
    let fresh_schema = normalised_schema(&fresh.connection().expect("connection"));
    assert!(
        fresh_schema
            .iter()
            .any(|(_, name, _, _)| name == "idx_agents_enabled"),
        "the comparison sees indexes: {fresh_schema:?}"
    );

    for earlier in &EARLIER_VERSION_3_FILES {
        let variant = earlier.variant;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = db_path(&dir);
        {
            let conn = Connection::open(&path).expect("create the file");
            conn.execute_batch(earlier.schema)
                .unwrap_or_else(|e| panic!("{variant}: fixture schema: {e}"));
            conn.execute_batch(
                "INSERT INTO agents (agent_id, description, capabilities, tags, team, enabled) VALUES
                    ('reviewer', 'reviews', '[\"code-review\"]', '[\"rust\", \"quality\"]', 'core', 1),
                    ('switched-off', 'disabled', '[]', '[\"rust\"]', 'core', 0);",
            )
            .unwrap_or_else(|e| panic!("{variant}: agent rows: {e}"));
            conn.execute_batch(earlier.side_rows)
                .unwrap_or_else(|e| panic!("{variant}: side rows: {e}"));
            assert_ne!(
                normalised_schema(&conn),
                fresh_schema,
                "{variant}: the fixture differs from today's schema before the upgrade"
            );
        }

        let db = SqliteDatabase::open(&path).expect("open upgrades the file");
        assert_eq!(
            db.schema_version().expect("version"),
            i64::from(SCHEMA_VERSION),
            "{variant}"
        );
        let conn = db.connection().expect("connection");
        assert_eq!(normalised_schema(&conn), fresh_schema, "{variant}");
        let foreign_keys: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master AS m, pragma_foreign_key_list(m.name) \
                 WHERE m.type = 'table'",
                [],
                |row| row.get(0),
            )
            .expect("count foreign keys");
        assert_eq!(foreign_keys, 0, "{variant}: no foreign key is left");
        drop(conn);
        assert_eq!(count_rows(&db, "agent_tags"), 3, "{variant}");
        assert_eq!(count_rows(&db, "agent_capabilities"), 1, "{variant}");

        let store = db.agent_store();
        let list = |filter: AgentFilter| {
            block_on(store.list(&filter, PageRequest::ALL))
                .unwrap_or_else(|e| panic!("{variant}: list: {e:?}"))
                .agents
        };
        let rust = list(AgentFilter {
            tags: vec!["rust".into()],
            ..Default::default()
        });
        assert_eq!(ids(&rust), ["reviewer", "switched-off"], "{variant}");
        let enabled_in_core = list(AgentFilter {
            team: Some("core".into()),
            enabled: Some(true),
            ..Default::default()
        });
        assert_eq!(ids(&enabled_in_core), ["reviewer"], "{variant}");
        let disabled_rust = list(AgentFilter {
            tags: vec!["rust".into()],
            enabled: Some(false),
            ..Default::default()
        });
        assert_eq!(ids(&disabled_rust), ["switched-off"], "{variant}");
        let reviewers = list(AgentFilter {
            capability: Some("code-review".into()),
            ..Default::default()
        });
        assert_eq!(ids(&reviewers), ["reviewer"], "{variant}");

        for id in ["reviewer", "switched-off"] {
            assert!(block_on(store.remove(id)).expect("remove"), "{variant}");
        }
        assert_eq!(count_rows(&db, "agent_tags"), 0, "{variant}");
        assert_eq!(count_rows(&db, "agent_capabilities"), 0, "{variant}");
    }
}

/// A file written by a newer build is refused with a clear error and left as it was.
#[test]
fn a_newer_schema_is_refused_untouched() {
    let (dir, db) = temp_db();
    block_on(db.agent_store().insert(&record("kept", json!({})))).expect("insert");
    let newer = i64::from(SCHEMA_VERSION) + 1;
    db.connection()
        .expect("connection")
        .pragma_update(None, "user_version", newer)
        .expect("pretend a newer build wrote the file");
    drop(db);

    match SqliteDatabase::open(db_path(&dir)) {
        Err(
            error @ DatabaseError::SchemaTooNew {
                found, supported, ..
            },
        ) => {
            assert_eq!(found, newer);
            assert_eq!(supported, SCHEMA_VERSION);
            let message = error.to_string();
            assert!(message.contains("newer"), "message says why: {message}");
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let conn = Connection::open(db_path(&dir)).expect("raw open");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, newer);
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM agents", [], |row| row.get(0))
        .expect("count");
    assert_eq!(rows, 1);
}

/// Eight threads open the same fresh file (in a directory that does not exist yet) at
/// the same moment, several times over: migrations and the switch to WAL never fail,
/// and the result is one correctly migrated file.
#[test]
fn concurrent_first_opens_never_fail() {
    for round in 0..12 {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("fresh").join("data.db");
        let barrier = Arc::new(Barrier::new(8));
        let openers: Vec<_> = (0..8)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    SqliteDatabase::open(&path).map(|db| db.schema_version())
                })
            })
            .collect();
        for opener in openers {
            let version = opener
                .join()
                .expect("opener thread")
                .unwrap_or_else(|e| panic!("round {round}: open failed: {e:?}"))
                .expect("schema version");
            assert_eq!(version, i64::from(SCHEMA_VERSION));
        }
        let db = SqliteDatabase::open(&path).expect("open");
        let health = db.health().expect("health");
        assert!(health.is_ok(), "integrity: {:?}", health.integrity);
        assert_eq!(health.settings.journal_mode, "wal");
        assert_eq!(health.counts.agents, 0);
    }
}
