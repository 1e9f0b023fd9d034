//! Integration tests of the contracts: agent profiles (fixtures, every rule, the JSON
//! Schema, workflows) and the discussion configuration. One test binary (modules
//! below) instead of one per file: each extra binary links the whole dependency tree
//! again, which costs more build time than its tests take to run.
//!
//! Fixtures stay in `tests/fixtures/` (shared by the modules, read with
//! `include_str!`).

mod agent_fixtures;
mod agent_rules;
mod agent_schema;
mod agent_workflow;
mod discussion_config;
