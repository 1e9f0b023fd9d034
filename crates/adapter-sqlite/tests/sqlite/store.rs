//! Store semantics beyond the shared conformance suite: verbatim storage, filters
//! and paging at a larger size, persistence across opens, the no-runtime path.

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::store::{
    AgentFilter, AgentPage, AgentStore, BatchConflict, PageRequest, StoreError,
};
use ax_contracts::agent::AgentRecord;
use serde_json::json;

use crate::helpers::{block_on, count_rows, db_path, ids, record, temp_db};

fn list(db: &SqliteDatabase, filter: &AgentFilter, page: PageRequest) -> AgentPage {
    block_on(db.agent_store().list(filter, page)).expect("list")
}

/// SQL-looking, quote-heavy and non-ASCII strings in every stored column and in every
/// filter come back byte for byte, and the SQL in them never runs.
#[test]
fn hostile_strings_are_stored_and_read_back_verbatim() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let hostile = [
        "'); DROP TABLE agents;--",
        "\"; DELETE FROM agent_tags; SELECT \"",
        "it's \"quoted\" `twice` \\ and ''doubled''",
        "Grüße, 日本語, עברית, emoji 🦀 and e\u{301}",
        "%_* LIKE and GLOB wildcards ? ?1 :name @x $y",
    ];
    for (n, text) in hostile.iter().enumerate() {
        let id = format!("hostile-{n}");
        let rec = record(
            &id,
            json!({
                "description": text,
                "displayName": text,
                "systemPrompt": text,
                "team": text,
                "tags": [text, "plain"],
                "capabilities": [text],
                "metadata": {"note": text, "deep": [{"k": text}]},
            }),
        );
        block_on(store.insert(&rec)).expect("insert");
        assert_eq!(
            block_on(store.get(&id)).expect("get"),
            Some(rec),
            "round trip of {text:?}"
        );
        for filter in [
            AgentFilter {
                team: Some((*text).into()),
                ..Default::default()
            },
            AgentFilter {
                tags: vec![(*text).into()],
                ..Default::default()
            },
            AgentFilter {
                capability: Some((*text).into()),
                ..Default::default()
            },
        ] {
            assert_eq!(
                ids(&list(&db, &filter, PageRequest::ALL).agents),
                [id.as_str()],
                "{filter:?}"
            );
        }
    }
    assert_eq!(
        count_rows(&db, "agents"),
        5,
        "the agents table is still there"
    );
    assert_eq!(count_rows(&db, "agent_tags"), 10);
    let plain = list(
        &db,
        &AgentFilter {
            tags: vec!["plain".into()],
            ..Default::default()
        },
        PageRequest::ALL,
    );
    assert_eq!(plain.total, 5);
}

/// Unknown nested keys (kept verbatim by the contract) survive storage.
#[test]
fn the_profile_json_is_kept_verbatim() {
    let (_dir, db) = temp_db();
    let rec = record(
        "nested",
        json!({
            "orchestration": {"maxDelegationDepth": 2, "canDelegateToArchetypes": ["x"], "futureKey": {"a": [1, 2.5, null]}},
            "metadata": {"big": 12345678901234_i64, "ratio": 0.1, "flag": false},
        }),
    );
    block_on(db.agent_store().insert(&rec)).expect("insert");
    assert_eq!(
        block_on(db.agent_store().get("nested")).expect("get"),
        Some(rec)
    );
}

