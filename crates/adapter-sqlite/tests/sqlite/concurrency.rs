//! Racing writers, each thread with its own `SqliteDatabase` (own pool, own
//! connections), released together by a barrier.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::store::{AgentFilter, AgentStore, BatchConflict, PageRequest, StoreError};
use serde_json::json;

use crate::helpers::{block_on, count_rows, db_path, record, temp_db};

/// Runs `work(n, database)` on `threads` threads, each with its own freshly opened
/// database on `path`, all starting at once; returns the results in thread order.
fn race<T, F>(path: &Path, threads: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, SqliteDatabase) -> T + Send + Sync + 'static,
{
    let barrier = Arc::new(Barrier::new(threads));
    let work = Arc::new(work);
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let (barrier, work, path): (_, _, PathBuf) =
                (barrier.clone(), work.clone(), path.to_owned());
            std::thread::spawn(move || {
                let db = SqliteDatabase::open(&path).expect("open");
                barrier.wait();
                work(n, db)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("racer thread"))
        .collect()
}

/// INV-AGT-REG-001 / INV-AGT-DB-001: 16 writers register the same id at once →
/// exactly one success, 15 `AlreadyExists`, one row, holding the winner's data.
/// Repeated over several ids to give the race many chances to go wrong.
#[test]
fn same_id_from_16_databases_has_exactly_one_winner() {
    let (dir, db) = temp_db();
    for round in 0..5 {
        let id = format!("contested-{round}");
        let race_id = id.clone();
        let outcomes = race(&db_path(&dir), 16, move |n, db| {
            let rec = record(
                &race_id,
                json!({"team": format!("writer-{n}"), "systemPrompt": format!("prompt of writer {n}")}),
            );
            block_on(db.agent_store().insert(&rec))
        });
        let winners: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_ok())
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one winner, got {winners:?}"
        );
        for (n, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Ok(()) => {}
                Err(StoreError::AlreadyExists { agent_id }) => assert_eq!(agent_id, &id),
                Err(other) => panic!("round {round}, writer {n}: unexpected {other:?}"),
            }
        }
        let rows: i64 = db
            .connection()
            .expect("connection")
            .query_row(
                "SELECT COUNT(*) FROM agents WHERE agent_id = ?1",
                [&id],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(rows, 1);
        let stored = block_on(db.agent_store().get(&id))
            .expect("get")
            .expect("present");
        let winner = winners[0];
        assert_eq!(stored.profile.team, Some(format!("writer-{winner}")));
        assert_eq!(
            stored.profile.system_prompt,
            Some(format!("prompt of writer {winner}"))
        );
    }
}

/// 16 writers × 50 distinct ids at once → all 800 stored, each with its own data.
/// (The reference JSON-file registry kept 3 of 16 in this situation.)
#[test]
fn distinct_ids_from_16_databases_are_all_stored() {
    let (dir, db) = temp_db();
    let outcomes = race(&db_path(&dir), 16, |n, db| {
        let store = db.agent_store();
        block_on(async {
            for k in 0..50 {
                let rec = record(
                    &format!("w{n:02}-a{k:02}"),
                    json!({"team": format!("team-{n:02}"), "tags": [format!("k{k}")]}),
                );
                store.insert(&rec).await?;
            }
            Ok::<_, StoreError>(())
        })
    });
    for (n, outcome) in outcomes.into_iter().enumerate() {
        outcome.unwrap_or_else(|e| panic!("writer {n}: {e:?}"));
    }
    let store = db.agent_store();
    let all = block_on(store.list(&AgentFilter::default(), PageRequest::ALL)).expect("list");
    assert_eq!(all.total, 800);
    let stored: BTreeSet<&str> = all
        .agents
        .iter()
        .map(|r| r.profile.agent_id.as_str())
        .collect();
    assert_eq!(stored.len(), 800);
    for rec in &all.agents {
        // Ids are `wNN-aKK`; the team names the writer `NN` that registered it.
        let writer = &rec.profile.agent_id[1..3];
        assert_eq!(rec.profile.team, Some(format!("team-{writer}")));
    }
    assert_eq!(count_rows(&db, "agent_tags"), 800);
    assert_eq!(db.integrity_check().expect("integrity"), ["ok"]);
}

