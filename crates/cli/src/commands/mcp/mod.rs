//! `ax mcp serve | install | config`: run the MCP server (`serve.rs`), and put it into
//! MCP clients' configuration (`install.rs`, which edits JSON files through `json.rs`
//! and Codex's TOML through `codex.rs`; `entry.rs` is what every client gets).

mod codex;
mod entry;
mod install;
mod json;
mod serve;

use serde_json::{Value, json};

use crate::app::Location;
use crate::args::McpCommand;
use crate::error::{CliError, Exit};
use crate::output::Out;

use entry::ServerEntry;

/// The name `ax` is registered under in every client.
const SERVER_NAME: &str = "ax";

/// Run `ax mcp ...`.
pub async fn run(location: Location<'_>, command: McpCommand, out: Out) -> Result<Exit, CliError> {
    let data_dir = location.data_dir;
    match command {
        McpCommand::Serve(args) => serve::serve(location, args).await,
        McpCommand::Install(args) => install::install(data_dir, args, out),
        McpCommand::Config => {
            let entry = ServerEntry::for_this_ax(data_dir)?;
            let snippet = json!({ "mcpServers": { SERVER_NAME: entry.json(false, None) } });
            out.line(&pretty(&snippet)?)?;
            Ok(Exit::Ok)
        }
    }
}

fn pretty(value: &Value) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))
}
