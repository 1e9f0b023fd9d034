//! `agent_get`: the full stored profile of one agent.

use ax_contracts::agent::AgentRecord;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct AgentGet;

/// `agent_get` / `agent_remove` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct IdArgs {
    /// The agent id.
    #[schemars(length(min = 1, max = 50))]
    pub(crate) agent_id: String,
}

impl Tool for AgentGet {
    const NAME: &'static str = "agent_get";
    const TITLE: &'static str = "Get an agent";
    const HINTS: Hints = Hints::READ;
    type Args = IdArgs;
    type Output = AgentRecord;

    fn description() -> String {
        "The full profile of one agent, with createdAt, updatedAt and revision. Unknown id: AGENT_NOT_FOUND.".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: IdArgs = typed(args)?;
        output(&call.services.agents.get(&args.agent_id).await?)
    }
}
