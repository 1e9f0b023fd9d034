//! The agent registry: use cases over the [`store::AgentStore`] port.
//!
//! **Architecture invariant:** no I/O here; storage is reached only through the port.

pub mod store;
