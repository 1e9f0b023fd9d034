//! `agent_recommend`: the enabled agents that best fit a task.

use ax_agent_domain::recommend::RecommendRequest;
use ax_contracts::agent::Recommendation;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Call, Hints, Tool, output, typed};
use crate::failure::ToolFailure;

/// The tool.
pub(crate) struct AgentRecommend;

/// `agent_recommend` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RecommendArgs {
    /// The task, in the user's words.
    #[schemars(length(min = 1, max = ax_agent_domain::recommend::TASK_MAX_CHARS))]
    task: String,
    /// Only agents of this team.
    #[schemars(length(max = 100))]
    team: Option<String>,
    /// Only agents having every one of these capabilities.
    #[schemars(length(max = 50), inner(length(max = 100)))]
    required_capabilities: Option<Vec<String>>,
    /// Never recommend these agents.
    #[schemars(length(max = 100), inner(length(max = 50)))]
    exclude_agents: Option<Vec<String>>,
    /// How many agents to return in all (recommended + alternatives), 1–10 (default 3).
    #[schemars(range(min = 1, max = 10))]
    max_results: Option<usize>,
    /// Score every enabled agent instead of the candidates the term index picks
    /// (default false): exact, but slower in proportion to the registry's size; for
    /// comparison.
    exhaustive: Option<bool>,
}

impl Tool for AgentRecommend {
    const NAME: &'static str = "agent_recommend";
    const TITLE: &'static str = "Recommend an agent";
    const HINTS: Hints = Hints::READ;
    type Args = RecommendArgs;
    type Output = Recommendation;

    fn description() -> String {
        "Recommend the enabled agents that best fit a task, with a confidence 0-1 and the reasons (selection metadata, capabilities, expertise, role and description matched against the task).".into()
    }

    async fn call(call: &Call<'_>, args: Value) -> Result<Value, ToolFailure> {
        let args: RecommendArgs = typed(args)?;
        let request = RecommendRequest {
            task: args.task,
            team: args.team,
            required_capabilities: args.required_capabilities.unwrap_or_default(),
            exclude_agents: args.exclude_agents.unwrap_or_default(),
            max_results: args.max_results,
        };
        let agents = &call.services.agents;
        if args.exhaustive == Some(true) {
            output(&agents.recommend_exhaustive(&request).await?)
        } else {
            output(&agents.recommend(&request).await?)
        }
    }
}
