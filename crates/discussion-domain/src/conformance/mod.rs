//! Test kits for this crate's ports: the behaviour every implementation must show,
//! written once and run against each of them, so that a new backend or provider kind
//! proves itself by one line in its own tests.
//!
//! - [`history`]: the [`DiscussionHistory`](crate::history::DiscussionHistory) kit,
//!   [`discussion_history_conformance!`](crate::discussion_history_conformance) — run
//!   against [`InMemoryHistory`](crate::InMemoryHistory) here and the SQLite history in
//!   `ax-adapter-sqlite`.
//! - [`provider`]: the [`ProviderExecutor`](crate::provider::ProviderExecutor) kit,
//!   [`provider_executor_conformance!`](crate::provider_executor_conformance) — run
//!   against the mock, command and OpenAI-compatible providers in
//!   `ax-adapter-providers`.
//!
//! Enabled by the `conformance` feature (and in this crate's own tests). The macros
//! need `tokio` (features `macros`, `rt-multi-thread`) as a dev-dependency of the
//! crate that calls them.

pub mod history;
pub mod provider;
