//! The `DiscussionHistory` kit (INV-DISC-HIST-001): what every history backend must
//! do with the discussions [`DiscussionService`](crate::DiscussionService) saves
//! (INV-DISC-SAVE-001) — keep each one whole, one per id, and list them newest first
//! behind an exclusive cursor that stays valid.
//!
//! Use it from a backend's tests with
//! [`discussion_history_conformance!`](crate::discussion_history_conformance), giving
//! an async factory that returns a fresh, empty history and a guard kept alive for the
//! test (e.g. the temporary directory holding a database file):
//!
//! ```ignore
//! ax_discussion_domain::discussion_history_conformance!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let db = MyDatabase::open(dir.path().join("data.db")).unwrap();
//!     (std::sync::Arc::new(db.history()) as std::sync::Arc<dyn DiscussionHistory>, dir)
//! });
//! ```

use std::sync::Arc;

use ax_contracts::discussion::{DiscussionStatus, Pattern};
use serde_json::json;

use crate::history::{DiscussionHistory, DiscussionRecord, DiscussionSummary};

/// A UUID-v7-shaped discussion id whose order follows `n`, as real v7 ids follow
/// start time (the port's recency order).
pub fn id(n: u32) -> String {
    format!("0194a3b0-{n:04x}-7000-8000-000000000000")
}

/// A finished discussion numbered `n` (its id is [`id`]`(n)`).
pub fn record(n: u32) -> DiscussionRecord {
    DiscussionRecord {
        discussion_id: id(n),
        topic: format!("topic {n}"),
        pattern: Pattern::Synthesis,
        status: DiscussionStatus::Finished,
        success: true,
        // Not sorted: the order given is the order kept.
        providers: vec!["gemini".into(), "claude".into()],
        // Times out of step with the ids, so that a backend ordering by anything but
        // the id is caught (the port's order is the id's).
        started_at: format!("2026-01-20T10:{:02}:00.000Z", (n * 7) % 60),
        completed_at: format!("2026-01-20T10:{:02}:30.000Z", (n * 7) % 60),
        total_duration_ms: 30_000 + u64::from(n),
        result: json!({"synthesis": format!("answer {n}"), "rounds": [{"n": n}]}),
    }
}

/// What a listing must say about `record`.
fn summary_of(record: &DiscussionRecord) -> DiscussionSummary {
    DiscussionSummary {
        discussion_id: record.discussion_id.clone(),
        topic: record.topic.clone(),
        pattern: record.pattern,
        status: record.status,
        success: record.success,
        providers: record.providers.clone(),
        started_at: record.started_at.clone(),
        total_duration_ms: record.total_duration_ms,
    }
}

fn ids(summaries: &[DiscussionSummary]) -> Vec<&str> {
    summaries.iter().map(|s| s.discussion_id.as_str()).collect()
}

/// INV-DISC-HIST-001: `get` returns exactly what was saved — every field, the full
/// result document, SQL-looking, quote-heavy and non-ASCII text byte for byte.
pub async fn save_then_get_returns_the_record_whole(history: Arc<dyn DiscussionHistory>) {
    let hostile = [
        "'); DROP TABLE discussions;--",
        r#"quote " double "" and 'single' '' and back\slash \" mix"#,
        "日本語 — مرحبا — 🦀🚀 — e\u{301}",
        "%_ LIKE wildcards %% and \u{0} nul",
    ];
    for (n, text) in (1..).zip(hostile) {
        let mut rec = record(n);
        rec.topic = text.to_owned();
        rec.pattern = Pattern::Debate;
        rec.status = DiscussionStatus::Failed;
        rec.success = false;
        rec.providers = vec![text.to_owned(), "claude".into()];
        rec.result = json!({
            "topic": text,
            "rounds": [{"responses": [{"content": text, "tokens": 12}]}],
            "error": {"code": "DISCUSSION_FAILED", "message": text},
            "nested": {"empty": {}, "list": [], "null": null, "float": 0.25},
        });
        history.save(&rec).await.expect("save");
        assert_eq!(
            history.get(&rec.discussion_id).await.expect("get"),
            Some(rec.clone()),
            "round trip of {text:?}"
        );
    }
}

/// An id never saved is `None`, not an error; an empty history lists nothing.
pub async fn unknown_ids_are_none_and_an_empty_history_lists_nothing(
    history: Arc<dyn DiscussionHistory>,
) {
    assert_eq!(history.get(&id(7)).await.expect("get"), None);
    assert!(history.list(10, None).await.expect("list").is_empty());
    history.save(&record(1)).await.expect("save");
    assert_eq!(history.get(&id(7)).await.expect("get"), None);
    assert_eq!(history.get("").await.expect("get of an empty id"), None);
}

/// INV-DISC-HIST-001: saving a discussion again replaces it (a discussion is saved
/// once per outcome; a second save of one id must not list it twice).
pub async fn saving_again_overwrites_by_id(history: Arc<dyn DiscussionHistory>) {
    let mut first = record(3);
    first.status = DiscussionStatus::Cancelled;
    first.success = false;
    history.save(&first).await.expect("save");
    history.save(&record(2)).await.expect("save another");
    let mut second = record(3);
    second.result = json!({"synthesis": "final"});
    history.save(&second).await.expect("save again");

    assert_eq!(
        history.get(&id(3)).await.expect("get"),
        Some(second.clone())
    );
    let listed = history.list(10, None).await.expect("list");
    assert_eq!(ids(&listed), [id(3), id(2)]);
    assert_eq!(listed[0], summary_of(&second));
}

