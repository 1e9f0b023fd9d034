//! The tools: their names, and the helpers every tool uses to read its arguments and
//! write its result.

pub(crate) mod agents;
pub(crate) mod discussions;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::failure::ToolFailure;

ax_contracts::wire_enum! {
    /// Every tool, by its unprefixed name, in the order `tools/list` shows them
    /// (`ALL`).
    pub(crate) enum ToolName {
        /// List agents.
        AgentList = "agent_list",
        /// One agent.
        AgentGet = "agent_get",
        /// Register an agent.
        AgentRegister = "agent_register",
        /// Update an agent.
        AgentUpdate = "agent_update",
        /// Remove an agent.
        AgentRemove = "agent_remove",
        /// Recommend agents for a task.
        AgentRecommend = "agent_recommend",
        /// The capability index.
        AgentCapabilities = "agent_capabilities",
        /// Hold a discussion.
        Discuss = "discuss",
        /// A quick discussion.
        DiscussQuick = "discuss_quick",
        /// One saved discussion.
        DiscussionGet = "discussion_get",
        /// Saved discussions.
        DiscussionList = "discussion_list",
    }
}

impl ToolName {
    /// The tool a call names: the exposed (prefixed) name or the bare one.
    pub(crate) fn parse(name: &str, prefix: &str) -> Option<Self> {
        let bare = if prefix.is_empty() {
            name
        } else {
            name.strip_prefix(prefix).unwrap_or(name)
        };
        Self::from_wire(bare)
    }
}

/// Read checked arguments into their type. The schema check ran first, so a failure
/// here is rare (e.g. a number too large for the field); it is still `INVALID_INPUT`.
pub(crate) fn typed<T: DeserializeOwned>(args: Value) -> Result<T, ToolFailure> {
    serde_json::from_value(args).map_err(|e| {
        ToolFailure::invalid(ax_contracts::validation::ValidationErrors::single(
            &ax_contracts::validation::JsonPath::root(),
            ax_contracts::validation::rule::TYPE,
            e.to_string(),
        ))
    })
}

/// A tool's result as JSON.
pub(crate) fn output<T: Serialize>(value: &T) -> Result<Value, ToolFailure> {
    serde_json::to_value(value)
        .map_err(|e| ToolFailure::internal(format!("cannot write the result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_and_bare_names_both_resolve() {
        assert_eq!(
            ToolName::parse("ax_agent_get", "ax_"),
            Some(ToolName::AgentGet)
        );
        assert_eq!(
            ToolName::parse("agent_get", "ax_"),
            Some(ToolName::AgentGet)
        );
        assert_eq!(ToolName::parse("agent_get", ""), Some(ToolName::AgentGet));
        assert_eq!(ToolName::parse("ax_agent_get", ""), None);
        assert_eq!(ToolName::parse("ax_nope", "ax_"), None);
        assert_eq!(
            ToolName::parse("my_discuss", "my_"),
            Some(ToolName::Discuss)
        );
    }
}
