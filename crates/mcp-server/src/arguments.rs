//! Checking tool arguments against the tool's own `inputSchema`, reporting every
//! problem with its JSON path.
//!
//! Why drive the check from the schema: the schema a client reads in `tools/list` and
//! the check it meets on `tools/call` can then not drift apart — a field the schema
//! does not declare is rejected by name (the reference server silently dropped half
//! of its discuss options), and a field it declares is never refused as unknown.
//!
//! Two depths: [`Depth::Full`] checks types, required fields, ranges, lengths and
//! enums (for the small argument objects of this crate); [`Depth::Undeclared`] only
//! finds undeclared fields, for arguments whose full rules live in a contract
//! (`AgentProfile::from_json`, `DiscussionConfig::from_json`), so that those rules are
//! not restated here.
//!
//! The supported JSON Schema subset is what `schemars` emits for our types: `type`,
//! `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`,
//! `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`, `$ref` into
//! `$defs`, `anyOf`/`oneOf`/`allOf`.

use ax_contracts::validation::{Issue, JsonPath, ValidationErrors, rule, type_name};
use serde_json::{Map, Value};

/// How much to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Every rule the schema states.
    Full,
    /// Only fields the schema does not declare.
    Undeclared,
}

/// Deepest schema nesting followed; a guard against a recursive `$ref`.
const MAX_DEPTH: usize = 64;

/// Check `args` against `schema`; every issue, in document order.
pub(crate) fn check(
    args: &Value,
    schema: &Map<String, Value>,
    depth: Depth,
) -> Result<(), ValidationErrors> {
    let mut walker = Walker {
        root: schema,
        depth,
        issues: Vec::new(),
    };
    walker.walk(args, schema, &JsonPath::root(), 0);
    if walker.issues.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors {
            issues: walker.issues,
        })
    }
}

struct Walker<'s> {
    root: &'s Map<String, Value>,
    depth: Depth,
    issues: Vec<Issue>,
}

