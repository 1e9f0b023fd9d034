//! The discussion engine: puts one topic to several AI providers in a structured
//! pattern and synthesizes their answers.
//!
//! **Architecture invariant:** no I/O here. Providers are reached only through the
//! [`provider::ProviderExecutor`] port, and every call passes the one process-wide
//! [`ProviderLimiter`] (INV-DISC-RATE-001). Parallel rounds collect every outcome
//! before deciding (INV-DISC-103).
//!
//! **API boundary:** [`DiscussionService`] (validate → prepare → run → save) is what the
//! CLI and the MCP server call; [`DiscussionEngine`] runs without saving. The ports
//! are [`provider::ProviderExecutor`], [`history::DiscussionHistory`] and
//! [`participants::ParticipantResolver`].
//!
//! Where to look: a call's life (permit, timeout, retry, cancellation) is in `call`;
//! the patterns in `patterns/`; the consensus methods in `consensus/`; what each
//! prompt asks in [`prompts`]; how answers are read in [`parse`].
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use ax_contracts::discussion::DiscussionConfig;
//! use ax_contracts::parse::Valid;
//! use ax_discussion_domain::provider::*;
//! use ax_discussion_domain::{
//!     DiscussionEngine, DiscussionService, InMemoryHistory, ProviderLimiter, RunOptions,
//! };
//!
//! /// A provider that always answers the same thing.
//! struct Echo;
//!
//! #[async_trait]
//! impl ProviderExecutor for Echo {
//!     async fn execute(&self, req: ProviderRequest) -> Result<ProviderResponse, ProviderError> {
//!         Ok(ProviderResponse {
//!             content: format!("{} says: use SQLite.", req.provider_id),
//!             input_tokens: None,
//!             output_tokens: None,
//!             duration: std::time::Duration::ZERO,
//!             simulated: true,
//!         })
//!     }
//!     async fn is_available(&self, _id: &str) -> bool {
//!         true
//!     }
//!     fn providers(&self) -> Vec<ProviderInfo> {
//!         ["a", "b"]
//!             .map(|id| ProviderInfo {
//!                 id: id.into(),
//!                 kind: ProviderKind::Mock,
//!                 description: "echo".into(),
//!                 simulated: true,
//!                 max_concurrent: None,
//!                 default_timeout: None,
//!             })
//!             .to_vec()
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! // One limiter per process; every engine and service shares it.
//! let limiter = ProviderLimiter::new(5);
//! let history = Arc::new(InMemoryHistory::new());
//! let service = DiscussionService::new(DiscussionEngine::new(Arc::new(Echo), limiter), history.clone());
//!
//! // The engine takes only a parsed configuration: `DiscussionConfig::from_json` for
//! // JSON, `Valid::from_typed` for one built in code.
//! let config = Valid::from_typed(&DiscussionConfig::new("Where should agents be stored?"))
//!     .expect("valid configuration");
//! let result = service.discuss(config, RunOptions::default()).await.expect("runs");
//! assert!(result.success);
//! assert_eq!(result.participating_providers, ["a", "b"]);
//! assert!(result.metadata.simulated);
//! assert_eq!(history.records().len(), 1); // saved, whatever the outcome
//! # });
//! ```

mod agreement;
mod call;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod consensus;
mod engine;
pub mod history;
pub mod limiter;
mod memory_history;
pub mod parse;
pub mod participants;
mod patterns;
pub mod progress;
pub mod prompts;
pub mod provider;
mod recursive;
pub mod response_format;
mod retry;
mod run;
mod service;
mod state;

pub use agreement::{lexical_agreement, modal_share};
pub use engine::{DefaultSelection, DiscussionEngine, PreparedDiscussion, RunOptions};
pub use limiter::{DEFAULT_MAX_CONCURRENT_PROVIDER_CALLS, ProviderLimiter};
pub use memory_history::InMemoryHistory;
pub use participants::{AgentPersona, NoAgents, ParticipantResolver, Speaker, StaticAgents};
pub use progress::{CallPhase, ProgressEvent, ProgressSink, Step};
pub use service::{DiscussionService, ServiceError, status_of};
