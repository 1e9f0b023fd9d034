//! The discussion engine: puts one topic to several AI providers in a structured
//! pattern and synthesizes their answers.
//!
//! **Architecture invariant:** no I/O here. Providers are reached only through the
//! [`provider::ProviderExecutor`] port, and every call passes the one process-wide
//! limiter (INV-DISC-RATE-001).

pub mod history;
pub mod provider;
pub mod response_format;
