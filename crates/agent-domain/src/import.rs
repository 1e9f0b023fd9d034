//! Import of profiles from outside (a reference-tool registry file, profile files,
//! the one-time migration of a reference `agents.json`): validate each, register it,
//! and report imported / replaced / skipped / invalid without stopping at the first
//! bad one.

use ax_contracts::agent::{AgentProfile, normalize_legacy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AgentError;
use crate::registry::AgentRegistry;
use crate::store::UpsertOutcome;

/// What to do with a profile whose id is already registered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Keep the registered agent, report the import as skipped (default).
    #[default]
    Skip,
    /// Overwrite the registered agent.
    Replace,
    /// Stop the import at the first existing id, reporting it.
    Fail,
}

/// One profile to import and where it came from (a file, `agents[3]`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    /// Where the profile came from, for the report.
    pub source: String,
    /// The raw profile document; legacy shapes are normalised on import.
    pub profile: Value,
}

pub use ax_contracts::agent::{ImportReport, InvalidImport};

impl AgentRegistry {
    /// Import `items` in order. Invalid profiles are reported and skipped; storage
    /// failures abort (they are not the input's fault).
    pub async fn import(
        &self,
        items: Vec<ImportItem>,
        on_conflict: OnConflict,
    ) -> Result<ImportReport, AgentError> {
        let mut report = ImportReport::default();
        for item in items {
            let doc = normalize_legacy(item.profile);
            let profile = match AgentProfile::from_json(&doc) {
                Ok(profile) => profile,
                Err(errors) => {
                    report.invalid.push(InvalidImport {
                        source: item.source,
                        agent_id: doc
                            .get("agentId")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        issues: errors.issues,
                    });
                    continue;
                }
            };
            let id = profile.agent_id.clone();
            match on_conflict {
                OnConflict::Replace => match self.replace_validated(profile).await? {
                    (_, UpsertOutcome::Inserted) => report.imported.push(id),
                    (_, UpsertOutcome::Replaced) => report.replaced.push(id),
                },
                OnConflict::Skip | OnConflict::Fail => match self.insert_validated(profile).await {
                    Ok(_) => report.imported.push(id),
                    Err(AgentError::AlreadyExists { .. }) if on_conflict == OnConflict::Skip => {
                        report.skipped.push(id)
                    }
                    Err(AgentError::AlreadyExists { .. }) => {
                        report.conflict = Some(id);
                        return Ok(report);
                    }
                    Err(other) => return Err(other),
                },
            }
        }
        Ok(report)
    }
}
