//! SQL for [`AgentFilter`] listings.
//!
//! Each listing is driven by one ordered index range, chosen from the filter (as in
//! the SQLite adapter), so the page and the total cost about as much as the range
//! they read:
//!
//! | filter has        | driven by                                              |
//! |-------------------|--------------------------------------------------------|
//! | a capability      | `agent_capabilities` primary key `(capability, agent_id)` |
//! | tags              | `agent_tags` primary key `(tag, agent_id)`, de-duplicated when several |
//! | a team            | `idx_agents_team (team, agent_id) INCLUDE (enabled)`   |
//! | only `enabled`    | `idx_agents_enabled (enabled, agent_id)`               |
//! | nothing           | `agents` in `agent_id` order                           |
//!
//! The total and the page are two subqueries of ONE statement, so both come from
//! the same snapshot in one round trip; the statement always returns at least one
//! row (the total), with the agent columns `NULL` when the page is empty.
//!
//! Ordering is by `agent_id` under `COLLATE "C"` (declared on every `agent_id`
//! column), i.e. byte order, the order the port promises; `agent_id` being unique
//! makes pages stable. Every user value is a bound parameter; only fixed SQL
//! fragments are concatenated, so a filter value like `'); DROP TABLE agents;--` is
//! just bytes to compare.

use ax_agent_domain::store::{AgentFilter, PageRequest};
use tokio_postgres::types::ToSql;

use crate::agent_rows::SELECT_COLUMNS;

/// One boxed parameter.
type Param = Box<dyn ToSql + Sync + Send>;

/// The SQL and parameters of one listing.
#[derive(Debug)]
pub(crate) struct ListQuery {
    /// Column 0: the total; columns 1..: [`SELECT_COLUMNS`] of one page row.
    pub(crate) sql: String,
    params: Vec<Param>,
}

impl ListQuery {
    /// Builds the statement for `filter` and `page`.
    pub(crate) fn new(filter: &AgentFilter, page: PageRequest) -> Self {
        let mut params: Vec<Param> = Vec::new();
        let (from_where, distinct) = driver(filter, &mut params);
        let count = if distinct {
            "COUNT(DISTINCT d.agent_id)"
        } else {
            "COUNT(*)"
        };
        let keyword = if distinct { "DISTINCT " } else { "" };
        params.push(Box::new(page.limit.map(saturating_i64)));
        let limit = params.len();
        params.push(Box::new(saturating_i64(page.offset)));
        let offset = params.len();
        let sql = format!(
            "SELECT t.total, {SELECT_COLUMNS} FROM (SELECT {count} AS total {from_where}) AS t \
             LEFT JOIN (SELECT {keyword}d.agent_id {from_where} ORDER BY d.agent_id \
             LIMIT ${limit}::bigint OFFSET ${offset}::bigint) AS p ON true \
             LEFT JOIN agents AS a ON a.agent_id = p.agent_id \
             ORDER BY p.agent_id"
        );
        Self { sql, params }
    }

    /// The parameters, in placeholder order.
    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// Chooses the range to read (see the module table): `FROM ... WHERE ...` over
/// alias `d`, and whether it may hold an agent more than once. Pushes the filter's
/// parameters and numbers their placeholders.
fn driver(filter: &AgentFilter, params: &mut Vec<Param>) -> (String, bool) {
    let mut tags: Vec<Vec<u8>> = filter.tags.iter().map(|t| t.as_bytes().to_vec()).collect();
    tags.sort();
    tags.dedup();
    let push = |params: &mut Vec<Param>, value: Param| {
        params.push(value);
        format!("${}", params.len())
    };
    let mut conditions: Vec<String> = Vec::new();
    let (table, distinct) = if let Some(capability) = &filter.capability {
        let p = push(params, Box::new(capability.as_bytes().to_vec()));
        conditions.push(format!("d.capability = {p}"));
        if !tags.is_empty() {
            let matches = tag_condition("x", tags, params);
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM agent_tags AS x WHERE {matches} \
                 AND x.agent_id = d.agent_id)"
            ));
        }
        ("agent_capabilities", false)
    } else if !tags.is_empty() {
        let distinct = tags.len() > 1;
        conditions.push(tag_condition("d", tags, params));
        ("agent_tags", distinct)
    } else {
        ("agents", false)
    };
    if let Some(team) = &filter.team {
        let p = push(params, Box::new(team.as_bytes().to_vec()));
        conditions.push(format!("d.team = {p}::bytea"));
    }
    if let Some(enabled) = filter.enabled {
        let p = push(params, Box::new(enabled));
        conditions.push(format!("d.enabled = {p}::boolean"));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    (format!("FROM {table} AS d{where_clause}"), distinct)
}

/// `alias.tag` is one of `tags` (distinct, at least one).
///
/// Why equality for one tag: a prepared statement is re-planned generically after
/// five runs, and the generic plan of `tag = ANY($n)` cannot know the array's
/// length, so it guessed most of the table and answered a page of one tag by a
/// hash join over every agent (70 ms at 100k agents, against 3 ms for `tag = $n`,
/// which reads the `(tag, agent_id)` range and stops after the page).
fn tag_condition(alias: &str, mut tags: Vec<Vec<u8>>, params: &mut Vec<Param>) -> String {
    if tags.len() == 1 {
        params.push(Box::new(tags.swap_remove(0)));
        format!("{alias}.tag = ${}::bytea", params.len())
    } else {
        params.push(Box::new(tags));
        format!("{alias}.tag = ANY(${}::bytea[])", params.len())
    }
}

/// A `u64` page bound as `BIGINT`; anything past `i64::MAX` means "everything",
/// which is what such a bound asks for anyway.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
