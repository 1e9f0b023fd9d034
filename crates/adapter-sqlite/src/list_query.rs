//! SQL for [`AgentFilter`] listings.
//!
//! A listing is a total and a page. Neither may cost what the registry's size costs:
//! at a million agents, counting an index range of every agent took ~30 ms and
//! probing the tag table once per agent of a capability ~140 ms.
//!
//! **Totals.** A filter with at most one tag or one capability (and any team and
//! enabled flag) is counted from `agent_counts` (schema version 6), which triggers
//! keep exact in the transaction of every write: a few rows, whatever the size. A
//! filter combining several tags, or tags and a capability, counts one index range
//! per element, checking the other elements inside each side row: in its
//! `tag_mask` / `capability_mask` (schema version 7, one integer `&` for every element
//! with a bit, see `element_bits`), else in its `tag_list` / `capability_list`:
//!
//! | filter has                | total                                                  |
//! |---------------------------|--------------------------------------------------------|
//! | no tag, no capability     | `agent_counts` kind `agent`                            |
//! | one tag *or* a capability | `agent_counts` kind `tag` / `capability`               |
//! | several tags              | the largest tag's count from `agent_counts`, plus each other tag's range without the agents of the tags before it |
//! | tags and a capability     | the capability's range with one of the tags, or each tag's range with the capability — whichever reads fewer entries by `agent_counts` |
//!
//! **Pages.** Each page reads an ordered index range and stops after `offset +
//! limit` entries: `agent_tags (tag, agent_id)`, `agent_capabilities (capability,
//! agent_id)`, `idx_agents_team (team, agent_id, is_enabled)`, `idx_agents_enabled
//! (is_enabled, agent_id)` or `agents` in `agent_id` order. Several tag ranges are
//! each cut at `offset + limit` entries and merged (`UNION` de-duplicates an agent
//! with several of the tags). Only `agent_id` and the rowid come from the range; the
//! full rows are read for the (at most `limit`) agents of the page.
//!
//! Ordering is by `agent_id` in byte order (SQLite's `BINARY` collation), the order
//! the port promises; `agent_id` being unique makes pages stable. Every user value is
//! a bound parameter; only fixed SQL fragments are concatenated, so a filter value
//! like `'); DROP TABLE agents;--` is just text to compare.

use ax_agent_domain::store::{AgentFilter, PageRequest};
use rusqlite::types::Value;

use crate::agent_rows::SELECT_COLUMNS;
use crate::element_bits::Kind;

/// Answers the bit of an element (see [`crate::element_bits::bit`]).
pub(crate) type BitOf<'a, E> = dyn FnMut(Kind, &str) -> Result<Option<u8>, E> + 'a;

/// A filter's tag or capability, with its bit in the side rows' masks if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'f> {
    name: &'f str,
    bit: Option<u8>,
}

/// The SQL and parameters of one listing.
#[derive(Debug)]
pub(crate) struct ListQuery {
    /// One row, one column: how many agents match.
    pub(crate) count_sql: String,
    count_params: Vec<Value>,
    /// The matching agents' full rows, ordered.
    pub(crate) page_sql: String,
    page_params: Vec<Value>,
    /// Whether the page is empty by request (`limit: Some(0)`), so only the count runs.
    pub(crate) empty_page: bool,
}

/// A set `agent_counts` counts: every agent, or the entries of one tag or capability
/// (its `kind` column is the element's kind, as in `element_bits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted<'f> {
    Agents,
    Element(Kind, &'f str),
}

/// `SELECT` of how many members of `counted` have the filter's team and enabled flag
/// (its tags and capability are not looked at), from `agent_counts`.
pub(crate) fn counted_sql(counted: Counted<'_>, filter: &AgentFilter) -> (String, Vec<Value>) {
    let (kind, key) = match counted {
        Counted::Agents => ("agent", ""),
        Counted::Element(kind, element) => (kind.as_str(), element),
    };
    let mut sql =
        "SELECT IFNULL(SUM(c.n), 0) FROM agent_counts AS c WHERE c.kind = ? AND c.key = ?"
            .to_owned();
    let mut params = vec![Value::Text(kind.into()), Value::Text(key.into())];
    if let Some(enabled) = filter.enabled {
        sql.push_str(" AND c.enabled = ?");
        params.push(Value::Integer(i64::from(enabled)));
    }
    if let Some(team) = &filter.team {
        sql.push_str(" AND c.has_team = 1 AND c.team = ?");
        params.push(Value::Text(team.clone()));
    }
    (sql, params)
}

