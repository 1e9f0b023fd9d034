//! `agent_capabilities`: the capability index.

use ax_contracts::agent::{AgentCategory, CapabilityIndex};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct AgentCapabilities;

/// `agent_capabilities` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CapabilitiesArgs {
    /// Only agents of this category.
    category: Option<AgentCategory>,
    /// Include disabled agents (default false).
    include_disabled: Option<bool>,
}

impl Tool for AgentCapabilities {
    const NAME: &'static str = "agent_capabilities";
    const TITLE: &'static str = "Agent capabilities";
    const HINTS: Hints = Hints::READ;
    type Args = CapabilitiesArgs;
    type Output = CapabilityIndex;

    fn description() -> String {
        "Every capability with the agents having it, each agent's capabilities, and each agent's category; optionally only one category, optionally including disabled agents.".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: CapabilitiesArgs = typed(args)?;
        let index = call
            .services
            .agents
            .capabilities(
                args.category.map(AgentCategory::as_str),
                args.include_disabled.unwrap_or(false),
            )
            .await?;
        output(&index)
    }
}
