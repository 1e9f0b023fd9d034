//! The edges of issue 9 (items 5 and 7): no wait past the busy timeout (opening, the
//! switch to WAL, a pool checkout on the async thread), a lock given up on says
//! "busy", the WAL checkpointed on close, the online backup, read-only files.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ax_adapter_sqlite::{DatabaseBusy, DatabaseError, DatabaseOptions, Execution, SqliteDatabase};
use ax_agent_domain::store::{AgentStore, StoreError};
use ax_contracts::error::error_chain;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{block_on, count_rows, db_path, record, temp_db};

fn options(busy_timeout: Duration) -> DatabaseOptions {
    DatabaseOptions {
        busy_timeout,
        ..DatabaseOptions::default()
    }
}

/// A database file in rollback-journal mode (as another tool or an old `ax` leaves
/// it), not yet in WAL mode.
fn rollback_mode_file(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
    )
    .expect("create a rollback-mode file");
    conn
}

/// Opening a file not yet in WAL mode while another connection reads it (a shared
/// lock) gives up after the busy timeout with `Busy` — it used to retry the switch
/// to WAL 200 times, each attempt waiting on its own (169 s behind a reader with the
/// 10 s default). Once the reader is gone, opening succeeds.
#[test]
fn the_switch_to_wal_behind_a_reader_gives_up_after_the_busy_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let reader = rollback_mode_file(&path);
    reader
        .execute_batch("BEGIN; SELECT * FROM t;")
        .expect("hold a shared lock");

    let (tx, rx) = mpsc::channel();
    let opening = path.clone();
    std::thread::spawn(move || {
        let started = Instant::now();
        let result = SqliteDatabase::open_with(&opening, options(Duration::from_millis(800)));
        let _ = tx.send((started.elapsed(), result.map(|_| ())));
    });
    let (took, result) = rx
        .recv_timeout(Duration::from_secs(8))
        .expect("opening returned within 10 busy timeouts");
    assert!(took < Duration::from_secs(3), "opening took {took:?}");
    match result {
        Err(error @ DatabaseError::Busy { .. }) => {
            assert!(error.is_busy());
            let message = error_chain(&error);
            assert!(
                message.contains("is busy (locked by another process for more than 800 ms)"),
                "{message}"
            );
        }
        other => panic!("expected Busy, got {other:?}"),
    }

    reader.execute_batch("COMMIT").expect("release");
    let db = SqliteDatabase::open_with(&path, options(Duration::from_millis(800)))
        .expect("opens once the reader is gone");
    assert_eq!(
        db.connection_settings().expect("settings").journal_mode,
        "wal"
    );
}

/// A write that waits past the busy timeout fails with a storage error whose cause
/// says the database is busy and for how long, not SQLite's "database is locked".
#[test]
fn a_lock_given_up_on_says_the_database_is_busy() {
    let (dir, db) = temp_db();
    let holder = db.connection().expect("connection");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let impatient = SqliteDatabase::open_with(db_path(&dir), options(Duration::from_millis(300)))
        .expect("open");
    let outcome = block_on(impatient.agent_store().insert(&record("late", json!({}))));
    holder.execute_batch("ROLLBACK").expect("release");
    match outcome {
        Err(error @ StoreError::Backend { .. }) => {
            let StoreError::Backend { source, .. } = &error else {
                unreachable!()
            };
            assert_eq!(
                source.downcast_ref::<DatabaseBusy>(),
                Some(&DatabaseBusy {
                    waited: Duration::from_millis(300)
                })
            );
            assert!(
                error_chain(&error).ends_with(
                    "the database is busy (locked by another process for more than 300 ms)"
                ),
                "{}",
                error_chain(&error)
            );
        }
        other => panic!("expected a storage error, got {other:?}"),
    }
}

