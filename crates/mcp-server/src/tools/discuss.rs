//! `discuss`: the arguments are the discussion configuration. Long-running, with
//! progress and cancellation.

use ax_contracts::discussion::{ConsensusMethod, DiscussionConfig, DiscussionResult, Pattern};
use ax_contracts::validation::rule;
use ax_discussion_domain::ServiceError;
use serde_json::Value;

use super::{Call, Check, Hints, Tool, run_outcome};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct Discuss;

impl Tool for Discuss {
    const NAME: &'static str = "discuss";
    const TITLE: &'static str = "Run a discussion";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
    };
    const CHECK: Check = Check::Contract;
    type Args = DiscussionConfig;
    type Output = DiscussionResult;

    /// The names come from the contract, so the list cannot drift from what
    /// `pattern` and `consensus.method` accept.
    fn description() -> String {
        format!(
            "Put a topic to several AI providers in a pattern ({}) and reach a conclusion ({}). Long-running: send a progressToken to get one progress notification per finished provider call, and cancel the request to stop it and its provider processes. Every discussion is saved (discussion_get). A discussion that ran and failed answers isError with its whole result.",
            Pattern::NAMES.join(", "),
            ConsensusMethod::NAMES.join(", "),
        )
    }

    /// A discussion that ran and failed answers `isError` with its whole result
    /// (rounds included).
    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let service = &call.services.discussions;
        call.discussion(async |run| {
            let result = match service.discuss_json(&args, run).await {
                // An option the schema does not declare is a malformed call of the
                // tool (INVALID_INPUT, as for every tool), not a discussion asked for
                // wrongly (DISCUSSION_INVALID_*); the answer lists every problem.
                Err(ServiceError::Invalid(errors))
                    if errors.issues.iter().any(|i| i.rule == rule::UNKNOWN_FIELD) =>
                {
                    return Err(ToolFailure::invalid(errors));
                }
                outcome => outcome?,
            };
            run_outcome(&result, result.success)
        })
        .await
    }
}
