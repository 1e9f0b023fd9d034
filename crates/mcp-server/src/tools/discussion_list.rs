//! `discussion_list`: saved discussions, newest first, paged by a cursor (the last
//! id of the page).

use ax_contracts::discussion::DiscussionPage;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// Page size of `discussion_list` when none is given.
const DEFAULT_HISTORY_LIMIT: usize = 20;

/// The tool.
pub(crate) struct DiscussionList;

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

impl Tool for DiscussionList {
    const NAME: &'static str = "discussion_list";
    const TITLE: &'static str = "List saved discussions";
    const HINTS: Hints = Hints::READ;
    type Args = ListArgs;
    type Output = DiscussionPage;

    fn description() -> String {
        "Saved discussions, newest first, one page at a time (limit 1-100, default 20; pass nextCursor as cursor for the next page).".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: ListArgs = typed(args)?;
        let limit = args.limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
        // One more than asked tells whether another page exists.
        let mut page = call
            .services
            .history
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
}
