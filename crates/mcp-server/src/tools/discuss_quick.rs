//! `discuss_quick`: one fast synthesis round on a topic, with progress and
//! cancellation.

use ax_contracts::discussion::{QuickDiscussionResult, limits};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, run_outcome, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct DiscussQuick;

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

impl Tool for DiscussQuick {
    const NAME: &'static str = "discuss_quick";
    const TITLE: &'static str = "Quick discussion";
    const HINTS: Hints = Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
    };
    type Args = QuickArgs;
    type Output = QuickDiscussionResult;

    fn description() -> String {
        "One fast synthesis round on a topic with the given (or the available) providers; returns the conclusion and the discussion id.".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: QuickArgs = typed(args)?;
        let service = &call.services.discussions;
        call.discussion(async |run| {
            let result = service
                .discuss_quick(&args.topic, args.providers, run)
                .await?;
            let quick = QuickDiscussionResult::from(&result);
            run_outcome(&quick, quick.success)
        })
        .await
    }
}
