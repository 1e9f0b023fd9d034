//! The recommend term index (`agent_terms`): built for files whose agents were
//! written before it existed (once, also with many first opens at once), rebuilt
//! when the terms' version changes, and read by an index range per term.

use std::sync::{Arc, Barrier};

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::recommend::terms::index_marker;
use ax_agent_domain::store::{AgentStore, CandidateQuery};
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{block_on, count_rows, db_path, record, temp_db};

fn query(terms: &[&str]) -> CandidateQuery {
    CandidateQuery {
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        team: None,
        required_capabilities: Vec::new(),
        exclude_agents: Vec::new(),
        budget: 100,
        limit: 100,
        min_weight: 0.0,
    }
}

fn candidate_ids(db: &SqliteDatabase, terms: &[&str]) -> Vec<String> {
    block_on(db.agent_store().candidates(&query(terms)))
        .expect("candidates")
        .into_iter()
        .map(|r| r.profile.agent_id)
        .collect()
}

/// A file as a version-4 build left it: the agents, no `agent_terms`, no marker.
fn file_without_term_index() -> (tempfile::TempDir, i64) {
    let (dir, db) = temp_db();
    let store = db.agent_store();
    for (id, keyword) in [("sql-expert", "sql"), ("css-expert", "css")] {
        block_on(store.insert(&record(
            id,
            json!({"selectionMetadata": {"keywords": [keyword]}}),
        )))
        .expect("insert");
    }
    block_on(store.insert(&record(
        "switched-off",
        json!({"enabled": false, "selectionMetadata": {"keywords": ["sql"]}}),
    )))
    .expect("insert");
    let postings = count_rows(&db, "agent_terms");
    drop(store);
    drop(db);
    let conn = Connection::open(db_path(&dir)).expect("open");
    conn.execute_batch(&format!(
        "DROP TABLE agent_terms; DELETE FROM markers WHERE key = '{}'; PRAGMA user_version = 4;",
        index_marker()
    ))
    .expect("make it a version-4 file");
    (dir, postings)
}

/// Opening a file made before the index existed builds it from the agents (enabled
/// ones only) and records the terms' version; the next open reads one marker.
#[test]
fn an_older_file_gets_its_index_built_on_open() {
    let (dir, postings) = file_without_term_index();
    let db = SqliteDatabase::open(db_path(&dir)).expect("open upgrades");
    assert_eq!(count_rows(&db, "agent_terms"), postings);
    assert_eq!(candidate_ids(&db, &["sql"]), ["sql-expert"]);
    assert_eq!(candidate_ids(&db, &["css"]), ["css-expert"]);
    assert!(block_on(db.agent_store().is_marked(&index_marker())).expect("is_marked"));
}

/// With the marker of the current terms' version missing (as after a change of
/// `index_terms`), the table is emptied and rebuilt: stale postings are gone.
#[test]
fn a_new_terms_version_rebuilds_the_index() {
    let (dir, db) = temp_db();
    block_on(db.agent_store().insert(&record(
        "sql-expert",
        json!({"selectionMetadata": {"keywords": ["sql"]}}),
    )))
    .expect("insert");
    let postings = count_rows(&db, "agent_terms");
    drop(db);
    let conn = Connection::open(db_path(&dir)).expect("open");
    conn.execute_batch(&format!(
        "INSERT INTO agent_terms (term, weight, agent_rowid, team) VALUES ('stale', 1.0, 999, NULL);
         DELETE FROM markers WHERE key = '{}';",
        index_marker()
    ))
    .expect("an index of another version");
    drop(conn);
    let db = SqliteDatabase::open(db_path(&dir)).expect("open rebuilds");
    assert_eq!(count_rows(&db, "agent_terms"), postings);
    assert!(candidate_ids(&db, &["stale"]).is_empty());
    assert_eq!(candidate_ids(&db, &["sql"]), ["sql-expert"]);
}

/// Many first opens of an older file at once: every one succeeds and the index is
/// built exactly as by one (no posting twice, none missing).
#[test]
fn many_first_opens_at_once_build_the_index_once() {
    let (dir, postings) = file_without_term_index();
    let path = db_path(&dir);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                SqliteDatabase::open(&path).map(|_| ())
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread").expect("open");
    }
    let db = SqliteDatabase::open(&path).expect("open");
    assert_eq!(count_rows(&db, "agent_terms"), postings);
    assert_eq!(candidate_ids(&db, &["sql"]), ["sql-expert"]);
}

/// A term's heaviest postings are the first entries of one index range: SQLite
/// neither sorts nor scans the table for them (what keeps the work bounded).
#[test]
fn a_terms_postings_are_read_from_one_ordered_range() {
    let (_dir, db) = temp_db();
    let conn = db.connection().expect("connection");
    for sql in [
        "SELECT agent_rowid, weight FROM agent_terms WHERE term = ?1 \
         ORDER BY weight DESC, agent_rowid LIMIT ?2",
        "SELECT agent_rowid, weight FROM agent_terms WHERE term = ?1 AND team = ?3 \
         ORDER BY weight DESC, agent_rowid LIMIT ?2",
    ] {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("prepare");
        let params: &[&dyn rusqlite::ToSql] = &[&"t", &1, &"x"];
        let count = stmt.parameter_count();
        let plan: Vec<String> = stmt
            .query_map(&params[..count], |row| row.get(3))
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("rows");
        let plan = plan.join("; ");
        assert!(
            plan.contains("SEARCH agent_terms USING PRIMARY KEY (term=?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
