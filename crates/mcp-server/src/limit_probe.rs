//! The published input schemas state the contract's real limits (INV-MCP-SCHEMA-001).
//!
//! `discuss` and `agent_register` are checked by the contract's own parsers
//! (`DiscussionConfig::from_json`, `AgentProfile::from_json`), not by the schema, so a
//! limit could be enforced but not published, or published wrongly. This probe walks
//! each published schema and asks the parser about every bounded scalar, string and
//! list at its edges: the bound itself must be accepted and one step past it refused,
//! and where the schema states no bound, an extreme value must be accepted. A limit
//! missing from, or different in, a schema fails here by field path.

use ax_contracts::agent::AgentProfile;
use ax_contracts::discussion::DiscussionConfig;
use ax_contracts::validation::ValidationErrors;
use serde_json::{Map, Value, json};

use crate::catalog::tool_reference;

/// A parser: the issue paths it reports for a document.
type Parser = fn(&Value) -> Vec<String>;

fn paths(result: Result<(), ValidationErrors>) -> Vec<String> {
    result
        .err()
        .map(|e| e.issues.into_iter().map(|i| i.path).collect())
        .unwrap_or_default()
}

fn discussion(doc: &Value) -> Vec<String> {
    paths(DiscussionConfig::from_json(doc).map(|_| ()))
}

fn profile(doc: &Value) -> Vec<String> {
    paths(AgentProfile::from_json(doc).map(|_| ()))
}

struct Probe<'a> {
    defs: &'a Map<String, Value>,
    base: Value,
    parse: Parser,
    /// One valid element for lists of objects, by field path.
    sample: fn(&str, usize) -> Option<Value>,
    failures: Vec<String>,
    /// Fields whose bounds could not be probed (e.g. lists of unknown objects).
    unprobed: Vec<String>,
    checked: usize,
}

impl Probe<'_> {
    /// `schema` with `$ref` followed and `Option`'s `anyOf: [X, null]` unwrapped.
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        let mut schema = schema;
        for _ in 0..8 {
            if let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                match self.defs.get(name) {
                    Some(def) => schema = def,
                    None => return schema,
                }
            } else if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
                let non_null: Vec<&Value> =
                    branches.iter().filter(|b| b["type"] != "null").collect();
                match non_null.as_slice() {
                    [only] => schema = only,
                    _ => return schema,
                }
            } else {
                return schema;
            }
        }
        schema
    }

    fn kind(schema: &Value) -> Option<&str> {
        match &schema["type"] {
            Value::String(t) => Some(t.as_str()),
            Value::Array(types) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        }
    }

    fn object(&mut self, schema: &Value, at: &[String]) {
        let schema = self.resolve(schema).clone();
        let Some(properties) = schema["properties"].as_object() else {
            return;
        };
        for (name, field) in properties {
            let mut path = at.to_vec();
            path.push(name.clone());
            self.field(field, &path);
        }
    }

    fn field(&mut self, schema: &Value, path: &[String]) {
        let schema = self.resolve(schema).clone();
        if schema.get("enum").is_some() || schema.get("const").is_some() {
            return;
        }
        match Self::kind(&schema) {
            Some("integer") => self.number(&schema, path, 1.0),
            Some("number") => self.number(&schema, path, 0.001),
            Some("string") if schema.get("pattern").is_none() => self.string(&schema, path),
            Some("array") => self.array(&schema, path),
            Some("object") => self.object(&schema, path),
            _ => {}
        }
    }

    fn dotted(path: &[String]) -> String {
        path.join(".")
    }

    /// The base document with `value` at `path`.
    fn with(&self, path: &[String], value: Value) -> Value {
        let mut doc = self.base.clone();
        let mut slot = &mut doc;
        for (i, key) in path.iter().enumerate() {
            let Some(obj) = slot.as_object_mut() else {
                break;
            };
            if i + 1 == path.len() {
                obj.insert(key.clone(), value);
                break;
            }
            slot = obj.entry(key.clone()).or_insert_with(|| json!({}));
        }
        doc
    }

    /// Whether the parser reports a problem at `path` (or inside it) for `value`.
    fn refused(&mut self, path: &[String], value: Value) -> bool {
        self.checked += 1;
        let at = Self::dotted(path);
        (self.parse)(&self.with(path, value)).iter().any(|p| {
            *p == at || p.starts_with(&format!("{at}[")) || p.starts_with(&format!("{at}."))
        })
    }

    fn expect(&mut self, path: &[String], value: Value, refused: bool, what: &str) {
        let shown = match &value {
            Value::String(s) if s.len() > 20 => format!("a string of {} chars", s.chars().count()),
            Value::Array(items) => format!("{} items", items.len()),
            other => other.to_string(),
        };
        if self.refused(path, value) != refused {
            self.failures.push(format!(
                "{}: {what} — the parser {} {shown}",
                Self::dotted(path),
                if refused { "accepts" } else { "refuses" }
            ));
        }
    }

    fn number(&mut self, schema: &Value, path: &[String], step: f64) {
        let integer = step >= 1.0;
        let value = |n: f64| if integer { json!(n as i64) } else { json!(n) };
        match schema["minimum"].as_f64() {
            Some(min) => {
                self.expect(path, value(min), false, "its schema minimum");
                self.expect(
                    path,
                    value(min - step),
                    true,
                    "one below its schema minimum",
                );
            }
            None => self.expect(path, value(-1e9), false, "no schema minimum"),
        }
        match schema["maximum"].as_f64() {
            Some(max) => {
                self.expect(path, value(max), false, "its schema maximum");
                self.expect(
                    path,
                    value(max + step),
                    true,
                    "one above its schema maximum",
                );
            }
            None => self.expect(path, value(1e12), false, "no schema maximum"),
        }
    }

    fn string(&mut self, schema: &Value, path: &[String]) {
        let text = |n: u64| Value::String("a".repeat(n as usize));
        match schema["minLength"].as_u64() {
            Some(min) if min > 0 => {
                self.expect(path, text(min), false, "its schema minLength");
                self.expect(path, text(min - 1), true, "one below its schema minLength");
            }
            _ => {}
        }
        match schema["maxLength"].as_u64() {
            Some(max) => {
                self.expect(path, text(max), false, "its schema maxLength");
                self.expect(path, text(max + 1), true, "one above its schema maxLength");
            }
            None => self.expect(path, text(200_000), false, "no schema maxLength"),
        }
    }

    fn array(&mut self, schema: &Value, path: &[String]) {
        let items = self.resolve(&schema["items"]).clone();
        let at = Self::dotted(path);
        let element: Box<dyn Fn(usize) -> Option<Value>> = match Self::kind(&items) {
            // Items of letters only fit every id pattern the contracts declare.
            Some("string") if items.get("enum").is_none() => {
                if let Some(max) = items["maxLength"].as_u64() {
                    // The items' own bounds, probed in a list as short as allowed.
                    let others = schema["minItems"].as_u64().unwrap_or(1).max(1) - 1;
                    let list = |first: String| -> Value {
                        std::iter::once(json!(first))
                            .chain((0..others).map(|i| json!(format!("b{i}"))))
                            .collect()
                    };
                    let longest = "a".repeat(max as usize);
                    self.expect(path, list(longest.clone()), false, "its items' maxLength");
                    self.expect(
                        path,
                        list(longest + "a"),
                        true,
                        "one above its items' maxLength",
                    );
                }
                Box::new(|i| Some(json!(format!("a{i}"))))
            }
            _ => {
                let sample = self.sample;
                let owned = at.clone();
                Box::new(move |i| sample(&owned, i))
            }
        };
        if element(0).is_none() {
            self.unprobed.push(at);
            return;
        }
        let list = |n: u64| -> Value { (0..n as usize).filter_map(&element).collect() };
        match schema["minItems"].as_u64() {
            Some(min) if min > 0 => {
                self.expect(path, list(min), false, "its schema minItems");
                self.expect(path, list(min - 1), true, "one below its schema minItems");
            }
            _ => {}
        }
        match schema["maxItems"].as_u64() {
            Some(max) => {
                self.expect(path, list(max), false, "its schema maxItems");
                self.expect(path, list(max + 1), true, "one above its schema maxItems");
            }
            None => self.expect(path, list(500), false, "no schema maxItems"),
        }
    }
}

