//! What `ax agent import` may be given, once parsed (JSON or YAML → `serde_json::Value`;
//! parsing stays with the caller, this crate does no I/O):
//!
//! - the reference tool's registry file (`agents.json`):
//!   `{"version": "...", "updatedAt": "...", "agents": [profile, ...]}` — `agents` is
//!   a list in the reference tool, so a keyed map is refused rather than guessed at;
//! - one profile (an object without `agents`);
//! - a list of profiles.
//!
//! [`classify_import`] says which, and hands back each raw profile with its place in
//! the document so a report can say "`agents[3]`: ...".

use serde_json::Value;

use super::legacy::normalize_legacy;
use super::profile::AgentProfile;
use crate::parse::Valid;
use crate::validation::{JsonPath, ValidationErrors, rule, type_name};

/// The shape of an import document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportShape {
    /// The reference tool's registry file, `{"version", "updatedAt", "agents": [...]}`.
    RegistryFile,
    /// A single profile.
    SingleProfile,
    /// A list of profiles.
    ProfileList,
}

/// One raw profile of an import document, not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportEntry {
    /// Where it sits in the document: `agents[3]`, `[0]`, or `$` for a single profile.
    pub path: String,
    /// The profile as found (legacy shapes not yet rewritten).
    pub value: Value,
}

impl ImportEntry {
    /// The id the entry claims (`agentId`, or a legacy `name`), for reports about an
    /// entry that does not validate.
    pub fn agent_id_hint(&self) -> Option<&str> {
        let get = |key| self.value.get(key).and_then(Value::as_str);
        get("agentId").or_else(|| get("name"))
    }

    /// Rewrite legacy shapes and validate. Issue paths are relative to the entry
    /// (`workflow[0].stepId`); prefix them with [`ImportEntry::path`] to place them in
    /// the document.
    pub fn to_profile(&self) -> Result<Valid<AgentProfile>, ValidationErrors> {
        AgentProfile::from_json(&normalize_legacy(self.value.clone()))
    }
}

/// A classified import document.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportDocument {
    /// Which shape it has.
    pub shape: ImportShape,
    /// A registry file's `version`, when it is a string.
    pub version: Option<String>,
    /// A registry file's `updatedAt`, when it is a string.
    pub updated_at: Option<String>,
    /// The profiles, in document order.
    pub entries: Vec<ImportEntry>,
}

/// Classify a parsed import document and split it into raw profiles.
///
/// An object with an `agents` member is a registry file (the member must be a list);
/// any other object is one profile; a list is a list of profiles. Anything else is a
/// `type` issue at `$`. Entries are not validated here: one bad profile must not stop
/// the others from importing, so each is checked with [`ImportEntry::to_profile`].
pub fn classify_import(document: Value) -> Result<ImportDocument, ValidationErrors> {
    let root = JsonPath::root();
    let entries_of = |items: Vec<Value>, base: &JsonPath| -> Vec<ImportEntry> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, value)| ImportEntry {
                path: base.index(i).as_str().to_owned(),
                value,
            })
            .collect()
    };
    match document {
        Value::Object(mut obj) if obj.contains_key("agents") => {
            let agents_path = root.key("agents");
            let agents = obj.remove("agents").unwrap_or(Value::Null);
            let Value::Array(items) = agents else {
                return Err(type_error(&agents_path, "an array", &agents));
            };
            let text = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_owned);
            Ok(ImportDocument {
                shape: ImportShape::RegistryFile,
                version: text("version"),
                updated_at: text("updatedAt"),
                entries: entries_of(items, &agents_path),
            })
        }
        Value::Object(obj) => Ok(ImportDocument {
            shape: ImportShape::SingleProfile,
            version: None,
            updated_at: None,
            entries: vec![ImportEntry {
                path: root.as_str().to_owned(),
                value: Value::Object(obj),
            }],
        }),
        Value::Array(items) => Ok(ImportDocument {
            shape: ImportShape::ProfileList,
            version: None,
            updated_at: None,
            entries: entries_of(items, &root),
        }),
        other => Err(type_error(&root, "an object or an array", &other)),
    }
}

/// [`classify_import`] flattened to `(path, raw profile)` pairs, for callers that only
/// need each profile and where it sits (`agents[3]`, `[0]`, `$` for a document that is
/// one profile). Legacy shapes are not rewritten yet: pass each value through
/// [`normalize_legacy`] (or use [`ImportEntry::to_profile`]) before validating.
pub fn import_entries(document: Value) -> Result<Vec<(String, Value)>, ValidationErrors> {
    Ok(classify_import(document)?
        .entries
        .into_iter()
        .map(|entry| (entry.path, entry.value))
        .collect())
}

fn type_error(path: &JsonPath, expected: &str, got: &Value) -> ValidationErrors {
    ValidationErrors::single(
        path,
        rule::TYPE,
        format!("must be {expected} (got {})", type_name(got)),
    )
}
