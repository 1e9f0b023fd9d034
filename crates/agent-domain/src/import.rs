//! Import of profiles from outside (a reference-tool registry file, profile files,
//! the one-time migration of a reference `agents.json`): validate each, then write
//! them through [`AgentStore::import_batch`](crate::store::AgentStore::import_batch),
//! and report imported / replaced / skipped / invalid.
//!
//! By default an import is all or nothing: one invalid profile, one unreadable file
//! or (with [`OnConflict::Fail`]) one taken id and nothing is written, every problem
//! reported. [`ImportMode::EachProfile`] writes each valid profile on its own.

use ax_contracts::agent::{AgentProfile, AgentRecord, normalize_legacy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AgentError;
use crate::registry::{AgentRegistry, now_rfc3339};
use crate::store::{BatchConflict, BatchOutcome};

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

impl From<OnConflict> for BatchConflict {
    fn from(value: OnConflict) -> Self {
        match value {
            OnConflict::Skip => BatchConflict::Skip,
            OnConflict::Replace => BatchConflict::Replace,
            OnConflict::Fail => BatchConflict::Fail,
        }
    }
}

/// Whether an import is one atomic step or profile by profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImportMode {
    /// One transaction for everything: any invalid profile or unreadable source, or a
    /// conflict under [`OnConflict::Fail`], and nothing is written (default).
    #[default]
    AllOrNothing,
    /// Each valid profile is written on its own; invalid ones are reported and
    /// skipped; [`OnConflict::Fail`] stops at the conflict, keeping what came before
    /// (`--continue-on-error`).
    EachProfile,
}

/// One profile to import and where it came from (a file, `agents[3]`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    /// Where the profile came from, for the report.
    pub source: String,
    /// The raw profile document; legacy shapes are normalised on import.
    pub profile: Value,
}

/// Everything an import read: the profiles, the sources that could not be read or
/// parsed (reported as invalid), and the files left alone (reported as skipped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSource {
    /// The profiles found, in order.
    pub items: Vec<ImportItem>,
    /// Files that could not be read or parsed.
    pub unreadable: Vec<InvalidImport>,
    /// Files not read at all (a link out of the folder, a FIFO, a loop, ...).
    pub skipped_files: Vec<SkippedFile>,
}

impl From<Vec<ImportItem>> for ImportSource {
    fn from(items: Vec<ImportItem>) -> Self {
        Self {
            items,
            ..Self::default()
        }
    }
}

pub use ax_contracts::agent::{ImportReport, InvalidImport, SkippedFile};

impl AgentRegistry {
    /// Import `source` (see [`ImportMode`] for what happens on a problem). Storage
    /// failures are errors (they are not the input's fault); under
    /// [`ImportMode::AllOrNothing`] they leave nothing written either.
    pub async fn import(
        &self,
        source: impl Into<ImportSource>,
        on_conflict: OnConflict,
        mode: ImportMode,
    ) -> Result<ImportReport, AgentError> {
        let (records, mut report) = validate(source.into());
        match mode {
            ImportMode::AllOrNothing => {
                if !report.invalid.is_empty() {
                    report.aborted = true;
                    return Ok(report);
                }
                let outcome = self
                    .store()
                    .import_batch(&records, on_conflict.into(), None)
                    .await?
                    .unwrap_or_default();
                merge(&mut report, outcome);
                report.aborted = report.conflict.is_some();
            }
            ImportMode::EachProfile => {
                for record in records {
                    let outcome = self
                        .store()
                        .import_batch(std::slice::from_ref(&record), on_conflict.into(), None)
                        .await?
                        .unwrap_or_default();
                    merge(&mut report, outcome);
                    if report.conflict.is_some() {
                        break;
                    }
                }
            }
        }
        Ok(report)
    }

    /// The one-time import `key` (the reference `agents.json`): the valid profiles of
    /// `source` are written with [`OnConflict::Skip`] in ONE step together with the
    /// record that `key` ran, so under any number of concurrent callers exactly one
    /// imports; the others get `None`. Invalid profiles are reported, not imported.
    pub async fn import_once(
        &self,
        key: &str,
        source: impl Into<ImportSource>,
    ) -> Result<Option<ImportReport>, AgentError> {
        let (records, mut report) = validate(source.into());
        match self
            .store()
            .import_batch(&records, BatchConflict::Skip, Some(key))
            .await?
        {
            Some(outcome) => {
                merge(&mut report, outcome);
                Ok(Some(report))
            }
            None => Ok(None),
        }
    }
}

/// The valid profiles as new records, and a report holding the invalid ones.
fn validate(source: ImportSource) -> (Vec<AgentRecord>, ImportReport) {
    let mut report = ImportReport {
        invalid: source.unreadable,
        skipped_files: source.skipped_files,
        ..ImportReport::default()
    };
    let now = now_rfc3339();
    let mut records = Vec::new();
    for item in source.items {
        let doc = normalize_legacy(item.profile);
        match AgentProfile::from_json(&doc) {
            Ok(profile) => records.push(AgentRecord {
                profile,
                created_at: now.clone(),
                updated_at: now.clone(),
                revision: 1,
            }),
            Err(errors) => report.invalid.push(InvalidImport {
                source: item.source,
                agent_id: doc
                    .get("agentId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                issues: errors.issues,
            }),
        }
    }
    (records, report)
}

fn merge(report: &mut ImportReport, outcome: BatchOutcome) {
    report.imported.extend(outcome.inserted);
    report.replaced.extend(outcome.replaced);
    report.skipped.extend(outcome.skipped);
    if outcome.conflict.is_some() {
        report.conflict = outcome.conflict;
    }
}
