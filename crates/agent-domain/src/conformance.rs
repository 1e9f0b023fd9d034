//! The `AgentStore` conformance suite: the behaviour every store implementation must
//! have, written once and run against each of them (the in-memory store here, the
//! SQLite store in `ax-adapter-sqlite`, and any future backend).
//!
//! Use it from a store's tests with [`agent_store_conformance!`](crate::agent_store_conformance),
//! giving an async factory that returns a fresh, empty store and a guard kept alive
//! for the test (e.g. the temporary directory holding a database file):
//!
//! ```ignore
//! ax_agent_domain::agent_store_conformance!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = MyStore::open(dir.path().join("data.db")).unwrap();
//!     (std::sync::Arc::new(store) as std::sync::Arc<dyn AgentStore>, dir)
//! });
//! ```
//!
//! The macro needs `tokio` (features `macros`, `rt-multi-thread`) as a dev-dependency.

use std::collections::BTreeSet;
use std::sync::Arc;

use ax_contracts::agent::AgentRecord;
use serde_json::{Value, json};

use crate::store::{
    AgentFilter, AgentPage, AgentStore, BatchConflict, BatchOutcome, CandidateQuery, OnceKeys,
    PageRequest, RecordStream, StoreError,
};

/// A record for `id` with extra profile fields merged in, built without validation
/// (stores store; validating is the registry's job).
pub fn record(id: &str, extra: Value) -> AgentRecord {
    let mut doc = json!({
        "agentId": id,
        "description": format!("test agent {id}"),
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "revision": 1,
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut doc, extra) {
        base.extend(more);
    }
    serde_json::from_value(doc).expect("conformance records are built from well-formed JSON")
}

/// How many agents the store holds.
async fn count(store: &dyn AgentStore) -> u64 {
    store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list")
        .total
}

fn ids(records: &[AgentRecord]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r.profile.agent_id.as_str())
        .collect()
}

/// Insert then get returns exactly what was inserted.
pub async fn insert_then_get_returns_the_record(store: Arc<dyn AgentStore>) {
    let rec = record(
        "alpha",
        json!({"team": "core", "tags": ["a", "b"], "capabilities": ["review"], "systemPrompt": "be brief"}),
    );
    store.insert(&rec).await.expect("insert");
    let got = store.get("alpha").await.expect("get").expect("present");
    assert_eq!(got, rec);
}

