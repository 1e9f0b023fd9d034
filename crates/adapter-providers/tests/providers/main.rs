//! Integration tests of the provider adapters, as one test binary (one link instead of
//! one per file). Fake CLIs live in the workspace's `tests/fixtures/providers`; HTTP
//! tests start their own server on loopback.

mod cli_errors;
mod command_faults;
mod config;
mod conformance;
mod helpers;
mod mock;
mod openai;
mod presets;
mod registry;
