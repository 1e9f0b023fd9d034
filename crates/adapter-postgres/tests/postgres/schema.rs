//! The schema: uniqueness enforced by the server, versioned and idempotent
//! migrations that many first starts at once can run, a newer schema refused, and
//! profiles stored verbatim.

use std::sync::Arc;

use ax_adapter_postgres::test_support::TestDatabase;
use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase, PostgresError, SCHEMA_VERSION};
use ax_agent_domain::conformance::record;
use ax_agent_domain::store::{AgentStore, StoreError};
use serde_json::json;
use tokio::sync::Barrier;

use crate::helpers::{connect, fresh};

/// INV-AGT-DB-001: the server refuses a second row with the same `agent_id` even
/// when the store's code is bypassed entirely (a raw SQL INSERT).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_itself_refuses_a_duplicate_agent_id() {
    let Some((test, db)) = fresh().await else {
        return;
    };
    db.agent_store()
        .insert(&record("dup", json!({})))
        .await
        .expect("insert");
    let raw = test.execute(
        "INSERT INTO agents (agent_id, profile, enabled, created_at, updated_at, revision) \
         VALUES ('dup', '{}', true, 'x', 'x', 1)",
    );
    let message = raw.expect_err("the UNIQUE constraint refuses it");
    assert!(message.contains("duplicate key"), "{message}");
    // And the named unique index exists beside the constraint.
    test.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() \
         AND indexname = 'idx_agents_agent_id' AND indexdef LIKE 'CREATE UNIQUE INDEX%') \
         THEN RAISE EXCEPTION 'idx_agents_agent_id missing'; END IF; END $$",
    )
    .expect("idx_agents_agent_id is a unique index");
}

/// INV-PG-MIGRATE-001: 16 pools connecting to a fresh schema at the same moment all
/// succeed, the schema is migrated once and recorded at the current version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_first_starts_at_once_migrate_once() {
    let Some(test) = TestDatabase::create() else {
        return;
    };
    let url = Arc::new(DatabaseUrl::parse(test.url()).expect("url"));
    let barrier = Arc::new(Barrier::new(16));
    let starts: Vec<_> = (0..16)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                PostgresDatabase::connect(&url).await
            })
        })
        .collect();
    let mut databases = Vec::new();
    for start in starts {
        databases.push(
            start
                .await
                .expect("task")
                .expect("every first start succeeds"),
        );
    }
    let health = databases[0].health().await.expect("health");
    assert_eq!(health.schema_version, i64::from(SCHEMA_VERSION));
    // One row per step: nobody applied a step twice.
    test.execute(&format!(
        "DO $$ BEGIN IF (SELECT COUNT(*) FROM schema_version) <> {SCHEMA_VERSION} \
         THEN RAISE EXCEPTION 'steps recorded more than once'; END IF; END $$"
    ))
    .expect("each step recorded once");
    // Connecting again is harmless and keeps the data.
    databases[1]
        .agent_store()
        .insert(&record("kept", json!({})))
        .await
        .expect("insert");
    let again = connect(test.url()).await;
    assert!(
        again
            .agent_store()
            .get("kept")
            .await
            .expect("get")
            .is_some()
    );
}

/// A database migrated by a newer build is refused, untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let Some((test, _db)) = fresh().await else {
        return;
    };
    let newer = SCHEMA_VERSION + 1;
    test.execute(&format!(
        "INSERT INTO schema_version (version, summary) VALUES ({newer}, 'from the future')"
    ))
    .expect("record a newer version");
    let url = DatabaseUrl::parse(test.url()).expect("url");
    match PostgresDatabase::connect(&url).await {
        Err(PostgresError::SchemaTooNew { found, .. }) => assert_eq!(found, i64::from(newer)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// The profile is stored as the JSON text it was serialised to — key order,
/// unknown nested keys and `\u0000` escapes included — and read back from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_round_trip_verbatim_including_unknown_keys_and_nul() {
    let Some((_test, db)) = fresh().await else {
        return;
    };
    let store = db.agent_store();
    let rec = record(
        "verbatim",
        json!({
            "zeta": {"b": 1, "a": [true, null, 1.5]},
            "alpha": "first \u{0} after nul",
            "team": "t\u{0}eam",
            "tags": ["x", "x", "\u{0}"],
        }),
    );
    store.insert(&rec).await.expect("insert");
    let got = store.get("verbatim").await.expect("get").expect("present");
    assert_eq!(
        serde_json::to_string(&got.profile).expect("encode"),
        serde_json::to_string(&rec.profile).expect("encode"),
        "byte-identical profile JSON"
    );
    assert_eq!(got, rec);
}

/// A revision beyond BIGINT is refused before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_past_bigint_is_a_backend_error_and_writes_nothing() {
    let Some((_test, db)) = fresh().await else {
        return;
    };
    let store = db.agent_store();
    let mut rec = record("huge", json!({}));
    rec.revision = u64::MAX;
    assert!(matches!(
        store.insert(&rec).await,
        Err(StoreError::Backend { .. })
    ));
    assert_eq!(store.get("huge").await.expect("get"), None);
}

