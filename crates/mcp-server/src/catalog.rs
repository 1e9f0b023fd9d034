//! The tool catalog: each tool's title, description, input schema, output schema and
//! hints, built once on first use (not at start-up, so `initialize` is answered
//! before any schema is generated).
//!
//! Schemas come from the types: the contracts' `AgentProfile`, `AgentRecord`,
//! `DiscussionConfig`, `DiscussionResult` and `QuickDiscussionResult`, and this
//! crate's argument and output types (`tools/`). The same schema objects are what
//! `arguments` checks calls against. How they are generated (standard keywords only,
//! outputs that also admit the error envelope) is `schema`'s job.

use std::sync::{Arc, OnceLock};

use ax_contracts::agent::{
    AgentPage, AgentProfile, AgentRecord, CapabilityIndex, Recommendation, Registered, Removed,
};
use ax_contracts::discussion::{
    ConsensusMethod, DiscussionConfig, DiscussionPage, DiscussionResult, Pattern,
    QuickDiscussionResult,
};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde_json::Value;

use crate::arguments::Depth;
use crate::schema;
use crate::tools::{ToolName, agents, discussions};

/// One tool as published.
pub(crate) struct ToolSpec {
    pub name: ToolName,
    pub title: &'static str,
    /// Built once, with the contract's own names where it lists them.
    pub description: String,
    pub input: Arc<JsonObject>,
    pub output: Arc<JsonObject>,
    /// How far `arguments` checks calls (the rest is the contract's job).
    pub depth: Depth,
    pub annotations: ToolAnnotations,
}

/// A tool's published definition, for documentation and its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDoc {
    /// The unprefixed name (`agent_list`).
    pub name: &'static str,
    /// Short title.
    pub title: &'static str,
    /// What it does, as clients show it.
    pub description: &'static str,
    /// The `inputSchema`.
    pub input_schema: Value,
    /// The `outputSchema`.
    pub output_schema: Value,
}

/// Every tool with its schemas, in `tools/list` order.
pub fn tool_reference() -> Vec<ToolDoc> {
    catalog()
        .iter()
        .map(|spec| ToolDoc {
            name: spec.name.as_str(),
            title: spec.title,
            description: &spec.description,
            input_schema: Value::Object(spec.input.as_ref().clone()),
            output_schema: Value::Object(spec.output.as_ref().clone()),
        })
        .collect()
}

/// The spec of `name`.
pub(crate) fn spec(name: ToolName) -> &'static ToolSpec {
    // ALL and the catalog are built in the same order; the position always exists.
    let index = ToolName::ALL.iter().position(|t| *t == name).unwrap_or(0);
    &catalog()[index]
}

/// The tools as `tools/list` shows them, with `prefix` on every name.
pub(crate) fn listed_tools(prefix: &str) -> Vec<Tool> {
    catalog()
        .iter()
        .map(|spec| {
            let mut tool = Tool::new(
                format!("{prefix}{}", spec.name.as_str()),
                spec.description.clone(),
                spec.input.clone(),
            )
            .with_title(spec.title)
            .with_raw_output_schema(spec.output.clone())
            .with_annotations(spec.annotations.clone());
            tool.annotations.get_or_insert_default().title = Some(spec.title.to_owned());
            tool
        })
        .collect()
}

fn catalog() -> &'static [ToolSpec] {
    static CATALOG: OnceLock<Vec<ToolSpec>> = OnceLock::new();
    CATALOG.get_or_init(build)
}

fn input<T: JsonSchema>() -> Arc<JsonObject> {
    schema::input::<T>()
}

fn output<T: JsonSchema>() -> Arc<JsonObject> {
    schema::output::<T>()
}

/// The profile schema as a registration's input: the contract declares every field,
/// and over MCP anything else (the registry-owned `createdAt`, `updatedAt`,
/// `revision` included) is refused.
fn register_input() -> Arc<JsonObject> {
    let mut schema = input::<AgentProfile>().as_ref().clone();
    schema.insert("additionalProperties".into(), Value::Bool(false));
    Arc::new(schema)
}

fn hints(
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool,
) -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(read_only)
        .destructive(destructive)
        .idempotent(idempotent)
        .open_world(open_world)
}

