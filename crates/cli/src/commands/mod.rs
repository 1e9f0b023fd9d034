//! One module per top-level command; [`run`] dispatches.

pub mod agent;

use crate::app::App;
use crate::args::{Cli, Command};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// Run the parsed command line.
pub async fn run(cli: Cli) -> Result<Exit, CliError> {
    let out = Out::new(cli.global.format);
    let data_dir = cli.global.data_dir.as_deref();
    match cli.command {
        Command::Agent(command) => {
            let app = App::open(data_dir).await?;
            agent::run(&app, command, out).await
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "ax", &mut std::io::stdout());
            Ok(Exit::Ok)
        }
        Command::Discuss(_) | Command::Providers(_) | Command::Mcp(_) | Command::Doctor => {
            Err(CliError::failure("this command is not available yet"))
        }
    }
}
