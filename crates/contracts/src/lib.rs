//! Plain data and validation for AutomatosX: the agent profile contract, the
//! discussion configuration and result, and the error codes users see.
//!
//! **Architecture invariant:** this crate does no I/O and depends on no other
//! workspace crate; every other crate depends on it. JSON field names here are the
//! user-visible contract (camelCase), shared by the CLI and the MCP server.
//!
//! ```
//! use ax_contracts::validation::{Checker, JsonPath};
//! let mut checker = Checker::new();
//! checker.string(&serde_json::json!(""), &JsonPath::root().key("agentId"), 1, 50);
//! let errors = checker.finish().unwrap_err();
//! assert_eq!(errors.issues[0].path, "agentId");
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
pub mod provider;
pub mod validation;

/// What [`wire_enum!`] expands to refers to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
}