/// 120 agents: every filter, alone and combined, matches what a plain scan of the
/// records says; paging through with a small limit returns the same sequence as one
/// big page, in agentId byte order, and every page reports the same total.
#[test]
fn list_filters_and_pages_agree_with_a_plain_scan() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let mut records = Vec::new();
    for n in 0..120_u32 {
        // Mixed case and digits so that byte order matters ("Z" < "a").
        let id = if n.is_multiple_of(4) {
            format!("Z{n:03}")
        } else {
            format!("agent-{n:03}")
        };
        let team = ["core", "web", "data"][(n % 3) as usize];
        let capability = ["code", "code-review", "sql"][(n % 3) as usize];
        let rec = record(
            &id,
            json!({
                "team": team,
                "tags": [format!("t{}", n % 5), format!("t{}", n % 7)],
                "capabilities": [capability, format!("c{}", n % 4)],
                "enabled": !n.is_multiple_of(6),
            }),
        );
        records.push(rec);
    }
    for rec in records.iter().rev() {
        block_on(store.insert(rec)).expect("insert");
    }
    records.sort_by(|a, b| {
        a.profile
            .agent_id
            .as_bytes()
            .cmp(b.profile.agent_id.as_bytes())
    });

    let filters = [
        AgentFilter::default(),
        AgentFilter {
            team: Some("web".into()),
            ..Default::default()
        },
        AgentFilter {
            tags: vec!["t1".into(), "t6".into(), "t1".into()],
            ..Default::default()
        },
        AgentFilter {
            capability: Some("code".into()),
            ..Default::default()
        },
        AgentFilter {
            enabled: Some(false),
            ..Default::default()
        },
        AgentFilter {
            team: Some("core".into()),
            tags: vec!["t2".into()],
            capability: Some("c1".into()),
            enabled: Some(true),
        },
        AgentFilter {
            tags: vec!["absent".into()],
            ..Default::default()
        },
    ];
    for filter in &filters {
        let expected: Vec<&str> = records
            .iter()
            .filter(|r| {
                let p = &r.profile;
                filter
                    .team
                    .as_ref()
                    .is_none_or(|t| p.team.as_ref() == Some(t))
                    && filter.enabled.is_none_or(|e| p.enabled == e)
                    && (filter.tags.is_empty()
                        || filter.tags.iter().any(|t| p.tags().contains(&t.as_str())))
                    && filter
                        .capability
                        .as_ref()
                        .is_none_or(|c| p.capabilities().contains(&c.as_str()))
            })
            .map(|r| r.profile.agent_id.as_str())
            .collect();
        let whole = list(&db, filter, PageRequest::ALL);
        assert_eq!(ids(&whole.agents), expected, "{filter:?}");
        assert_eq!(whole.total, expected.len() as u64);

        let mut paged = Vec::new();
        let mut offset = 0;
        loop {
            let page = list(
                &db,
                filter,
                PageRequest {
                    offset,
                    limit: Some(7),
                },
            );
            assert_eq!(page.total, expected.len() as u64, "total on every page");
            if page.agents.is_empty() {
                break;
            }
            offset += page.agents.len() as u64;
            paged.extend(page.agents.into_iter().map(|r| r.profile.agent_id));
        }
        assert_eq!(paged, expected, "pages of {filter:?}");
    }

    let counted = list(
        &db,
        &AgentFilter::default(),
        PageRequest {
            offset: 0,
            limit: Some(0),
        },
    );
    assert!(counted.agents.is_empty());
    assert_eq!(counted.total, 120);
    let huge = list(
        &db,
        &AgentFilter::default(),
        PageRequest {
            offset: u64::MAX,
            limit: Some(u64::MAX),
        },
    );
    assert!(huge.agents.is_empty());
    assert_eq!(huge.total, 120);
}

