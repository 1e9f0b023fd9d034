//! Defaults and limits of the discussion configuration, named once so that the
//! validator (`validate.rs`), the published JSON Schema (the `schemars` attributes in
//! `config.rs`) and the engine agree.

/// Longest topic, in characters.
pub const TOPIC_MAX_CHARS: usize = 5000;
/// Longest background context, in characters.
pub const CONTEXT_MAX_CHARS: usize = 10_000;
/// Longest per-provider first-round prompt, in characters.
pub const PROVIDER_PROMPT_MAX_CHARS: usize = 10_000;
/// Provider, agent and speaker ids: a letter or digit, then letters, digits, `.`, `_`,
/// `-`. Why restricted: ids become map keys, CLI arguments and history columns.
pub const ID_PATTERN: &str = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$";
/// Longest provider or agent id, in characters.
pub const ID_MAX_CHARS: usize = 64;
/// Fewest providers a discussion names explicitly.
pub const MIN_PROVIDERS_LISTED: usize = 2;
/// Fewest entries of `participants` when it is given.
pub const PARTICIPANTS_MIN: usize = 1;
/// Most speakers (providers plus participants) in one discussion.
pub const MAX_SPEAKERS: usize = 6;
/// Round range and default.
pub const ROUNDS_MIN: u32 = 1;
/// See [`ROUNDS_MIN`].
pub const ROUNDS_MAX: u32 = 10;
/// See [`ROUNDS_MIN`].
pub const ROUNDS_DEFAULT: u32 = 2;
/// Per-call provider timeout range and default, in milliseconds (5 s – 30 min [10 min]).
pub const PROVIDER_TIMEOUT_MIN_MS: u64 = 5_000;
/// See [`PROVIDER_TIMEOUT_MIN_MS`].
pub const PROVIDER_TIMEOUT_MAX_MS: u64 = 30 * 60 * 1000;
/// The timeout of a call when neither the discussion (`providerTimeout`) nor the
/// provider's `config.toml` table (`timeout`) sets one.
pub const PROVIDER_TIMEOUT_DEFAULT_MS: u64 = 10 * 60 * 1000;
/// Fewest speakers `minProviders` may ask for (its most is [`MAX_SPEAKERS`]).
pub const MIN_PROVIDERS_MIN: u32 = 1;
/// Default number of providers that must succeed.
pub const MIN_PROVIDERS_DEFAULT: u32 = 2;
/// Sampling temperature range and default.
pub const TEMPERATURE_MIN: f64 = 0.0;
/// See [`TEMPERATURE_MIN`].
pub const TEMPERATURE_MAX: f64 = 2.0;
/// See [`TEMPERATURE_MIN`].
pub const TEMPERATURE_DEFAULT: f64 = 0.7;
/// Agent vote-weight multiplier range and default.
pub const AGENT_WEIGHT_MIN: f64 = 0.5;
/// See [`AGENT_WEIGHT_MIN`].
pub const AGENT_WEIGHT_MAX: f64 = 3.0;
/// See [`AGENT_WEIGHT_MIN`].
pub const AGENT_WEIGHT_DEFAULT: f64 = 1.5;
/// Consensus threshold range and default (0–1 [0.5]).
pub const THRESHOLD_MIN: f64 = 0.0;
/// See [`THRESHOLD_MIN`].
pub const THRESHOLD_MAX: f64 = 1.0;
/// See [`THRESHOLD_MIN`].
pub const THRESHOLD_DEFAULT: f64 = 0.5;
/// Early-exit agreement threshold range and default.
pub const AGREEMENT_THRESHOLD_MIN: f64 = 0.5;
/// See [`AGREEMENT_THRESHOLD_MIN`].
pub const AGREEMENT_THRESHOLD_MAX: f64 = 1.0;
/// See [`AGREEMENT_THRESHOLD_MIN`].
pub const AGREEMENT_THRESHOLD_DEFAULT: f64 = 0.85;
/// Per-discussion concurrency range (it can only lower the process-wide limit).
pub const MAX_CONCURRENT_MIN: u32 = 1;
/// See [`MAX_CONCURRENT_MIN`].
pub const MAX_CONCURRENT_MAX: u32 = 64;
/// Recursive depth range and default.
pub const MAX_DEPTH_MIN: u32 = 1;
/// See [`MAX_DEPTH_MIN`].
pub const MAX_DEPTH_MAX: u32 = 4;
/// See [`MAX_DEPTH_MIN`].
pub const MAX_DEPTH_DEFAULT: u32 = 2;
/// Recursive call budget range and default.
pub const MAX_TOTAL_CALLS_MIN: u32 = 2;
/// See [`MAX_TOTAL_CALLS_MIN`].
pub const MAX_TOTAL_CALLS_MAX: u32 = 100;
/// See [`MAX_TOTAL_CALLS_MIN`].
pub const MAX_TOTAL_CALLS_DEFAULT: u32 = 20;
/// Recursive time budget range, in milliseconds (1 s – 24 h).
pub const TOTAL_BUDGET_MIN_MS: u64 = 1_000;
/// See [`TOTAL_BUDGET_MIN_MS`].
pub const TOTAL_BUDGET_MAX_MS: u64 = 24 * 60 * 60 * 1000;
