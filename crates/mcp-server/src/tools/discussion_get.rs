//! `discussion_get`: the saved result of one discussion.

use std::sync::Arc;

use ax_contracts::discussion::DiscussionResult;
use ax_contracts::error::{ErrorBody, ErrorCode};
use ax_discussion_domain::history::DiscussionHistory;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, Hints, Tool, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct DiscussionGet;

/// `discussion_get` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct GetArgs {
    /// The discussion id (from `discuss`, `discuss_quick` or `discussion_list`).
    #[schemars(length(min = 1, max = 100))]
    discussion_id: String,
}

impl Tool for DiscussionGet {
    const NAME: &'static str = "discussion_get";
    const TITLE: &'static str = "Get a saved discussion";
    const HINTS: Hints = Hints::READ;
    type Args = GetArgs;
    type Output = DiscussionResult;

    fn description() -> String {
        "The full saved result of one discussion (finished, failed or cancelled). Unknown id: DISCUSSION_NOT_FOUND.".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: GetArgs = typed(args)?;
        saved_result(&call.services.history, &args.discussion_id).await
    }
}

/// The saved result of `discussion_id`, or `DISCUSSION_NOT_FOUND` (also the
/// `automatosx://discussions/{id}` resource's answer).
pub(crate) async fn saved_result(
    history: &Arc<dyn DiscussionHistory>,
    discussion_id: &str,
) -> Result<Value, ToolFailure> {
    match history.get(discussion_id).await {
        Ok(Some(record)) => Ok(record.result),
        Ok(None) => Err(ToolFailure::Error(ErrorBody {
            code: ErrorCode::DiscussionNotFound,
            message: format!("Discussion with ID \"{discussion_id}\" not found"),
            details: Some(json!({ "discussionId": discussion_id })),
        })),
        Err(err) => Err(ToolFailure::storage(&err)),
    }
}
