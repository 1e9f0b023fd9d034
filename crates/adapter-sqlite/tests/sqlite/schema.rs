//! The schema and the connection settings, checked directly in SQLite.

use std::collections::BTreeSet;

use ax_agent_domain::store::{AgentFilter, AgentStore, PageRequest, StoreError};
use serde_json::json;

use crate::helpers::{block_on, count_rows, record, temp_db};

/// INV-AGT-DB-001: the named unique index on `agent_id` exists and is UNIQUE.
#[test]
fn agent_id_index_exists_and_is_unique() {
    let (_dir, db) = temp_db();
    let conn = db.connection().expect("connection");
    let unique: bool = conn
        .query_row(
            "SELECT \"unique\" FROM pragma_index_list('agents') WHERE name = 'idx_agents_agent_id'",
            [],
            |row| row.get(0),
        )
        .expect("idx_agents_agent_id is an index of agents");
    assert!(unique, "idx_agents_agent_id must be UNIQUE");
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_index_info('idx_agents_agent_id')")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(columns, ["agent_id"]);
}

/// INV-AGT-DB-001: the database itself rejects a duplicate `agent_id`, even for a
/// writer that bypasses the store; the store then reports `AlreadyExists` for it.
#[test]
fn raw_duplicate_insert_is_rejected_by_the_database() {
    let (_dir, db) = temp_db();
    let conn = db.connection().expect("connection");
    let insert = "INSERT INTO agents (agent_id, description) VALUES ('raw', 'first')";
    conn.execute(insert, []).expect("first raw insert");
    let error = conn
        .execute(insert, [])
        .expect_err("the duplicate must be rejected");
    assert_eq!(
        error.sqlite_extended_error_code(),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE),
        "rejected by the UNIQUE constraint, got {error}"
    );
    drop(conn);
    assert_eq!(count_rows(&db, "agents"), 1);

    let store = db.agent_store();
    match block_on(store.insert(&record("raw", json!({})))) {
        Err(StoreError::AlreadyExists { agent_id }) => assert_eq!(agent_id, "raw"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(count_rows(&db, "agents"), 1);
}

/// Every pooled connection — not only the first — runs with WAL, a busy timeout of at
/// least 5 s, foreign keys on and synchronous=NORMAL.
#[test]
fn every_pooled_connection_is_configured() {
    let (_dir, db) = temp_db();
    // Held at once, so the pool must hand out four distinct connections.
    let connections: Vec<_> = (0..4)
        .map(|_| db.connection().expect("connection"))
        .collect();
    for conn in &connections {
        let settings = ax_adapter_sqlite::ConnectionSettings::read(conn).expect("read settings");
        assert_eq!(settings.journal_mode, "wal");
        assert!(
            settings.busy_timeout_ms >= 5_000,
            "busy_timeout {}",
            settings.busy_timeout_ms
        );
        assert!(settings.foreign_keys, "foreign_keys must be ON");
        assert_eq!(settings.synchronous, 1, "synchronous must be NORMAL");
    }
    let handles: BTreeSet<usize> = connections
        .iter()
        .map(|c| std::ptr::from_ref::<rusqlite::Connection>(c) as usize)
        .collect();
    assert_eq!(handles.len(), 4, "four distinct connections");
}

/// The tables and indexes of the current schema are all there.
#[test]
fn current_schema_has_every_table_and_index() {
    let (_dir, db) = temp_db();
    let names: BTreeSet<String> = db
        .connection()
        .expect("connection")
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for expected in [
        "agents",
        "idx_agents_agent_id",
        "idx_agents_team",
        "idx_agents_enabled",
        "agent_tags",
        "agent_capabilities",
        "agent_terms",
        "seeded_defaults",
        "markers",
        "discussions",
    ] {
        assert!(
            names.contains(expected),
            "missing {expected}; have {names:?}"
        );
    }
}

/// Removing or rewriting an agent removes its old tag and capability entries (deleted
/// by key in the same transaction), and only its own.
#[test]
fn removing_or_rewriting_an_agent_removes_its_side_entries() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    block_on(store.insert(&record(
        "keep",
        json!({"tags": ["t"], "capabilities": ["c"]}),
    )))
    .expect("insert");
    block_on(store.insert(&record(
        "drop",
        json!({"tags": ["t", "u"], "capabilities": ["c", "d"]}),
    )))
    .expect("insert");
    assert_eq!(count_rows(&db, "agent_tags"), 3);
    assert_eq!(count_rows(&db, "agent_capabilities"), 3);

    // A rewrite replaces the entries: `u` and `d` go, `v` and `e` come.
    let rewritten = record(
        "drop",
        json!({"tags": ["t", "v"], "capabilities": ["c", "e"]}),
    );
    let outcome = block_on(store.import_batch(
        &[rewritten],
        ax_agent_domain::store::BatchConflict::Replace,
        None,
    ))
    .expect("import")
    .expect("no once key: always applied");
    assert_eq!(outcome.replaced, ["drop"]);
    assert_eq!(count_rows(&db, "agent_tags"), 3);
    assert_eq!(count_rows(&db, "agent_capabilities"), 3);
    let stale: i64 = db
        .connection()
        .expect("connection")
        .query_row(
            "SELECT COUNT(*) FROM agent_tags WHERE tag = 'u'",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(stale, 0);

    assert!(block_on(store.remove("drop")).expect("remove"));
    assert_eq!(count_rows(&db, "agent_tags"), 1);
    assert_eq!(count_rows(&db, "agent_capabilities"), 1);
    let by_tag = block_on(store.list(
        &AgentFilter {
            tags: vec!["t".into()],
            ..Default::default()
        },
        PageRequest::ALL,
    ))
    .expect("list");
    assert_eq!(by_tag.total, 1);
}

/// A profile listing a tag twice gets one side-table entry and one match.
#[test]
fn repeated_tags_are_indexed_once() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let rec = record(
        "twice",
        json!({"tags": ["x", "x"], "capabilities": ["y", "y"]}),
    );
    block_on(store.insert(&rec)).expect("insert");
    assert_eq!(count_rows(&db, "agent_tags"), 1);
    assert_eq!(count_rows(&db, "agent_capabilities"), 1);
    assert_eq!(
        block_on(store.get("twice")).expect("get"),
        Some(rec),
        "the profile keeps both"
    );
}