/// A side row's `tag_list` / `capability_list` for `elements`: `,` + each element +
/// `,`, with `%` and `,` inside an element written `%25` and `%2C` (what migration 6
/// computes in SQL for existing rows).
pub(crate) fn element_list<S: AsRef<str>>(elements: &[S]) -> String {
    let mut list = String::from(",");
    for element in elements {
        list.push_str(&escape(element.as_ref()));
        list.push(',');
    }
    list
}

/// What `instr` looks for in an [`element_list`] to find `element`: no encoded
/// element contains `,`, so a match is always one whole element (exact membership).
fn member(element: &str) -> String {
    format!(",{},", escape(element))
}

fn escape(element: &str) -> String {
    element.replace('%', "%25").replace(',', "%2C")
}

/// An ordered range of one side table (`agent_tags` or `agent_capabilities`), alias
/// `d`, with its conditions and their parameters in placeholder order.
#[derive(Debug, Clone)]
struct Range {
    from_where: String,
    params: Vec<Value>,
}

impl Range {
    /// Entries of `table` keyed `column = key`, with the filter's team and enabled flag.
    fn side(table: &str, column: &str, key: &str, filter: &AgentFilter) -> Self {
        let mut range = Self {
            from_where: format!("FROM {table} AS d WHERE d.{column} = ?"),
            params: vec![Value::Text(key.to_owned())],
        };
        if let Some(team) = &filter.team {
            range.and("d.team = ?", [Value::Text(team.clone())]);
        }
        if let Some(enabled) = filter.enabled {
            range.and("d.enabled = ?", [Value::Integer(i64::from(enabled))]);
        }
        range
    }

    fn and(&mut self, condition: &str, params: impl IntoIterator<Item = Value>) {
        self.from_where.push_str(" AND ");
        self.from_where.push_str(condition);
        self.params.extend(params);
    }