/// INV-DISC-HIST-001: a listing is newest first (ids are UUID v7, so by id,
/// descending) whatever order discussions were saved in, and each entry summarises
/// its record.
pub async fn list_is_newest_first_and_summarises_each_record(history: Arc<dyn DiscussionHistory>) {
    let order = [3, 1, 4, 15, 9, 2, 6, 5, 10, 7, 8, 11, 12, 13, 14];
    for n in order {
        history.save(&record(n)).await.expect("save");
    }
    let all = history.list(usize::MAX, None).await.expect("list all");
    let expected: Vec<String> = (1..=15).rev().map(id).collect();
    assert_eq!(ids(&all), expected);
    for summary in &all {
        let n = order
            .into_iter()
            .find(|n| id(*n) == summary.discussion_id)
            .expect("a saved id");
        assert_eq!(summary, &summary_of(&record(n)));
    }
    let newest = history.list(3, None).await.expect("list 3");
    assert_eq!(ids(&newest), [id(15), id(14), id(13)]);
}

/// INV-DISC-HIST-001: `before` is exclusive and pages through everything without a
/// gap or a repeat; it stays valid when no discussion has that id (the one it named is
/// gone, or it was never saved); a limit of zero lists nothing.
pub async fn the_cursor_is_exclusive_and_pages_through_everything(
    history: Arc<dyn DiscussionHistory>,
) {
    // Even numbers only, so the odd ids between them are cursors naming nothing.
    for n in (2..=20).step_by(2) {
        history.save(&record(n)).await.expect("save");
    }
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    // Ten discussions in pages of three: four pages and an empty one. More means the
    // cursor does not move on (an inclusive cursor repeats its page forever).
    for _ in 0..6 {
        let page = history.list(3, before.as_deref()).await.expect("page");
        assert!(page.len() <= 3, "a page holds at most `limit` entries");
        let Some(last) = page.last() else { break };
        before = Some(last.discussion_id.clone());
        seen.extend(page.into_iter().map(|s| s.discussion_id));
    }
    let expected: Vec<String> = (2..=20).rev().step_by(2).map(id).collect();
    assert_eq!(seen, expected);

    let after = history.list(2, Some(&id(12))).await.expect("after 12");
    assert_eq!(
        ids(&after),
        [id(10), id(8)],
        "the cursor itself is excluded"
    );
    let between = history.list(2, Some(&id(11))).await.expect("after 11");
    assert_eq!(ids(&between), [id(10), id(8)], "a cursor naming nothing");
    let above = history.list(1, Some(&id(99))).await.expect("after 99");
    assert_eq!(ids(&above), [id(20)]);
    assert!(
        history
            .list(5, Some(&id(2)))
            .await
            .expect("after the oldest")
            .is_empty()
    );
    assert!(history.list(0, None).await.expect("limit 0").is_empty());
}

/// Concurrent saves of distinct discussions are all kept; concurrent saves of one id
/// leave exactly one record, one of those written.
pub async fn concurrent_saves_are_all_kept(history: Arc<dyn DiscussionHistory>) {
    let mut tasks = Vec::new();
    for writer in 0..8_u32 {
        let history = history.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..10_u32 {
                history
                    .save(&record(100 + writer * 10 + k))
                    .await
                    .expect("distinct save");
                let mut contested = record(1);
                contested.topic = format!("writer {writer}");
                history.save(&contested).await.expect("contested save");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let all = history.list(usize::MAX, None).await.expect("list");
    assert_eq!(
        all.len(),
        81,
        "80 distinct discussions and the contested one"
    );
    let contested = history.get(&id(1)).await.expect("get").expect("saved");
    assert!(
        (0..8).any(|w| contested.topic == format!("writer {w}")),
        "{contested:?}"
    );
    assert_eq!(all.iter().filter(|s| s.discussion_id == id(1)).count(), 1);
}

/// `save_missing` saves the records whose ids are not saved yet — whole, as `save`
/// would — leaves a saved id as it is, reports exactly what it saved, and is a
/// no-op when repeated.
pub async fn save_missing_adds_only_unsaved_ids(history: Arc<dyn DiscussionHistory>) {
    let kept = record(2);
    history.save(&kept).await.expect("save");
    let mut differing = record(2);
    differing.topic = "not this one".into();
    let batch = [record(3), differing, record(1)];
    let saved = history.save_missing(&batch).await.expect("save_missing");
    assert_eq!(saved, [id(3), id(1)], "the unsaved ids, in the order given");
    assert_eq!(history.get(&id(2)).await.expect("get"), Some(kept));
    for n in [1, 3] {
        assert_eq!(history.get(&id(n)).await.expect("get"), Some(record(n)));
    }
    assert!(
        history
            .save_missing(&batch)
            .await
            .expect("again")
            .is_empty(),
        "nothing missing the second time"
    );
    assert_eq!(history.list(10, None).await.expect("list").len(), 3);
    assert!(history.save_missing(&[]).await.expect("empty").is_empty());
}

/// Generates one `#[tokio::test]` per case of the `DiscussionHistory` kit for a
/// history factory.
///
/// `$factory` is an expression callable with no arguments returning a future of
/// `(Arc<dyn DiscussionHistory>, Guard)`; the guard lives until the test ends.
#[macro_export]
macro_rules! discussion_history_conformance {
    ($factory:expr) => {
        $crate::discussion_history_conformance!(@cases $factory;
            save_then_get_returns_the_record_whole,
            unknown_ids_are_none_and_an_empty_history_lists_nothing,
            saving_again_overwrites_by_id,
            list_is_newest_first_and_summarises_each_record,
            the_cursor_is_exclusive_and_pages_through_everything,
            concurrent_saves_are_all_kept,
            save_missing_adds_only_unsaved_ids
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (history, _guard) = ($factory)().await;
                $crate::conformance::history::$case(history).await;
            }
        )*
    };
}