impl<'s> Walker<'s> {
    fn report(&mut self, path: &JsonPath, rule: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.as_str().to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        });
    }

    /// Follow `$ref`s (`#/$defs/Name`, `#/definitions/Name`) to the schema object.
    fn resolve(&self, schema: &'s Value, level: usize) -> Option<&'s Map<String, Value>> {
        self.resolve_map(schema.as_object()?, level)
    }

    /// `schema` itself when it has no `$ref`, else the schema it refers to.
    fn resolve_map(
        &self,
        schema: &'s Map<String, Value>,
        level: usize,
    ) -> Option<&'s Map<String, Value>> {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            return Some(schema);
        };
        if level > MAX_DEPTH {
            return None;
        }
        let (section, name) = reference
            .strip_prefix("#/$defs/")
            .map(|n| ("$defs", n))
            .or_else(|| {
                reference
                    .strip_prefix("#/definitions/")
                    .map(|n| ("definitions", n))
            })?;
        let target = self.root.get(section)?.get(name)?;
        self.resolve(target, level + 1)
    }

    fn walk(
        &mut self,
        value: &Value,
        schema: &'s Map<String, Value>,
        path: &JsonPath,
        level: usize,
    ) {
        if level > MAX_DEPTH {
            return;
        }
        let Some(schema) = self.resolve_map(schema, level) else {
            return;
        };
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for branch in all {
                if let Some(branch) = self.resolve(branch, level) {
                    self.walk(value, branch, path, level + 1);
                }
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                self.walk_alternatives(value, branches, path, level);
            }
        }
        if self.depth == Depth::Full {
            if let Some(expected) = schema.get("type")
                && !type_admits(expected, value)
            {
                self.report(
                    path,
                    rule::TYPE,
                    format!(
                        "must be {} (got {})",
                        describe_types(expected),
                        type_name(value)
                    ),
                );
                return;
            }
            self.check_scalar_rules(value, schema, path);
        }
        match value {
            Value::Object(fields) => self.walk_object(fields, schema, path, level),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items").and_then(|s| self.resolve(s, level))
                {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item, item_schema, &path.index(i), level + 1);
                    }
                }
            }
            _ => {}
        }
    }

    fn walk_object(
        &mut self,
        fields: &Map<String, Value>,
        schema: &'s Map<String, Value>,
        path: &JsonPath,
        level: usize,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        if self.depth == Depth::Full
            && let Some(required) = schema.get("required").and_then(Value::as_array)
        {
            for name in required.iter().filter_map(Value::as_str) {
                if fields.get(name).is_none_or(Value::is_null) {
                    self.report(
                        &path.key(name),
                        rule::REQUIRED,
                        format!("`{name}` is required"),
                    );
                }
            }
        }
        let additional = schema.get("additionalProperties");
        for (key, field) in fields {
            let declared = properties.and_then(|p| p.get(key));
            match (declared, additional) {
                (Some(field_schema), _) => {
                    if let Some(field_schema) = self.resolve(field_schema, level) {
                        self.walk(field, field_schema, &path.key(key), level + 1);
                    }
                }
                (None, Some(Value::Bool(false))) => {
                    self.report(
                        &path.key(key),
                        rule::UNKNOWN_FIELD,
                        format!("unknown field `{key}`: the schema does not declare it"),
                    );
                }
                (None, Some(extra @ Value::Object(_))) => {
                    if let Some(extra) = self.resolve(extra, level) {
                        self.walk(field, extra, &path.key(key), level + 1);
                    }
                }
                (None, _) => {}
            }
        }
    }

    /// A value must match one of `branches`: pick the branch it fits (or, failing
    /// that, the one of its JSON type) and report against it.
    fn walk_alternatives(
        &mut self,
        value: &Value,
        branches: &'s [Value],
        path: &JsonPath,
        level: usize,
    ) {
        let resolved: Vec<&'s Map<String, Value>> = branches
            .iter()
            .filter_map(|b| self.resolve(b, level))
            .collect();
        if resolved.is_empty() {
            return;
        }
        // Only branches of the value's JSON type can fit it.
        let candidates: Vec<&'s Map<String, Value>> = resolved
            .iter()
            .copied()
            .filter(|b| b.get("type").is_none_or(|t| type_admits(t, value)))
            .collect();
        if candidates.is_empty() {
            if self.depth == Depth::Full {
                let types: Vec<String> = resolved
                    .iter()
                    .filter_map(|b| b.get("type"))
                    .map(describe_types)
                    .collect();
                self.report(
                    path,
                    rule::TYPE,
                    format!("must be {} (got {})", types.join(" or "), type_name(value)),
                );
            }
            return;
        }
        // The first branch the value satisfies completely wins.
        for branch in &candidates {
            let mut probe = Walker {
                root: self.root,
                depth: self.depth,
                issues: Vec::new(),
            };
            probe.walk(value, branch, path, level + 1);
            if probe.issues.is_empty() {
                return;
            }
        }
        if self.depth == Depth::Full {
            let constants: Option<Vec<&str>> = candidates
                .iter()
                .map(|b| b.get("const").and_then(Value::as_str))
                .collect();
            if let Some(constants) = constants {
                self.report(
                    path,
                    rule::ENUM,
                    format!("must be one of {} (got {value})", constants.join(", ")),
                );
                return;
            }
        }
        self.walk(value, candidates[0], path, level + 1);
    }

    fn check_scalar_rules(&mut self, value: &Value, schema: &Map<String, Value>, path: &JsonPath) {
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            let names: Vec<String> = allowed.iter().map(Value::to_string).collect();
            self.report(
                path,
                rule::ENUM,
                format!("must be one of {} (got {value})", names.join(", ")),
            );
        }
        if let Some(constant) = schema.get("const")
            && constant != value
        {
            self.report(
                path,
                rule::ENUM,
                format!("must be {constant} (got {value})"),
            );
        }
        let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
        let count = |key: &str| schema.get(key).and_then(Value::as_u64);
        match value {
            Value::String(s) => {
                let len = s.chars().count() as u64;
                if let Some(min) = count("minLength")
                    && len < min
                {
                    let message = if min == 1 {
                        "must not be empty".to_owned()
                    } else {
                        format!("must be at least {min} characters (got {len})")
                    };
                    self.report(path, rule::MIN_LENGTH, message);
                }
                if let Some(max) = count("maxLength")
                    && len > max
                {
                    self.report(
                        path,
                        rule::MAX_LENGTH,
                        format!("must be at most {max} characters (got {len})"),
                    );
                }
            }
            Value::Array(items) => {
                let len = items.len() as u64;
                if let Some(min) = count("minItems")
                    && len < min
                {
                    self.report(
                        path,
                        rule::MIN_ITEMS,
                        format!("must have at least {min} items (got {len})"),
                    );
                }
                if let Some(max) = count("maxItems")
                    && len > max
                {
                    self.report(
                        path,
                        rule::MAX_ITEMS,
                        format!("must have at most {max} items (got {len})"),
                    );
                }
            }
            Value::Number(n) => {
                let Some(x) = n.as_f64() else { return };
                let low = bound("minimum");
                let high = bound("maximum");
                let outside = low.is_some_and(|m| x < m)
                    || high.is_some_and(|m| x > m)
                    || bound("exclusiveMinimum").is_some_and(|m| x <= m)
                    || bound("exclusiveMaximum").is_some_and(|m| x >= m);
                if outside {
                    let message = match (low, high) {
                        (Some(l), Some(h)) => format!("must be between {l} and {h} (got {n})"),
                        (Some(l), None) => format!("must be at least {l} (got {n})"),
                        (None, Some(h)) => format!("must be at most {h} (got {n})"),
                        (None, None) => format!("is out of range (got {n})"),
                    };
                    self.report(path, rule::RANGE, message);
                }
            }
            _ => {}
        }
    }
}

