//! Plain data and validation for AutomatosX: the agent profile contract, the
//! discussion configuration and result, and the error codes users see.
//!
//! **Architecture invariant:** this crate does no I/O and depends on no other
//! workspace crate; every other crate depends on it. JSON field names here are the
//! user-visible contract (camelCase), shared by the CLI and the MCP server.
//!
//! Contract values enter through one parser, [`parse::Valid::parse`], which walks the
//! type's published schema ([`schema`]) and then the contract's own rules:
//!
//! ```
//! use ax_contracts::agent::AgentProfile;
//! use ax_contracts::parse::Valid;
//! let errors = Valid::<AgentProfile>::parse(&serde_json::json!({"agentId": ""})).unwrap_err();
//! let paths: Vec<&str> = errors.issues.iter().map(|i| i.path.as_str()).collect();
//! assert_eq!(paths, ["description", "agentId"]); // required fields first
//! ```

// `wire_enum!` names serde and schemars by an absolute path (their derives take the
// path as a string, where `$crate` is not expanded); this makes that path resolve
// inside this crate too.
extern crate self as ax_contracts;

#[macro_use]
mod wire_enum;

pub mod agent;
pub mod discussion;
pub mod error;
pub mod parse;
pub mod provider;
pub mod schema;
pub mod validation;

/// What [`wire_enum!`] expands to refers to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
}
