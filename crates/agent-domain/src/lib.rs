//! The agent registry: use cases over the [`store::AgentStore`] port.
//!
//! **Architecture invariant:** no I/O here; storage is reached only through the port,
//! and the store alone decides whether an id is taken (INV-AGT-REG-001).

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod error;
pub mod memory;
pub mod store;

pub use error::AgentError;
