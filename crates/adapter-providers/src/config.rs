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
//! Keys of every provider: `kind` (`command` | `openai` | `mock`), `enabled`,
//! `description`, `timeout` (`"90s"`, `"10m"`), `max_concurrent` (1–64).
//! - command: `command` (argument list), `args` (appended), `prompt` (`stdin` | `arg`),
//!   `prompt_flag`, `system_prompt_flag`, `output` (`text` | `json` | `jsonl` | a
//!   preset parser such as `claude-json`), `env` (table of strings),
//!   `max_output_bytes`.
//! - openai: `base_url`, `model`, `api_key_env`.
//! - mock: `latency`, `mode` (`ok` | `fail` | `hang` | `garbage` | `slow`),
//!   `fail_first`, `fail_kind` (an error kind such as `rate_limit`), `retry_after`.
//!
//! A table whose `kind` differs from its preset's replaces the preset (e.g. run
//! `ollama` over HTTP). Unknown keys are errors, with the file, the key path and a
//! suggestion: a typo must never be silently ignored.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use ax_discussion_domain::provider::ProviderErrorKind;
use toml::Value;

use crate::command::spec::{CommandSpec, OutputFormat, PromptMode};
use crate::definition::{DefinitionOrigin, ProviderDefinition, ProviderKind, ProviderSpec};
use crate::duration::parse_duration;
use crate::mock::{MockMode, MockSpec};
use crate::openai::OpenAiSpec;
use crate::presets::{COMMAND_PRESET_IDS, MOCK_PRESET_IDS, is_preset, preset};

/// The config file's name inside the data directory.
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// Range of `max_concurrent_provider_calls` and of per-provider `max_concurrent`.
pub const CONCURRENCY_RANGE: std::ops::RangeInclusive<i64> = 1..=64;

/// `database_url` belongs to the CLI's composition root, which reads it from the same
/// file to choose the storage backend; it is accepted (and ignored) here so one
/// config.toml holds both.
const TOP_LEVEL_KEYS: &[&str] = &["max_concurrent_provider_calls", "providers", "database_url"];
const COMMON_KEYS: &[&str] = &[
    "kind",
    "enabled",
    "description",
    "timeout",
    "max_concurrent",
];
const COMMAND_KEYS: &[&str] = &[
    "command",
    "args",
    "prompt",
    "prompt_flag",
    "system_prompt_flag",
    "output",
    "env",
    "max_output_bytes",
];
const OPENAI_KEYS: &[&str] = &["base_url", "model", "api_key_env"];
const MOCK_KEYS: &[&str] = &["latency", "mode", "fail_first", "fail_kind", "retry_after"];

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
        Parser { file }.file(&table)
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

struct Parser<'a> {
    file: &'a str,
}