    /// Keeps the entries whose elements of `kind` include any of `elements` (`any`)
    /// or none of them. Elements with a bit are tested in the row's mask, all in one
    /// `&` (INV-AGT-DB-003); the others by `instr` in the row's element list.
    fn with_members(&mut self, kind: Kind, elements: &[Element<'_>], any: bool) {
        if elements.is_empty() {
            return;
        }
        let (list, mask_column) = match kind {
            Kind::Tag => ("tag_list", "tag_mask"),
            Kind::Capability => ("capability_list", "capability_mask"),
        };
        let mask = elements
            .iter()
            .filter_map(|e| e.bit)
            .fold(0_i64, |mask, bit| mask | (1_i64 << bit));
        let mut tests = Vec::new();
        let mut params = Vec::new();
        if mask != 0 {
            tests.push(format!("(d.{mask_column} & ?) != 0"));
            params.push(Value::Integer(mask));
        }
        for element in elements.iter().filter(|e| e.bit.is_none()) {
            tests.push(format!("instr(d.{list}, ?) > 0"));
            params.push(Value::Text(member(element.name)));
        }
        let tests = tests.join(" OR ");
        let condition = if any {
            format!("({tests})")
        } else {
            format!("NOT ({tests})")
        };
        self.and(&condition, params);
    }

    fn count(&self) -> String {
        format!("(SELECT COUNT(*) {})", self.from_where)
    }

    /// `page_key, page_rowid` of the range in `agent_id` order; `LIMIT ? OFFSET ?`
    /// (or just `LIMIT ?`) follows.
    fn keys(&self) -> String {
        format!(
            "SELECT d.agent_id AS page_key, d.agent_rowid AS page_rowid {} ORDER BY d.agent_id",
            self.from_where
        )
    }
}

impl ListQuery {
    /// Builds the statements for `filter` and `page`. `size` answers [`counted_sql`]
    /// and `bit` [`crate::element_bits::bit`], both in the listing's own read
    /// transaction. They are asked only for filters combining several tags, or tags
    /// and a capability: the sizes choose the ranges read, the bits how each range's
    /// rows are tested for the other elements.
    pub(crate) fn new<E>(
        filter: &AgentFilter,
        page: PageRequest,
        size: &mut dyn FnMut(Counted<'_>) -> Result<u64, E>,
        bit: &mut BitOf<'_, E>,
    ) -> Result<Self, E> {
        let mut tags: Vec<&str> = filter.tags.iter().map(String::as_str).collect();
        tags.sort_unstable();
        tags.dedup();
        let capability = filter.capability.as_deref();
        let query = match (capability, tags.as_slice()) {
            (None, []) => {
                let (count_sql, count_params) = counted_sql(Counted::Agents, filter);
                let (page_sql, page_params) = agents_page(filter, page);
                Self::with(count_sql, count_params, page_sql, page_params, page)
            }
            (None, [tag]) => {
                let (count_sql, count_params) =
                    counted_sql(Counted::Element(Kind::Tag, tag), filter);
                let range = Range::side("agent_tags", "tag", tag, filter);
                let (page_sql, page_params) = one_range_page(&range, page);
                Self::with(count_sql, count_params, page_sql, page_params, page)
            }
            (Some(capability), []) => {
                let (count_sql, count_params) =
                    counted_sql(Counted::Element(Kind::Capability, capability), filter);
                let range = Range::side("agent_capabilities", "capability", capability, filter);
                let (page_sql, page_params) = one_range_page(&range, page);
                Self::with(count_sql, count_params, page_sql, page_params, page)
            }
            (Some(capability), tags) => {
                let mut by_capability = elements(Kind::Capability, &[capability], size, bit)?;
                let (capability_size, capability) = by_capability.remove(0);
                let by_tag = elements(Kind::Tag, tags, size, bit)?;
                let tag_entries: u64 = by_tag.iter().map(|(n, _)| n).sum();
                if capability_size <= tag_entries {
                    let mut range =
                        Range::side("agent_capabilities", "capability", capability.name, filter);
                    let tags: Vec<Element<'_>> = by_tag.into_iter().map(|(_, t)| t).collect();
                    range.with_members(Kind::Tag, &tags, true);
                    let (page_sql, page_params) = one_range_page(&range, page);
                    Self::with(
                        format!("SELECT {}", range.count()),
                        range.params.clone(),
                        page_sql,
                        page_params,
                        page,
                    )
                } else {
                    tag_ranges(filter, by_tag, Some(capability), page)
                }
            }
            (None, tags) => tag_ranges(filter, elements(Kind::Tag, tags, size, bit)?, None, page),
        };
        Ok(query)
    }

    fn with(
        count_sql: String,
        count_params: Vec<Value>,
        page_sql: String,
        page_params: Vec<Value>,
        page: PageRequest,
    ) -> Self {
        Self {
            count_sql,
            count_params,
            page_sql,
            page_params,
            empty_page: page.limit == Some(0),
        }
    }

    /// Parameters of [`Self::count_sql`].
    pub(crate) fn count_params(&self) -> &[Value] {
        &self.count_params
    }

    /// Parameters of [`Self::page_sql`].
    pub(crate) fn page_params(&self) -> &[Value] {
        &self.page_params
    }
}

/// Each of `names` (of `kind`) with its size and bit.
fn elements<'f, E>(
    kind: Kind,
    names: &[&'f str],
    size: &mut dyn FnMut(Counted<'_>) -> Result<u64, E>,
    bit: &mut BitOf<'_, E>,
) -> Result<Vec<(u64, Element<'f>)>, E> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let element = Element {
            name,
            bit: bit(kind, name)?,
        };
        out.push((size(Counted::Element(kind, name))?, element));
    }
    Ok(out)
}

/// Several tags (any of them), and maybe a capability every match must have: one
/// range per tag, largest first. The total is the first range's size (from
/// `agent_counts` when nothing else is checked) plus, for each further tag, its
/// range without the agents that carry a tag before it; the page merges each range's
/// first `offset + limit` entries.
fn tag_ranges(
    filter: &AgentFilter,
    mut by_tag: Vec<(u64, Element<'_>)>,
    capability: Option<Element<'_>>,
    page: PageRequest,
) -> ListQuery {
    by_tag.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(b.1.name)));
    let tags: Vec<Element<'_>> = by_tag.iter().map(|(_, tag)| *tag).collect();
    let ranges: Vec<Range> = tags
        .iter()
        .map(|tag| {
            let mut range = Range::side("agent_tags", "tag", tag.name, filter);
            if let Some(capability) = capability {
                range.with_members(Kind::Capability, &[capability], true);
            }
            range
        })
        .collect();
    let mut terms = Vec::with_capacity(ranges.len());
    let mut count_params = Vec::new();
    for (i, range) in ranges.iter().enumerate() {
        if i == 0 && capability.is_none() {
            terms.push("?".to_owned());
            count_params.push(Value::Integer(saturating_i64(by_tag[0].0)));
            continue;
        }
        let mut without_earlier = range.clone();
        without_earlier.with_members(Kind::Tag, &tags[..i], false);
        terms.push(without_earlier.count());
        count_params.extend(without_earlier.params);
    }
    let count_sql = format!("SELECT {}", terms.join(" + "));
    if let [range] = ranges.as_slice() {
        let (page_sql, page_params) = one_range_page(range, page);
        return ListQuery::with(count_sql, count_params, page_sql, page_params, page);
    }
    // Each range's first `offset + limit` entries hold the page's agents.
    let cut = match page.limit {
        Some(limit) => saturating_i64(page.offset.saturating_add(limit)),
        None => -1,
    };
    let mut page_params = Vec::new();
    let parts: Vec<String> = ranges
        .iter()
        .map(|range| {
            page_params.extend(range.params.iter().cloned());
            page_params.push(Value::Integer(cut));
            format!(
                "SELECT page_key, page_rowid FROM ({} LIMIT ?)",
                range.keys()
            )
        })
        .collect();
    page_params.extend(limit_offset(page));
    let page_sql = format!(
        "SELECT {SELECT_COLUMNS} FROM agents AS a JOIN (\
         SELECT page_key, page_rowid FROM ({}) ORDER BY page_key LIMIT ? OFFSET ?\
         ) AS p ON a.id = p.page_rowid ORDER BY p.page_key",
        parts.join(" UNION ")
    );
    ListQuery::with(count_sql, count_params, page_sql, page_params, page)
}

