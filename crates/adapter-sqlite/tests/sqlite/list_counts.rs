//! Listings' totals and pages against the agents themselves (schema versions 6 and
//! 7): `agent_counts`, kept by triggers, and the side rows' element lists and masks
//! must give exactly what filtering every agent in memory gives — after inserts,
//! updates that move an agent between teams, tags and enabled states, removals,
//! imports that replace, for files upgraded from versions 5 and 6 whose counts,
//! lists and masks the migrations build, and for elements past the last bit.

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::store::{AgentFilter, AgentStore, BatchConflict, PageRequest};
use ax_contracts::agent::AgentRecord;
use serde_json::json;

use crate::helpers::{block_on, db_path, record, temp_db};

/// Tags and capabilities with the characters the element lists escape.
const TAGS: [&str; 5] = ["rust", "sql", "a,b", "50%", "%2C"];
const CAPABILITIES: [&str; 3] = ["code-review", "x,y", "%"];
const TEAMS: [Option<&str>; 3] = [None, Some("core"), Some("")];

/// Agent `n` of a deterministic mix: some share tags, some have none, teams include
/// none and the empty name, every third is disabled.
fn agent(n: usize, round: usize) -> AgentRecord {
    let pick = |list: &[&str], k: usize| -> Vec<String> {
        (0..list.len())
            .filter(|i| (n + round + i * k).is_multiple_of(3))
            .map(|i| list[i].to_owned())
            .collect()
    };
    let mut extra = json!({
        "tags": pick(&TAGS, 2),
        "capabilities": pick(&CAPABILITIES, 1),
        "enabled": !(n + round).is_multiple_of(3),
    });
    if let Some(team) = TEAMS[(n + round) % TEAMS.len()] {
        extra["team"] = json!(team);
    }
    record(&format!("agent-{n:03}"), extra)
}

fn filters() -> Vec<AgentFilter> {
    let mut filters = vec![AgentFilter::default()];
    let tag_sets: [&[&str]; 6] = [
        &[],
        &["rust"],
        &["a,b"],
        &["rust", "sql"],
        &["sql", "50%", "%2C"],
        &["rust", "rust"],
    ];
    for tags in tag_sets {
        for capability in [None, Some("code-review"), Some("x,y"), Some("%")] {
            for team in [None, Some("core"), Some("")] {
                for enabled in [None, Some(true), Some(false)] {
                    filters.push(AgentFilter {
                        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                        capability: capability.map(str::to_owned),
                        team: team.map(str::to_owned),
                        enabled,
                    });
                }
            }
        }
    }
    filters
}

/// What `filter` selects, by the port's definition, from every agent.
fn matches(filter: &AgentFilter, record: &AgentRecord) -> bool {
    let p = &record.profile;
    filter
        .team
        .as_ref()
        .is_none_or(|t| p.team.as_ref() == Some(t))
        && filter.enabled.is_none_or(|e| p.enabled == e)
        && filter
            .capability
            .as_ref()
            .is_none_or(|c| p.capabilities().contains(&c.as_str()))
        && (filter.tags.is_empty() || filter.tags.iter().any(|t| p.tags().contains(&t.as_str())))
}

/// Every filter's total, first page and a later page equal the in-memory answer.
fn assert_listings_exact(store: &dyn AgentStore, when: &str) {
    assert_listings_exact_for(store, when, &filters());
}

