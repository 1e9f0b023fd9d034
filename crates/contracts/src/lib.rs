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

pub mod agent;
pub mod discussion;
pub mod error;
pub mod provider;
pub mod validation;
