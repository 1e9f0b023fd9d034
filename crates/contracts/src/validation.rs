//! The vocabulary of a refused input, shared by every contract: a JSON path, one
//! broken rule ([`Issue`]), all broken rules of one input ([`ValidationErrors`]) and
//! the rule names. The one parser that produces them is [`crate::parse`] (the
//! structural walk is [`crate::schema`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// True when `s` is an RFC 3339 `date-time` (section 5.6), with calendar ranges
/// checked (days per month, leap years; second 60 is allowed for leap seconds).
///
/// chrono's RFC 3339 parser does exactly this: `T`, `t` or a space between date and
/// time, at least one digit after a `.`, `Z`/`z` or a `±HH:MM` offset below 24 h,
/// ASCII digits only, nothing after the offset.
pub fn is_rfc3339(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
