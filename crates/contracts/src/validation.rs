//! The validation vocabulary shared by every contract: a JSON path, one broken rule
//! ([`Issue`]), all broken rules of one input ([`ValidationErrors`]), and [`Checker`],
//! which walks a `serde_json::Value` and collects issues instead of stopping at the
//! first one.
//!
//! Why validate the JSON value rather than rely on `serde` errors: serde stops at the
//! first problem and reports it without a usable path, while users (and MCP clients)
//! need every broken rule at once, each with the path of the field
//! (`workflow[2].dependencies[0]`) and the rule it broke.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON path such as `workflow[2].dependencies[0]`; the empty path is the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JsonPath(String);

impl JsonPath {
    /// The document itself.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// The member `key` of the object at this path.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            Self(key.to_owned())
        } else {
            Self(format!("{}.{key}", self.0))
        }
    }

    /// The element `index` of the array at this path.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The path as text; the document itself reads `$`.
    pub fn as_str(&self) -> &str {
        if self.0.is_empty() { "$" } else { &self.0 }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule: where, which rule, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Issue {
    /// JSON path of the offending value, e.g. `workflow[2].dependencies[0]` (`$` = the whole input).
    pub path: String,
    /// Machine-readable rule name, e.g. `max_length`, `required`, `cycle`.
    pub rule: String,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every broken rule of one input, never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ValidationErrors {
    /// The issues, in the order the input was walked.
    pub issues: Vec<Issue>,
}

impl ValidationErrors {
    /// A single issue as a complete error.
    pub fn single(path: &JsonPath, rule: &str, message: impl Into<String>) -> Self {
        Self {
            issues: vec![Issue {
                path: path.as_str().to_owned(),
                rule: rule.to_owned(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems: ", many.len())?;
                for (i, issue) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{issue}")?;
                }
                Ok(())
            }
        }
    }
}

/// Rule names used in [`Issue::rule`]. They are part of the machine-readable contract.
pub mod rule {
    /// A required field is missing.
    pub const REQUIRED: &str = "required";
    /// The value has the wrong JSON type.
    pub const TYPE: &str = "type";
    /// A string is shorter than allowed.
    pub const MIN_LENGTH: &str = "min_length";
    /// A string is longer than allowed.
    pub const MAX_LENGTH: &str = "max_length";
    /// A list has fewer items than allowed.
    pub const MIN_ITEMS: &str = "min_items";
    /// A list has more items than allowed.
    pub const MAX_ITEMS: &str = "max_items";
    /// A string does not match the required pattern.
    pub const PATTERN: &str = "pattern";
    /// A number is outside its range.
    pub const RANGE: &str = "range";
    /// A value is not one of the allowed values.
    pub const ENUM: &str = "enum";
    /// A field name is not part of the contract.
    pub const UNKNOWN_FIELD: &str = "unknown_field";
    /// A value must be unique but is repeated.
    pub const UNIQUE: &str = "unique";
    /// A reference names something that does not exist.
    pub const REFERENCE: &str = "reference";
    /// A dependency graph has a cycle.
    pub const CYCLE: &str = "cycle";
    /// A regular expression does not compile.
    pub const REGEX: &str = "regex";
    /// A rule that ties several fields together.
    pub const CROSS_FIELD: &str = "cross_field";
    /// A string is not in the required format (e.g. an RFC 3339 timestamp).
    pub const FORMAT: &str = "format";
    /// An input file could not be read or parsed (not JSON/YAML, not UTF-8, too large
    /// or nested too deeply, unreadable).
    pub const UNREADABLE: &str = "unreadable";
}

/// The JSON type name used in messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Walks a JSON value and collects every broken rule.
///
/// The typed helpers return the value when it is usable so that callers can go on
/// checking deeper rules, and record an issue (returning `None`) when it is not.
/// `null` is treated like an absent optional field, as the reference tool did.
#[derive(Debug, Default)]
pub struct Checker {
    issues: Vec<Issue>,
}

impl Checker {
    /// A checker with no issues.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record one broken rule.
    pub fn report(&mut self, path: &JsonPath, rule: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.as_str().to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        });
    }

    /// True when nothing has been reported.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }

    /// `Ok` when nothing was reported, otherwise every issue.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                issues: self.issues,
            })
        }
    }

    /// Report every key of `obj` that is not in `allowed`, by name.
    pub fn unknown_fields(&mut self, obj: &Map<String, Value>, allowed: &[&str], path: &JsonPath) {
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.report(
                    &path.key(key),
                    rule::UNKNOWN_FIELD,
                    format!("unknown field `{key}`"),
                );
            }
        }
    }

    /// The value as an object, or an issue.
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &JsonPath,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            other => {
                self.type_mismatch(path, "object", other);
                None
            }
        }
    }

    /// `obj[key]`, reporting `required` when it is absent or null.
    pub fn required<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &JsonPath,
    ) -> Option<&'v Value> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                self.report(
                    &path.key(key),
                    rule::REQUIRED,
                    format!("`{key}` is required"),
                );
                None
            }
            Some(value) => Some(value),
        }
    }

    /// A string of `min..=max` characters (Unicode scalar values).
    pub fn string<'v>(
        &mut self,
        value: &'v Value,
        path: &JsonPath,
        min: usize,
        max: usize,
    ) -> Option<&'v str> {
        let Value::String(s) = value else {
            self.type_mismatch(path, "string", value);
            return None;
        };
        let len = s.chars().count();
        if len < min {
            if min == 1 {
                self.report(path, rule::MIN_LENGTH, "must not be empty");
            } else {
                self.report(
                    path,
                    rule::MIN_LENGTH,
                    format!("must be at least {min} characters (got {len})"),
                );
            }
            return None;
        }
        if len > max {
            self.report(
                path,
                rule::MAX_LENGTH,
                format!("must be at most {max} characters (got {len})"),
            );
            return None;
        }
        Some(s)
    }

    /// A string that is one of `allowed`.
    pub fn one_of<'v>(
        &mut self,
        value: &'v Value,
        path: &JsonPath,
        allowed: &[&str],
    ) -> Option<&'v str> {
        let Value::String(s) = value else {
            self.type_mismatch(path, "string", value);
            return None;
        };
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.report(
                path,
                rule::ENUM,
                format!("must be one of {} (got \"{s}\")", allowed.join(", ")),
            );
            None
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, value: &Value, path: &JsonPath) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            other => {
                self.type_mismatch(path, "boolean", other);
                None
            }
        }
    }

    /// A number within `min..=max`.
    pub fn number(&mut self, value: &Value, path: &JsonPath, min: f64, max: f64) -> Option<f64> {
        let Some(n) = value.as_f64() else {
            self.type_mismatch(path, "number", value);
            return None;
        };
        if n < min || n > max {
            self.report(
                path,
                rule::RANGE,
                format!("must be between {min} and {max} (got {n})"),
            );
            return None;
        }
        Some(n)
    }

    /// A whole number within `min..=max`.
    pub fn integer(&mut self, value: &Value, path: &JsonPath, min: i64, max: i64) -> Option<i64> {
        let as_int = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        });
        let Some(n) = as_int else {
            match value {
                Value::Number(_) => self.report(
                    path,
                    rule::TYPE,
                    format!("must be a whole number (got {value})"),
                ),
                other => self.type_mismatch(path, "integer", other),
            }
            return None;
        };
        if n < min || n > max {
            self.report(
                path,
                rule::RANGE,
                format!("must be between {min} and {max} (got {n})"),
            );
            return None;
        }
        Some(n)
    }

    /// An array of at most `max_items` items (and at least `min_items`).
    pub fn array<'v>(
        &mut self,
        value: &'v Value,
        path: &JsonPath,
        min_items: usize,
        max_items: usize,
    ) -> Option<&'v [Value]> {
        let Value::Array(items) = value else {
            self.type_mismatch(path, "array", value);
            return None;
        };
        if items.len() > max_items {
            self.report(
                path,
                rule::MAX_ITEMS,
                format!("must have at most {max_items} items (got {})", items.len()),
            );
            return None;
        }
        if items.len() < min_items {
            self.report(
                path,
                rule::MIN_ITEMS,
                format!("must have at least {min_items} items (got {})", items.len()),
            );
            return None;
        }
        Some(items)
    }

    /// A list of at most `max_items` strings, each of 1..=`max_len` characters.
    /// Returns the strings that passed (all of them when the list is clean).
    pub fn string_list<'v>(
        &mut self,
        value: &'v Value,
        path: &JsonPath,
        max_len: usize,
        max_items: usize,
    ) -> Option<Vec<&'v str>> {
        let items = self.array(value, path, 0, max_items)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &path.index(i), 1, max_len) {
                out.push(s);
            }
        }
        Some(out)
    }

    /// A list of at most `max_items` strings, each of `min_len..=max_len` characters.
    ///
    /// Unlike [`Checker::string_list`] the item length has an explicit lower bound:
    /// contracts inherited from the reference tool only cap item length, so `0` keeps
    /// files it accepted loadable. Returns the strings that passed.
    pub fn bounded_string_list<'v>(
        &mut self,
        value: &'v Value,
        path: &JsonPath,
        min_len: usize,
        max_len: usize,
        max_items: usize,
    ) -> Option<Vec<&'v str>> {
        let items = self.array(value, path, 0, max_items)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &path.index(i), min_len, max_len) {
                out.push(s);
            }
        }
        Some(out)
    }

    /// An RFC 3339 timestamp such as `2025-01-31T09:30:00Z` or
    /// `2025-01-31T09:30:00.123+02:00` (a space may replace the `T`, as RFC 3339
    /// allows). Calendar ranges are checked, so `2025-02-30T00:00:00Z` is refused.
    pub fn rfc3339<'v>(&mut self, value: &'v Value, path: &JsonPath) -> Option<&'v str> {
        let Value::String(s) = value else {
            self.type_mismatch(path, "string", value);
            return None;
        };
        if is_rfc3339(s) {
            Some(s)
        } else {
            self.report(
                path,
                rule::FORMAT,
                format!("must be an RFC 3339 timestamp such as 2025-01-31T09:30:00Z (got \"{s}\")"),
            );
            None
        }
    }

    /// Report a wrong JSON type.
    pub fn type_mismatch(&mut self, path: &JsonPath, expected: &str, got: &Value) {
        self.report(
            path,
            rule::TYPE,
            format!(
                "must be {} {expected} (got {})",
                article(expected),
                type_name(got)
            ),
        );
    }
}

