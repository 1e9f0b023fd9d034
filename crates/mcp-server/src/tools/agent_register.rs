//! `agent_register`: the arguments object is the profile itself.

use std::sync::Arc;

use ax_contracts::agent::{AgentProfile, Registered};
use rmcp::model::JsonObject;
use serde_json::Value;

use super::{Call, Check, Hints, Tool, output};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct AgentRegister;

impl Tool for AgentRegister {
    const NAME: &'static str = "agent_register";
    const TITLE: &'static str = "Register an agent";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: false,
    };
    const CHECK: Check = Check::Contract;
    type Args = AgentProfile;
    type Output = Registered;

    fn description() -> String {
        "Register a new agent profile (agentId and description required). Every broken rule is reported at once as INVALID_INPUT with its path; an id that is taken answers AGENT_ALREADY_EXISTS and changes nothing, even when many clients register it at the same moment.".into()
    }

    /// The profile schema as a registration's input: the contract declares every
    /// field, and over MCP anything else (the registry-owned `createdAt`,
    /// `updatedAt`, `revision` included) is refused.
    fn input_schema() -> Arc<JsonObject> {
        Arc::new(AgentProfile::registration_schema().clone())
    }

    /// INV-AGT-REG-001: no existence check here either — the store decides, so of
    /// many concurrent registrations of one id (from any number of server processes)
    /// exactly one succeeds and the rest get `AGENT_ALREADY_EXISTS`.
    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let profile = AgentProfile::parse_registration(&args).map_err(ToolFailure::invalid)?;
        let record = call.services.agents.register(profile).await?;
        output(&Registered::from(&record))
    }
}