fn assert_listings_exact_for(store: &dyn AgentStore, when: &str, filters: &[AgentFilter]) {
    let everyone = block_on(store.list(&AgentFilter::default(), PageRequest::ALL))
        .expect("list all")
        .agents;
    for filter in filters {
        let expected: Vec<&str> = everyone
            .iter()
            .filter(|r| matches(filter, r))
            .map(|r| r.profile.agent_id.as_str())
            .collect();
        for (offset, limit) in [(0, Some(0)), (0, Some(4)), (3, Some(5)), (2, None)] {
            let page = block_on(store.list(filter, PageRequest { offset, limit })).expect("list");
            assert_eq!(
                page.total,
                expected.len() as u64,
                "{when}: total of {filter:?}"
            );
            let want: Vec<&str> = expected
                .iter()
                .skip(offset as usize)
                .take(limit.map_or(usize::MAX, |l| l as usize))
                .copied()
                .collect();
            let got: Vec<&str> = page
                .agents
                .iter()
                .map(|r| r.profile.agent_id.as_str())
                .collect();
            assert_eq!(got, want, "{when}: page {offset}/{limit:?} of {filter:?}");
        }
    }
}

/// A new database holding `agent(0..30, 0)`, written one at a time.
fn thirty_agents() -> (tempfile::TempDir, SqliteDatabase) {
    let (dir, db) = temp_db();
    let store = db.agent_store();
    for n in 0..30 {
        block_on(store.insert(&agent(n, 0))).expect("insert");
    }
    (dir, db)
}

/// INV-AGT-DB-002: totals and pages stay exact through every kind of write.
#[test]
fn totals_and_pages_stay_exact_through_inserts_updates_removals_and_imports() {
    let (_dir, db) = thirty_agents();
    let store = db.agent_store();
    assert_listings_exact(&store, "after inserts");

    // Updates move agents between teams, tags, capabilities and enabled states.
    for n in (0..30).step_by(4) {
        let mut moved = agent(n, 1);
        moved.revision = 2;
        block_on(store.update(&moved, 1)).expect("update");
    }
    for n in (1..30).step_by(5) {
        assert!(block_on(store.remove(&format!("agent-{n:03}"))).expect("remove"));
    }
    assert_listings_exact(&store, "after updates and removals");

    // An import that replaces some agents and adds others, in one transaction.
    let batch: Vec<AgentRecord> = (20..40).map(|n| agent(n, 2)).collect();
    block_on(store.import_batch(&batch, BatchConflict::Replace, None)).expect("import");
    assert_listings_exact(&store, "after an import that replaces");
}

/// Writes 30 agents, takes the file back to `version` with `take_back`, and checks
/// that the upgrade, the step run a second time (a file upgraded by hand) and writes
/// on the upgraded file all leave every listing exact. `upgraded` looks at the file
/// right after the first upgrade.
fn assert_upgrade_from(version: u32, take_back: &str, upgraded: &dyn Fn(&SqliteDatabase)) {
    let (dir, db) = thirty_agents();
    let store = db.agent_store();
    db.connection()
        .expect("connection")
        .execute_batch(&format!("{take_back} PRAGMA user_version = {version};"))
        .unwrap_or_else(|e| panic!("take the file back to version {version}: {e}"));
    drop(store);
    drop(db);

    let db = SqliteDatabase::open(db_path(&dir)).expect("reopen and migrate");
    upgraded(&db);
    assert_listings_exact(&db.agent_store(), "after the upgrade");
    db.connection()
        .expect("connection")
        .pragma_update(None, "user_version", version)
        .expect("reset the version");
    drop(db);
    let db = SqliteDatabase::open(db_path(&dir)).expect("migrate again");
    let store = db.agent_store();
    assert_listings_exact(&store, "after the step ran twice");
    // The triggers and the bits work on the upgraded file.
    block_on(store.insert(&agent(99, 1))).expect("insert");
    assert!(block_on(store.remove("agent-000")).expect("remove"));
    assert_listings_exact(&store, "after writes on the upgraded file");
}

