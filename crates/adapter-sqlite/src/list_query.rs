//! SQL for [`AgentFilter`] listings.
//!
//! Each listing is driven by one ordered index range, chosen from the filter, so that
//! both the page and the total cost about as much as the range they read, never a
//! scan of every agent row:
//!
//! | filter has        | driven by                                   |
//! |-------------------|---------------------------------------------|
//! | a capability      | `agent_capabilities` range `(capability, agent_id)` |
//! | one tag           | `agent_tags` range `(tag, agent_id)`        |
//! | several tags      | the `agent_tags` ranges, de-duplicated      |
//! | a team            | `idx_agents_team (team, agent_id, is_enabled)` |
//! | only `enabled`    | `idx_agents_enabled (is_enabled, agent_id)` |
//! | nothing           | `agents` in `agent_id` order                |
//!
//! The side tables repeat each agent's team and enabled flag, so those conditions are
//! checked inside the same range; tags combined with a capability are probed by
//! primary key. The page selects only `agent_id` and the rowid from the range, then
//! reads the full rows of those (at most `limit`) agents.
//!
//! Ordering is by `agent_id` in byte order (SQLite's `BINARY` collation), the order
//! the port promises; `agent_id` being unique makes pages stable. Every user value is
//! a bound parameter; only fixed SQL fragments are concatenated, so a filter value
//! like `'); DROP TABLE agents;--` is just text to compare.

use ax_agent_domain::store::{AgentFilter, PageRequest};
use rusqlite::types::Value;

use crate::agent_rows::SELECT_COLUMNS;

/// The SQL and parameters of one listing.
#[derive(Debug)]
pub(crate) struct ListQuery {
    /// `SELECT COUNT(...)` over the matching agents.
    pub(crate) count_sql: String,
    /// The matching agents' full rows, ordered, with `LIMIT ? OFFSET ?` inside.
    pub(crate) page_sql: String,
    /// The filter's parameters, then `LIMIT` (`-1`: none) and `OFFSET`.
    params: Vec<Value>,
    /// Whether the page is empty by request (`limit: Some(0)`), so only the count runs.
    pub(crate) empty_page: bool,
}

/// The range a listing reads: `FROM ... WHERE ...` over alias `d`, with the columns
/// naming the agent's id and rowid in it.
struct Driver {
    from_where: String,
    rowid_column: &'static str,
    /// Several tag ranges can hold the same agent once per tag.
    distinct: bool,
}

impl ListQuery {
    /// Builds the statements for `filter` and `page`.
    pub(crate) fn new(filter: &AgentFilter, page: PageRequest) -> Self {
        let mut params: Vec<Value> = Vec::new();
        let driver = driver(filter, &mut params);
        let Driver {
            from_where,
            rowid_column,
            distinct,
        } = driver;
        let count_sql = if distinct {
            format!("SELECT COUNT(DISTINCT d.agent_id) {from_where}")
        } else {
            format!("SELECT COUNT(*) {from_where}")
        };
        let keyword = if distinct { "DISTINCT " } else { "" };
        let page_sql = format!(
            "SELECT {SELECT_COLUMNS} FROM agents AS a JOIN (\
             SELECT {keyword}d.agent_id AS page_key, d.{rowid_column} AS page_rowid {from_where} \
             ORDER BY d.agent_id LIMIT ? OFFSET ?) AS p ON a.id = p.page_rowid \
             ORDER BY p.page_key"
        );
        params.push(Value::Integer(page.limit.map_or(-1, saturating_i64)));
        params.push(Value::Integer(saturating_i64(page.offset)));
        Self {
            count_sql,
            page_sql,
            params,
            empty_page: page.limit == Some(0),
        }
    }

    /// Parameters of [`Self::count_sql`].
    pub(crate) fn count_params(&self) -> &[Value] {
        // `new` always pushes LIMIT and OFFSET last, so there are at least two.
        &self.params[..self.params.len() - 2]
    }

    /// Parameters of [`Self::page_sql`].
    pub(crate) fn page_params(&self) -> &[Value] {
        &self.params
    }
}

/// Chooses the range to read (see the module table) and pushes its parameters, in
/// the order their placeholders appear.
fn driver(filter: &AgentFilter, params: &mut Vec<Value>) -> Driver {
    let mut tags: Vec<&String> = filter.tags.iter().collect();
    tags.sort();
    tags.dedup();
    let team_and_enabled =
        |conditions: &mut Vec<String>, params: &mut Vec<Value>, enabled_column: &str| {
            if let Some(team) = &filter.team {
                conditions.push("d.team = ?".into());
                params.push(Value::Text(team.clone()));
            }
            if let Some(enabled) = filter.enabled {
                conditions.push(format!("d.{enabled_column} = ?"));
                params.push(Value::Integer(i64::from(enabled)));
            }
        };
    let placeholders = |n: usize| vec!["?"; n].join(", ");

    if let Some(capability) = &filter.capability {
        let mut conditions = vec!["d.capability = ?".to_owned()];
        params.push(Value::Text(capability.clone()));
        team_and_enabled(&mut conditions, params, "enabled");
        if !tags.is_empty() {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM agent_tags AS t WHERE t.tag IN ({}) AND t.agent_id = d.agent_id)",
                placeholders(tags.len())
            ));
            params.extend(tags.iter().map(|t| Value::Text((*t).clone())));
        }
        return Driver {
            from_where: format!(
                "FROM agent_capabilities AS d WHERE {}",
                conditions.join(" AND ")
            ),
            rowid_column: "agent_rowid",
            distinct: false,
        };
    }
    if !tags.is_empty() {
        let mut conditions = vec![format!("d.tag IN ({})", placeholders(tags.len()))];
        let distinct = tags.len() > 1;
        params.extend(tags.iter().map(|t| Value::Text((*t).clone())));
        team_and_enabled(&mut conditions, params, "enabled");
        return Driver {
            from_where: format!("FROM agent_tags AS d WHERE {}", conditions.join(" AND ")),
            rowid_column: "agent_rowid",
            distinct,
        };
    }
    let mut conditions = Vec::new();
    team_and_enabled(&mut conditions, params, "is_enabled");
    // Named explicitly: without statistics SQLite cannot tell that `is_enabled = ?`
    // matches most rows while `team = ?` matches few.
    let index = if filter.team.is_some() {
        " INDEXED BY idx_agents_team"
    } else if filter.enabled.is_some() {
        " INDEXED BY idx_agents_enabled"
    } else {
        ""
    };
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    Driver {
        from_where: format!("FROM agents AS d{index}{where_clause}"),
        rowid_column: "id",
        distinct: false,
    }
}

