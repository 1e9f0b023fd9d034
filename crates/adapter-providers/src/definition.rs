//! A provider as configured: presets and config-file tables both resolve to a
//! [`ProviderDefinition`], which the registry turns into a live provider.

use std::time::Duration;

/// The kinds of provider: declared with the other wire names in `contracts`,
/// as the engine's port (`ProviderInfo::kind`) and `ax providers list` report it too.
pub use ax_contracts::provider::ProviderKind;

/// What a provider runs, one variant per kind: written by the `kinds!` list in
/// `lib.rs`.
pub use crate::ProviderSpec;

/// Where a definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionOrigin {
    /// A built-in preset, unchanged.
    Preset,
    /// A built-in preset with keys overridden by the config file.
    OverriddenPreset,
    /// Added by the config file.
    Config,
}

/// One configured provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDefinition {
    /// The id used in `--providers` and results.
    pub id: String,
    /// What it runs.
    pub spec: ProviderSpec,
    /// The provider's default call timeout, if configured.
    pub timeout: Option<Duration>,
    /// A cap on its concurrent calls below the process-wide limit, if configured.
    pub max_concurrent: Option<usize>,
    /// A description replacing the generated one, if configured.
    pub description: Option<String>,
    /// Preset, overridden preset, or config addition.
    pub origin: DefinitionOrigin,
}

impl ProviderDefinition {
    /// A definition of `id` with no timeout, cap or description.
    pub fn new(id: impl Into<String>, spec: ProviderSpec, origin: DefinitionOrigin) -> Self {
        Self {
            id: id.into(),
            spec,
            timeout: None,
            max_concurrent: None,
            description: None,
            origin,
        }
    }

    /// Whether its answers are simulated.
    pub fn is_simulated(&self) -> bool {
        self.spec.is_simulated()
    }

    /// The description for `ax providers list`.
    pub fn describe(&self) -> String {
        self.description
            .clone()
            .unwrap_or_else(|| self.spec.describe())
    }
}