/// Options reach every pooled connection.
#[test]
fn open_options_apply_to_pooled_connections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = ax_adapter_sqlite::SqliteDatabase::open_with(
        crate::helpers::db_path(&dir),
        ax_adapter_sqlite::DatabaseOptions {
            busy_timeout: std::time::Duration::from_secs(7),
            max_connections: 2,
            ..Default::default()
        },
    )
    .expect("open");
    let first = db.connection().expect("connection");
    let second = db.connection().expect("connection");
    for conn in [&first, &second] {
        let settings = ax_adapter_sqlite::ConnectionSettings::read(conn).expect("settings");
        assert_eq!(settings.busy_timeout_ms, 7_000);
    }
}

/// A path that cannot hold a database fails with a typed error naming it, at once.
#[test]
fn an_unusable_path_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"plain file").expect("write");
    match ax_adapter_sqlite::SqliteDatabase::open(file.join("data.db")) {
        Err(ax_adapter_sqlite::DatabaseError::CreateDir { path, .. }) => assert_eq!(path, file),
        other => panic!("expected CreateDir, got {other:?}"),
    }
    match ax_adapter_sqlite::SqliteDatabase::open(&file) {
        Err(error @ ax_adapter_sqlite::DatabaseError::Open { .. }) => {
            assert!(
                std::error::Error::source(&error).is_some(),
                "the cause is kept"
            );
        }
        other => panic!("a file that is not a database must not open, got {other:?}"),
    }
}