/// A `u64` page bound as SQLite's signed integer; anything past `i64::MAX` means
/// "everything", which is what such a bound asks for anyway.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    //! The plans SQLite picks for each driver: filtered listings read an index range,
    //! never every agent row (what keeps a filtered page fast at 100k agents).

    use ax_agent_domain::store::{AgentFilter, PageRequest};
    use rusqlite::{Connection, params_from_iter};

    use super::ListQuery;

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory database");
        let wait = std::time::Duration::from_secs(5);
        crate::migrations::bring_up_to_date(
            &mut conn,
            std::path::Path::new(":memory:"),
            std::time::Instant::now() + wait,
            wait,
        )
        .expect("migrate");
        conn
    }

    fn plan(conn: &Connection, sql: &str, params: &[rusqlite::types::Value]) -> String {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("prepare");
        let details: Vec<String> = stmt
            .query_map(params_from_iter(params), |row| row.get::<_, String>(3))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        details.join("\n")
    }

    fn plans(filter: &AgentFilter) -> (String, String) {
        let conn = migrated();
        let query = ListQuery::new(
            filter,
            PageRequest {
                offset: 0,
                limit: Some(50),
            },
        );
        (
            plan(&conn, &query.count_sql, query.count_params()),
            plan(&conn, &query.page_sql, query.page_params()),
        )
    }

    /// Plan lines that read a whole table or index ("SCAN ..."), other than the
    /// page's own co-routine of at most `limit` rows.
    fn full_scans(plan: &str) -> Vec<&str> {
        plan.lines()
            .filter(|line| line.starts_with("SCAN ") && *line != "SCAN p")
            .collect()
    }

    #[test]
    fn filtered_listings_read_one_index_range_and_only_the_page_rows() {
        let filters = [
            AgentFilter {
                tags: vec!["a".into()],
                ..Default::default()
            },
            AgentFilter {
                tags: vec!["a".into(), "b".into()],
                ..Default::default()
            },
            AgentFilter {
                capability: Some("c".into()),
                ..Default::default()
            },
            AgentFilter {
                capability: Some("c".into()),
                tags: vec!["a".into()],
                team: Some("t".into()),
                enabled: Some(true),
            },
            AgentFilter {
                tags: vec!["a".into()],
                team: Some("t".into()),
                enabled: Some(false),
                capability: None,
            },
            AgentFilter {
                team: Some("t".into()),
                ..Default::default()
            },
            AgentFilter {
                team: Some("t".into()),
                enabled: Some(true),
                ..Default::default()
            },
            AgentFilter {
                enabled: Some(false),
                ..Default::default()
            },
        ];
        for filter in &filters {
            let (count, page) = plans(filter);
            assert!(
                full_scans(&count).is_empty(),
                "{filter:?} count scans:\n{count}"
            );
            assert!(
                full_scans(&page).is_empty(),
                "{filter:?} page scans:\n{page}"
            );
            assert!(
                !count.contains("SEARCH a ") && !count.contains("INTEGER PRIMARY KEY"),
                "{filter:?}: the count must not read agent rows:\n{count}"
            );
            assert_eq!(
                page.matches("SEARCH a USING INTEGER PRIMARY KEY").count(),
                1,
                "{filter:?}: agent rows are read for the page only:\n{page}"
            );
            if filter.tags.len() < 2 {
                assert!(
                    !page.contains("TEMP B-TREE"),
                    "{filter:?}: no sort needed:\n{page}"
                );
            }
        }
    }

    #[test]
    fn team_and_enabled_filters_are_answered_from_covering_indexes() {
        let team = AgentFilter {
            team: Some("t".into()),
            enabled: Some(true),
            ..Default::default()
        };
        assert!(
            plans(&team).0.contains("COVERING INDEX idx_agents_team"),
            "{}",
            plans(&team).0
        );
        let enabled = AgentFilter {
            enabled: Some(true),
            ..Default::default()
        };
        assert!(
            plans(&enabled)
                .0
                .contains("COVERING INDEX idx_agents_enabled"),
            "{}",
            plans(&enabled).0
        );
    }
}
