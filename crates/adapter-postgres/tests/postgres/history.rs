//! The discussion history on PostgreSQL: the shared `DiscussionHistory` kit (from
//! `ax-discussion-domain`, feature `conformance`) on a fresh schema per case, plus
//! what only a shared server can show: a cursor surviving a row deleted behind the
//! store's back, U+0000 in stored text, and two "machines" (separate pools) sharing
//! one history.

use std::sync::Arc;

use ax_contracts::discussion::{DiscussionStatus, Pattern};
use ax_discussion_domain::InMemoryHistory;
use ax_discussion_domain::history::{DiscussionHistory, DiscussionRecord};
use serde_json::json;

use crate::helpers::{connect, fresh};

ax_discussion_domain::discussion_history_conformance!(|| async {
    match fresh().await {
        Some((test, db)) => (
            Arc::new(db.history()) as Arc<dyn DiscussionHistory>,
            Some(test),
        ),
        // AX_SKIP_POSTGRES=1 (announced on stderr): the case runs against the
        // in-memory history so that the macro's test still has one to drive.
        None => (
            Arc::new(InMemoryHistory::default()) as Arc<dyn DiscussionHistory>,
            None,
        ),
    }
});

/// A UUID-v7-shaped id whose order follows `n`, as real v7 ids follow start time.
fn id(n: u32) -> String {
    format!("0194a3b0-{n:04x}-7000-8000-000000000000")
}

fn discussion(n: u32) -> DiscussionRecord {
    DiscussionRecord {
        discussion_id: id(n),
        topic: format!("topic {n}: 'quotes' \"and\" ✓ \u{0} nul"),
        pattern: Pattern::Synthesis,
        status: if n.is_multiple_of(2) {
            DiscussionStatus::Finished
        } else {
            DiscussionStatus::Failed
        },
        success: n.is_multiple_of(2),
        providers: vec!["claude".into(), "gemini".into()],
        started_at: format!("2026-01-20T10:{:02}:00Z", n % 60),
        completed_at: format!("2026-01-20T10:{:02}:30Z", n % 60),
        total_duration_ms: 30_000 + u64::from(n),
        result: json!({"synthesis": format!("answer {n} \u{0}"), "rounds": [{"n": n}], "z": 1, "a": 2}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_is_newest_first_and_the_cursor_pages_through_everything() {
    let Some((test, db)) = fresh().await else {
        return;
    };
    let history = db.history();
    for n in [3, 1, 4, 15, 9, 2, 6, 5, 10, 7, 8, 11, 12, 13, 14] {
        history.save(&discussion(n)).await.expect("save");
    }
    let newest = history.list(3, None).await.expect("list");
    let newest_ids: Vec<&str> = newest.iter().map(|s| s.discussion_id.as_str()).collect();
    assert_eq!(newest_ids, [id(15), id(14), id(13)]);
    assert_eq!(newest[0].topic, discussion(15).topic);
    assert_eq!(newest[0].total_duration_ms, 30_015);

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = history.list(4, before.as_deref()).await.expect("page");
        if page.is_empty() {
            break;
        }
        before = page.last().map(|s| s.discussion_id.clone());
        seen.extend(page.into_iter().map(|s| s.discussion_id));
    }
    let expected: Vec<String> = (1..=15).rev().map(id).collect();
    assert_eq!(seen, expected);

    // The cursor stays valid when the discussion it names is gone.
    test.execute(&format!("DELETE FROM discussions WHERE id = '{}'", id(10)))
        .expect("delete");
    let after_gone = history.list(2, Some(&id(10))).await.expect("list");
    let after_ids: Vec<&str> = after_gone
        .iter()
        .map(|s| s.discussion_id.as_str())
        .collect();
    assert_eq!(after_ids, [id(9), id(8)]);
    assert!(history.list(0, None).await.expect("list").is_empty());
}

/// Two pools on the same database stand in for two machines: what one saves, the
/// other lists and shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discussion_saved_on_one_machine_is_listed_and_shown_on_another() {
    let Some((test, one)) = fresh().await else {
        return;
    };
    let other = connect(test.url()).await;
    let record = discussion(42);
    one.history().save(&record).await.expect("save");
    let listed = other.history().list(10, None).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].discussion_id, record.discussion_id);
    assert_eq!(
        other
            .history()
            .get(&record.discussion_id)
            .await
            .expect("get"),
        Some(record)
    );
}
