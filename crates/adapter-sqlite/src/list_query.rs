//! SQL for [`AgentFilter`] listings: one `WHERE` clause shared by the page query and
//! the count, so the total always describes the same set the page is cut from.
//!
//! Every user value is a bound parameter; only fixed SQL fragments are concatenated,
//! so a filter value like `'); DROP TABLE agents;--` is just text to compare.

use ax_agent_domain::store::{AgentFilter, PageRequest};
use rusqlite::types::Value;

use crate::agent_rows::SELECT_COLUMNS;

/// The SQL and parameters of one listing.
#[derive(Debug)]
pub(crate) struct ListQuery {
    /// `SELECT COUNT(*) ...` over the filter.
    pub(crate) count_sql: String,
    /// `SELECT <columns> ... ORDER BY agent_id LIMIT ? OFFSET ?` over the filter.
    pub(crate) page_sql: String,
    /// The filter's parameters, then `LIMIT` (`-1`: none) and `OFFSET`.
    params: Vec<Value>,
    /// Whether the page is empty by request (`limit: Some(0)`), so only the count runs.
    pub(crate) empty_page: bool,
}

impl ListQuery {
    /// Builds the statements for `filter` and `page`.
    ///
    /// Tag and capability conditions are `IN (subquery)` over the side tables, whose
    /// primary keys start with the element: SQLite reads the matching agent rowids
    /// from that index instead of scanning every agent's JSON. Ordering is by the
    /// unique `agent_id` index, in byte order (SQLite's `BINARY` collation), which is
    /// the order the port promises; `agent_id` being unique makes pages stable.
    pub(crate) fn new(filter: &AgentFilter, page: PageRequest) -> Self {
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        if let Some(team) = &filter.team {
            conditions.push("a.team = ?".into());
            params.push(Value::Text(team.clone()));
        }
        if let Some(enabled) = filter.enabled {
            // Version-1 rows may hold NULL, which the requirement's DEFAULT 1 means
            // as enabled.
            conditions.push("IFNULL(a.enabled, 1) = ?".into());
            params.push(Value::Integer(i64::from(enabled)));
        }
        if !filter.tags.is_empty() {
            let mut tags: Vec<&String> = filter.tags.iter().collect();
            tags.sort();
            tags.dedup();
            let placeholders = vec!["?"; tags.len()].join(", ");
            conditions.push(format!(
                "a.id IN (SELECT agent_rowid FROM agent_tags WHERE tag IN ({placeholders}))"
            ));
            params.extend(tags.into_iter().map(|t| Value::Text(t.clone())));
        }
        if let Some(capability) = &filter.capability {
            conditions.push(
                "a.id IN (SELECT agent_rowid FROM agent_capabilities WHERE capability = ?)".into(),
            );
            params.push(Value::Text(capability.clone()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        params.push(Value::Integer(page.limit.map_or(-1, saturating_i64)));
        params.push(Value::Integer(saturating_i64(page.offset)));
        Self {
            count_sql: format!("SELECT COUNT(*) FROM agents AS a{where_clause}"),
            page_sql: format!(
                "SELECT {SELECT_COLUMNS} FROM agents AS a{where_clause} \
                 ORDER BY a.agent_id LIMIT ? OFFSET ?"
            ),
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

/// A `u64` page bound as SQLite's signed integer; anything past `i64::MAX` means
/// "everything", which is what such a bound asks for anyway.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
