//! Provider adapters: the implementations of the discussion engine's
//! [`ProviderExecutor`](ax_discussion_domain::provider::ProviderExecutor) port.
//!
//! - [`command`]: AI command-line tools (claude, gemini, codex, grok, opencode, ollama
//!   or any program) run with an argument list — never a shell — in their own process
//!   group, with capped output, classified failures, and the whole group killed on
//!   timeout, cancellation or drop.
//! - [`openai`]: any OpenAI-compatible HTTP server (OpenAI, OpenRouter, Ollama, vLLM,
//!   llama.cpp, LM Studio).
//! - [`mock`]: deterministic simulated answers with latency and failure modes, for the
//!   offline demo, tests and benchmarks. Its answers are always labelled simulated.
//! - [`kind`]: what a provider kind is — one module implementing [`kind::Kind`], named
//!   by one line of the `kinds!` list below, from which [`ProviderSpec`] and the
//!   config reader's and registry's dispatch follow.
//! - [`config`]: `$AX_DATA_DIR/config.toml`, parsed from the kinds' declarations;
//!   [`presets`]: the built-in providers; [`registry`]: [`ProviderRegistry`], which
//!   dispatches by provider id.
//!
//! **Architecture invariant:** this crate depends only on `contracts` and
//! `discussion-domain`; it is constructed only by the composition root,
//! `crates/cli/src/app.rs` (the MCP server, which `ax mcp serve` starts, is handed
//! the engine already wired over it), and used by the engine only through the port. **API boundary:**
//! [`ProviderRegistry`], [`ProvidersFile`] and [`ConfigError`].
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use ax_adapter_providers::ProviderRegistry;
//! use ax_discussion_domain::provider::{Expects, ProviderExecutor, ProviderRequest};
//! use ax_discussion_domain::{DiscussionEngine, ProviderLimiter};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let registry = Arc::new(ProviderRegistry::builtin());
//! // The engine decides which providers a discussion uses by default; with no AI CLI
//! // installed, that is the simulated mock providers.
//! let engine = DiscussionEngine::new(registry.clone(), ProviderLimiter::new(5));
//! let defaults = engine.default_providers().await;
//! assert!(defaults.providers.len() >= 2);
//!
//! let request = ProviderRequest {
//!     provider_id: "mock-a".into(),
//!     prompt: "Topic: Should we adopt Rust?\nOptions: Yes, No\nAnswer with VOTE: and CONFIDENCE:".into(),
//!     // What the engine expects back, as data: the mock answers by it.
//!     expects: Expects::Vote { after_votes: false },
//!     system_prompt: None,
//!     temperature: None,
//!     max_tokens: None,
//!     timeout: Duration::from_secs(5),
//! };
//! let answer = registry.execute(request.clone()).await.unwrap();
//! assert!(answer.simulated);
//! assert!(answer.content.starts_with("[simulated]"));
//! assert!(answer.content.contains("VOTE: Yes") || answer.content.contains("VOTE: No"));
//! // Deterministic: the same provider and prompt give the same answer.
//! assert_eq!(registry.execute(request).await.unwrap().content, answer.content);
//! # });
//! ```

#[macro_use]
pub mod kind;
pub mod classify;
pub mod config;
pub mod definition;
pub mod duration;
pub mod presets;
pub mod registry;

// Every provider kind: its contract name (`ProviderKind`), its module, and the type
// implementing `kind::Kind` there. One line per kind; `ProviderSpec` and the config
// reader's and registry's dispatch follow from this list.
kinds! {
    Command => command::CommandKind,
    OpenAi => openai::OpenAiKind,
    Mock => mock::MockKind,
}

pub use config::{ConfigError, ProvidersFile};
pub use definition::{ProviderDefinition, ProviderKind};
pub use registry::ProviderRegistry;
