//! The tool catalog: each tool's title, description, input schema, output schema and
//! hints, built once on first use (not at start-up, so `initialize` is answered
//! before any schema is generated).
//!
//! What is built comes from each tool's own file (`tools/`, listed in `tools::ALL`):
//! schemas from its argument and result types (the contracts' `AgentProfile`,
//! `DiscussionConfig`, `DiscussionResult`... or this crate's argument types). The
//! same schema objects are what `arguments` checks calls against. How they are generated (standard keywords only,
//! outputs that also admit the error envelope) is `schema`'s job.

use std::sync::{Arc, OnceLock};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::Value;

use crate::tools::{self, ToolDef};

/// One tool as published: its definition with the schemas and description built.
pub(crate) struct ToolSpec {
    pub def: &'static ToolDef,
    /// Built once, with the contract's own names where it lists them.
    pub description: String,
    pub input: Arc<JsonObject>,
    pub output: Arc<JsonObject>,
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
            name: spec.def.name,
            title: spec.def.title,
            description: &spec.description,
            input_schema: Value::Object(spec.input.as_ref().clone()),
            output_schema: Value::Object(spec.output.as_ref().clone()),
        })
        .collect()
}

/// The spec of the tool at `position` in [`tools::ALL`] (from [`tools::position`]).
pub(crate) fn spec(position: usize) -> Option<&'static ToolSpec> {
    catalog().get(position)
}

/// The tools as `tools/list` shows them, with `prefix` on every name.
pub(crate) fn listed_tools(prefix: &str) -> Vec<Tool> {
    catalog()
        .iter()
        .map(|spec| {
            let title = spec.def.title;
            let mut tool = Tool::new(
                format!("{prefix}{}", spec.def.name),
                spec.description.clone(),
                spec.input.clone(),
            )
            .with_title(title)
            .with_raw_output_schema(spec.output.clone())
            .with_annotations(spec.annotations.clone());
            tool.annotations.get_or_insert_default().title = Some(title.to_owned());
            tool
        })
        .collect()
}

fn catalog() -> &'static [ToolSpec] {
    static CATALOG: OnceLock<Vec<ToolSpec>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        tools::ALL
            .iter()
            .map(|def| ToolSpec {
                def,
                description: (def.description)(),
                input: (def.input)(),
                output: (def.output)(),
                annotations: def.hints.annotations(),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_input_and_output_schemas() {
        let docs = tool_reference();
        assert_eq!(docs.len(), tools::ALL.len());
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
        let bare = listed_tools("");
        assert_eq!(bare.len(), tools::ALL.len());
        for (tool, def) in bare.iter().zip(tools::ALL) {
            assert_eq!(tool.name, def.name);
        }
    }
}