fn probe(
    tool: &str,
    base: Value,
    parse: Parser,
    sample: fn(&str, usize) -> Option<Value>,
) -> (Vec<String>, Vec<String>, usize) {
    let docs = tool_reference();
    let schema = docs
        .iter()
        .find(|t| t.name == tool)
        .map(|t| t.input_schema.clone())
        .unwrap_or_else(|| panic!("{tool} is published"));
    let empty = Map::new();
    let defs = schema["$defs"].as_object().unwrap_or(&empty);
    assert!(
        parse(&base).is_empty(),
        "{tool}: the base document is valid: {:?}",
        parse(&base)
    );
    let mut probe = Probe {
        defs,
        base,
        parse,
        sample,
        failures: Vec::new(),
        unprobed: Vec::new(),
        checked: 0,
    };
    probe.object(&schema, &[]);
    (probe.failures, probe.unprobed, probe.checked)
}

/// INV-MCP-SCHEMA-001: `discuss`'s schema states every limit `DiscussionConfig`'s
/// parser enforces, with the same values.
#[test]
fn discuss_publishes_the_limits_its_parser_enforces() {
    fn sample(path: &str, i: usize) -> Option<Value> {
        (path == "participants").then(|| json!({"type": "provider", "id": format!("p{i}")}))
    }
    // Ten rounds, so that `roundEarlyExit.minRounds` may reach its own maximum.
    let (failures, unprobed, checked) = probe(
        "discuss",
        json!({"topic": "t", "rounds": 10}),
        discussion,
        sample,
    );
    assert!(
        failures.is_empty(),
        "schema and parser disagree:\n{}",
        failures.join("\n")
    );
    assert_eq!(unprobed, Vec::<String>::new());
    assert!(checked > 40, "only {checked} probes ran");
}

/// INV-MCP-SCHEMA-001: `agent_register`'s schema states every limit
/// `AgentProfile`'s parser enforces, with the same values.
#[test]
fn agent_register_publishes_the_limits_its_parser_enforces() {
    fn sample(_: &str, _: usize) -> Option<Value> {
        None
    }
    let (failures, unprobed, checked) = probe(
        "agent_register",
        json!({"agentId": "probe", "description": "d"}),
        profile,
        sample,
    );
    assert!(
        failures.is_empty(),
        "schema and parser disagree:\n{}",
        failures.join("\n")
    );
    // Lists of nested objects are checked by the contract's own fixture tests; a new
    // one must be added here (or given a sample) knowingly.
    assert_eq!(
        unprobed,
        [
            "selectionMetadata.redirectWhen",
            "workflow",
            "taskClassifier.rules",
            "capabilityMappings"
        ]
    );
    assert!(checked > 60, "only {checked} probes ran");
}
