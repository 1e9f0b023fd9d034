//! What the composition root hands the server: the wired services and the options.

use std::sync::Arc;

use ax_agent_domain::AgentRegistry;
use ax_discussion_domain::DiscussionService;
use ax_discussion_domain::history::DiscussionHistory;

/// The prefix tool names carry unless `AX_MCP_TOOL_PREFIX` says otherwise. Why a
/// prefix: clients put every server's tools in one namespace, and `agent_list` is a
/// name other servers use too.
pub const DEFAULT_TOOL_PREFIX: &str = "ax_";

/// Largest JSON-RPC message accepted (one stdio line, one HTTP body): 4 MiB. A
/// maximal agent profile or discussion configuration is far below this; anything
/// larger is refused without being buffered.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Most requests one stdio client may have in flight (read but not yet answered,
/// answers not yet written): 64. At the cap the server stops reading stdin, so a
/// client that floods requests, or stops reading its answers, is slowed down instead
/// of growing the server's memory.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// After stdin is closed, how long answers may wait for the client to read any of
/// them before the server gives up and exits: 10 s.
pub const DEFAULT_STALLED_OUTPUT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The services the tools call, wired by the caller (the CLI's `App`). Cheap to
/// clone: everything inside is shared.
#[derive(Clone)]
pub struct McpServices {
    /// The agent registry (over the shared database).
    pub agents: AgentRegistry,
    /// Runs and saves discussions; its engine holds the process-wide provider
    /// limiter, so every discussion of this server shares one cap
    /// (INV-DISC-RATE-001).
    pub discussions: Arc<DiscussionService>,
    /// Saved discussions, for `discussion_get` / `discussion_list` and the
    /// `automatosx://discussions/{id}` resource.
    pub history: Arc<dyn DiscussionHistory>,
}

impl std::fmt::Debug for McpServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServices").finish_non_exhaustive()
    }
}

/// How the server presents itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOptions {
    /// Prefix of the exposed tool names (`ax_` by default; empty: none). Calls with
    /// and without the prefix are both accepted.
    pub tool_prefix: String,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// The version reported in `serverInfo`.
    pub server_version: String,
    /// stdio: most requests in flight before the server stops reading stdin
    /// (at least 1).
    pub max_in_flight: usize,
    /// stdio: once stdin is closed, the server exits when its pending answers have
    /// not been read for this long.
    pub stalled_output_timeout: std::time::Duration,
}

impl Default for McpOptions {
    fn default() -> Self {
        Self {
            tool_prefix: DEFAULT_TOOL_PREFIX.to_owned(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            stalled_output_timeout: DEFAULT_STALLED_OUTPUT_TIMEOUT,
        }
    }
}