/// The page of one side-table range.
fn one_range_page(range: &Range, page: PageRequest) -> (String, Vec<Value>) {
    let mut params = range.params.clone();
    params.extend(limit_offset(page));
    (
        format!(
            "SELECT {SELECT_COLUMNS} FROM agents AS a JOIN ({} LIMIT ? OFFSET ?) AS p \
             ON a.id = p.page_rowid ORDER BY p.page_key",
            range.keys()
        ),
        params,
    )
}

/// The page when no tag or capability filters: `agents` itself, through the team or
/// enabled index when those filter.
fn agents_page(filter: &AgentFilter, page: PageRequest) -> (String, Vec<Value>) {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    if let Some(team) = &filter.team {
        conditions.push("d.team = ?");
        params.push(Value::Text(team.clone()));
    }
    if let Some(enabled) = filter.enabled {
        conditions.push("d.is_enabled = ?");
        params.push(Value::Integer(i64::from(enabled)));
    }
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
    params.extend(limit_offset(page));
    (
        format!(
            "SELECT {SELECT_COLUMNS} FROM agents AS a JOIN (\
             SELECT d.agent_id AS page_key, d.id AS page_rowid FROM agents AS d{index}{where_clause} \
             ORDER BY d.agent_id LIMIT ? OFFSET ?) AS p ON a.id = p.page_rowid \
             ORDER BY p.page_key"
        ),
        params,
    )
}

/// `LIMIT` (`-1`: none) and `OFFSET` of `page`.
fn limit_offset(page: PageRequest) -> [Value; 2] {
    [
        Value::Integer(page.limit.map_or(-1, saturating_i64)),
        Value::Integer(saturating_i64(page.offset)),
    ]
}

