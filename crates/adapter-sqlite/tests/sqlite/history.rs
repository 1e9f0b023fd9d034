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
