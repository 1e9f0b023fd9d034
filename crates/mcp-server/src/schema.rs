//! The JSON Schemas a tool publishes, generated from the contract types.
//!
//! Two rules beyond what `schemars` emits, both for real hosts:
//!
//! - **Standard keywords only.** `schemars` marks integers with `format: "uint32"`,
//!   `"uint64"`, `"double"`…, which no JSON Schema draft defines. The official
//!   TypeScript SDK (VS Code, Gemini CLI, the Inspector) logs one
//!   `unknown format "uint32" ignored` warning per occurrence on every `tools/list`;
//!   ranges are already stated with `minimum`/`maximum`, so the formats go.
//! - **Errors validate too (INV-MCP-ERR-001).** That SDK validates `structuredContent`
//!   against `outputSchema` even when `isError` is set, and throws
//!   (`Structured content does not match the tool's output schema`) instead of
//!   handing the error to the model. So every output schema is
//!   `anyOf: [the success shape, the {"error": {code, message, details?}} envelope]`,
//!   and an error result keeps its structured envelope, which every host then shows.

use std::sync::Arc;

use ax_contracts::error::ErrorEnvelope;
use rmcp::model::JsonObject;
use schemars::generate::SchemaSettings;
use schemars::transform::{RestrictFormats, Transform};
use schemars::{JsonSchema, Schema};
use serde_json::Value;

/// Keys of a root schema that describe the Rust type, not the wire (noise to a model).
const TYPE_NOISE: [&str; 2] = ["title", "description"];

/// The schema of what `T` accepts, as a tool's `inputSchema`: the schema the
/// contracts' parser walks (`ax_contracts::schema::input_schema`), so what a client
/// reads and what its call meets are one declaration.
pub(crate) fn input<T: JsonSchema>() -> Arc<JsonObject> {
    Arc::new(ax_contracts::schema::input_schema::<T>())
}

/// The schema of what `T` serialises to, or the error envelope, as a tool's
/// `outputSchema` (INV-MCP-ERR-001): `{type: object, anyOf: [success, error], $defs}`.
pub(crate) fn output<T: JsonSchema>() -> Arc<JsonObject> {
    let mut generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let success = generator.root_schema_for::<T>();
    let error = generator.subschema_for::<ErrorEnvelope>();
    let definitions = generator.take_definitions(true);

    let mut success = success.to_value();
    let meta_schema = success
        .as_object_mut()
        .and_then(|o| o.remove("$schema"))
        .unwrap_or_else(|| Value::String("https://json-schema.org/draft/2020-12/schema".into()));
    if let Some(object) = success.as_object_mut() {
        object.remove("$defs");
        for key in TYPE_NOISE {
            object.remove(key);
        }
    }

    let mut root = JsonObject::new();
    root.insert("$schema".into(), meta_schema);
    root.insert("type".into(), Value::String("object".into()));
    root.insert(
        "anyOf".into(),
        Value::Array(vec![success, error.to_value()]),
    );
    if !definitions.is_empty() {
        root.insert("$defs".into(), Value::Object(definitions));
    }
    let schema = Schema::try_from(Value::Object(root)).unwrap_or_default();
    Arc::new(standard(schema))
}

/// `schema` without non-standard `format` values, as a JSON object.
fn standard(mut schema: Schema) -> JsonObject {
    RestrictFormats::default().transform(&mut schema);
    match schema.to_value() {
        Value::Object(object) => object,
        // `into_root_schema_for` always yields an object; a `true`/`false` schema
        // would mean "anything"/"nothing", which no tool of ours publishes.
        _ => JsonObject::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ax_contracts::agent::AgentRecord;
    use ax_contracts::discussion::{DiscussionConfig, DiscussionResult};

    fn formats(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(f)) = map.get("format") {
                    found.push(f.clone());
                }
                map.values().for_each(|v| formats(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| formats(v, found)),
            _ => {}
        }
    }

    #[test]
    fn no_published_schema_uses_a_non_standard_format() {
        for schema in [
            Value::Object(input::<DiscussionConfig>().as_ref().clone()),
            Value::Object(output::<DiscussionResult>().as_ref().clone()),
            Value::Object(output::<AgentRecord>().as_ref().clone()),
        ] {
            let mut found = Vec::new();
            formats(&schema, &mut found);
            assert!(
                found.iter().all(|f| f == "date-time" || f == "uuid"),
                "non-standard formats: {found:?}"
            );
        }
    }

    #[test]
    fn an_output_schema_is_the_success_shape_or_the_error_envelope() {
        let schema = output::<AgentRecord>();
        assert_eq!(schema["type"], "object");
        let branches = schema["anyOf"].as_array().expect("anyOf");
        assert_eq!(branches.len(), 2);
        assert!(branches[0]["properties"]["agentId"].is_object());
        assert_eq!(branches[1]["$ref"], "#/$defs/ErrorEnvelope");
        let defs = schema["$defs"].as_object().expect("$defs");
        assert!(defs["ErrorEnvelope"]["properties"]["error"].is_object());
        assert!(defs.contains_key("ErrorCode"));
    }
}
