//! `docs/MCP.md`'s tool reference is generated from the tools' own schemas and
//! checked here: a tool or a field added without the reference being regenerated
//! fails this test. Regenerate with
//! `AX_UPDATE_DOCS=1 cargo test --test e2e mcp_docs`.

use std::fmt::Write as _;
use std::path::Path;

use ax_mcp_server::tool_reference;
use serde_json::Value;

const BEGIN: &str =
    "<!-- tool-reference:begin (generated from the schemas; see tests/e2e/mcp_docs.rs) -->";
const END: &str = "<!-- tool-reference:end -->";

/// A schema's type, readably: `string`, `integer or null`, `array of string`,
/// `DiscussionRound`, `"a" | "b"`.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let consts: Option<Vec<String>> = branches
                .iter()
                .map(|b| b.get("const").map(Value::to_string))
                .collect();
            if let Some(consts) = consts {
                return consts.join(" \\| ");
            }
            return branches
                .iter()
                .map(type_of)
                .collect::<Vec<_>>()
                .join(" or ");
        }
    }
    let names: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => vec!["any".to_owned()],
    };
    names
        .into_iter()
        .map(|t| match t.as_str() {
            "array" => format!(
                "array of {}",
                schema.get("items").map_or("any".to_owned(), type_of)
            ),
            "object"
                if schema
                    .get("additionalProperties")
                    .is_some_and(Value::is_object) =>
            {
                format!("map of {}", type_of(&schema["additionalProperties"]))
            }
            _ => t,
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Limits stated by the schema, for the table.
fn limits(schema: &Value) -> String {
    let mut parts = Vec::new();
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    match (num("minimum"), num("maximum")) {
        (Some(a), Some(b)) => parts.push(format!("{a}–{b}")),
        (Some(a), None) if a > 0.0 => parts.push(format!("≥ {a}")),
        (None, Some(b)) => parts.push(format!("≤ {b}")),
        _ => {}
    }
    match (num("minLength"), num("maxLength")) {
        (Some(a), Some(b)) => parts.push(format!("{a}–{b} chars")),
        (None, Some(b)) => parts.push(format!("≤ {b} chars")),
        _ => {}
    }
    if let Some(b) = num("maxItems") {
        parts.push(format!("≤ {b} items"));
    }
    if let Some(default) = schema.get("default") {
        parts.push(format!("default `{default}`"));
    }
    parts.join(", ")
}

fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn fields_table(out: &mut String, schema: &Value) {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        out.push_str("(no fields)\n\n");
        return;
    };
    out.push_str("| field | type | required | limits | description |\n|---|---|---|---|---|\n");
    for (name, field) in properties {
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} | {} |",
            cell(&type_of(field)),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                ""
            },
            cell(&limits(field)),
            cell(
                field
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ),
        );
    }
    out.push('\n');
}

/// The generated reference section.
fn reference() -> String {
    let mut out = String::new();
    out.push_str(BEGIN);
    out.push('\n');
    for tool in tool_reference() {
        let _ = write!(
            out,
            "\n### `{}` — {}\n\n{}\n\n",
            tool.name, tool.title, tool.description
        );
        if tool.input_schema["additionalProperties"] == Value::Bool(false) {
            out.push_str("Input (fields not listed here are refused with `INVALID_INPUT`):\n\n");
        } else {
            out.push_str("Input:\n\n");
        }
        fields_table(&mut out, &tool.input_schema);
        // The output schema is `anyOf: [success, error envelope]`; the envelope is
        // documented once, under "Errors".
        out.push_str("Output (`structuredContent`, also as JSON text; or the error envelope):\n\n");
        fields_table(&mut out, &tool.output_schema["anyOf"][0]);
    }
    out.push_str(END);
    out
}

#[test]
fn the_tool_reference_in_docs_matches_the_schemas() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/MCP.md");
    let doc = std::fs::read_to_string(&path).expect("docs/MCP.md exists");
    let (Some(start), Some(end)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/MCP.md lacks the generated tool reference markers");
    };
    let current = &doc[start..end + END.len()];
    let expected = reference();
    if current == expected {
        return;
    }
    if std::env::var_os("AX_UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &doc[..start], expected, &doc[end + END.len()..]);
        std::fs::write(&path, updated).expect("write docs/MCP.md");
        return;
    }
    let first_difference = current
        .lines()
        .zip(expected.lines())
        .find(|(a, b)| a != b)
        .map(|(a, b)| format!("docs:   {a}\nschema: {b}"))
        .unwrap_or_else(|| "one is a prefix of the other".to_owned());
    panic!(
        "docs/MCP.md's tool reference is out of date with the tool schemas; regenerate it with \
         `AX_UPDATE_DOCS=1 cargo test --test e2e mcp_docs`.\nFirst difference:\n{first_difference}"
    );
}

#[test]
fn every_tool_and_input_field_is_named_in_the_reference() {
    // Independent of the generator: each tool has its heading and each top-level
    // input field its row, so a hand edit cannot drop one either.
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/MCP.md"))
        .expect("docs/MCP.md exists");
    for tool in tool_reference() {
        let heading = format!("### `{}`", tool.name);
        let section_start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/MCP.md has no section for {}", tool.name));
        let section = &doc[section_start..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        for field in tool.input_schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
        {
            assert!(
                section.contains(&format!("| `{field}` |")),
                "docs/MCP.md does not document {}.{field}",
                tool.name
            );
        }
    }
}
