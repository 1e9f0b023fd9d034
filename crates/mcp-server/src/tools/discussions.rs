//! The discussion tools: `discuss`, `discuss_quick` (long calls, with progress and
//! cancellation) and `discussion_get` / `discussion_list` (the saved history).

use std::sync::Arc;

use ax_contracts::discussion::{DiscussionConfig, DiscussionPage, QuickDiscussionResult, limits};
use ax_contracts::error::{ErrorBody, ErrorCode};
use ax_contracts::validation::Issue;
use ax_discussion_domain::history::DiscussionHistory;
use ax_discussion_domain::{DiscussionService, RunOptions};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{output, typed};
use crate::failure::ToolFailure;

/// Page size of `discussion_list` when none is given.
const DEFAULT_HISTORY_LIMIT: usize = 20;

/// `discuss_quick` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct QuickArgs {
    /// What to discuss (1–5000 characters).
    #[schemars(length(min = 1, max = limits::TOPIC_MAX_CHARS))]
    topic: String,
    /// 2–6 provider ids; absent: the available providers.
    #[schemars(
        length(min = limits::MIN_PROVIDERS_LISTED, max = limits::MAX_SPEAKERS),
        inner(length(min = 1, max = limits::ID_MAX_CHARS))
    )]
    providers: Option<Vec<String>>,
}

/// `discussion_get` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct GetArgs {
    /// The discussion id (from `discuss`, `discuss_quick` or `discussion_list`).
    #[schemars(length(min = 1, max = 100))]
    discussion_id: String,
}

/// `discussion_list` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ListArgs {
    /// Page size, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    limit: Option<usize>,
    /// `nextCursor` of the previous page.
    #[schemars(length(min = 1, max = 100))]
    cursor: Option<String>,
}

/// `discuss`: the arguments are the discussion configuration. A discussion that
/// ran and failed answers `isError` with its whole result (rounds included).
pub(crate) async fn discuss(
    service: &DiscussionService,
    args: Value,
    run: RunOptions,
) -> Result<Value, ToolFailure> {
    let result = service.discuss_json(&args, run).await?;
    let failed = !result.success;
    let value = output(&result)?;
    if failed {
        Err(ToolFailure::FailedRun(value))
    } else {
        Ok(value)
    }
}

/// Issues of a discussion configuration beyond undeclared fields, so that one
/// answer lists all.
pub(crate) fn discuss_issues(args: &Value) -> Vec<Issue> {
    DiscussionConfig::from_json(args)
        .err()
        .map(|e| e.issues)
        .unwrap_or_default()
}

/// `discuss_quick`: one fast synthesis round on the topic.
pub(crate) async fn discuss_quick(
    service: &DiscussionService,
    args: Value,
    run: RunOptions,
) -> Result<Value, ToolFailure> {
    let args: QuickArgs = typed(args)?;
    let result = service
        .discuss_quick(&args.topic, args.providers, run)
        .await?;
    let quick = QuickDiscussionResult::from(&result);
    let value = output(&quick)?;
    if quick.success {
        Ok(value)
    } else {
        Err(ToolFailure::FailedRun(value))
    }
}

/// `discussion_get`: the saved result of one discussion.
pub(crate) async fn get(
    history: &Arc<dyn DiscussionHistory>,
    args: Value,
) -> Result<Value, ToolFailure> {
    let args: GetArgs = typed(args)?;
    saved_result(history, &args.discussion_id).await
}

/// The saved result of `discussion_id`, or `DISCUSSION_NOT_FOUND`.
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

/// `discussion_list`: newest first, paged by a cursor (the last id of the page).
pub(crate) async fn list(
    history: &Arc<dyn DiscussionHistory>,
    args: Value,
) -> Result<Value, ToolFailure> {
    let args: ListArgs = typed(args)?;
    let limit = args.limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
    // One more than asked tells whether another page exists.
    let mut page = history
        .list(limit + 1, args.cursor.as_deref())
        .await
        .map_err(|err| ToolFailure::storage(&err))?;
    let more = page.len() > limit;
    page.truncate(limit);
    let next_cursor = if more {
        page.last().map(|s| s.discussion_id.clone())
    } else {
        None
    };
    output(&DiscussionPage {
        discussions: page,
        next_cursor,
    })
}
