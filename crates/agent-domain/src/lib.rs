//! The agent registry: use cases over the [`store::AgentStore`] port.
//!
//! **Architecture invariant:** no I/O here; storage is reached only through the port,
//! and the store alone decides whether an id is taken (INV-AGT-REG-001).
//!
//! **API boundary:** [`AgentRegistry`] (use cases), [`store::AgentStore`] (the port a
//! backend implements, checked by [`conformance`] when the `conformance` feature is
//! on), [`AgentError`] (one error enum, one user-visible code per variant).
//!
//! ```
//! use std::sync::Arc;
//! use ax_agent_domain::{AgentError, AgentRegistry, memory::MemoryAgentStore};
//! use ax_contracts::agent::AgentProfile;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let registry = AgentRegistry::new(Arc::new(MemoryAgentStore::new()));
//! let doc = serde_json::json!({"agentId": "rusty", "description": "Reviews Rust code"});
//! // The edge parses; the registry takes only a parsed profile.
//! let profile = AgentProfile::from_json(&doc)?;
//! registry.register(profile.clone()).await?;
//! // A second registration of the same id is refused by the store, not by a pre-check.
//! let err = registry.register(profile).await.unwrap_err();
//! assert_eq!(err.to_string(), r#"Agent with ID "rusty" already exists"#);
//! # Ok::<(), AgentError>(())
//! # }).unwrap();
//! ```

pub mod capabilities;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod defaults;
pub mod error;
pub mod import;
pub mod memory;
pub mod recommend;
pub mod registry;
#[cfg(any(test, feature = "sample"))]
pub mod sample;
pub mod store;

pub use error::AgentError;
pub use registry::AgentRegistry;
