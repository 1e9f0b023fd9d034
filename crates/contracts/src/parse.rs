//! Parse, don't validate: [`Valid<T>`] is a contract value that passed every rule,
//! and the only way to get one is [`Valid::parse`] (or [`Valid::from_typed`], which
//! parses the value's JSON form) — so a function taking a `Valid<DiscussionConfig>`
//! never re-checks it, and none can be handed an unchecked one.
//!
//! One parser for every contract ([`Contract`]): the structural walk of the type's
//! published schema ([`crate::schema`]), then the contract's own rules that a schema
//! cannot state, then the contract's rewrites (aliases, registry-owned fields), then
//! serde. Every problem of both kinds is reported at once, each with its path and rule.

use std::ops::Deref;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::schema;
use crate::validation::{Issue, JsonPath, ValidationErrors, rule};

/// A type read from JSON by the one parser.
pub trait Contract: DeserializeOwned + Serialize + JsonSchema {
    /// The schema the parser walks: the declaration of every structural rule.
    /// Generated once (see [`schema::input_schema`]) and published as is.
    fn schema() -> &'static Map<String, Value>;

    /// Rules no schema states (cycles, duplicates, fields that constrain each
    /// other), checked on the walked value after the structural issues were
    /// recorded, so that they can skip values those already refused.
    fn check_rules(_value: &Value, _report: &mut Report) {}

    /// Rewrites of a valid value before serde reads it (aliases to their canonical
    /// spelling, accepted-and-dropped fields).
    fn normalize(_value: &mut Value) {}

    /// Problems a typed value can hold that its JSON form cannot show (a NaN float
    /// is written as `null`, i.e. as absent), for [`Valid::from_typed`].
    fn typed_issues(&self) -> Vec<Issue> {
        Vec::new()
    }
}

/// The issues found so far, for [`Contract::check_rules`].
#[derive(Debug, Default)]
pub struct Report {
    issues: Vec<Issue>,
}

impl Report {
    /// Record one broken rule.
    pub fn report(&mut self, path: &JsonPath, rule: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.as_str().to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        });
    }

    /// Whether a problem was already reported at `path` (not below it): a rule over
    /// a value the walk refused would only repeat the complaint.
    pub fn has_issue_at(&self, path: &JsonPath) -> bool {
        self.issues.iter().any(|i| i.path == path.as_str())
    }

    /// Record an issue found elsewhere.
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    /// The issues, in the order reported.
    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }

    /// Report a wrong JSON type, worded as the walk words it.
    pub fn type_mismatch(&mut self, path: &JsonPath, expected: &str, got: &Value) {
        let article = match expected.as_bytes().first() {
            Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
            _ => "a",
        };
        self.report(
            path,
            rule::TYPE,
            format!(
                "must be {article} {expected} (got {})",
                crate::validation::type_name(got)
            ),
        );
    }
}

/// A `T` that passed every rule of its contract. Built only by the parser.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(T);

impl<T: Contract> Valid<T> {
    /// Read `input` against every rule of `T`'s contract; every broken rule, with its
    /// path and rule name, when it is not valid.
    pub fn parse(input: &Value) -> Result<Self, ValidationErrors> {
        parse_with(input, T::schema())
    }

    /// Check a value built or changed in code against the same rules, by parsing its
    /// JSON form: what comes back is what a client sending that JSON would get.
    pub fn from_typed(value: &T) -> Result<Self, ValidationErrors> {
        let typed = value.typed_issues();
        let json = serde_json::to_value(value)
            .map_err(|e| ValidationErrors::single(&JsonPath::root(), rule::TYPE, e.to_string()));
        match (json.and_then(|json| Self::parse(&json)), typed.is_empty()) {
            (Ok(valid), true) => Ok(valid),
            (Ok(_), false) => Err(ValidationErrors { issues: typed }),
            (Err(mut e), _) => {
                e.issues.extend(typed);
                Err(e)
            }
        }
    }
}

impl<T> Valid<T> {
    /// The parsed value, for code that changes it (and must parse it again).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Valid<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: PartialEq> PartialEq<T> for Valid<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

impl<T: Serialize> Serialize for Valid<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// The parser, against `schema` (the contract's own, or a stricter one derived from
/// it, such as an MCP registration's).
pub(crate) fn parse_with<T: Contract>(
    input: &Value,
    schema: &Map<String, Value>,
) -> Result<Valid<T>, ValidationErrors> {
    let walked = schema::walk(input, schema);
    let mut report = Report {
        issues: walked.issues,
    };
    let mut value = walked.value;
    // Rules over an input that is not even an object would only repeat the `type`.
    if value.is_object() {
        T::check_rules(&value, &mut report);
    }
    if !report.issues.is_empty() {
        return Err(ValidationErrors {
            issues: report.issues,
        });
    }
    T::normalize(&mut value);
    // The walk and the rules cover every field serde reads, so this cannot fail for
    // a value that passed them; a failure is still reported rather than panicking.
    serde_json::from_value(value)
        .map(Valid)
        .map_err(|err| ValidationErrors::single(&JsonPath::root(), rule::TYPE, err.to_string()))
}