/// A database whose agents were written before the term index existed (version 1,
/// no `agent_terms`, no marker) gets its index built on connect, from the enabled
/// agents only; many connects at once build it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_older_database_gets_its_term_index_built_once() {
    let Some((test, db)) = fresh().await else {
        return;
    };
    let store = db.agent_store();
    for (id, enabled) in [("sql-expert", true), ("switched-off", false)] {
        store
            .insert(&record(
                id,
                json!({"enabled": enabled, "selectionMetadata": {"keywords": ["sql"]}}),
            ))
            .await
            .expect("insert");
    }
    drop((store, db));
    test.execute(&format!(
        "DROP TABLE agent_terms; DELETE FROM markers WHERE key = '{}'; \
         DELETE FROM schema_version WHERE version > 1;",
        ax_agent_domain::recommend::terms::index_marker()
    ))
    .expect("make it a version-1 database");

    let starts: Vec<_> = (0..3)
        .map(|_| {
            let url = test.url().to_owned();
            tokio::spawn(async move { connect(&url).await })
        })
        .collect();
    let mut databases = Vec::new();
    for start in starts {
        databases.push(start.await.expect("task"));
    }
    let query = ax_agent_domain::store::CandidateQuery {
        terms: vec!["sql".into()],
        team: None,
        required_capabilities: Vec::new(),
        exclude_agents: Vec::new(),
        budget: 10,
        limit: 10,
        min_weight: 0.0,
    };
    let found = databases[0]
        .agent_store()
        .candidates(&query)
        .await
        .expect("candidates");
    let ids: Vec<&str> = found.iter().map(|r| r.profile.agent_id.as_str()).collect();
    assert_eq!(ids, ["sql-expert"]);
    test.execute(
        "DO $$ BEGIN IF (SELECT COUNT(*) FROM agent_terms WHERE term = 'sql') <> 1 \
         THEN RAISE EXCEPTION 'postings built more than once or for a disabled agent'; END IF; END $$",
    )
    .expect("one posting for the one enabled agent");
}

/// INV-PG-TERMS-001: `agent_terms` has no foreign key (schema version 3), so the
/// store removes an agent's postings itself: none are left behind, and the id
/// registered again has only its new postings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_agent_removes_its_postings() {
    let Some((test, db)) = fresh().await else {
        return;
    };
    let store = db.agent_store();
    let postings = |term: &str| {
        format!(
            "DO $$ BEGIN IF (SELECT COUNT(*) FROM agent_terms WHERE agent_id = 'p' \
             AND term = '{term}') <> 1 THEN RAISE EXCEPTION 'no posting of {term}'; END IF; END $$"
        )
    };
    let keywords = |k: &str| json!({"selectionMetadata": {"keywords": [k]}});
    store
        .insert(&record("p", keywords("sql")))
        .await
        .expect("insert");
    test.execute(&postings("sql")).expect("indexed");
    assert!(store.remove("p").await.expect("remove"));
    test.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM agent_terms WHERE agent_id = 'p') \
         THEN RAISE EXCEPTION 'postings left behind'; END IF; END $$",
    )
    .expect("no posting of a removed agent");
    store
        .insert(&record("p", keywords("rust")))
        .await
        .expect("registered again");
    test.execute(&postings("rust")).expect("indexed again");
    test.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM agent_terms WHERE term = 'sql') \
         THEN RAISE EXCEPTION 'the old posting came back'; END IF; END $$",
    )
    .expect("only the new postings");
}