/// Whether the schema's `type` (a name or a list of names) admits `value`.
fn type_admits(expected: &Value, value: &Value) -> bool {
    let admits = |name: &str| match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        // Why not "any number with no fraction": serde reads 1.0 as a float and
        // refuses it for an integer field, so the check says so up front.
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    };
    match expected {
        Value::String(name) => admits(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(admits),
        _ => true,
    }
}

/// `a string`, `an integer or null`, ...
fn describe_types(expected: &Value) -> String {
    let article = |name: &str| match name {
        "integer" | "object" | "array" => format!("an {name}"),
        "null" => "null".to_owned(),
        other => format!("a {other}"),
    };
    match expected {
        Value::String(name) => article(name),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .map(article)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(value: Value) -> Map<String, Value> {
        value.as_object().expect("object").clone()
    }

    fn paths(result: Result<(), ValidationErrors>) -> Vec<(String, String)> {
        result
            .err()
            .map(|e| e.issues.into_iter().map(|i| (i.path, i.rule)).collect())
            .unwrap_or_default()
    }

    fn list_schema() -> Map<String, Value> {
        schema(json!({
            "type": "object",
            "properties": {
                "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
                "tags": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 3}},
                "agentId": {"type": "string", "minLength": 1},
                "nested": {"$ref": "#/$defs/Nested"}
            },
            "required": ["agentId"],
            "additionalProperties": false,
            "$defs": {
                "Nested": {"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": false}
            }
        }))
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let issues = paths(check(
            &json!({"limit": 0, "tags": ["ok", "toolong", 3], "bogus": 1, "nested": {"a": "x", "b": 1}}),
            &list_schema(),
            Depth::Full,
        ));
        assert_eq!(
            issues,
            [
                ("agentId", "required"),
                ("limit", "range"),
                ("tags[1]", "max_length"),
                ("tags[2]", "type"),
                ("bogus", "unknown_field"),
                ("nested.a", "type"),
                ("nested.b", "unknown_field"),
            ]
            .map(|(p, r)| (p.to_owned(), r.to_owned()))
        );
    }

    #[test]
    fn valid_arguments_pass_and_null_means_absent() {
        assert!(
            check(
                &json!({"agentId": "x", "limit": null}),
                &list_schema(),
                Depth::Full
            )
            .is_ok()
        );
        assert!(
            check(
                &json!({"agentId": "x", "limit": 100, "tags": []}),
                &list_schema(),
                Depth::Full
            )
            .is_ok()
        );
    }

    #[test]
    fn a_float_is_not_an_integer_and_a_non_object_is_refused() {
        assert_eq!(
            paths(check(
                &json!({"agentId": "x", "limit": 2.5}),
                &list_schema(),
                Depth::Full
            )),
            [("limit".to_owned(), "type".to_owned())]
        );
        assert_eq!(
            paths(check(&json!([1]), &list_schema(), Depth::Full)),
            [("$".to_owned(), "type".to_owned())]
        );
    }

    #[test]
    fn undeclared_depth_finds_only_unknown_fields_through_refs_and_options() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "topic": {"type": "string"},
                "consensus": {"anyOf": [{"$ref": "#/$defs/C"}, {"type": "null"}]},
                "participants": {"type": "array", "items": {"$ref": "#/$defs/P"}}
            },
            "additionalProperties": false,
            "$defs": {
                "C": {"type": "object", "properties": {"method": {"type": "string"}}, "additionalProperties": false},
                "P": {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": false}
            }
        }));
        let issues = paths(check(
            &json!({"topic": 5, "consensus": {"method": "x", "quorum": 2}, "participants": [{"id": "a", "weight": 1}], "extra": true}),
            &s,
            Depth::Undeclared,
        ));
        assert_eq!(
            issues,
            [
                ("consensus.quorum", "unknown_field"),
                ("participants[0].weight", "unknown_field"),
                ("extra", "unknown_field")
            ]
            .map(|(p, r)| (p.to_owned(), r.to_owned()))
        );
    }

    #[test]
    fn one_of_constants_reads_as_an_enum() {
        let s = schema(json!({
            "type": "object",
            "properties": {"category": {"oneOf": [{"type": "string", "const": "a"}, {"type": "string", "const": "b"}]}},
            "additionalProperties": false
        }));
        assert_eq!(
            paths(check(&json!({"category": "c"}), &s, Depth::Full)),
            [("category".to_owned(), "enum".to_owned())]
        );
        assert!(check(&json!({"category": "b"}), &s, Depth::Full).is_ok());
    }

    #[test]
    fn a_recursive_reference_terminates() {
        let s = schema(json!({
            "$ref": "#/$defs/Loop",
            "$defs": {"Loop": {"$ref": "#/$defs/Loop"}}
        }));
        assert!(check(&json!({"a": 1}), &s, Depth::Full).is_ok());
    }
}