/// INV-AGT-DB-001: a second insert of the same id fails with `AlreadyExists` and the
/// first record is untouched.
pub async fn duplicate_insert_is_already_exists_and_keeps_the_original(store: Arc<dyn AgentStore>) {
    let first = record("dup", json!({"team": "first"}));
    store.insert(&first).await.expect("first insert");
    let second = record("dup", json!({"team": "second"}));
    match store.insert(&second).await {
        Err(StoreError::AlreadyExists { agent_id }) => assert_eq!(agent_id, "dup"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.get("dup").await.expect("get"), Some(first));
}

/// INV-AGT-REG-001 / INV-AGT-DB-001: many concurrent inserts of one id have exactly
/// one winner, and the stored record is the winner's.
pub async fn concurrent_inserts_of_one_id_have_one_winner(store: Arc<dyn AgentStore>) {
    let mut tasks = Vec::new();
    for writer in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let rec = record("contested", json!({"team": format!("writer-{writer}")}));
            (writer, store.insert(&rec).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (writer, outcome) = task.await.expect("task");
        match outcome {
            Ok(()) => winners.push(writer),
            Err(StoreError::AlreadyExists { .. }) => {}
            Err(other) => panic!("writer {writer}: unexpected error {other}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one insert may succeed, got {winners:?}"
    );
    let stored = store.get("contested").await.expect("get").expect("present");
    assert_eq!(
        stored.profile.team.as_deref(),
        Some(format!("writer-{}", winners[0]).as_str())
    );
    assert_eq!(count(store.as_ref()).await, 1);
}

/// Concurrent inserts of distinct ids are all stored.
pub async fn concurrent_inserts_of_distinct_ids_are_all_stored(store: Arc<dyn AgentStore>) {
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..25 {
                store
                    .insert(&record(&format!("w{writer}-n{n}"), json!({})))
                    .await
                    .expect("distinct insert");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let page = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    assert_eq!(page.total, 200);
    assert_eq!(page.agents.len(), 200);
}

/// A missing id is `None`, not an error.
pub async fn get_missing_is_none(store: Arc<dyn AgentStore>) {
    assert_eq!(store.get("nobody").await.expect("get"), None);
}

/// Listing is ordered by agent id (byte order, so `B` sorts before `a`), pages are
/// stable, and the total counts every match regardless of the page.
pub async fn list_orders_by_agent_id_and_pages_stably(store: Arc<dyn AgentStore>) {
    for id in ["delta", "alpha", "Bravo", "charlie", "echo"] {
        store.insert(&record(id, json!({}))).await.expect("insert");
    }
    let all = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    assert_eq!(
        ids(&all.agents),
        ["Bravo", "alpha", "charlie", "delta", "echo"]
    );
    let page1 = store
        .list(
            &AgentFilter::default(),
            PageRequest {
                offset: 0,
                limit: Some(2),
            },
        )
        .await
        .expect("page 1");
    let page2 = store
        .list(
            &AgentFilter::default(),
            PageRequest {
                offset: 2,
                limit: Some(2),
            },
        )
        .await
        .expect("page 2");
    let page3 = store
        .list(
            &AgentFilter::default(),
            PageRequest {
                offset: 4,
                limit: Some(2),
            },
        )
        .await
        .expect("page 3");
    let past = store
        .list(
            &AgentFilter::default(),
            PageRequest {
                offset: 10,
                limit: Some(2),
            },
        )
        .await
        .expect("past end");
    assert_eq!(ids(&page1.agents), ["Bravo", "alpha"]);
    assert_eq!(ids(&page2.agents), ["charlie", "delta"]);
    assert_eq!(ids(&page3.agents), ["echo"]);
    assert!(past.agents.is_empty());
    for page in [&page1, &page2, &page3, &past] {
        assert_eq!(page.total, 5);
    }
}

/// Filters: team exact, tags any-of, capability exact element (not substring),
/// enabled; combined with AND.
pub async fn list_filters_by_team_tags_capability_and_enabled(store: Arc<dyn AgentStore>) {
    let agents = [
        record(
            "a1",
            json!({"team": "core", "tags": ["rust", "db"], "capabilities": ["code-review", "sql"]}),
        ),
        record(
            "a2",
            json!({"team": "core", "tags": ["web"], "capabilities": ["code"], "enabled": false}),
        ),
        record(
            "a3",
            json!({"team": "Core", "tags": ["rust"], "capabilities": ["code"]}),
        ),
        record("a4", json!({"tags": [], "capabilities": []})),
    ];
    for rec in &agents {
        store.insert(rec).await.expect("insert");
    }
    let list = |filter: AgentFilter| {
        let store = store.clone();
        async move { store.list(&filter, PageRequest::ALL).await.expect("list") }
    };
    let by_team = list(AgentFilter {
        team: Some("core".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&by_team.agents), ["a1", "a2"]);
    let by_tags = list(AgentFilter {
        tags: vec!["web".into(), "db".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&by_tags.agents), ["a1", "a2"]);
    let by_capability = list(AgentFilter {
        capability: Some("code".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        ids(&by_capability.agents),
        ["a2", "a3"],
        "capability matches whole elements only"
    );
    let disabled = list(AgentFilter {
        enabled: Some(false),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&disabled.agents), ["a2"]);
    let combined = list(AgentFilter {
        team: Some("core".into()),
        tags: vec!["rust".into(), "web".into()],
        capability: None,
        enabled: Some(true),
    })
    .await;
    assert_eq!(ids(&combined.agents), ["a1"]);
    assert_eq!(combined.total, 1);
}

/// Update is a compare-and-swap on `revision`.
pub async fn update_is_compare_and_swap_on_revision(store: Arc<dyn AgentStore>) {
    store
        .insert(&record("cas", json!({"team": "v1"})))
        .await
        .expect("insert");
    let mut v2 = record("cas", json!({"team": "v2"}));
    v2.revision = 2;
    store
        .update(&v2, 1)
        .await
        .expect("update from the current revision");
    assert_eq!(store.get("cas").await.expect("get"), Some(v2.clone()));

    let mut stale = record("cas", json!({"team": "stale"}));
    stale.revision = 2;
    match store.update(&stale, 1).await {
        Err(StoreError::RevisionMismatch {
            expected: 1,
            actual: 2,
            ..
        }) => {}
        other => panic!("expected RevisionMismatch, got {other:?}"),
    }
    assert_eq!(
        store.get("cas").await.expect("get"),
        Some(v2),
        "a lost CAS changes nothing"
    );

    match store.update(&record("ghost", json!({})), 1).await {
        Err(StoreError::NotFound { agent_id }) => assert_eq!(agent_id, "ghost"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Remove reports whether something was removed.
pub async fn remove_reports_whether_it_removed(store: Arc<dyn AgentStore>) {
    store
        .insert(&record(
            "gone",
            json!({"tags": ["x"], "capabilities": ["y"]}),
        ))
        .await
        .expect("insert");
    assert!(store.remove("gone").await.expect("remove"));
    assert!(!store.remove("gone").await.expect("second remove"));
    assert_eq!(store.get("gone").await.expect("get"), None);
    let by_tag = by_tag(&store, "x").await;
    assert_eq!(
        by_tag.total, 0,
        "a removed agent leaves no filter entries behind"
    );
    store
        .insert(&record("gone", json!({})))
        .await
        .expect("the id is free again");
}

/// Seeding inserts each default once, ever: never over a user's edit, never
/// bringing back a removed default.
pub async fn seed_never_overwrites_or_resurrects(store: Arc<dyn AgentStore>) {
    let defaults = [
        record("std", json!({"team": "default"})),
        record("helper", json!({"team": "default"})),
    ];
    let first: BTreeSet<String> = store
        .seed(&defaults)
        .await
        .expect("seed")
        .into_iter()
        .collect();
    assert_eq!(
        first,
        BTreeSet::from(["std".to_owned(), "helper".to_owned()])
    );

    let mut edited = record("std", json!({"team": "mine"}));
    edited.revision = 2;
    store.update(&edited, 1).await.expect("user edit");
    assert!(store.remove("helper").await.expect("user removal"));

    let again = store.seed(&defaults).await.expect("seed again");
    assert!(again.is_empty(), "nothing re-seeded, got {again:?}");
    assert_eq!(store.get("std").await.expect("get"), Some(edited));
    assert_eq!(store.get("helper").await.expect("get"), None);

    // A default whose id a user registered first is not overwritten either.
    store
        .insert(&record("newer", json!({"team": "user"})))
        .await
        .expect("user agent");
    let later = store
        .seed(&[record("newer", json!({"team": "default"}))])
        .await
        .expect("seed a new default");
    assert!(later.is_empty());
    assert_eq!(
        store
            .get("newer")
            .await
            .expect("get")
            .map(|r| r.profile.team),
        Some(Some("user".into()))
    );
}

/// Concurrent seeding inserts each default exactly once.
pub async fn concurrent_seeding_inserts_each_default_once(store: Arc<dyn AgentStore>) {
    let defaults: Arc<Vec<AgentRecord>> = Arc::new(
        (0..9)
            .map(|n| record(&format!("default-{n}"), json!({})))
            .collect(),
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, defaults) = (store.clone(), defaults.clone());
        tasks.push(tokio::spawn(async move {
            store.seed(&defaults).await.expect("seed")
        }));
    }
    let mut inserted = Vec::new();
    for task in tasks {
        inserted.extend(task.await.expect("task"));
    }
    inserted.sort();
    let expected: Vec<String> = (0..9).map(|n| format!("default-{n}")).collect();
    assert_eq!(
        inserted, expected,
        "each default inserted by exactly one seeder"
    );
}

/// One-time markers are recorded once.
pub async fn mark_once_records_once(store: Arc<dyn AgentStore>) {
    assert!(
        !store
            .is_marked("import:agents.json")
            .await
            .expect("is_marked")
    );
    assert!(store.mark_once("import:agents.json").await.expect("mark"));
    assert!(
        !store
            .mark_once("import:agents.json")
            .await
            .expect("mark again")
    );
    assert!(
        store
            .is_marked("import:agents.json")
            .await
            .expect("is_marked")
    );
    assert!(!store.is_marked("import:other").await.expect("is_marked"));
}

/// An import batch is all or nothing: a conflict under `Fail` rolls back the records
/// before it; `Skip` keeps and `Replace` overwrites (keeping `createdAt`, revision + 1,
/// and leaving none of the old record's filter entries behind).
pub async fn import_batch_is_all_or_nothing(store: Arc<dyn AgentStore>) {
    let taken = record("taken", json!({"team": "original", "tags": ["old"]}));
    store.insert(&taken).await.expect("insert");
    let batch = [
        record("fresh-1", json!({})),
        record("taken", json!({"team": "imported"})),
        record("fresh-2", json!({})),
    ];
    let outcome = store
        .import_batch(&batch, BatchConflict::Fail, None)
        .await
        .expect("import")
        .expect("no once key: always applied");
    assert_eq!(
        outcome,
        BatchOutcome {
            conflict: Some("taken".into()),
            ..BatchOutcome::default()
        }
    );
    let all = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    assert_eq!(ids(&all.agents), ["taken"], "fresh-1 was rolled back");

    let outcome = store
        .import_batch(&batch, BatchConflict::Skip, None)
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(outcome.inserted, ["fresh-1", "fresh-2"]);
    assert_eq!(outcome.skipped, ["taken"]);
    assert_eq!(
        store.get("taken").await.expect("get"),
        Some(taken.clone()),
        "skip keeps the registered agent"
    );

    let mut newer = record("taken", json!({"team": "imported"}));
    newer.created_at = "2027-01-01T00:00:00.000Z".into();
    newer.updated_at = "2027-01-01T00:00:00.000Z".into();
    let outcome = store
        .import_batch(&[newer], BatchConflict::Replace, None)
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(outcome.replaced, ["taken"]);
    let stored = store.get("taken").await.expect("get").expect("there");
    assert_eq!(stored.profile.team.as_deref(), Some("imported"));
    assert_eq!(stored.created_at, taken.created_at, "createdAt kept");
    assert_eq!(stored.updated_at, "2027-01-01T00:00:00.000Z");
    assert_eq!(stored.revision, taken.revision + 1, "revision continued");
    let old_tag = by_tag(&store, "old").await;
    assert_eq!(old_tag.total, 0, "replaced filter entries are gone");
}

/// An import batch with a one-time key runs once, also under concurrent callers, and
/// records the key in the same step; a batch rolled back by a conflict does not.
pub async fn import_batch_once_runs_exactly_once(store: Arc<dyn AgentStore>) {
    store
        .insert(&record("taken", json!({})))
        .await
        .expect("insert");
    let failing = store
        .import_batch(
            &[record("taken", json!({}))],
            BatchConflict::Fail,
            Some("import:once"),
        )
        .await
        .expect("import")
        .expect("first claim");
    assert_eq!(failing.conflict.as_deref(), Some("taken"));
    assert!(
        !store.is_marked("import:once").await.expect("is_marked"),
        "a rolled-back batch leaves the key unrecorded"
    );

    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let batch = [
                    record("once-a", json!({"team": format!("caller-{n}")})),
                    record("once-b", json!({})),
                ];
                store
                    .import_batch(&batch, BatchConflict::Skip, Some("import:once"))
                    .await
                    .expect("import")
            })
        })
        .collect();
    let mut applied = Vec::new();
    for task in tasks {
        if let Some(outcome) = task.await.expect("task") {
            applied.push(outcome);
        }
    }
    assert_eq!(applied.len(), 1, "exactly one caller applied the batch");
    assert_eq!(applied[0].inserted, ["once-a", "once-b"]);
    assert!(store.is_marked("import:once").await.expect("is_marked"));
    assert_eq!(
        store
            .import_batch(
                &[record("once-c", json!({}))],
                BatchConflict::Skip,
                Some("import:once")
            )
            .await
            .expect("import"),
        None
    );
    assert_eq!(store.get("once-c").await.expect("get"), None);
}

/// A [`RecordStream`] over fixed batches that keeps every outcome and commits as told.
struct Batches {
    batches: std::vec::IntoIter<Vec<AgentRecord>>,
    outcomes: Vec<BatchOutcome>,
    commit: bool,
    asked: usize,
}

impl Batches {
    fn new(batches: Vec<Vec<AgentRecord>>, commit: bool) -> Self {
        Self {
            batches: batches.into_iter(),
            outcomes: Vec::new(),
            commit,
            asked: 0,
        }
    }

    fn all(&self, list: fn(&BatchOutcome) -> &Vec<String>) -> Vec<String> {
        self.outcomes.iter().flat_map(list).cloned().collect()
    }
}

#[async_trait::async_trait]
impl RecordStream for Batches {
    async fn next_batch(&mut self) -> Option<Vec<AgentRecord>> {
        self.batches.next()
    }

    fn written(&mut self, outcome: BatchOutcome) {
        self.outcomes.push(outcome);
    }

    async fn commit(&mut self) -> bool {
        self.asked += 1;
        self.commit
    }
}

/// Every agent carrying `tag`.
async fn by_tag(store: &Arc<dyn AgentStore>, tag: &str) -> AgentPage {
    store
        .list(
            &AgentFilter {
                tags: vec![tag.into()],
                ..Default::default()
            },
            PageRequest::ALL,
        )
        .await
        .expect("list")
}

/// Runs `batches` through [`AgentStore::import_stream`], committing as `commit` says.
async fn run_stream(
    store: &Arc<dyn AgentStore>,
    batches: Vec<Vec<AgentRecord>>,
    commit: bool,
    on_conflict: BatchConflict,
    once: Option<&str>,
) -> (Option<bool>, Batches) {
    let mut stream = Batches::new(batches, commit);
    let applied = store
        .import_stream(&mut stream, on_conflict, once)
        .await
        .expect("import");
    (applied, stream)
}

async fn all_ids(store: &Arc<dyn AgentStore>) -> Vec<String> {
    let page = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    ids(&page.agents).into_iter().map(str::to_owned).collect()
}

/// An import stream is ONE step across all its batches: every batch is reported,
/// an id repeated in a later batch is a conflict like a registered one, and at the
/// end the stream's answer commits everything or rolls everything back.
pub async fn import_stream_spans_batches_in_one_step(store: Arc<dyn AgentStore>) {
    store
        .insert(&record("taken", json!({})))
        .await
        .expect("insert");
    let batches = || {
        vec![
            vec![record("s-1", json!({})), record("taken", json!({}))],
            vec![
                record("s-2", json!({"tags": ["t"]})),
                record("s-1", json!({})),
            ],
        ]
    };
    let (applied, stream) = run_stream(&store, batches(), false, BatchConflict::Skip, None).await;
    assert_eq!(applied, Some(false));
    assert_eq!((stream.outcomes.len(), stream.asked), (2, 1));
    assert_eq!(stream.all(|o| &o.inserted), ["s-1", "s-2"]);
    assert_eq!(
        stream.all(|o| &o.skipped),
        ["taken", "s-1"],
        "later batch sees earlier"
    );
    assert_eq!(
        all_ids(&store).await,
        ["taken"],
        "rolled back: nothing written"
    );

    let (applied, _) = run_stream(&store, batches(), true, BatchConflict::Skip, None).await;
    assert_eq!(applied, Some(true));
    assert_eq!(all_ids(&store).await, ["s-1", "s-2", "taken"]);
    let tagged = by_tag(&store, "t").await;
    assert_eq!(ids(&tagged.agents), ["s-2"], "filter entries written too");
}

/// Under `Fail` a conflict ends the stream: no further batch is pulled, the
/// conflicting batch reports what it wrote before the id, and the stream decides
/// whether that is kept (`--continue-on-error`) or rolled back (the default); the
/// `once` claim goes with it.
pub async fn import_stream_stops_at_a_fail_conflict(store: Arc<dyn AgentStore>) {
    store
        .insert(&record("taken", json!({})))
        .await
        .expect("insert");
    let batches = || {
        vec![
            vec![record("f-1", json!({}))],
            // `f-late` follows the conflict in its batch: a store that writes a
            // batch ahead (PostgreSQL pipelines it) must take it back.
            vec![
                record("f-2", json!({})),
                record("taken", json!({})),
                record("f-late", json!({})),
            ],
            vec![record("f-3", json!({}))],
        ]
    };
    let (applied, stream) = run_stream(
        &store,
        batches(),
        false,
        BatchConflict::Fail,
        Some("import:stream"),
    )
    .await;
    assert_eq!(applied, Some(false));
    assert_eq!(stream.outcomes.len(), 2, "the third batch is never pulled");
    assert_eq!(stream.outcomes[1].inserted, ["f-2"]);
    assert_eq!(stream.outcomes[1].conflict.as_deref(), Some("taken"));
    assert_eq!(all_ids(&store).await, ["taken"]);
    assert!(!store.is_marked("import:stream").await.expect("is_marked"));

    let (applied, _) = run_stream(
        &store,
        batches(),
        true,
        BatchConflict::Fail,
        Some("import:stream"),
    )
    .await;
    assert_eq!(applied, Some(true));
    assert_eq!(
        all_ids(&store).await,
        ["f-1", "f-2", "taken"],
        "kept up to the conflict, nothing after it"
    );
    assert!(store.is_marked("import:stream").await.expect("is_marked"));
    let (applied, again) = run_stream(
        &store,
        batches(),
        true,
        BatchConflict::Skip,
        Some("import:stream"),
    )
    .await;
    assert_eq!(applied, None, "claimed: nothing written");
    assert!(again.outcomes.is_empty());
}

/// An id twice in one batch is treated as if the rows came one at a time: the first
/// is inserted and the second is a conflict like any other — `Skip` keeps the first,
/// `Replace` leaves the second (revision + 1, the second's filter entries only).
pub async fn an_id_twice_in_one_batch_is_taken_by_its_first_row(store: Arc<dyn AgentStore>) {
    let batch = [
        record("twice", json!({"team": "first", "tags": ["one"]})),
        record("other", json!({})),
        record("twice", json!({"team": "second", "tags": ["two"]})),
    ];
    let outcome = store
        .import_batch(&batch, BatchConflict::Skip, None)
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(outcome.inserted, ["twice", "other"]);
    assert_eq!(outcome.skipped, ["twice"]);
    let kept = store.get("twice").await.expect("get").expect("there");
    assert_eq!(kept.profile.team.as_deref(), Some("first"));

    assert!(store.remove("twice").await.expect("remove"));
    assert!(store.remove("other").await.expect("remove"));
    let outcome = store
        .import_batch(&batch, BatchConflict::Replace, None)
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(outcome.inserted, ["twice", "other"]);
    assert_eq!(outcome.replaced, ["twice"]);
    let replaced = store.get("twice").await.expect("get").expect("there");
    assert_eq!(replaced.profile.team.as_deref(), Some("second"));
    assert_eq!(
        replaced.revision, 2,
        "the second row continued the first's revision"
    );
    assert_eq!(
        by_tag(&store, "one").await.total,
        0,
        "first row's tag is gone"
    );
    assert_eq!(ids(&by_tag(&store, "two").await.agents), ["twice"]);
}

/// A batch larger than any backend's write chunk (PostgreSQL sends 100 agents per
/// statement) decides every row as one at a time would: a stored id and a repeat
/// of an earlier row are skipped, wherever they fall, and exactly the agents
/// written have key rows and postings (INV-AGT-DB-001, INV-AGT-REC-002).
pub async fn a_large_batch_decides_every_row_in_order(store: Arc<dyn AgentStore>) {
    let agent = |n: usize| {
        record(
            &format!("bulk-{n:03}"),
            json!({
                "tags": [format!("shard{}", n % 3)],
                "capabilities": [format!("half{}", n % 2)],
                "selectionMetadata": {"keywords": [format!("topic{n}")]},
            }),
        )
    };
    store.insert(&agent(150)).await.expect("insert");
    let mut batch: Vec<AgentRecord> = (0..450).map(agent).collect();
    // Row 260 repeats row 10 (a later statement than row 10's), with another tag.
    batch[260] = record(
        "bulk-010",
        json!({"tags": ["repeat"], "selectionMetadata": {"keywords": ["topic260"]}}),
    );
    let outcome = store
        .import_batch(&batch, BatchConflict::Skip, None)
        .await
        .expect("import")
        .expect("applied");
    let expected: Vec<String> = (0..450)
        .filter(|n| *n != 150 && *n != 260)
        .map(|n| format!("bulk-{n:03}"))
        .collect();
    assert_eq!(outcome.inserted, expected);
    assert_eq!(outcome.skipped, ["bulk-150", "bulk-010"]);
    assert_eq!(count(store.as_ref()).await, 449);
    assert_eq!(
        by_tag(&store, "repeat").await.total,
        0,
        "the repeat wrote nothing"
    );
    let shards: u64 = [
        by_tag(&store, "shard0").await.total,
        by_tag(&store, "shard1").await.total,
        by_tag(&store, "shard2").await.total,
    ]
    .iter()
    .sum();
    assert_eq!(shards, 449, "one tag row per agent");
    // A tag and a capability together: every side row the batch wrote carries the
    // agent's other elements (SQLite: its masks, INV-AGT-DB-003).
    let both = store
        .list(
            &AgentFilter {
                tags: vec!["shard0".into(), "shard1".into()],
                capability: Some("half0".into()),
                ..Default::default()
            },
            PageRequest::ALL,
        )
        .await
        .expect("list");
    let expected: Vec<String> = (0..450)
        .filter(|n| *n != 260 && n % 3 != 2 && n % 2 == 0)
        .map(|n| format!("bulk-{n:03}"))
        .collect();
    assert_eq!(both.total, expected.len() as u64);
    assert_eq!(ids(&both.agents), expected);
    for (task, found) in [
        ("topic0", vec!["bulk-000"]),
        ("topic10", vec!["bulk-010"]),
        ("topic260", vec![]),
        ("topic449", vec!["bulk-449"]),
        ("topic150", vec!["bulk-150"]),
    ] {
        let query = candidate_query(&[task]);
        assert_eq!(candidate_ids(&store, &query).await, found, "{task}");
    }
}

/// SQL-looking, quote-heavy and non-ASCII strings come back byte for byte.
pub async fn hostile_strings_round_trip_verbatim(store: Arc<dyn AgentStore>) {
    let nasty = [
        "'); DROP TABLE agents;--",
        "Robert'); DELETE FROM agents WHERE ('1'='1",
        r#"quote " double "" and 'single' '' and back\slash \" mix"#,
        "日本語のエージェント — مرحبا — 🦀🚀 — e\u{301}",
        "%_ LIKE wildcards %% and \u{0} nul",
    ];
    for (n, text) in nasty.iter().enumerate() {
        let id = format!("hostile{n}");
        let rec = record(
            &id,
            json!({
                "displayName": text.chars().take(100).collect::<String>(),
                "systemPrompt": text,
                "team": text,
                "tags": [text],
                "capabilities": [text],
                "metadata": {"nested": {"text": text, "list": [text, text]}},
            }),
        );
        store.insert(&rec).await.expect("insert");
        assert_eq!(
            store.get(&id).await.expect("get"),
            Some(rec.clone()),
            "round trip of {text:?}"
        );
        let by_team = store
            .list(
                &AgentFilter {
                    team: Some((*text).to_owned()),
                    ..Default::default()
                },
                PageRequest::ALL,
            )
            .await
            .expect("list");
        assert_eq!(
            ids(&by_team.agents),
            [id.as_str()],
            "team filter with {text:?}"
        );
        let by_tag = store
            .list(
                &AgentFilter {
                    tags: vec![(*text).to_owned()],
                    ..Default::default()
                },
                PageRequest::ALL,
            )
            .await
            .expect("list");
        assert_eq!(
            ids(&by_tag.agents),
            [id.as_str()],
            "tag filter with {text:?}"
        );
    }
    assert_eq!(count(store.as_ref()).await, nasty.len() as u64);
}

/// `list_after` pages in `agentId` byte order after an exclusive cursor — one that
/// need not name a stored agent — with neither repeats nor gaps.
pub async fn list_after_pages_by_id_from_an_exclusive_cursor(store: Arc<dyn AgentStore>) {
    let mut expected = Vec::new();
    for id in ["b", "a", "B", "a-1", "é", "z", "a0"] {
        store.insert(&record(id, json!({}))).await.expect("insert");
        expected.push(id);
    }
    expected.sort_unstable();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_after(cursor.as_deref(), 2)
            .await
            .expect("list_after");
        assert!(page.len() <= 2, "at most the limit");
        let Some(last) = page.last() else { break };
        cursor = Some(last.profile.agent_id.clone());
        seen.extend(page.iter().map(|r| r.profile.agent_id.clone()));
    }
    assert_eq!(seen, expected, "every agent once, in byte order");
    let everything = store.list_after(None, u64::MAX).await.expect("all");
    let listed = store
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .expect("list");
    assert_eq!(everything, listed.agents, "the same records as list");
    // "a00" is no stored id: it sorts between "a0" and "b".
    let after_gap = store.list_after(Some("a00"), 2).await.expect("gap cursor");
    assert_eq!(ids(&after_gap), ["b", "z"], "a cursor between two ids");
    assert!(
        store
            .list_after(Some("é"), 5)
            .await
            .expect("end")
            .is_empty()
    );
    assert!(store.list_after(None, 0).await.expect("zero").is_empty());
}

/// What a copy between stores relies on: `insert` and `import_batch` store a new
/// record's revision and timestamps as given (not renumbered, not re-stamped), and
/// `update` writes the record it is given — even an older revision — once the
/// compare-and-swap holds.
pub async fn records_are_written_with_their_own_revision_and_timestamps(
    store: Arc<dyn AgentStore>,
) {
    let mut old = record("old", json!({"team": "t"}));
    old.revision = 7;
    old.created_at = "2020-02-02T02:02:02.002Z".into();
    old.updated_at = "2021-03-03T03:03:03.003Z".into();
    store.insert(&old).await.expect("insert");
    assert_eq!(store.get("old").await.expect("get"), Some(old.clone()));

    let mut batched = record("batched", json!({}));
    batched.revision = 42;
    batched.created_at = "2019-01-01T00:00:00Z".into();
    let outcome = store
        .import_batch(std::slice::from_ref(&batched), BatchConflict::Skip, None)
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(outcome.inserted, ["batched"]);
    assert_eq!(store.get("batched").await.expect("get"), Some(batched));

    let mut replacement = record("old", json!({"team": "other"}));
    replacement.revision = 3;
    replacement.created_at = "2018-08-08T08:08:08.008Z".into();
    store.update(&replacement, 7).await.expect("update at 7");
    assert_eq!(store.get("old").await.expect("get"), Some(replacement));
}

/// `once_keys` lists the recorded one-time keys and seeded ids; `add_once_keys` is
/// a union that reports what was new, writes no agent, and makes `seed` and
/// `mark_once` treat the added keys as already done.
pub async fn once_keys_are_listed_and_added_as_a_union(store: Arc<dyn AgentStore>) {
    assert_eq!(store.once_keys().await.expect("keys"), OnceKeys::default());
    assert!(store.mark_once("m2").await.expect("mark"));
    assert!(store.mark_once("m1").await.expect("mark"));
    store.seed(&[record("s1", json!({}))]).await.expect("seed");
    store.remove("s1").await.expect("remove");
    let keys = store.once_keys().await.expect("keys");
    assert_eq!(keys.markers, ["m1", "m2"]);
    assert_eq!(keys.seeded, ["s1"]);

    let added = store
        .add_once_keys(&OnceKeys {
            markers: vec!["m3".into(), "m1".into()],
            seeded: vec!["s2".into(), "s1".into()],
        })
        .await
        .expect("add");
    assert_eq!(
        added,
        OnceKeys {
            markers: vec!["m3".into()],
            seeded: vec!["s2".into()],
        }
    );
    let again = store
        .add_once_keys(&store.once_keys().await.expect("keys"))
        .await
        .expect("add again");
    assert_eq!(again, OnceKeys::default(), "adding twice adds nothing");
    assert_eq!(
        store.once_keys().await.expect("keys"),
        OnceKeys {
            markers: vec!["m1".into(), "m2".into(), "m3".into()],
            seeded: vec!["s1".into(), "s2".into()],
        }
    );
    assert_eq!(count(store.as_ref()).await, 0, "no agent written");
    let seeded = store
        .seed(&[record("s1", json!({})), record("s2", json!({}))])
        .await
        .expect("seed");
    assert!(seeded.is_empty(), "added seeded ids are not seeded again");
    assert!(
        !store.mark_once("m3").await.expect("mark"),
        "already recorded"
    );
}

/// A candidate query for `terms` with nothing cut: no filter, a large budget and
/// limit, no minimum weight.
fn candidate_query(terms: &[&str]) -> CandidateQuery {
    let mut terms: Vec<String> = terms.iter().map(|t| (*t).to_owned()).collect();
    terms.sort();
    CandidateQuery {
        terms,
        team: None,
        required_capabilities: Vec::new(),
        exclude_agents: Vec::new(),
        budget: 1000,
        limit: 1000,
        min_weight: 0.0,
    }
}

async fn candidate_ids(store: &Arc<dyn AgentStore>, query: &CandidateQuery) -> Vec<String> {
    store
        .candidates(query)
        .await
        .expect("candidates")
        .into_iter()
        .map(|r| r.profile.agent_id)
        .collect()
}

/// Candidates share a term with the query, heaviest summed weight first; agents
/// sharing none and disabled agents are never returned (INV-AGT-REC-002).
pub async fn candidates_overlap_the_query_heaviest_first(store: Arc<dyn AgentStore>) {
    for rec in [
        record(
            "db",
            json!({"selectionMetadata": {"keywords": ["database", "sql"]}}),
        ),
        record("db-light", json!({"description": "knows a database"})),
        record("web", json!({"selectionMetadata": {"keywords": ["css"]}})),
        record(
            "db-off",
            json!({"enabled": false, "selectionMetadata": {"keywords": ["database", "sql"]}}),
        ),
        record(
            "schema",
            json!({"selectionMetadata": {"exampleTasks": ["migrate the database schema"]}}),
        ),
    ] {
        store.insert(&rec).await.expect("insert");
    }
    assert_eq!(
        candidate_ids(&store, &candidate_query(&["database", "sql"])).await,
        ["db", "schema", "db-light"],
        "keywords 0.24 > example share 0.15 > description 0.02"
    );
    assert!(
        candidate_ids(&store, &candidate_query(&["nothing"]))
            .await
            .is_empty()
    );
    assert!(
        candidate_ids(&store, &candidate_query(&[]))
            .await
            .is_empty()
    );
}

/// Team, required capabilities and exclusions filter the candidates.
pub async fn candidates_apply_team_capabilities_and_exclusions(store: Arc<dyn AgentStore>) {
    for rec in [
        record(
            "a",
            json!({"team": "core", "capabilities": ["sql"], "selectionMetadata": {"keywords": ["database"]}}),
        ),
        record(
            "b",
            json!({"team": "core", "capabilities": ["css"], "selectionMetadata": {"keywords": ["database"]}}),
        ),
        record(
            "c",
            json!({"team": "Core", "capabilities": ["sql"], "selectionMetadata": {"keywords": ["database"]}}),
        ),
    ] {
        store.insert(&rec).await.expect("insert");
    }
    let mut query = candidate_query(&["database"]);
    query.team = Some("core".into());
    assert_eq!(candidate_ids(&store, &query).await, ["a", "b"]);
    query.required_capabilities = vec!["sql".into()];
    assert_eq!(candidate_ids(&store, &query).await, ["a"]);
    query.team = None;
    assert_eq!(candidate_ids(&store, &query).await, ["a", "c"]);
    query.exclude_agents = vec!["a".into()];
    assert_eq!(candidate_ids(&store, &query).await, ["c"]);
}

/// The term index follows every write: insert, update (new terms, disabling), remove,
/// seed, and import batches (replace, and a rolled-back batch leaves nothing).
pub async fn candidates_follow_every_write(store: Arc<dyn AgentStore>) {
    let find = |term: &'static str| {
        let store = store.clone();
        async move { candidate_ids(&store, &candidate_query(&[term])).await }
    };
    store
        .insert(&record(
            "agent",
            json!({"selectionMetadata": {"keywords": ["alpha"]}}),
        ))
        .await
        .expect("insert");
    assert_eq!(find("alpha").await, ["agent"]);

    let mut v2 = record(
        "agent",
        json!({"selectionMetadata": {"keywords": ["beta"]}}),
    );
    v2.revision = 2;
    store.update(&v2, 1).await.expect("update");
    assert!(find("alpha").await.is_empty(), "old terms are gone");
    assert_eq!(find("beta").await, ["agent"]);

    let mut off = record(
        "agent",
        json!({"enabled": false, "selectionMetadata": {"keywords": ["beta"]}}),
    );
    off.revision = 3;
    store.update(&off, 2).await.expect("disable");
    assert!(
        find("beta").await.is_empty(),
        "a disabled agent is no candidate"
    );
    let mut on = record(
        "agent",
        json!({"selectionMetadata": {"keywords": ["beta"]}}),
    );
    on.revision = 4;
    store.update(&on, 3).await.expect("enable");
    assert_eq!(find("beta").await, ["agent"]);

    assert!(store.remove("agent").await.expect("remove"));
    assert!(
        find("beta").await.is_empty(),
        "a removed agent is no candidate"
    );

    store
        .seed(&[record(
            "seeded",
            json!({"selectionMetadata": {"keywords": ["gamma"]}}),
        )])
        .await
        .expect("seed");
    assert_eq!(find("gamma").await, ["seeded"]);

    let rolled_back = store
        .import_batch(
            &[
                record(
                    "imported",
                    json!({"selectionMetadata": {"keywords": ["delta"]}}),
                ),
                record("seeded", json!({})),
            ],
            BatchConflict::Fail,
            None,
        )
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(rolled_back.conflict.as_deref(), Some("seeded"));
    assert!(
        find("delta").await.is_empty(),
        "a rolled-back batch indexes nothing"
    );

    store
        .import_batch(
            &[
                record(
                    "imported",
                    json!({"selectionMetadata": {"keywords": ["delta"]}}),
                ),
                record(
                    "seeded",
                    json!({"selectionMetadata": {"keywords": ["epsilon"]}}),
                ),
            ],
            BatchConflict::Replace,
            None,
        )
        .await
        .expect("import")
        .expect("applied");
    assert_eq!(find("delta").await, ["imported"]);
    assert!(
        find("gamma").await.is_empty(),
        "a replaced agent's old terms are gone"
    );
    assert_eq!(find("epsilon").await, ["seeded"]);
}

/// The budget cuts each term's postings to the heaviest (enabled agents of the team
/// only), the limit cuts the result, and sums under the minimum weight are left out.
pub async fn candidates_honour_budget_limit_and_minimum(store: Arc<dyn AgentStore>) {
    for rec in [
        record(
            "intent",
            json!({"selectionMetadata": {"primaryIntents": ["alpha"]}}),
        ),
        record(
            "keyword",
            json!({"selectionMetadata": {"keywords": ["alpha"]}}),
        ),
        record("role", json!({"role": "alpha", "team": "t"})),
        record(
            "off",
            json!({"enabled": false, "selectionMetadata": {"primaryIntents": ["alpha", "beta"]}}),
        ),
        record("two", json!({"role": "alpha beta"})),
    ] {
        store.insert(&rec).await.expect("insert");
    }
    let mut query = candidate_query(&["alpha"]);
    query.budget = 2;
    assert_eq!(
        candidate_ids(&store, &query).await,
        ["intent", "keyword"],
        "the two heaviest enabled postings (0.25, 0.12); the disabled agent takes no place"
    );
    query.team = Some("t".into());
    query.budget = 1;
    assert_eq!(
        candidate_ids(&store, &query).await,
        ["role"],
        "the budget counts the team's postings"
    );
    let mut query = candidate_query(&["alpha", "beta"]);
    query.limit = 3;
    assert_eq!(
        candidate_ids(&store, &query).await,
        ["intent", "keyword", "two"],
        "two: 0.05 + 0.05"
    );
    query.min_weight = 0.1;
    query.limit = 10;
    assert_eq!(
        candidate_ids(&store, &query).await,
        ["intent", "keyword", "two"]
    );
    query.min_weight = 0.11;
    assert_eq!(candidate_ids(&store, &query).await, ["intent", "keyword"]);
}

/// Generates one `#[tokio::test]` per conformance case for a store factory.
///
/// `$factory` is an expression callable with no arguments returning a future of
/// `(Arc<dyn AgentStore>, Guard)`; the guard lives until the test ends.
#[macro_export]
macro_rules! agent_store_conformance {
    ($factory:expr) => {
        $crate::agent_store_conformance!(@cases $factory;
            insert_then_get_returns_the_record,
            duplicate_insert_is_already_exists_and_keeps_the_original,
            concurrent_inserts_of_one_id_have_one_winner,
            concurrent_inserts_of_distinct_ids_are_all_stored,
            get_missing_is_none,
            list_orders_by_agent_id_and_pages_stably,
            list_filters_by_team_tags_capability_and_enabled,
            update_is_compare_and_swap_on_revision,
            remove_reports_whether_it_removed,
            seed_never_overwrites_or_resurrects,
            concurrent_seeding_inserts_each_default_once,
            mark_once_records_once,
            import_batch_is_all_or_nothing,
            import_batch_once_runs_exactly_once,
            import_stream_spans_batches_in_one_step,
            import_stream_stops_at_a_fail_conflict,
            an_id_twice_in_one_batch_is_taken_by_its_first_row,
            a_large_batch_decides_every_row_in_order,
            hostile_strings_round_trip_verbatim,
            list_after_pages_by_id_from_an_exclusive_cursor,
            records_are_written_with_their_own_revision_and_timestamps,
            once_keys_are_listed_and_added_as_a_union,
            candidates_overlap_the_query_heaviest_first,
            candidates_apply_team_capabilities_and_exclusions,
            candidates_follow_every_write,
            candidates_honour_budget_limit_and_minimum
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (store, _guard) = ($factory)().await;
                $crate::conformance::$case(store).await;
            }
        )*
    };
}
