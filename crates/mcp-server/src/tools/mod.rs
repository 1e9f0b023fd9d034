//! The tools: their names, and the helpers every tool uses to read its arguments and
//! write its result.

pub(crate) mod agents;
pub(crate) mod discussions;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::failure::ToolFailure;

/// Every tool, by its unprefixed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ToolName {
    AgentList,
    AgentGet,
    AgentRegister,
    AgentUpdate,
    AgentRemove,
    AgentRecommend,
    AgentCapabilities,
    Discuss,
    DiscussQuick,
    DiscussionGet,
    DiscussionList,
}

impl ToolName {
    /// Every tool, in the order `tools/list` shows them.
    pub(crate) const ALL: [ToolName; 11] = [
        Self::AgentList,
        Self::AgentGet,
        Self::AgentRegister,
        Self::AgentUpdate,
        Self::AgentRemove,
        Self::AgentRecommend,
        Self::AgentCapabilities,
        Self::Discuss,
        Self::DiscussQuick,
        Self::DiscussionGet,
        Self::DiscussionList,
    ];

    /// The unprefixed name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AgentList => "agent_list",
            Self::AgentGet => "agent_get",
            Self::AgentRegister => "agent_register",
            Self::AgentUpdate => "agent_update",
            Self::AgentRemove => "agent_remove",
            Self::AgentRecommend => "agent_recommend",
            Self::AgentCapabilities => "agent_capabilities",
            Self::Discuss => "discuss",
            Self::DiscussQuick => "discuss_quick",
            Self::DiscussionGet => "discussion_get",
            Self::DiscussionList => "discussion_list",
        }
    }

    /// The tool a call names: the exposed (prefixed) name or the bare one.
    pub(crate) fn parse(name: &str, prefix: &str) -> Option<Self> {
        let bare = if prefix.is_empty() {
            name
        } else {
            name.strip_prefix(prefix).unwrap_or(name)
        };
        Self::ALL.into_iter().find(|t| t.as_str() == bare)
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