/// A `u64` page bound as SQLite's signed integer; anything past `i64::MAX` means
/// "everything", which is what such a bound asks for anyway.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    //! The plans SQLite picks for each kind of filter: totals come from
    //! `agent_counts` or from index ranges, never from agent rows; pages read index
    //! ranges and only their own agent rows (what keeps a listing fast at 1M agents).

    use ax_agent_domain::store::{AgentFilter, PageRequest};
    use rusqlite::{Connection, params_from_iter};

    use super::{Counted, Kind, ListQuery, element_list, member};

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

    /// The query for `filter`, with `sizes` as the counts of its capability and tags
    /// and every element given a bit.
    fn query(filter: &AgentFilter, sizes: &dyn Fn(Counted<'_>) -> u64) -> ListQuery {
        query_with_bits(filter, sizes, &|_, name| {
            Some(u8::try_from(name.len()).expect("short names"))
        })
    }

    fn query_with_bits(
        filter: &AgentFilter,
        sizes: &dyn Fn(Counted<'_>) -> u64,
        bits: &dyn Fn(Kind, &str) -> Option<u8>,
    ) -> ListQuery {
        ListQuery::new(
            filter,
            PageRequest {
                offset: 0,
                limit: Some(50),
            },
            &mut |counted| Ok::<_, ()>(sizes(counted)),
            &mut |kind, name| Ok(bits(kind, name)),
        )
        .expect("no size fails")
    }

    fn plans(filter: &AgentFilter, sizes: &dyn Fn(Counted<'_>) -> u64) -> (String, String) {
        let conn = migrated();
        let query = query(filter, sizes);
        (
            plan(&conn, &query.count_sql, query.count_params()),
            plan(&conn, &query.page_sql, query.page_params()),
        )
    }

    /// Plan lines that read a whole table or index ("SCAN ..."), other than the
    /// page's own co-routines of at most `offset + limit` rows each.
    fn full_scans(plan: &str) -> Vec<&str> {
        plan.lines()
            .filter(|line| line.starts_with("SCAN ") && !line.starts_with("SCAN ("))
            .filter(|line| !matches!(*line, "SCAN p" | "SCAN CONSTANT ROW"))
            .collect()
    }

    fn filter(tags: &[&str], capability: Option<&str>) -> AgentFilter {
        AgentFilter {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            capability: capability.map(str::to_owned),
            ..Default::default()
        }
    }

    fn filters() -> Vec<AgentFilter> {
        let mut all = vec![
            AgentFilter::default(),
            filter(&["a"], None),
            filter(&["a", "b"], None),
            filter(&["a", "b", "c"], None),
            filter(&[], Some("c")),
            filter(&["a"], Some("c")),
            filter(&["a", "b"], Some("c")),
            AgentFilter {
                team: Some("t".into()),
                ..Default::default()
            },
            AgentFilter {
                enabled: Some(false),
                ..Default::default()
            },
        ];
        let mut with_team = filter(&["a", "b"], Some("c"));
        with_team.team = Some("t".into());
        with_team.enabled = Some(true);
        all.push(with_team);
        let mut tag_team = filter(&["a"], None);
        tag_team.team = Some("t".into());
        tag_team.enabled = Some(false);
        all.push(tag_team);
        all
    }

    #[test]
    fn listings_read_index_ranges_and_only_the_page_rows() {
        // Once the capability is the smaller set, once the tags.
        let small_capability = |c: Counted<'_>| -> u64 {
            match c {
                Counted::Element(Kind::Capability, _) => 10,
                _ => 1_000,
            }
        };
        let small_tags = |c: Counted<'_>| -> u64 {
            match c {
                Counted::Element(Kind::Capability, _) => 1_000,
                _ => 10,
            }
        };
        for sizes in [
            &small_capability as &dyn Fn(Counted<'_>) -> u64,
            &small_tags,
        ] {
            for filter in &filters() {
                let (count, page) = plans(filter, sizes);
                assert!(
                    full_scans(&count).is_empty(),
                    "{filter:?} count scans:\n{count}"
                );
                // Unfiltered, the page is the first `offset + limit` entries of the
                // `agent_id` index, in order.
                let expected_scans: &[&str] = if *filter == AgentFilter::default() {
                    &["SCAN d USING COVERING INDEX idx_agents_agent_id"]
                } else {
                    &[]
                };
                assert_eq!(
                    full_scans(&page),
                    expected_scans,
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
                assert!(
                    !page.contains("TEMP B-TREE FOR ORDER BY") || !page.contains("SCAN d"),
                    "{filter:?}: ranges are read in order, never sorted whole:\n{page}"
                );
            }
        }
    }

    /// INV-AGT-DB-002: a filter with at most one tag or one capability is counted from
    /// `agent_counts` alone.
    #[test]
    fn single_element_totals_come_from_agent_counts() {
        let no_size = |c: Counted<'_>| -> u64 { panic!("no size is needed, asked {c:?}") };
        for filter in filters()
            .iter()
            .filter(|f| f.tags.len() + usize::from(f.capability.is_some()) <= 1)
        {
            let (count, _) = plans(filter, &no_size);
            assert!(
                !count.contains('\n')
                    && count.starts_with("SEARCH c USING PRIMARY KEY (kind=? AND key=?"),
                "{filter:?}: {count}"
            );
        }
    }

    #[test]
    fn the_smaller_side_drives_a_combined_filter() {
        let combined = filter(&["a", "b"], Some("c"));
        let by_capability = query(&combined, &|c| match c {
            Counted::Element(Kind::Capability, _) => 10,
            _ => 1_000,
        });
        assert!(by_capability.count_sql.contains("FROM agent_capabilities"));
        assert!(!by_capability.count_sql.contains("FROM agent_tags"));
        let by_tags = query(&combined, &|c| match c {
            Counted::Element(Kind::Capability, _) => 1_000,
            _ => 10,
        });
        assert!(!by_tags.count_sql.contains("FROM agent_capabilities"));
        assert_eq!(by_tags.count_sql.matches("FROM agent_tags").count(), 2);
        assert!(by_tags.page_sql.contains(" UNION "));
    }

    /// INV-AGT-DB-003: elements with a bit are tested together in one `&` of the row's
    /// mask; an element without one (past the 63rd of its kind) in its element list.
    #[test]
    fn elements_with_bits_are_tested_in_the_mask_the_others_in_the_list() {
        use rusqlite::types::Value;
        let combined = filter(&["a", "bb"], Some("c"));
        let small_capability = |c: Counted<'_>| match c {
            Counted::Element(Kind::Capability, _) => 10,
            _ => 1_000,
        };
        let small_tags = |c: Counted<'_>| match c {
            Counted::Element(Kind::Capability, _) => 1_000,
            _ => 10,
        };
        let by_length = |_: Kind, name: &str| u8::try_from(name.len()).ok();

        let all = query_with_bits(&combined, &small_capability, &by_length);
        assert!(
            all.count_sql.contains("((d.tag_mask & ?) != 0)") && !all.count_sql.contains("instr("),
            "{}",
            all.count_sql
        );
        assert_eq!(all.count_params().last(), Some(&Value::Integer(0b110)));
        let by_tags = query_with_bits(&combined, &small_tags, &by_length);
        assert_eq!(
            by_tags
                .count_sql
                .matches("(d.capability_mask & ?) != 0")
                .count(),
            2,
            "{}",
            by_tags.count_sql
        );
        assert!(by_tags.count_sql.contains("NOT ((d.tag_mask & ?) != 0)"));

        let one_without = query_with_bits(&combined, &small_capability, &|_, name| {
            (name == "a").then_some(5)
        });
        assert!(
            one_without
                .count_sql
                .contains("((d.tag_mask & ?) != 0 OR instr(d.tag_list, ?) > 0)"),
            "{}",
            one_without.count_sql
        );
        let none = query_with_bits(&combined, &small_capability, &|_, _| None);
        assert!(!none.count_sql.contains("mask"), "{}", none.count_sql);
        assert_eq!(none.count_sql.matches("instr(d.tag_list, ?)").count(), 2);
    }

    /// Several tags: the largest tag's total is read from `agent_counts` (bound as a
    /// number), the others are counted without the agents of the tags before them.
    #[test]
    fn several_tags_count_the_largest_from_agent_counts() {
        let tags = filter(&["a", "b"], None);
        let q = query(&tags, &|c| match c {
            Counted::Element(Kind::Tag, "b") => 70,
            _ => 30,
        });
        assert_eq!(q.count_sql.matches("FROM agent_tags").count(), 1);
        assert_eq!(q.count_params()[0], rusqlite::types::Value::Integer(70));
        assert_eq!(
            q.count_params()[1],
            rusqlite::types::Value::Text("a".into()),
            "the smaller tag's range is the one read"
        );
    }

    /// `instr(list, member(x)) > 0` holds exactly when `x` is one of the list's
    /// elements, whatever `,` and `%` the elements hold.
    #[test]
    fn element_lists_answer_membership_exactly() {
        let conn = migrated();
        let elements = ["a", "a,b", "%2C", "c%", "", "d,"];
        let list = element_list(&elements);
        let probes = [
            "a", "b", "a,b", ",", "%2C", "%", "c%", "c", "", "d,", "d", "%25",
        ];
        for probe in probes {
            let found: bool = conn
                .query_row("SELECT instr(?1, ?2) > 0", [&list, &member(probe)], |row| {
                    row.get(0)
                })
                .expect("instr");
            assert_eq!(found, elements.contains(&probe), "{probe:?} in {list:?}");
        }
    }
}
