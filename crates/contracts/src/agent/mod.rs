//! The agent profile contract (see `agents.md` of the design brief): the profile and
//! its nested types, its validation, the legacy shapes accepted on import, the import
//! document shapes, and the registry's record around a profile.
//!
//! - [`AgentProfile`] — the typed profile; `from_json` (the one parser) / `to_json`.
//! - nested types ([`Personality`], [`SelectionMetadata`], ...) and [`WorkflowStep`].
//! - [`normalize_legacy`] — older profile shapes, for import only.
//! - [`classify_import`] — a registry file, one profile or a list of profiles.
//! - [`AgentRecord`] — a stored profile with the registry-owned fields.
//! - the registry's answers on the wire ([`AgentPage`], [`Registered`], [`Recommendation`],
//!   ...), one type each for the CLI's JSON and MCP.

mod import;
mod legacy;
pub mod limits;
mod nested;
mod number;
mod profile;
mod record;
mod validate;
mod wire;
mod workflow;

pub use import::{ImportDocument, ImportEntry, ImportShape, classify_import, import_entries};
pub use legacy::normalize_legacy;
pub use nested::{
    Abilities, AgentCategory, CapabilityDetection, CapabilityMapping, DynamicCapabilities,
    FallbackStrategy, Orchestration, Personality, ProviderAffinity, RedirectRule, ReviewDepth,
    ReviewMode, SelectionMetadata, TaskClassifier, TaskClassifierRule, TaskType,
};
pub use profile::AgentProfile;
pub use record::AgentRecord;
pub use validate::{AGENT_ID_PATTERN, PROFILE_FIELDS, REGISTRY_OWNED_FIELDS, VERSION_PATTERN};
pub use wire::{
    AgentPage, AgentSummary, CapabilityIndex, Exported, ImportReport, InvalidImport,
    Recommendation, Registered, Removed, ScoredAgent, SkippedFile,
};
pub use workflow::{MAX_STEPS, RetryOn, RetryPolicy, StepType, WorkflowStep};
