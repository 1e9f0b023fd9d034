//! `config.toml`: the provider tables and a process-wide provider-call limit.
//!
//! This module only parses: [`ProvidersFile::load`] reads the path it is given. The
//! composition root (`crates/cli/src/app.rs`) decides that path (`config.toml` in the
//! data directory: `--data-dir`, else `$AX_DATA_DIR`, else `~/.automatosx`) and what
//! the values become: `max_concurrent_provider_calls` is the weakest of the limit's
//! sources (`--max-concurrent` beats `AX_MAX_CONCURRENT_PROVIDER_CALLS`, which beats
//! this file, which beats the default of 5); a provider's `timeout` applies to its
//! calls when the discussion sets no `providerTimeout`; a provider's `max_concurrent`
//! becomes a per-provider cap of the engine's limiter.
//!
//! ```toml
//! max_concurrent_provider_calls = 5
//!
//! [providers.claude]            # a preset's name: overrides only the keys given
//! timeout = "5m"
//! max_concurrent = 2
//!
//! [providers.local]             # any other name: a new provider (kind required)
//! kind = "openai"
//! base_url = "http://127.0.0.1:11434/v1"
//! model = "llama3.2"
//!
//! [providers.grok]
//! enabled = false               # hides a preset
//! ```
//!
//! A table whose `kind` differs from its preset's replaces the preset (e.g. run
//! `ollama` over HTTP). Unknown keys are errors, with the file, the key path and a
//! suggestion: a typo must never be silently ignored.
//!
//! **Parsed from declarations:** the file's keys are `TopLevel`, every provider's
//! common keys (`kind`, `enabled`, `description`, `timeout`, `max_concurrent`)
//! `Common`, and each kind's own keys its [`Kind::Section`] — serde types with
//! `deny_unknown_fields` whose value types ([`values`]) say what they accept; those
//! declarations are the list of keys (docs/PROVIDERS.md describes them for people).
//! This module only splits a provider's table between the common keys and its
//! kind's, picks the kind (its `kind` key, else its preset's), and names the file and
//! key path ([`de`]) in every error.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use toml::Value;

use crate::definition::{DefinitionOrigin, ProviderDefinition, ProviderKind, ProviderSpec};
use crate::kind::Kind;
use crate::presets::{COMMAND_PRESET_IDS, MOCK_PRESET_IDS, is_preset, preset};
use de::Problem;
use values::{Concurrency, Name, Positive, Switch, Tables};

pub mod de;
pub mod values;

/// The config file's name inside the data directory.
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// The keys of the file itself.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopLevel {
    max_concurrent_provider_calls: Option<Concurrency>,
    /// Only checked to be a table of tables here: each is read by `Reader::provider`.
    #[serde(default)]
    #[expect(dead_code, reason = "its values are read from the table, kind by kind")]
    providers: Tables,
    /// Belongs to the CLI's composition root, which reads it from the same file to
    /// choose the storage backend; accepted (and ignored) here so one config.toml
    /// holds both.
    #[expect(dead_code, reason = "read by the composition root")]
    database_url: Option<IgnoredAny>,
}

/// The keys of every provider, whatever its kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    kind: Option<Name<ProviderKind>>,
    enabled: Option<Switch>,
    description: Option<String>,
    timeout: Option<Positive>,
    max_concurrent: Option<Concurrency>,
}

/// A config problem, always naming the file; key problems also name the key path
/// (`providers.claude.timeout`) and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("{file}: cannot read the file: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML.
    #[error("{file}: invalid TOML at {location}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// `line L, column C`.
        location: String,
        /// The parser's message.
        message: String,
    },
    /// A key is unknown, of the wrong type, or has a bad value.
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The key path, e.g. `providers.claude.timeout`.
        key: String,
        /// What was wrong.
        message: String,
    },
}

impl ConfigError {
    /// The key path of an [`ConfigError::Invalid`] error.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The parsed config file: the process-wide limit and every enabled provider, presets
/// included, in a stable order (command presets, then config additions by id, then
/// the mock presets).
#[derive(Debug, Clone, PartialEq)]
pub struct ProvidersFile {
    /// The file it was read from (`None` for the built-in defaults).
    pub source: Option<String>,
    /// `max_concurrent_provider_calls`, if set.
    pub max_concurrent_provider_calls: Option<usize>,
    /// Every enabled provider.
    pub providers: Vec<ProviderDefinition>,
    /// Ids hidden with `enabled = false`.
    pub disabled: Vec<String>,
}

impl Default for ProvidersFile {
    fn default() -> Self {
        Self::defaults()
    }
}

impl ProvidersFile {
    /// The built-in presets with no config file.
    pub fn defaults() -> Self {
        let providers = COMMAND_PRESET_IDS
            .iter()
            .chain(&MOCK_PRESET_IDS)
            .filter_map(|id| preset(id))
            .collect();
        Self {
            source: None,
            max_concurrent_provider_calls: None,
            providers,
            disabled: Vec::new(),
        }
    }

