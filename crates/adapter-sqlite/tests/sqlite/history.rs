//! The discussion history: save/get/list with the `before` cursor.

use ax_discussion_domain::history::{DiscussionHistory, DiscussionRecord};
use serde_json::json;

use crate::helpers::{block_on, count_rows, temp_db};

/// A UUID-v7-shaped id whose order follows `n`, as real v7 ids follow start time.
fn id(n: u32) -> String {
    format!("0194a3b0-{n:04x}-7000-8000-000000000000")
}

fn discussion(n: u32) -> DiscussionRecord {
    DiscussionRecord {
        discussion_id: id(n),
        topic: format!("topic {n}: 'quotes' \"and\" ✓"),
        pattern: "synthesis".into(),
        status: if n.is_multiple_of(2) {
            "finished"
        } else {
            "failed"
        }
        .into(),
        success: n.is_multiple_of(2),
        providers: vec!["claude".into(), "gemini".into()],
        started_at: format!("2026-01-20T10:{:02}:00Z", n % 60),
        completed_at: format!("2026-01-20T10:{:02}:30Z", n % 60),
        total_duration_ms: 30_000 + u64::from(n),
        result: json!({"synthesis": format!("answer {n}"), "rounds": [{"n": n}]}),
    }
}

#[test]
fn save_then_get_returns_the_record_and_saving_again_overwrites() {
    let (_dir, db) = temp_db();
    let history = db.history();
    let first = discussion(1);
    block_on(history.save(&first)).expect("save");
    assert_eq!(
        block_on(history.get(&first.discussion_id)).expect("get"),
        Some(first.clone())
    );
    assert_eq!(block_on(history.get("no-such-id")).expect("get"), None);

    let mut finished = first.clone();
    finished.status = "finished".into();
    finished.result = json!({"synthesis": "final"});
    block_on(history.save(&finished)).expect("save again");
    assert_eq!(
        block_on(history.get(&first.discussion_id)).expect("get"),
        Some(finished)
    );
    assert_eq!(count_rows(&db, "discussions"), 1);
}

#[test]
fn list_is_newest_first_and_the_cursor_pages_through_everything() {
    let (_dir, db) = temp_db();
    let history = db.history();
    for n in [3, 1, 4, 15, 9, 2, 6, 5, 10, 7, 8, 11, 12, 13, 14] {
        block_on(history.save(&discussion(n))).expect("save");
    }
    let newest = block_on(history.list(3, None)).expect("list");
    let newest_ids: Vec<&str> = newest.iter().map(|s| s.discussion_id.as_str()).collect();
    assert_eq!(newest_ids, [id(15), id(14), id(13)]);
    assert_eq!(newest[0].topic, discussion(15).topic);
    assert_eq!(newest[0].total_duration_ms, 30_015);

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = block_on(history.list(4, before.as_deref())).expect("page");
        if page.is_empty() {
            break;
        }
        before = page.last().map(|s| s.discussion_id.clone());
        seen.extend(page.into_iter().map(|s| s.discussion_id));
    }
    let expected: Vec<String> = (1..=15).rev().map(id).collect();
    assert_eq!(seen, expected);

    // The cursor stays valid when the discussion it names is gone.
    db.connection()
        .expect("connection")
        .execute("DELETE FROM discussions WHERE id = ?1", [id(10)])
        .expect("delete");
    let after_gone = block_on(history.list(2, Some(&id(10)))).expect("list");
    let after_ids: Vec<&str> = after_gone
        .iter()
        .map(|s| s.discussion_id.as_str())
        .collect();
    assert_eq!(after_ids, [id(9), id(8)]);
    assert!(block_on(history.list(0, None)).expect("list").is_empty());
}