/// Stale and missing compare-and-swap updates change nothing.
#[test]
fn update_conflicts_change_nothing() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let original = record("edited", json!({"tags": ["before"]}));
    block_on(store.insert(&original)).expect("insert");
    let mut stale = record("edited", json!({"tags": ["after"]}));
    stale.revision = 8;
    match block_on(store.update(&stale, 7)) {
        Err(StoreError::RevisionMismatch {
            agent_id,
            expected: 7,
            actual: 1,
        }) => assert_eq!(agent_id, "edited"),
        other => panic!("expected RevisionMismatch, got {other:?}"),
    }
    match block_on(store.update(&record("missing", json!({})), 1)) {
        Err(StoreError::NotFound { agent_id }) => assert_eq!(agent_id, "missing"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(block_on(store.get("edited")).expect("get"), Some(original));
    let after = list(
        &db,
        &AgentFilter {
            tags: vec!["after".into()],
            ..Default::default()
        },
        PageRequest::ALL,
    );
    assert_eq!(after.total, 0, "a lost CAS leaves the tag index alone");
}

/// Seeding is remembered in the file: after reopening, an edited default is not
/// overwritten and a removed one is not brought back; an import replacing it replaces
/// the side entries.
#[test]
fn seeding_is_remembered_across_opens() {
    let (dir, db) = temp_db();
    let defaults = [
        record("standard", json!({"team": "default"})),
        record("writer", json!({"team": "default"})),
    ];
    assert_eq!(
        block_on(db.agent_store().seed(&defaults))
            .expect("seed")
            .len(),
        2
    );
    let mut edited = record("standard", json!({"team": "mine"}));
    edited.revision = 2;
    block_on(db.agent_store().update(&edited, 1)).expect("edit");
    assert!(block_on(db.agent_store().remove("writer")).expect("remove"));
    drop(db);

    let reopened = SqliteDatabase::open(db_path(&dir)).expect("reopen");
    let store = reopened.agent_store();
    assert!(block_on(store.seed(&defaults)).expect("seed").is_empty());
    assert_eq!(block_on(store.get("standard")).expect("get"), Some(edited));
    assert_eq!(block_on(store.get("writer")).expect("get"), None);
    assert_eq!(reopened.counts().expect("counts").seeded_defaults, 2);

    // Import with --on-conflict replace brings it back explicitly.
    let import = |rec: AgentRecord| {
        block_on(store.import_batch(&[rec], BatchConflict::Replace, None))
            .expect("import")
            .expect("no once key: always applied")
    };
    let imported = import(record("writer", json!({"tags": ["imported"]})));
    assert_eq!(imported.inserted, ["writer"]);
    let replaced = import(record("writer", json!({"tags": ["replaced"]})));
    assert_eq!(replaced.replaced, ["writer"]);
    assert_eq!(
        list(
            &reopened,
            &AgentFilter {
                tags: vec!["imported".into()],
                ..Default::default()
            },
            PageRequest::ALL
        )
        .total,
        0
    );
    assert_eq!(
        list(
            &reopened,
            &AgentFilter {
                tags: vec!["replaced".into()],
                ..Default::default()
            },
            PageRequest::ALL
        )
        .total,
        1
    );
}

/// Outside a Tokio runtime the port methods run inline instead of panicking.
#[test]
fn the_store_works_without_a_tokio_runtime() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let rec = record("plain", json!({}));
    futures::executor::block_on(store.insert(&rec)).expect("insert without a runtime");
    assert_eq!(
        futures::executor::block_on(store.get("plain")).expect("get"),
        Some(rec)
    );
    assert!(futures::executor::block_on(store.mark_once("k")).expect("mark"));
    assert!(futures::executor::block_on(store.is_marked("k")).expect("is_marked"));
}

/// What `ax doctor` shows.
#[test]
fn health_reports_path_version_settings_integrity_and_counts() {
    let (dir, db) = temp_db();
    block_on(db.agent_store().insert(&record("one", json!({})))).expect("insert");
    block_on(db.agent_store().mark_once("m")).expect("mark");
    let health = db.health().expect("health");
    assert_eq!(health.path, db_path(&dir));
    assert_eq!(
        health.schema_version,
        i64::from(ax_adapter_sqlite::SCHEMA_VERSION)
    );
    assert_eq!(
        health.supported_schema_version,
        ax_adapter_sqlite::SCHEMA_VERSION
    );
    assert!(health.is_ok());
    assert_eq!(health.counts.agents, 1);
    assert_eq!(
        health.counts.markers,
        2,
        "\"m\" and the recommend term index's build ({})",
        ax_agent_domain::recommend::terms::index_marker()
    );
    assert_eq!(health.counts.discussions, 0);
}