    /// Reads `path`; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        match fs::read_to_string(path) {
            Ok(text) => {
                let mut parsed = Self::from_str(&text, &file)?;
                parsed.source = Some(file);
                Ok(parsed)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::defaults()),
            Err(source) => Err(ConfigError::Read { file, source }),
        }
    }

    /// Parses config text; `file` names it in errors.
    pub fn from_str(text: &str, file: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
        Reader { file }.file(table)
    }

    /// The definition of `id`, if it is configured and enabled.
    pub fn get(&self, id: &str) -> Option<&ProviderDefinition> {
        self.providers.iter().find(|p| p.id == id)
    }
}

fn syntax_error(file: &str, text: &str, error: &toml::de::Error) -> ConfigError {
    let location = match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}")
        }
        None => "an unknown position".to_owned(),
    };
    ConfigError::Syntax {
        file: file.to_owned(),
        location,
        message: error.message().trim().to_owned(),
    }
}

/// Reads one file, naming it in every error.
struct Reader<'a> {
    file: &'a str,
}

impl Reader<'_> {
    fn invalid(&self, key: String, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_owned(),
            key,
            message: message.into(),
        }
    }

    /// Deserializes `table` (found at `prefix`) as `T`; an unknown key is worded by
    /// `unknown` from the key and the keys `T` declares.
    fn parse<T: DeserializeOwned>(
        &self,
        prefix: &str,
        table: toml::Table,
        unknown: impl FnOnce(&str, &'static [&'static str]) -> String,
    ) -> Result<T, ConfigError> {
        de::parse(Value::Table(table)).map_err(|(path, problem)| {
            let message = match problem {
                Problem::UnknownKey { key, known } => unknown(&key, known),
                Problem::Other(message) => message,
            };
            self.invalid(de::key_path(prefix, &path), message)
        })
    }

    fn file(&self, mut table: toml::Table) -> Result<ProvidersFile, ConfigError> {
        let top: TopLevel = self.parse("", table.clone(), unknown_key)?;
        let mut overrides = BTreeMap::new();
        if let Some(Value::Table(providers)) = table.remove("providers") {
            for (id, value) in providers {
                // `Tables` refused anything but a table of tables.
                let Value::Table(entry) = value else { continue };
                let definition = self.provider(&id, entry)?;
                overrides.insert(id, definition);
            }
        }

        let mut disabled = Vec::new();
        let mut resolved = |id: &str, definition: Option<ProviderDefinition>| match definition {
            Some(d) => Some(d),
            None => {
                disabled.push(id.to_owned());
                None
            }
        };
        let mut providers = Vec::new();
        for id in COMMAND_PRESET_IDS {
            let definition = overrides.remove(id).unwrap_or_else(|| preset(id));
            providers.extend(resolved(id, definition));
        }
        let mocks: Vec<_> = MOCK_PRESET_IDS
            .iter()
            .map(|id| (*id, overrides.remove(*id).unwrap_or_else(|| preset(id))))
            .collect();
        // What is left are additions (BTreeMap: sorted by id).
        for (id, definition) in overrides {
            providers.extend(resolved(&id, definition));
        }
        for (id, definition) in mocks {
            providers.extend(resolved(id, definition));
        }
        Ok(ProvidersFile {
            source: None,
            max_concurrent_provider_calls: top.max_concurrent_provider_calls.map(|n| n.count()),
            providers,
            disabled,
        })
    }

    /// One `[providers.<id>]` table; `None` when it is disabled.
    fn provider(
        &self,
        id: &str,
        entry: toml::Table,
    ) -> Result<Option<ProviderDefinition>, ConfigError> {
        let mut path = "providers".to_owned();
        de::push_key(&mut path, id);
        if !valid_id(id) {
            return Err(self.invalid(
                path,
                "a provider id must start with a letter or digit and use only letters, digits, '-', '_' and '.' (at most 64 characters)",
            ));
        }
        let overrides_preset = entry.keys().any(|k| k != "enabled");
        let common_keys = de::keys_of::<Common>();
        let (common, own): (toml::Table, toml::Table) = entry
            .into_iter()
            .partition(|(key, _)| common_keys.contains(&key.as_str()));
        let common: Common = self.parse(&path, common, unknown_key)?;

        let preset = preset(id);
        let kind = match (common.kind, &preset) {
            (Some(Name(kind)), _) => kind,
            (None, Some(p)) => p.spec.kind(),
            (None, None) => {
                return Err(self.invalid(
                    format!("{path}.kind"),
                    format!(
                        "missing; \"{id}\" is not a preset, so say what it is: kind = {}",
                        one_of(ProviderKind::NAMES)
                    ),
                ));
            }
        };
        // Start from the preset when the kind is unchanged, else from scratch.
        let (base, origin) = match preset.filter(|p| p.spec.kind() == kind) {
            Some(p) if overrides_preset => (Some(p), DefinitionOrigin::OverriddenPreset),
            Some(p) => (Some(p), DefinitionOrigin::Preset),
            None if is_preset(id) => (None, DefinitionOrigin::OverriddenPreset),
            None => (None, DefinitionOrigin::Config),
        };
        let table = ProviderTable {
            reader: self,
            path,
            kind,
            enabled: common.enabled.is_none_or(|Switch(on)| on),
            own,
        };
        let Some(spec) = ProviderSpec::read(kind, table, base.as_ref().map(|p| p.spec.clone()))?
        else {
            return Ok(None);
        };
        let mut definition = match base {
            Some(preset) => ProviderDefinition { spec, ..preset },
            None => ProviderDefinition::new(id, spec, origin),
        };
        definition.origin = origin;
        if let Some(description) = common.description {
            definition.description = Some(description);
        }
        if let Some(Positive(timeout)) = common.timeout {
            definition.timeout = Some(timeout);
        }
        if let Some(cap) = common.max_concurrent {
            definition.max_concurrent = Some(cap.count());
        }
        Ok(Some(definition))
    }
}

