//! `agent_remove`: a missing agent is `removed: false`, not an error.

use ax_contracts::agent::Removed;
use serde_json::Value;

use super::agent_get::IdArgs;
use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct AgentRemove;

impl Tool for AgentRemove {
    const NAME: &'static str = "agent_remove";
    const TITLE: &'static str = "Remove an agent";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    };
    type Args = IdArgs;
    type Output = Removed;

    fn description() -> String {
        "Remove an agent. Removing an agent that does not exist answers removed: false, not an error.".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: IdArgs = typed(args)?;
        let removed = call.services.agents.remove(&args.agent_id).await?;
        output(&Removed {
            removed,
            agent_id: args.agent_id,
        })
    }
}
