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
use crate::store::{BatchConflict, BatchOutcome, RecordStream};

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

/// How many records one step of an import hands the store: large enough that the
/// per-batch hand-off (a blocking step, a round trip) costs little per agent, small
/// enough that a batch of typical profiles is a few MiB. A store may hold two
/// batches at once (SQLite prepares the next while writing one): at 2,000 that
/// took the importer's peak from 44–49 MiB to 62–63 MiB, at 1,000 it is 43–45
/// MiB, as fast (0 → 200k).
pub const IMPORT_BATCH: usize = 1_000;

/// What a streamed import source hands the registry, in source order (see
/// [`AgentRegistry::import_events`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ImportEvent {
    /// A valid profile, ready to write ([`ImportItem::into_record`]); boxed, as a
    /// record is large and most events queued are records.
    Record(Box<AgentRecord>),
    /// A profile that broke the contract, or a source that could not be read.
    Invalid(InvalidImport),
    /// A file not read at all.
    SkippedFile(SkippedFile),
    /// The source was read to its end. A stream that stops without it (a reader
    /// that failed, panicked or was dropped) is rolled back whatever the mode:
    /// nothing is written from a source that was not read whole.
    End,
}

/// A source of [`ImportEvent`]s: a channel fed by a reader on another thread, or
/// events already in memory.
#[async_trait::async_trait]
pub trait ImportEvents: Send {
    /// The next event; `None` when the source has no more (after `End`, or because
    /// its reader stopped).
    async fn next_event(&mut self) -> Option<ImportEvent>;
}

#[async_trait::async_trait]
impl ImportEvents for tokio::sync::mpsc::Receiver<ImportEvent> {
    async fn next_event(&mut self) -> Option<ImportEvent> {
        self.recv().await
    }
}

#[async_trait::async_trait]
impl ImportEvents for std::vec::IntoIter<ImportEvent> {
    async fn next_event(&mut self) -> Option<ImportEvent> {
        self.next()
    }
}

/// Which ids an import's report lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportIds {
    /// Every id imported, replaced or skipped (the JSON report).
    All,
    /// At most this many of each list, for a summary line: an import of a million
    /// agents then holds no million ids. [`ImportCounts`] has the totals.
    First(usize),
}

/// How many ids each list of an import's report would hold in full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Agents newly registered.
    pub imported: u64,
    /// Agents overwritten.
    pub replaced: u64,
    /// Agents already registered and kept.
    pub skipped: u64,
}

impl ImportItem {
    /// The profile rewritten from legacy shapes and validated, as a new record
    /// stamped `now`; or the report of why it is not imported.
    pub fn into_record(self, now: &str) -> Result<AgentRecord, InvalidImport> {
        let doc = normalize_legacy(self.profile);
        match AgentProfile::from_json(&doc) {
            Ok(profile) => Ok(AgentRecord {
                profile: profile.into_inner(),
                created_at: now.to_owned(),
                updated_at: now.to_owned(),
                revision: 1,
            }),
            Err(errors) => Err(InvalidImport {
                source: self.source,
                agent_id: doc
                    .get("agentId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                issues: errors.issues,
            }),
        }
    }
}

impl ImportSource {
    /// The source as events: its unread and skipped files first, then its items.
    fn into_events(self) -> std::vec::IntoIter<ImportEvent> {
        let now = now_rfc3339();
        let mut events: Vec<ImportEvent> = self
            .skipped_files
            .into_iter()
            .map(ImportEvent::SkippedFile)
            .chain(self.unreadable.into_iter().map(ImportEvent::Invalid))
            .collect();
        events.extend(
            self.items
                .into_iter()
                .map(|item| match item.into_record(&now) {
                    Ok(record) => ImportEvent::Record(Box::new(record)),
                    Err(invalid) => ImportEvent::Invalid(invalid),
                }),
        );
        events.push(ImportEvent::End);
        events.into_iter()
    }
}

impl AgentRegistry {
    /// Import `source` (see [`ImportMode`] for what happens on a problem). Storage
    /// failures are errors (they are not the input's fault) and leave nothing
    /// written.
    pub async fn import(
        &self,
        source: impl Into<ImportSource>,
        on_conflict: OnConflict,
        mode: ImportMode,
    ) -> Result<ImportReport, AgentError> {
        let mut events = source.into().into_events();
        let (report, _) = self
            .import_events(&mut events, on_conflict, mode, ReportIds::All)
            .await?;
        Ok(report)
    }