/// A provider's table once its kind is known: its kind's own keys, still to be read
/// as that kind's section (by `ProviderSpec::read`, which the `kinds!` list writes).
pub struct ProviderTable<'a> {
    reader: &'a Reader<'a>,
    path: String,
    kind: ProviderKind,
    enabled: bool,
    own: toml::Table,
}

impl ProviderTable<'_> {
    /// Reads the keys as `K`'s section and, when the provider is enabled, resolves
    /// them over `base`; `None` when it is disabled.
    pub(crate) fn resolve<K: Kind>(
        self,
        base: Option<K::Spec>,
    ) -> Result<Option<K::Spec>, ConfigError> {
        let kind = self.kind;
        let section: K::Section = self.reader.parse(&self.path, self.own, |key, own_keys| {
            let settings = [de::keys_of::<Common>(), own_keys].concat();
            let elsewhere = ProviderKind::ALL
                .iter()
                .any(|&other| other != kind && ProviderSpec::keys(other).contains(&key));
            if elsewhere {
                format!(
                    "not a setting of a {kind} provider (its settings: {})",
                    settings.join(", ")
                )
            } else {
                unknown_key(key, &settings)
            }
        })?;
        if !self.enabled {
            return Ok(None);
        }
        K::resolve(base, section).map(Some).map_err(|m| {
            self.reader
                .invalid(format!("{}.{}", self.path, m.key), m.message)
        })
    }
}

/// "unknown key (did you mean `x`?)", else the keys there are.
fn unknown_key(key: &str, known: &[&str]) -> String {
    let hint = closest(key, known)
        .map(|k| format!("did you mean `{k}`?"))
        .unwrap_or_else(|| format!("known keys: {}", known.join(", ")));
    format!("unknown key ({hint})")
}

/// `"a", "b" or "c"`.
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The known key nearest to a typo (edit distance at most 2), if any.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandKind;

    #[test]
    fn suggestions_are_the_nearest_declared_key_within_two_edits() {
        let command_keys = de::keys_of::<<CommandKind as Kind>::Section>();
        assert_eq!(closest("comand", command_keys), Some("command"));
        assert_eq!(closest("timout", de::keys_of::<Common>()), Some("timeout"));
        assert_eq!(closest("zzzzzz", de::keys_of::<Common>()), None);
    }

    #[test]
    fn the_declared_keys_are_read_from_the_types() {
        assert_eq!(
            de::keys_of::<Common>(),
            [
                "kind",
                "enabled",
                "description",
                "timeout",
                "max_concurrent"
            ]
        );
        assert_eq!(
            de::keys_of::<TopLevel>(),
            ["max_concurrent_provider_calls", "providers", "database_url"]
        );
        assert_eq!(
            ProviderSpec::keys(ProviderKind::OpenAi),
            ["base_url", "model", "api_key_env"]
        );
    }

    #[test]
    fn key_paths_quote_odd_segments() {
        let mut path = "providers".to_owned();
        de::push_key(&mut path, "claude");
        assert_eq!(path, "providers.claude");
        let mut path = "providers".to_owned();
        de::push_key(&mut path, "a b");
        assert_eq!(path, "providers.\"a b\"");
    }

    #[test]
    fn one_of_lists_names_for_people() {
        assert_eq!(one_of(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
        assert_eq!(one_of(&["a"]), "\"a\"");
    }
}