impl Parser<'_> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn file(&self, table: &toml::Table) -> Result<ProvidersFile, ConfigError> {
        for key in table.keys() {
            if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
                return Err(self.unknown_key(&key_path(&[key]), key, TOP_LEVEL_KEYS));
            }
        }
        let max_concurrent_provider_calls = table
            .get("max_concurrent_provider_calls")
            .map(|v| self.concurrency("max_concurrent_provider_calls", v))
            .transpose()?;

        let mut overrides = BTreeMap::new();
        if let Some(value) = table.get("providers") {
            let Value::Table(providers) = value else {
                return Err(self.invalid(
                    "providers",
                    format!("expected a table of providers, found {}", type_name(value)),
                ));
            };
            for (id, value) in providers {
                let path = key_path(&["providers", id]);
                let Value::Table(entry) = value else {
                    return Err(self.invalid(
                        &path,
                        format!("expected a table ([{path}]), found {}", type_name(value)),
                    ));
                };
                overrides.insert(id.clone(), self.provider(id, &path, entry)?);
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
            max_concurrent_provider_calls,
            providers,
            disabled,
        })
    }

    /// One `[providers.<id>]` table; `None` when it is disabled.
    fn provider(
        &self,
        id: &str,
        path: &str,
        entry: &toml::Table,
    ) -> Result<Option<ProviderDefinition>, ConfigError> {
        if !valid_id(id) {
            return Err(self.invalid(
                path,
                "a provider id must start with a letter or digit and use only letters, digits, '-', '_' and '.' (at most 64 characters)",
            ));
        }
        let every_key: Vec<&str> = [COMMON_KEYS, COMMAND_KEYS, OPENAI_KEYS, MOCK_KEYS].concat();
        for key in entry.keys() {
            if !every_key.contains(&key.as_str()) {
                return Err(self.unknown_key(&format!("{path}.{key}"), key, &every_key));
            }
        }
        let field = |key: &str| entry.get(key).map(|v| (format!("{path}.{key}"), v));

        let preset = preset(id);
        let kind = match field("kind") {
            Some((key, value)) => {
                let text = self.string(&key, value)?;
                ProviderKind::from_wire(text).ok_or_else(|| {
                    self.invalid(
                        &key,
                        format!(
                            "unknown kind \"{text}\" (expected one of {})",
                            quoted(ProviderKind::NAMES)
                        ),
                    )
                })?
            }
            None => match &preset {
                Some(p) => p.spec.kind(),
                None => {
                    return Err(self.invalid(
                        &format!("{path}.kind"),
                        format!("missing; \"{id}\" is not a preset, so say what it is: kind = \"command\", \"openai\" or \"mock\""),
                    ));
                }
            },
        };
        let kind_keys = match kind {
            ProviderKind::Command => COMMAND_KEYS,
            ProviderKind::OpenAi => OPENAI_KEYS,
            ProviderKind::Mock => MOCK_KEYS,
        };
        for key in entry.keys() {
            if !COMMON_KEYS.contains(&key.as_str()) && !kind_keys.contains(&key.as_str()) {
                return Err(self.invalid(
                    &format!("{path}.{key}"),
                    format!(
                        "not a setting of a {kind} provider (its settings: {})",
                        [COMMON_KEYS, kind_keys].concat().join(", ")
                    ),
                ));
            }
        }

        if let Some((key, value)) = field("enabled")
            && !self.boolean(&key, value)?
        {
            return Ok(None);
        }

        // Start from the preset when the kind is unchanged, else from scratch.
        let mut definition = match preset.filter(|p| p.spec.kind() == kind) {
            Some(mut p) => {
                p.origin = if entry.keys().any(|k| k != "enabled") {
                    DefinitionOrigin::OverriddenPreset
                } else {
                    DefinitionOrigin::Preset
                };
                p
            }
            None => {
                let origin = if is_preset(id) {
                    DefinitionOrigin::OverriddenPreset
                } else {
                    DefinitionOrigin::Config
                };
                let spec = match kind {
                    ProviderKind::Command => ProviderSpec::Command(CommandSpec::new(Vec::new())),
                    ProviderKind::OpenAi => ProviderSpec::OpenAi(OpenAiSpec {
                        base_url: String::new(),
                        model: String::new(),
                        api_key_env: None,
                    }),
                    ProviderKind::Mock => ProviderSpec::Mock(MockSpec::default()),
                };
                ProviderDefinition::new(id, spec, origin)
            }
        };

        if let Some((key, value)) = field("description") {
            definition.description = Some(self.string(&key, value)?.to_owned());
        }
        if let Some((key, value)) = field("timeout") {
            definition.timeout = Some(self.positive_duration(&key, value)?);
        }
        if let Some((key, value)) = field("max_concurrent") {
            definition.max_concurrent = Some(self.concurrency(&key, value)?);
        }

        match &mut definition.spec {
            ProviderSpec::Command(spec) => self.command(path, entry, spec)?,
            ProviderSpec::OpenAi(spec) => self.openai(path, entry, spec)?,
            ProviderSpec::Mock(spec) => self.mock(path, entry, spec)?,
        }
        Ok(Some(definition))
    }

    fn command(
        &self,
        path: &str,
        entry: &toml::Table,
        spec: &mut CommandSpec,
    ) -> Result<(), ConfigError> {
        let field = |key: &str| entry.get(key).map(|v| (format!("{path}.{key}"), v));
        if let Some((key, value)) = field("command") {
            let command = self.string_list(&key, value)?;
            if command.first().is_none_or(|p| p.trim().is_empty()) {
                return Err(
                    self.invalid(&key, "must name a program, e.g. [\"claude\", \"--print\"]")
                );
            }
            spec.command = command;
        }
        if spec.command.is_empty() {
            return Err(self.invalid(
                &format!("{path}.command"),
                "missing; a command provider needs command = [\"program\", \"arg\", ...]",
            ));
        }
        if let Some((key, value)) = field("args") {
            spec.args = self.string_list(&key, value)?;
        }
        if let Some((key, value)) = field("prompt") {
            let text = self.string(&key, value)?;
            spec.prompt = PromptMode::from_wire(text).ok_or_else(|| {
                self.invalid(
                    &key,
                    format!("unknown prompt mode \"{text}\" (expected \"stdin\" or \"arg\")"),
                )
            })?;
        }
        if let Some((key, value)) = field("prompt_flag") {
            spec.prompt_flag = Some(self.nonempty_string(&key, value)?);
        }
        if let Some((key, value)) = field("system_prompt_flag") {
            spec.system_prompt_flag = Some(self.nonempty_string(&key, value)?);
        }
        if let Some((key, value)) = field("output") {
            let text = self.string(&key, value)?;
            spec.output = OutputFormat::from_wire(text).ok_or_else(|| {
                self.invalid(
                    &key,
                    format!(
                        "unknown output format \"{text}\" (expected one of {})",
                        quoted(OutputFormat::NAMES)
                    ),
                )
            })?;
        }
        if let Some((key, value)) = field("env") {
            let Value::Table(vars) = value else {
                return Err(self.invalid(
                    &key,
                    format!("expected a table of strings, found {}", type_name(value)),
                ));
            };
            for (name, value) in vars {
                let var_key = format!("{key}.{name}");
                if name.is_empty() || name.contains('=') || name.contains('\0') {
                    return Err(self.invalid(&var_key, "not a valid environment variable name"));
                }
                let text = self.string(&var_key, value)?;
                if text.contains('\0') {
                    return Err(
                        self.invalid(&var_key, "environment values cannot contain NUL bytes")
                    );
                }
                spec.env.insert(name.clone(), text.to_owned());
            }
        }
        if let Some((key, value)) = field("max_output_bytes") {
            spec.max_output_bytes = self.integer_in(&key, value, 1..=(1 << 30))? as usize;
        }
        Ok(())
    }

    fn openai(
        &self,
        path: &str,
        entry: &toml::Table,
        spec: &mut OpenAiSpec,
    ) -> Result<(), ConfigError> {
        let field = |key: &str| entry.get(key).map(|v| (format!("{path}.{key}"), v));
        if let Some((key, value)) = field("base_url") {
            let url = self.string(&key, value)?.trim().to_owned();
            let valid = reqwest::Url::parse(&url)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !valid {
                return Err(self.invalid(
                    &key,
                    format!("\"{url}\" is not an http(s) URL, e.g. \"http://127.0.0.1:11434/v1\""),
                ));
            }
            spec.base_url = url;
        }
        if spec.base_url.is_empty() {
            return Err(self.invalid(
                &format!("{path}.base_url"),
                "missing; an openai provider needs base_url = \"https://host/v1\"",
            ));
        }
        if let Some((key, value)) = field("model") {
            spec.model = self.nonempty_string(&key, value)?;
        }
        if spec.model.is_empty() {
            return Err(self.invalid(
                &format!("{path}.model"),
                "missing; an openai provider needs model = \"...\"",
            ));
        }
        if let Some((key, value)) = field("api_key_env") {
            spec.api_key_env = Some(self.nonempty_string(&key, value)?);
        }
        Ok(())
    }

    fn mock(
        &self,
        path: &str,
        entry: &toml::Table,
        spec: &mut MockSpec,
    ) -> Result<(), ConfigError> {
        let field = |key: &str| entry.get(key).map(|v| (format!("{path}.{key}"), v));
        if let Some((key, value)) = field("latency") {
            spec.latency = self.duration(&key, value)?;
        }
        if let Some((key, value)) = field("mode") {
            let text = self.string(&key, value)?;
            spec.mode = MockMode::from_wire(text).ok_or_else(|| {
                self.invalid(
                    &key,
                    format!(
                        "unknown mode \"{text}\" (expected one of {})",
                        quoted(MockMode::NAMES)
                    ),
                )
            })?;
        }
        if let Some((key, value)) = field("fail_first") {
            spec.fail_first = self.integer_in(&key, value, 0..=1_000_000)? as u64;
        }
        if let Some((key, value)) = field("fail_kind") {
            let text = self.string(&key, value)?;
            spec.fail_kind = Some(ProviderErrorKind::from_wire(text).ok_or_else(|| {
                self.invalid(
                    &key,
                    format!(
                        "unknown error kind \"{text}\" (expected one of {})",
                        quoted(ProviderErrorKind::NAMES)
                    ),
                )
            })?);
        }
        if let Some((key, value)) = field("retry_after") {
            spec.retry_after = Some(self.duration(&key, value)?);
        }
        Ok(())
    }

    fn unknown_key(&self, path: &str, key: &str, known: &[&str]) -> ConfigError {
        let hint = closest(key, known)
            .map(|k| format!("did you mean `{k}`?"))
            .unwrap_or_else(|| format!("known keys: {}", known.join(", ")));
        self.invalid(path, format!("unknown key ({hint})"))
    }

    fn string<'v>(&self, key: &str, value: &'v Value) -> Result<&'v str, ConfigError> {
        value.as_str().ok_or_else(|| {
            self.invalid(
                key,
                format!("expected a string, found {}", type_name(value)),
            )
        })
    }

    fn nonempty_string(&self, key: &str, value: &Value) -> Result<String, ConfigError> {
        let text = self.string(key, value)?;
        if text.trim().is_empty() {
            return Err(self.invalid(key, "must not be empty"));
        }
        Ok(text.to_owned())
    }

    fn boolean(&self, key: &str, value: &Value) -> Result<bool, ConfigError> {
        value.as_bool().ok_or_else(|| {
            self.invalid(
                key,
                format!("expected true or false, found {}", type_name(value)),
            )
        })
    }

    fn integer_in(
        &self,
        key: &str,
        value: &Value,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        let number = value.as_integer().ok_or_else(|| {
            self.invalid(
                key,
                format!("expected an integer, found {}", type_name(value)),
            )
        })?;
        if !range.contains(&number) {
            return Err(self.invalid(
                key,
                format!(
                    "{number} is out of range ({}–{})",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(number)
    }

    fn concurrency(&self, key: &str, value: &Value) -> Result<usize, ConfigError> {
        Ok(self.integer_in(key, value, CONCURRENCY_RANGE)? as usize)
    }

    fn duration(&self, key: &str, value: &Value) -> Result<Duration, ConfigError> {
        let text = value.as_str().ok_or_else(|| {
            self.invalid(
                key,
                format!(
                    "expected a duration string such as \"90s\", \"10m\" or \"200ms\", found {}",
                    type_name(value)
                ),
            )
        })?;
        parse_duration(text).map_err(|message| self.invalid(key, message))
    }

    fn positive_duration(&self, key: &str, value: &Value) -> Result<Duration, ConfigError> {
        let duration = self.duration(key, value)?;
        if duration.is_zero() {
            return Err(self.invalid(key, "must be longer than zero"));
        }
        Ok(duration)
    }

    fn string_list(&self, key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
        let Value::Array(items) = value else {
            return Err(self.invalid(
                key,
                format!("expected a list of strings, found {}", type_name(value)),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let text = self.string(&format!("{key}[{i}]"), item)?;
                if text.contains('\0') {
                    return Err(
                        self.invalid(&format!("{key}[{i}]"), "arguments cannot contain NUL bytes")
                    );
                }
                Ok(text.to_owned())
            })
            .collect()
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

/// `providers.claude`, quoting segments that are not bare TOML keys.
fn key_path(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            {
                (*s).to_owned()
            } else {
                format!("{s:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
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

    #[test]
    fn suggestions_are_the_nearest_key_within_two_edits() {
        assert_eq!(closest("comand", COMMAND_KEYS), Some("command"));
        assert_eq!(closest("timout", COMMON_KEYS), Some("timeout"));
        assert_eq!(closest("zzzzzz", COMMON_KEYS), None);
    }

    #[test]
    fn key_paths_quote_odd_segments() {
        assert_eq!(key_path(&["providers", "claude"]), "providers.claude");
        assert_eq!(key_path(&["providers", "a b"]), "providers.\"a b\"");
    }
}
