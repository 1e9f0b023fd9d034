//! `agent_list`: one page of agents matching a filter.

use ax_agent_domain::store::{AgentFilter, PageRequest};
use ax_contracts::agent::{AgentPage, AgentSummary};
use ax_contracts::validation::{JsonPath, ValidationErrors, rule};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// Page size of `agent_list` when none is given.
const DEFAULT_LIST_LIMIT: u64 = 50;

/// The tool.
pub(crate) struct AgentList;

/// `agent_list` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ListArgs {
    /// Only agents of this team (exact match).
    #[schemars(length(max = 100))]
    team: Option<String>,
    /// Only agents carrying any of these tags.
    #[schemars(length(max = 20), inner(length(max = 50)))]
    tags: Option<Vec<String>>,
    /// Only agents having exactly this capability.
    #[schemars(length(max = 100))]
    capability: Option<String>,
    /// Only enabled (`true`) or only disabled (`false`) agents.
    enabled: Option<bool>,
    /// Page size, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    limit: Option<u64>,
    /// `nextCursor` of the previous page.
    #[schemars(length(max = 20))]
    cursor: Option<String>,
}

impl Tool for AgentList {
    const NAME: &'static str = "agent_list";
    const TITLE: &'static str = "List agents";
    const HINTS: Hints = Hints::READ;
    type Args = ListArgs;
    type Output = AgentPage;

    fn description() -> String {
        "List registered agents ordered by agentId, filtered by team, tags (any of), capability or enabled, one page at a time (limit 1-100, default 50; pass nextCursor as cursor for the next page).".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: ListArgs = typed(args)?;
        let offset = match args.cursor.as_deref() {
            None => 0,
            Some(cursor) => cursor.parse::<u64>().map_err(|_| {
                ToolFailure::invalid(ValidationErrors::single(
                    &JsonPath::root().key("cursor"),
                    rule::FORMAT,
                    "is not a cursor returned by agent_list",
                ))
            })?,
        };
        let limit = args.limit.unwrap_or(DEFAULT_LIST_LIMIT);
        let filter = AgentFilter {
            team: args.team,
            tags: args.tags.unwrap_or_default(),
            capability: args.capability,
            enabled: args.enabled,
        };
        let page = call
            .services
            .agents
            .list(
                &filter,
                PageRequest {
                    offset,
                    limit: Some(limit),
                },
            )
            .await?;
        let end = offset + page.agents.len() as u64;
        output(&AgentPage {
            agents: page.agents.iter().map(AgentSummary::from).collect(),
            total: page.total,
            next_cursor: (end < page.total && !page.agents.is_empty()).then(|| end.to_string()),
            offset: None,
            limit: None,
            next_offset: None,
        })
    }
}
