//! [`ProviderRegistry`]: the [`ProviderExecutor`] the discussion engine is given. It
//! holds every configured provider (presets plus config-file changes), each built by
//! its kind (see [`crate::kind`]), and dispatches a request by provider id.

use std::path::Path;

use async_trait::async_trait;
use ax_discussion_domain::provider::{
    ProviderError, ProviderErrorKind, ProviderExecutor, ProviderInfo, ProviderRequest,
    ProviderResponse,
};

use crate::config::{ConfigError, ProvidersFile};
use crate::definition::ProviderDefinition;
use crate::kind::Live;

struct Entry {
    definition: ProviderDefinition,
    provider: Box<dyn Live>,
}

/// Every configured provider, callable by id.
pub struct ProviderRegistry {
    entries: Vec<Entry>,
    disabled: Vec<String>,
    max_concurrent_provider_calls: Option<usize>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field(
                "providers",
                &self
                    .entries
                    .iter()
                    .map(|e| &e.definition.id)
                    .collect::<Vec<_>>(),
            )
            .field("disabled", &self.disabled)
            .field(
                "max_concurrent_provider_calls",
                &self.max_concurrent_provider_calls,
            )
            .finish()
    }
}

impl ProviderRegistry {
    /// The built-in presets only (no config file).
    pub fn builtin() -> Self {
        Self::from_config(&ProvidersFile::defaults()).expect(
            "the presets contain no HTTP provider, the only kind whose construction can fail",
        )
    }

    /// Reads `$AX_DATA_DIR/config.toml` (or any path) and builds the registry; a
    /// missing file means the presets.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::from_config(&ProvidersFile::load(path)?)
    }

    /// Builds the providers a parsed config file describes.
    pub fn from_config(file: &ProvidersFile) -> Result<Self, ConfigError> {
        let entries = file
            .providers
            .iter()
            .map(|definition| {
                let provider = definition.spec.build(&definition.id).map_err(|message| {
                    ConfigError::Invalid {
                        file: file.source.clone().unwrap_or_else(|| "config".into()),
                        key: format!("providers.{}", definition.id),
                        message,
                    }
                })?;
                Ok(Entry {
                    definition: definition.clone(),
                    provider,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        Ok(Self {
            entries,
            disabled: file.disabled.clone(),
            max_concurrent_provider_calls: file.max_concurrent_provider_calls,
        })
    }

    /// `max_concurrent_provider_calls` from the config file, if set. (The CLI combines
    /// it with `AX_MAX_CONCURRENT_PROVIDER_CALLS` and `--max-concurrent`.)
    pub fn max_concurrent_provider_calls(&self) -> Option<usize> {
        self.max_concurrent_provider_calls
    }

    /// Every provider's definition, in the registry's stable order.
    pub fn definitions(&self) -> impl Iterator<Item = &ProviderDefinition> {
        self.entries.iter().map(|e| &e.definition)
    }

    /// The definition of `id`.
    pub fn definition(&self, id: &str) -> Option<&ProviderDefinition> {
        self.entry(id).map(|e| &e.definition)
    }

    /// Ids hidden with `enabled = false`.
    pub fn disabled(&self) -> &[String] {
        &self.disabled
    }

    fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.definition.id == id)
    }

    /// Whether `id` can be called now: a command provider's program is on `PATH` (and
    /// is the CLI its preset targets); an HTTP provider on this machine has a server
    /// listening, one elsewhere has its API key variable set (when it names one); a
    /// mock always can. Which of the available
    /// providers a discussion uses by default is decided by the engine alone
    /// (`DiscussionEngine::default_providers`), so there is one rule, not two.
    pub fn is_available_now(&self, id: &str) -> bool {
        self.entry(id)
            .is_some_and(|e| e.provider.why_unavailable().is_none())
    }

    /// Why a command provider found on `PATH` cannot be used: the program of that
    /// name is not the CLI its preset targets (e.g. the npm `grok`). `None` when it is
    /// usable, not installed (the plain "no" of `is_available_now` says that), or not a
    /// command provider. `ax providers list` shows it; such a provider never joins a
    /// default discussion because [`ProviderRegistry::is_available_now`] is false.
    pub fn unavailable_reason(&self, id: &str) -> Option<String> {
        self.entry(id)?.provider.unusable_reason()
    }

    /// Why `id` cannot be called now, for people: the program that is missing or is
    /// another CLI, the API key variable that is unset, the local server that is not
    /// running. `None` when it can be called or is not configured.
    pub fn why_unavailable(&self, id: &str) -> Option<String> {
        self.entry(id)?.provider.why_unavailable()
    }

    fn not_found(&self, id: &str) -> ProviderError {
        let message = if self.disabled.iter().any(|d| d == id) {
            format!("provider `{id}` is disabled in the config file (enabled = false)")
        } else {
            let known: Vec<&str> = self
                .entries
                .iter()
                .map(|e| e.definition.id.as_str())
                .collect();
            format!(
                "no provider named `{id}` is configured (known: {})",
                known.join(", ")
            )
        };
        ProviderError::new(id, ProviderErrorKind::NotFound, message)
    }
}

#[async_trait]
impl ProviderExecutor for ProviderRegistry {
    async fn execute(&self, request: ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        let Some(entry) = self.entry(&request.provider_id) else {
            return Err(self.not_found(&request.provider_id));
        };
        entry.provider.execute(&request).await
    }

    async fn is_available(&self, provider_id: &str) -> bool {
        self.is_available_now(provider_id)
    }

    fn explain_unavailable(&self, provider_id: &str) -> Option<String> {
        self.why_unavailable(provider_id)
    }

    /// Every provider in the stable order of [`ProvidersFile`]. The per-provider
    /// `max_concurrent` caps reported here are enforced by the engine's limiter, below
    /// the process-wide limit (INV-DISC-RATE-001); `default_timeout` is the config
    /// file's `timeout` for the provider, when set.
    fn providers(&self) -> Vec<ProviderInfo> {
        self.definitions()
            .map(|d| ProviderInfo {
                id: d.id.clone(),
                kind: d.spec.kind(),
                // Why an installed program is unusable is `unavailable_reason`'s, which
                // `ax providers list` reports in a field of its own.
                description: d.describe(),
                simulated: d.is_simulated(),
                max_concurrent: d.max_concurrent,
                default_timeout: d.timeout,
            })
            .collect()
    }
}
