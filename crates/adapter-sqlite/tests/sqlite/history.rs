//! The discussion history: the shared `DiscussionHistory` kit (from
//! `ax-discussion-domain`, feature `conformance`) on a fresh file per case, in each
//! way the adapter can run SQLite, plus what only SQLite can show.

use std::sync::Arc;

use ax_adapter_sqlite::{DatabaseOptions, Execution, SqliteDatabase};
use ax_discussion_domain::conformance::history::record;
use ax_discussion_domain::history::DiscussionHistory;
use serde_json::json;

use crate::helpers::{block_on, count_rows, temp_db};

/// A fresh history on a new file, SQLite running as `execution` says.
fn fresh(execution: Execution) -> (Arc<dyn DiscussionHistory>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let options = DatabaseOptions {
        execution,
        ..DatabaseOptions::default()
    };
    let db = SqliteDatabase::open_with(dir.path().join("data.db"), options)
        .expect("open a fresh database");
    (Arc::new(db.history()) as Arc<dyn DiscussionHistory>, dir)
}

ax_discussion_domain::discussion_history_conformance!(|| async { fresh(Execution::BlockingPool) });

/// With SQLite running inline on the calling thread.
mod inline {
    use ax_adapter_sqlite::Execution;

    ax_discussion_domain::discussion_history_conformance!(|| async {
        super::fresh(Execution::Inline)
    });
}

/// With point reads inline and everything else on the blocking pool.
mod point_reads_inline {
    use ax_adapter_sqlite::Execution;

    ax_discussion_domain::discussion_history_conformance!(|| async {
        super::fresh(Execution::PointReadsInline)
    });
}

/// Saving a discussion again rewrites its row in place: one row per id.
#[test]
fn saving_again_keeps_one_row() {
    let (_dir, db) = temp_db();
    let history = db.history();
    let first = record(1);
    block_on(history.save(&first)).expect("save");
    let mut finished = first.clone();
    finished.result = json!({"synthesis": "final"});
    block_on(history.save(&finished)).expect("save again");
    assert_eq!(count_rows(&db, "discussions"), 1);
    assert_eq!(
        block_on(history.get(&first.discussion_id)).expect("get"),
        Some(finished)
    );
}

/// A stored row whose pattern or status this build does not know (written by hand or
/// by another build) is reported as an error naming the value, not a panic, and the
/// other rows stay readable.
#[test]
fn an_unknown_stored_name_is_an_error_naming_it() {
    let (_dir, db) = temp_db();
    let history = db.history();
    let (kept, edited) = (record(1), record(2));
    block_on(history.save(&kept)).expect("save");
    block_on(history.save(&edited)).expect("save");
    db.connection()
        .expect("connection")
        .execute(
            "UPDATE discussions SET pattern = 'shouting' WHERE id = ?1",
            [&edited.discussion_id],
        )
        .expect("edit the row by hand");

    let error = block_on(history.get(&edited.discussion_id)).expect_err("unknown pattern");
    let chain = ax_contracts::error::error_chain(&error);
    assert!(chain.contains("unknown pattern \"shouting\""), "{chain}");
    assert!(block_on(history.list(10, None)).is_err());
    assert_eq!(
        block_on(history.get(&kept.discussion_id))
            .expect("get")
            .map(|r| r.pattern),
        Some(kept.pattern)
    );
}