/// With every pooled connection checked out (writers holding them), a point read
/// under `PointReadsInline` does not wait for a checkout on the async thread: the
/// other tasks of a current-thread runtime (the stdio MCP server's one thread) keep
/// running, and the read completes once a connection is free.
#[test]
fn a_point_read_never_waits_for_a_checkout_on_the_async_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = SqliteDatabase::open_with(
        db_path(&dir),
        DatabaseOptions {
            busy_timeout: Duration::from_secs(5),
            max_connections: 2,
            execution: Execution::PointReadsInline,
        },
    )
    .expect("open");
    block_on(db.agent_store().insert(&record("a", json!({})))).expect("insert");
    let held = vec![
        db.connection().expect("first"),
        db.connection().expect("second"),
    ];
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        drop(held);
    });

    let store = db.agent_store();
    let (found, longest_stall) = block_on(async move {
        let read = tokio::spawn(async move { store.get("a").await });
        let mut longest = Duration::ZERO;
        let mut last = Instant::now();
        while !read.is_finished() {
            tokio::task::yield_now().await;
            let now = Instant::now();
            longest = longest.max(now - last);
            last = now;
        }
        (read.await.expect("read task"), longest)
    });
    release.join().expect("release thread");
    assert!(
        longest_stall < Duration::from_millis(500),
        "the async thread stalled {longest_stall:?} on a pool checkout"
    );
    assert_eq!(
        found.expect("read").map(|r| r.profile.agent_id),
        Some("a".to_owned())
    );
}

/// While another connection keeps the file open (another process: SQLite's own
/// checkpoint on the last close does not happen then), closing the database copies
/// the WAL into the file: `data.db` alone holds every commit.
#[test]
fn closing_checkpoints_so_the_database_file_alone_is_complete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let db = SqliteDatabase::open(&path).expect("open");
    let other = Connection::open(&path).expect("another connection");
    let _: i64 = other
        .query_row("SELECT COUNT(*) FROM agents", [], |r| r.get(0))
        .expect("read");
    let store = db.agent_store();
    block_on(store.insert(&record("kept", json!({})))).expect("insert");
    drop(store);
    drop(db);

    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).expect("copy data.db alone");
    let alone = Connection::open(&copy).expect("open the copy");
    let count: i64 = alone
        .query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id = 'kept'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    assert_eq!(count, 1, "the commit stayed in data.db-wal");
    drop(other);
}

/// The online backup is one consistent snapshot and a complete database on its own,
/// taken while another connection writes; it refuses the database's own files and
/// an existing file unless told to replace it.
#[test]
fn backup_copies_a_consistent_snapshot_while_another_connection_writes() {
    let (dir, db) = temp_db();
    for n in 0..50 {
        block_on(
            db.agent_store()
                .insert(&record(&format!("before-{n}"), json!({}))),
        )
        .expect("insert");
    }
    let writer_path = db_path(&dir);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let writer = std::thread::spawn(move || {
        let other = SqliteDatabase::open(&writer_path).expect("open");
        let mut n = 0;
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            block_on(
                other
                    .agent_store()
                    .insert(&record(&format!("during-{n}"), json!({}))),
            )
            .expect("a writer is never refused during a backup");
            n += 1;
        }
        n
    });
    std::thread::sleep(Duration::from_millis(50));
    let dest = dir.path().join("backup.db");
    let report = db.backup_to(&dest, false).expect("backup");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().expect("writer");
    assert!(written > 0);
    assert_eq!(report.path, dest);
    assert_eq!(
        report.bytes,
        std::fs::metadata(&dest).expect("backup file").len()
    );

    let copy = Connection::open(&dest).expect("open the backup");
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    let before: i64 = copy
        .query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id LIKE 'before-%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(before, 50);
    // One snapshot: the side tables agree with the rows they index.
    let side: i64 = copy
        .query_row("SELECT COUNT(*) FROM agents", [], |r| r.get(0))
        .expect("count");
    assert!(side >= 50);
    assert!(!dir.path().join("backup.db-wal").exists());

    assert!(matches!(
        db.backup_to(&dest, false),
        Err(DatabaseError::Backup { .. })
    ));
    db.backup_to(&dest, true).expect("replaced with replace");
    assert!(matches!(
        db.backup_to(db.path(), true),
        Err(DatabaseError::BackupOverSelf { .. })
    ));
    assert!(count_rows(&db, "agents") >= 50);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".ax-backup-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
