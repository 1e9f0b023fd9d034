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

/// Every posting of `db`, in key order, with the agent it belongs to.
fn all_postings(db: &SqliteDatabase) -> Vec<(String, String, i64, Option<String>)> {
    let conn = db.connection().expect("connection");
    let mut stmt = conn
        .prepare(
            "SELECT t.term, a.agent_id, CAST(t.weight * 1e9 AS INTEGER), t.team \
             FROM agent_terms AS t JOIN agents AS a ON a.id = t.agent_rowid \
             ORDER BY t.term, t.weight DESC, a.agent_id",
        )
        .expect("prepare");
    stmt.query_map([], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("read")
}

/// Typical generated agents `0..count` as records.
fn typical_records(count: usize) -> Vec<ax_contracts::agent::AgentRecord> {
    (0..count)
        .map(|n| {
            let id = format!("agent-{n:07}");
            let mut profile = ax_agent_domain::sample::typical_profile(&id, n);
            let extra = profile.as_object_mut().expect("a profile object");
            extra.remove("agentId");
            record(&id, serde_json::Value::Object(extra.clone()))
        })
        .collect()
}

/// INV-AGT-REC-002 holds on imports: an import writes a batch's postings together in
/// key order (not agent by agent), and the index it leaves is exactly the one that
/// registering the same agents one at a time leaves.
#[test]
fn an_import_indexes_exactly_what_single_registrations_index() {
    let records = typical_records(600);
    let (_one_dir, one_by_one) = temp_db();
    let store = one_by_one.agent_store();
    for rec in &records {
        block_on(store.insert(rec)).expect("insert");
    }
    let (_import_dir, imported) = temp_db();
    let applied = block_on(imported.agent_store().import_batch(
        &records,
        ax_agent_domain::store::BatchConflict::Fail,
        None,
    ))
    .expect("import")
    .expect("applied");
    assert_eq!(applied.inserted.len(), records.len());
    let expected = all_postings(&one_by_one);
    assert!(
        expected.len() > 20 * records.len() / 2,
        "{}",
        expected.len()
    );
    assert_eq!(all_postings(&imported), expected);
}

/// An import that replaces an agent it inserted earlier in the same batch leaves only
/// the last profile's postings: the held-back postings of the first are written
/// before the overwrite deletes them.
#[test]
fn replacing_an_agent_of_the_same_batch_keeps_only_its_last_terms() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let outcome = block_on(store.import_batch(
        &[
            record(
                "twice",
                json!({"selectionMetadata": {"keywords": ["alpha"]}}),
            ),
            record(
                "other",
                json!({"selectionMetadata": {"keywords": ["gamma"]}}),
            ),
            record(
                "twice",
                json!({"selectionMetadata": {"keywords": ["beta"]}}),
            ),
        ],
        ax_agent_domain::store::BatchConflict::Replace,
        None,
    ))
    .expect("import")
    .expect("applied");
    assert_eq!(outcome.inserted, ["twice", "other"]);
    assert_eq!(outcome.replaced, ["twice"]);
    assert!(
        candidate_ids(&db, &["alpha"]).is_empty(),
        "the first profile's term is gone"
    );
    assert_eq!(candidate_ids(&db, &["beta"]), ["twice"]);
    assert_eq!(candidate_ids(&db, &["gamma"]), ["other"]);
}
