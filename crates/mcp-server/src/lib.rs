//! The MCP server of AutomatosX: the agent registry and the discussion engine as MCP
//! tools and resources, over stdio ([`serve_stdio`]) and Streamable HTTP
//! ([`HttpServer`]), built on `rmcp`.
//!
//! **Architecture invariant:** this crate is handed wired services ([`McpServices`]);
//! it constructs no adapter and depends on no adapter crate. Every rmcp type stays
//! inside it: the public API speaks contracts and domain types only.
//!
//! **API boundary:** [`McpServices`] + [`McpOptions`] (what the CLI fills in),
//! [`serve_stdio`], [`HttpServer`] / [`HttpOptions`], [`ServeError`], and
//! [`tool_reference`] (the tool list with its schemas, for documentation checks).
//!
//! Where to look: the tools in `tools/`, one file each, listed in `tools::ALL`; their
//! published schemas in `catalog` (argument checking is the contracts' one engine,
//! `ax_contracts::schema`, called from `handler`); how failures become
//! `isError` results in `failure`; resources in `resources`; progress notifications
//! in `progress`; the two transports in `stdio` and `http`.
//!
//! Every tool declares an input and an output schema, generated from the contract
//! types; undeclared input fields are refused, not dropped:
//!
//! ```
//! let tools = ax_mcp_server::tool_reference();
//! assert_eq!(tools[0].name, "agent_list");
//! let register = tools.iter().find(|t| t.name == "agent_register").unwrap();
//! assert_eq!(register.input_schema["additionalProperties"], false);
//! // A success or the `{"error": …}` envelope, so hosts that validate errors show them.
//! assert!(register.output_schema["anyOf"][0]["properties"]["registered"].is_object());
//! ```
//!
//! Serving, given the services a composition root wired (see `ax-cli`'s `app.rs`):
//!
//! ```no_run
//! # async fn serve(services: ax_mcp_server::McpServices) -> Result<(), ax_mcp_server::ServeError> {
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! ax_mcp_server::serve_stdio(services, ax_mcp_server::McpOptions::default(), shutdown).await
//! # }
//! ```

mod catalog;
mod failure;
mod handler;
mod http;
#[cfg(test)]
mod limit_probe;
mod progress;
mod resources;
mod schema;
mod services;
mod stdio;
mod tools;

pub use catalog::{ToolDoc, tool_reference};
pub use http::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_SESSIONS,
    HttpOptions, HttpServer,
};
pub use services::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_STALLED_OUTPUT_TIMEOUT,
    DEFAULT_TOOL_PREFIX, McpOptions, McpServices,
};
pub use stdio::serve_stdio;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The options are unusable (e.g. a non-loopback address without a token).
    #[error("{0}")]
    Config(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing the transport failed.
    #[error("transport failure: {0}")]
    Io(#[from] std::io::Error),
}
