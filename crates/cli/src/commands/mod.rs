//! One module per top-level command; [`run`] dispatches.

pub mod agent;
pub mod db;
pub mod discuss;
pub mod doctor;
pub mod mcp;
pub mod providers;

use crate::app::{App, Location, Workload};
use crate::args::{Cli, Command};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// Run the parsed command line.
pub async fn run(cli: Cli) -> Result<Exit, CliError> {
    let out = Out::new(cli.global.format).with_quiet(cli.global.quiet);
    let data_dir = cli.global.data_dir.as_deref();
    let location = Location {
        data_dir,
        database_url: cli.global.database_url.as_ref(),
        limit_from_env: cli.global.limit_from_env.as_deref(),
    };
    match cli.command {
        Command::Agent(command) => {
            let app = App::open_for(location, Workload::Sequential).await?;
            agent::run(&app, command, out).await
        }
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics on a write error, and a
            // reader that stops early (`| head`) is not an error.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "ax", &mut script);
            out.raw(&script)?;
            Ok(Exit::Ok)
        }
        Command::Discuss(command) => {
            let app = App::open(location).await?;
            discuss::run(&app, command, out).await
        }
        Command::Providers(args) => {
            let app = App::open(location).await?;
            providers::run(&app, args, out).await
        }
        // A copy names both of its databases itself, and opens them without seeding.
        Command::Db(crate::args::DbCommand::Copy(args)) => {
            let data_dir = crate::app::resolve_data_dir(data_dir)?;
            db::copy(&data_dir, args, out).await
        }
        Command::Db(command) => {
            let app = App::open_or_read_only(location).await?;
            db::run(&app, command, out).await
        }
        Command::Doctor => {
            let app = App::open_or_read_only(location).await?;
            doctor::run(&app, out).await
        }
        Command::Mcp(command) => mcp::run(location, command, out).await,
    }
}
