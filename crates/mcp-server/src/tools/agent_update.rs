//! `agent_update`: merge a patch into an agent, optionally as a compare-and-swap.

use ax_contracts::agent::AgentRecord;
use ax_contracts::validation::ValidationErrors;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct AgentUpdate;

/// `agent_update` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UpdateArgs {
    /// The agent to change.
    #[schemars(length(min = 1, max = 50))]
    agent_id: String,
    /// Top-level profile fields to set; `null` removes an optional field. The merged
    /// profile must satisfy every rule of the contract; `agentId` cannot change and
    /// `createdAt`/`updatedAt`/`revision` are the registry's.
    patch: serde_json::Map<String, Value>,
    /// Only update if the agent is still at this revision (compare-and-swap); a
    /// mismatch answers `CONFLICT`.
    #[schemars(range(min = 1))]
    if_version: Option<u64>,
}

impl Tool for AgentUpdate {
    const NAME: &'static str = "agent_update";
    const TITLE: &'static str = "Update an agent";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: false,
        open_world: false,
    };
    type Args = UpdateArgs;
    type Output = AgentRecord;

    fn description() -> String {
        "Merge a patch of top-level profile fields into an agent (null removes an optional field) and return the updated profile. With ifVersion the update only happens if the agent is still at that revision (else CONFLICT).".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: UpdateArgs = typed(args)?;
        let patch = Value::Object(args.patch);
        match call
            .services
            .agents
            .update(&args.agent_id, &patch, args.if_version)
            .await
        {
            Ok(record) => output(&record),
            // The registry checks the merged profile; its paths are the patch's fields.
            Err(ax_agent_domain::AgentError::Validation(errors)) => {
                Err(ToolFailure::invalid(under_patch(errors)))
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// Re-root validation paths under `patch` (`team` → `patch.team`).
fn under_patch(errors: ValidationErrors) -> ValidationErrors {
    ValidationErrors {
        issues: errors
            .issues
            .into_iter()
            .map(|mut issue| {
                issue.path = if issue.path == "$" {
                    "patch".to_owned()
                } else {
                    format!("patch.{}", issue.path)
                };
                issue
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ax_contracts::validation::{JsonPath, rule};

    #[test]
    fn patch_issues_are_reported_under_patch() {
        let errors = ValidationErrors::single(&JsonPath::root().key("team"), rule::TYPE, "x");
        assert_eq!(under_patch(errors).issues[0].path, "patch.team");
    }
}