    /// Import what `events` hands over, of any size, in bounded memory: records
    /// are written [`IMPORT_BATCH`] at a time inside ONE store transaction
    /// ([`AgentStore::import_stream`](crate::store::AgentStore::import_stream)),
    /// which at the end is committed or rolled back as `mode` says — so the
    /// default stays all or nothing however many batches there were, and a
    /// duplicate id is a conflict also against an id many batches earlier.
    ///
    /// Under [`ImportMode::AllOrNothing`] the first invalid profile stops the
    /// writing (the rest is still read, to report every problem); a `Fail`
    /// conflict stops it too, and is reported only if no profile was invalid (as
    /// when everything was validated before writing). A stream that ends without
    /// [`ImportEvent::End`] is rolled back in either mode.
    pub async fn import_events(
        &self,
        events: &mut dyn ImportEvents,
        on_conflict: OnConflict,
        mode: ImportMode,
        ids: ReportIds,
    ) -> Result<(ImportReport, ImportCounts), AgentError> {
        let mut stream = EventStream::new(events, mode, ids);
        self.store()
            .import_stream(&mut stream, on_conflict.into(), None)
            .await?;
        Ok((stream.report, stream.counts))
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
        let mut events = source.into().into_events();
        let mut stream = EventStream::new(&mut events, ImportMode::EachProfile, ReportIds::All);
        let applied = self
            .store()
            .import_stream(&mut stream, BatchConflict::Skip, Some(key))
            .await?;
        Ok(applied.map(|_| stream.report))
    }
}

/// An import's events as the store's [`RecordStream`], building the report.
struct EventStream<'a> {
    events: &'a mut dyn ImportEvents,
    mode: ImportMode,
    ids: ReportIds,
    report: ImportReport,
    counts: ImportCounts,
    /// [`ImportEvent::End`] was seen: the source was read whole.
    ended: bool,
}

impl<'a> EventStream<'a> {
    fn new(events: &'a mut dyn ImportEvents, mode: ImportMode, ids: ReportIds) -> Self {
        Self {
            events,
            mode,
            ids,
            report: ImportReport::default(),
            counts: ImportCounts::default(),
            ended: false,
        }
    }

    /// Takes one non-record event into the report; `Some` for a record.
    fn note(&mut self, event: ImportEvent) -> Option<AgentRecord> {
        match event {
            ImportEvent::Record(record) => return Some(*record),
            ImportEvent::Invalid(invalid) => self.report.invalid.push(invalid),
            ImportEvent::SkippedFile(file) => self.report.skipped_files.push(file),
            ImportEvent::End => self.ended = true,
        }
        None
    }

    /// Whether writing should stop: an invalid profile makes an all-or-nothing
    /// import a rollback anyway.
    fn doomed(&self) -> bool {
        self.mode == ImportMode::AllOrNothing && !self.report.invalid.is_empty()
    }

    fn keep(&self, list: &mut Vec<String>, ids: Vec<String>) {
        match self.ids {
            ReportIds::All => list.extend(ids),
            ReportIds::First(n) => {
                let room = n.saturating_sub(list.len());
                list.extend(ids.into_iter().take(room));
            }
        }
    }
}

#[async_trait::async_trait]
impl RecordStream for EventStream<'_> {
    async fn next_batch(&mut self) -> Option<Vec<AgentRecord>> {
        let mut batch = Vec::new();
        while batch.len() < IMPORT_BATCH && !self.ended && !self.doomed() {
            let Some(event) = self.events.next_event().await else {
                break;
            };
            if let Some(record) = self.note(event) {
                batch.push(record);
            }
        }
        (!batch.is_empty() && !self.doomed()).then_some(batch)
    }

    fn written(&mut self, outcome: BatchOutcome) {
        let as_u64 = |ids: &Vec<String>| ids.len() as u64;
        self.counts.imported += as_u64(&outcome.inserted);
        self.counts.replaced += as_u64(&outcome.replaced);
        self.counts.skipped += as_u64(&outcome.skipped);
        let mut report = std::mem::take(&mut self.report);
        self.keep(&mut report.imported, outcome.inserted);
        self.keep(&mut report.replaced, outcome.replaced);
        self.keep(&mut report.skipped, outcome.skipped);
        if outcome.conflict.is_some() {
            report.conflict = outcome.conflict;
        }
        self.report = report;
    }

    async fn commit(&mut self) -> bool {
        // Whatever stopped the writing, the rest is read: every problem is reported,
        // and a source that fails to read to its end writes nothing.
        while !self.ended {
            let Some(event) = self.events.next_event().await else {
                break;
            };
            // Records after the stop are not written (nor counted).
            let _ = self.note(event);
        }
        let commit = self.ended
            && match self.mode {
                ImportMode::AllOrNothing => {
                    self.report.invalid.is_empty() && self.report.conflict.is_none()
                }
                ImportMode::EachProfile => true,
            };
        if self.doomed() {
            // Reported as when everything was validated before any write: the
            // invalid profiles, not a conflict met on the way.
            self.report.conflict = None;
        }
        if !commit {
            self.report.aborted = true;
            self.report.imported.clear();
            self.report.replaced.clear();
            self.report.skipped.clear();
            self.counts = ImportCounts::default();
        }
        commit
    }
}