/// A file at version 5 (no `agent_counts`, no element lists) is upgraded with counts
/// and lists built from its rows.
#[test]
fn migration_6_builds_counts_and_lists_for_an_existing_file() {
    assert_upgrade_from(
        5,
        "DROP TRIGGER agents_count_insert; DROP TRIGGER agents_count_delete;
        DROP TRIGGER agents_count_update; DROP TRIGGER agent_tags_count_insert;
        DROP TRIGGER agent_tags_count_delete; DROP TRIGGER agent_tags_count_update;
        DROP TRIGGER agent_capabilities_count_insert;
        DROP TRIGGER agent_capabilities_count_delete;
        DROP TRIGGER agent_capabilities_count_update;
        DROP TABLE agent_counts;
        UPDATE agent_tags SET tag_list = NULL, capability_list = NULL;
        UPDATE agent_capabilities SET tag_list = NULL;",
        &|_| {},
    );
}

/// A file at version 6 (no `element_bits`, no masks) is upgraded with bits for its
/// elements and every side row's masks computed from its agents (INV-AGT-DB-003).
#[test]
fn migration_7_gives_existing_rows_their_masks() {
    assert_upgrade_from(
        6,
        "DROP TABLE element_bits;
        ALTER TABLE agent_tags DROP COLUMN tag_mask;
        ALTER TABLE agent_tags DROP COLUMN capability_mask;
        ALTER TABLE agent_capabilities DROP COLUMN tag_mask;",
        &|db| {
            let bits: i64 = db
                .connection()
                .expect("connection")
                .query_row("SELECT COUNT(*) FROM element_bits", [], |row| row.get(0))
                .expect("bits");
            assert_eq!(
                bits,
                (TAGS.len() + CAPABILITIES.len()) as i64,
                "every element has a bit"
            );
        },
    );
}

/// Only the first 63 tags and capabilities get a bit; filters on the others (alone,
/// or mixed with elements that have one) are answered exactly from the element lists.
#[test]
fn elements_past_the_last_bit_are_filtered_exactly() {
    let (_dir, db) = temp_db();
    let store = db.agent_store();
    let tag = |i: usize| format!("t{i:02}");
    let capability = |i: usize| format!("c{i:02}");
    for n in 0..160 {
        let extra = json!({
            "tags": [tag(n % 70), tag((n * 7 + 3) % 70)],
            "capabilities": [capability(n % 66), capability((n * 5 + 1) % 66)],
            "team": if n % 2 == 0 { "core" } else { "edge" },
        });
        block_on(store.insert(&record(&format!("agent-{n:03}"), extra))).expect("insert");
    }
    let bits: (i64, i64) = db
        .connection()
        .expect("connection")
        .query_row(
            "SELECT SUM(kind = 'tag'), SUM(kind = 'capability') FROM element_bits",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("bits");
    assert_eq!(bits, (63, 63), "the bits ran out");
    let mut filters = Vec::new();
    let tag_sets = [
        vec![tag(0), tag(1)],
        vec![tag(0), tag(66)],
        vec![tag(65), tag(69)],
        vec![tag(3), tag(66), tag(10)],
    ];
    for tags in tag_sets {
        for capability in [None, Some(capability(1)), Some(capability(64))] {
            for team in [None, Some("core".to_owned())] {
                filters.push(AgentFilter {
                    tags: tags.clone(),
                    capability: capability.clone(),
                    team,
                    enabled: None,
                });
            }
        }
    }
    assert_listings_exact_for(&store, "with 70 tags and 66 capabilities", &filters);
}

/// A bit number no writer gives (a file edited by hand) counts as no bit: the
/// element is filtered through the lists, the others still by their masks, and the
/// answers stay exact; nothing shifts by it.
#[test]
fn a_bit_out_of_range_counts_as_none() {
    let (_dir, db) = thirty_agents();
    let store = db.agent_store();
    db.connection()
        .expect("connection")
        .execute_batch(
            "UPDATE element_bits SET bit = 99 WHERE kind = 'tag' AND element = 'rust';
            UPDATE element_bits SET bit = -1 WHERE kind = 'capability' AND element = 'code-review';",
        )
        .expect("edit the bits by hand");
    assert_listings_exact(&store, "with hand-edited bits");
}