/// Compare-and-swap across databases: eight editors all read revision 1 and write
/// revision 2 at once; exactly one wins, the others see `RevisionMismatch`.
#[test]
fn concurrent_compare_and_swap_has_one_winner() {
    let (dir, db) = temp_db();
    block_on(
        db.agent_store()
            .insert(&record("shared", json!({"team": "original"}))),
    )
    .expect("insert");
    let outcomes = race(&db_path(&dir), 8, |n, db| {
        let mut edit = record("shared", json!({"team": format!("editor-{n}")}));
        edit.revision = 2;
        block_on(db.agent_store().update(&edit, 1))
    });
    let winners: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_ok())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(winners.len(), 1, "one editor wins, got {winners:?}");
    for outcome in &outcomes {
        match outcome {
            Ok(())
            | Err(StoreError::RevisionMismatch {
                expected: 1,
                actual: 2,
                ..
            }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    let stored = block_on(db.agent_store().get("shared"))
        .expect("get")
        .expect("present");
    assert_eq!(stored.profile.team, Some(format!("editor-{}", winners[0])));
    assert_eq!(stored.revision, 2);
}

/// Several processes seeding the defaults on first start insert each default once;
/// a default removed afterwards stays removed for every later seeder.
#[test]
fn concurrent_seeding_from_several_databases_inserts_each_default_once() {
    let (dir, db) = temp_db();
    let defaults: Vec<_> = (0..9)
        .map(|n| record(&format!("default-{n}"), json!({"team": "defaults"})))
        .collect();
    let shared = Arc::new(defaults.clone());
    let outcomes = race(&db_path(&dir), 8, move |_, db| {
        block_on(db.agent_store().seed(&shared))
    });
    let mut inserted: Vec<String> = outcomes
        .into_iter()
        .flat_map(|o| o.expect("seed"))
        .collect();
    inserted.sort();
    let expected: Vec<String> = (0..9).map(|n| format!("default-{n}")).collect();
    assert_eq!(inserted, expected);
    assert_eq!(count_rows(&db, "agents"), 9);

    assert!(block_on(db.agent_store().remove("default-3")).expect("remove"));
    let later = SqliteDatabase::open(db_path(&dir)).expect("a later start");
    assert!(
        block_on(later.agent_store().seed(&defaults))
            .expect("seed again")
            .is_empty()
    );
    assert_eq!(
        block_on(later.agent_store().get("default-3")).expect("get"),
        None
    );
}

/// A one-time marker set by eight processes at once is recorded by exactly one.
#[test]
fn mark_once_across_databases_records_once() {
    let (dir, _db) = temp_db();
    let outcomes = race(&db_path(&dir), 8, |_, db| {
        block_on(db.agent_store().mark_once("import:agents.json"))
    });
    let firsts = outcomes
        .into_iter()
        .map(|o| o.expect("mark_once"))
        .filter(|first| *first)
        .count();
    assert_eq!(firsts, 1);
}

/// A mixed storm of inserts, updates, replacing imports, removals and listings from eight
/// databases: every call returns its domain answer; none fails with a storage error
/// (in particular SQLITE_BUSY never reaches the caller).
#[test]
fn mixed_write_storm_never_reports_a_storage_error() {
    let (dir, db) = temp_db();
    let outcomes = race(&db_path(&dir), 8, |n, db| {
        let store = db.agent_store();
        block_on(async {
            for k in 0..60_u32 {
                let own = format!("storm-{n}-{k}");
                store
                    .insert(&record(&own, json!({"tags": ["storm"]})))
                    .await?;
                let mut edited = record(&own, json!({"tags": ["storm", "edited"]}));
                edited.revision = 2;
                store.update(&edited, 1).await?;
                store
                    .import_batch(
                        &[record("hot", json!({"team": format!("writer-{n}")}))],
                        BatchConflict::Replace,
                        None,
                    )
                    .await?;
                store
                    .list(
                        &AgentFilter {
                            tags: vec!["storm".into()],
                            ..Default::default()
                        },
                        PageRequest {
                            offset: 0,
                            limit: Some(20),
                        },
                    )
                    .await?;
                match store.insert(&record("hot", json!({}))).await {
                    Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
                    Err(other) => return Err(other),
                }
                if k.is_multiple_of(3) {
                    assert!(store.remove(&own).await?);
                }
            }
            Ok::<_, StoreError>(())
        })
    });
    for (n, outcome) in outcomes.into_iter().enumerate() {
        outcome.unwrap_or_else(|e| panic!("writer {n}: {e:?}"));
    }
    // 8 writers × 60 agents, a third removed, plus "hot".
    assert_eq!(count_rows(&db, "agents"), 8 * 40 + 1);
    assert_eq!(db.integrity_check().expect("integrity"), ["ok"]);
}

/// A writer that finds the write lock held (here by a raw connection in the middle of
/// a `BEGIN IMMEDIATE` transaction) waits for it (busy_timeout) and then succeeds;
/// it does not fail with SQLITE_BUSY.
#[test]
fn writers_wait_for_a_held_write_lock_instead_of_failing() {
    let (dir, db) = temp_db();
    let holder = db.connection().expect("connection");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let writers: Vec<_> = (0..4)
        .map(|n| {
            let path = db_path(&dir);
            std::thread::spawn(move || {
                let db = SqliteDatabase::open(&path).expect("open");
                block_on(
                    db.agent_store()
                        .insert(&record(&format!("waiter-{n}"), json!({}))),
                )
            })
        })
        .collect();
    // Hold the lock while the writers start and queue behind it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    holder
        .execute_batch("COMMIT")
        .expect("release the write lock");
    for writer in writers {
        writer
            .join()
            .expect("writer thread")
            .expect("the insert waited and succeeded");
    }
    drop(holder);
    assert_eq!(count_rows(&db, "agents"), 4);
}

/// When the lock stays held past the busy timeout, the failure is a typed storage
/// error whose cause says the database is busy — not a panic, not a false "already
/// exists".
#[test]
fn a_lock_held_past_the_busy_timeout_is_a_storage_error_with_its_cause() {
    let (dir, db) = temp_db();
    let holder = db.connection().expect("connection");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let impatient = SqliteDatabase::open_with(
        db_path(&dir),
        ax_adapter_sqlite::DatabaseOptions {
            busy_timeout: std::time::Duration::from_millis(50),
            ..Default::default()
        },
    )
    .expect("open");
    // The holder keeps the lock until this call has returned, so it must time out.
    let outcome = block_on(impatient.agent_store().insert(&record("late", json!({}))));
    holder.execute_batch("ROLLBACK").expect("release");
    match outcome {
        Err(StoreError::Backend { source, .. }) => {
            let busy = source
                .downcast_ref::<ax_adapter_sqlite::DatabaseBusy>()
                .expect("the cause says the database is busy");
            assert_eq!(busy.waited, std::time::Duration::from_millis(50));
        }
        other => panic!("expected a storage error, got {other:?}"),
    }
    assert_eq!(count_rows(&db, "agents"), 0);
}