fn build() -> Vec<ToolSpec> {
    let read = hints(true, false, true, false);
    ToolName::ALL
        .iter()
        .copied()
        .map(|name| match name {
            ToolName::AgentList => ToolSpec {
                name,
                title: "List agents",
                description: "List registered agents ordered by agentId, filtered by team, tags (any of), capability or enabled, one page at a time (limit 1-100, default 50; pass nextCursor as cursor for the next page).".into(),
                input: input::<agents::ListArgs>(),
                output: output::<AgentPage>(),
                depth: Depth::Full,
                annotations: read.clone(),
            },
            ToolName::AgentGet => ToolSpec {
                name,
                title: "Get an agent",
                description: "The full profile of one agent, with createdAt, updatedAt and revision. Unknown id: AGENT_NOT_FOUND.".into(),
                input: input::<agents::IdArgs>(),
                output: output::<AgentRecord>(),
                depth: Depth::Full,
                annotations: read.clone(),
            },
            ToolName::AgentRegister => ToolSpec {
                name,
                title: "Register an agent",
                description: "Register a new agent profile (agentId and description required). Every broken rule is reported at once as INVALID_INPUT with its path; an id that is taken answers AGENT_ALREADY_EXISTS and changes nothing, even when many clients register it at the same moment.".into(),
                input: register_input(),
                output: output::<Registered>(),
                depth: Depth::Undeclared,
                annotations: hints(false, false, false, false),
            },
            ToolName::AgentUpdate => ToolSpec {
                name,
                title: "Update an agent",
                description: "Merge a patch of top-level profile fields into an agent (null removes an optional field) and return the updated profile. With ifVersion the update only happens if the agent is still at that revision (else CONFLICT).".into(),
                input: input::<agents::UpdateArgs>(),
                output: output::<AgentRecord>(),
                depth: Depth::Full,
                annotations: hints(false, true, false, false),
            },
            ToolName::AgentRemove => ToolSpec {
                name,
                title: "Remove an agent",
                description: "Remove an agent. Removing an agent that does not exist answers removed: false, not an error.".into(),
                input: input::<agents::IdArgs>(),
                output: output::<Removed>(),
                depth: Depth::Full,
                annotations: hints(false, true, true, false),
            },
            ToolName::AgentRecommend => ToolSpec {
                name,
                title: "Recommend an agent",
                description: "Recommend the enabled agents that best fit a task, with a confidence 0-1 and the reasons (selection metadata, capabilities, expertise, role and description matched against the task).".into(),
                input: input::<agents::RecommendArgs>(),
                output: output::<Recommendation>(),
                depth: Depth::Full,
                annotations: read.clone(),
            },
            ToolName::AgentCapabilities => ToolSpec {
                name,
                title: "Agent capabilities",
                description: "Every capability with the agents having it, each agent's capabilities, and each agent's category; optionally only one category, optionally including disabled agents.".into(),
                input: input::<agents::CapabilitiesArgs>(),
                output: output::<CapabilityIndex>(),
                depth: Depth::Full,
                annotations: read.clone(),
            },
            ToolName::Discuss => ToolSpec {
                name,
                title: "Run a discussion",
                // The names come from the contract, so the list cannot drift from
                // what `pattern` and `consensus.method` accept.
                description: format!(
                    "Put a topic to several AI providers in a pattern ({}) and reach a conclusion ({}). Long-running: send a progressToken to get one progress notification per finished provider call, and cancel the request to stop it and its provider processes. Every discussion is saved (discussion_get). A discussion that ran and failed answers isError with its whole result.",
                    Pattern::NAMES.join(", "),
                    ConsensusMethod::NAMES.join(", "),
                ),
                input: input::<DiscussionConfig>(),
                output: output::<DiscussionResult>(),
                depth: Depth::Undeclared,
                annotations: hints(false, false, false, true),
            },
            ToolName::DiscussQuick => ToolSpec {
                name,
                title: "Quick discussion",
                description: "One fast synthesis round on a topic with the given (or the available) providers; returns the conclusion and the discussion id.".into(),
                input: input::<discussions::QuickArgs>(),
                output: output::<QuickDiscussionResult>(),
                depth: Depth::Full,
                annotations: hints(false, false, false, true),
            },
            ToolName::DiscussionGet => ToolSpec {
                name,
                title: "Get a saved discussion",
                description: "The full saved result of one discussion (finished, failed or cancelled). Unknown id: DISCUSSION_NOT_FOUND.".into(),
                input: input::<discussions::GetArgs>(),
                output: output::<DiscussionResult>(),
                depth: Depth::Full,
                annotations: read.clone(),
            },
            ToolName::DiscussionList => ToolSpec {
                name,
                title: "List saved discussions",
                description: "Saved discussions, newest first, one page at a time (limit 1-100, default 20; pass nextCursor as cursor for the next page).".into(),
                input: input::<discussions::ListArgs>(),
                output: output::<DiscussionPage>(),
                depth: Depth::Full,
                annotations: read.clone(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_input_and_output_schemas() {
        let docs = tool_reference();
        assert_eq!(docs.len(), ToolName::ALL.len());
        for doc in &docs {
            assert_eq!(doc.input_schema["type"], "object", "{} input", doc.name);
            assert_eq!(doc.output_schema["type"], "object", "{} output", doc.name);
            assert!(
                doc.input_schema["properties"].is_object(),
                "{} declares its fields",
                doc.name
            );
        }
    }

    #[test]
    fn undeclared_fields_are_refused_by_every_input_schema() {
        for doc in tool_reference() {
            assert_eq!(
                doc.input_schema["additionalProperties"],
                Value::Bool(false),
                "{}",
                doc.name
            );
        }
    }

    #[test]
    fn listed_names_carry_the_prefix() {
        let tools = listed_tools("ax_");
        assert_eq!(tools[0].name, "ax_agent_list");
        assert!(tools.iter().all(|t| t.output_schema.is_some()));
        assert_eq!(listed_tools("")[7].name, "discuss");
    }
}