/// True when `s` is an RFC 3339 `date-time` (section 5.6), with calendar ranges
/// checked (days per month, leap years; second 60 is allowed for leap seconds).
///
/// chrono's RFC 3339 parser does exactly this: `T`, `t` or a space between date and
/// time, at least one digit after a `.`, `Z`/`z` or a `±HH:MM` offset below 24 h,
/// ASCII digits only, nothing after the offset.
pub fn is_rfc3339(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn article(word: &str) -> &'static str {
    match word.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_like_javascript_accessors() {
        let p = JsonPath::root()
            .key("workflow")
            .index(2)
            .key("dependencies")
            .index(0);
        assert_eq!(p.as_str(), "workflow[2].dependencies[0]");
        assert_eq!(JsonPath::root().as_str(), "$");
    }

    #[test]
    fn checker_collects_every_issue() {
        let mut c = Checker::new();
        let doc = json!({"a": 5, "b": "x".repeat(11), "c": [1, "ok", ""]});
        let obj = c.object(&doc, &JsonPath::root()).expect("object");
        c.string(&obj["a"], &JsonPath::root().key("a"), 1, 10);
        c.string(&obj["b"], &JsonPath::root().key("b"), 1, 10);
        c.string_list(&obj["c"], &JsonPath::root().key("c"), 10, 5);
        c.required(obj, "d", &JsonPath::root());
        let err = c.finish().expect_err("four problems");
        let got: Vec<(&str, &str)> = err
            .issues
            .iter()
            .map(|i| (i.path.as_str(), i.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "type"),
                ("b", "max_length"),
                ("c[0]", "type"),
                ("c[2]", "min_length"),
                ("d", "required")
            ]
        );
        assert!(
            err.to_string()
                .starts_with("5 problems: a: must be a string (got integer)")
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut c = Checker::new();
        assert!(
            c.string(&json!("日本語"), &JsonPath::root(), 1, 3)
                .is_some()
        );
        assert!(c.is_clean());
    }

    #[test]
    fn rfc3339_accepts_offsets_and_fractions_and_refuses_impossible_dates() {
        for good in [
            "2025-01-31T09:30:00Z",
            "2025-01-31t09:30:00z",
            "2025-01-31 09:30:00Z",
            "2024-02-29T23:59:60.123456+05:30",
            "2025-12-31T00:00:00-00:00",
        ] {
            assert!(is_rfc3339(good), "{good} should be accepted");
        }
        for bad in [
            "",
            "2025-01-31",
            "2025-01-31T09:30:00",
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-01-31T24:00:00Z",
            "2025-01-31T09:30:00.Z",
            "2025-01-31T09:30:00+0530",
            "2025-01-31T09:30:00Z ",
            "２０２５-01-31T09:30:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad:?} should be refused");
        }
        let mut c = Checker::new();
        assert!(
            c.rfc3339(&json!("yesterday"), &JsonPath::root().key("createdAt"))
                .is_none()
        );
        let err = c.finish().expect_err("one problem");
        assert_eq!(
            (err.issues[0].path.as_str(), err.issues[0].rule.as_str()),
            ("createdAt", "format")
        );
    }

    #[test]
    fn bounded_string_lists_apply_the_given_item_bounds() {
        let mut c = Checker::new();
        let list = json!(["", "ok", "toolong"]);
        let got = c.bounded_string_list(&list, &JsonPath::root(), 0, 3, 5);
        assert_eq!(got, Some(vec!["", "ok"]));
        let err = c.finish().expect_err("one item too long");
        assert_eq!(
            (err.issues[0].path.as_str(), err.issues[0].rule.as_str()),
            ("[2]", "max_length")
        );
    }

    #[test]
    fn integers_accept_whole_floats_and_reject_fractions() {
        let mut c = Checker::new();
        assert_eq!(c.integer(&json!(3.0), &JsonPath::root(), 1, 5), Some(3));
        assert_eq!(c.integer(&json!(3.5), &JsonPath::root(), 1, 5), None);
        assert_eq!(c.integer(&json!(9), &JsonPath::root(), 1, 5), None);
        let err = c.finish().expect_err("two problems");
        assert_eq!(err.issues[0].rule, "type");
        assert_eq!(err.issues[1].rule, "range");
    }
}
