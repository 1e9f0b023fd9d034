//! `ax db backup FILE`: a consistent copy of the database, made with SQLite's online
//! backup while other processes may be writing. On PostgreSQL it refuses, saying
//! how to back that up instead (docs/STORAGE.md): a copy of a shared server is the
//! server's job (`pg_dump`, the provider's snapshots), not one client's.

use serde_json::json;

use crate::app::{App, Storage};
use crate::args::{BackupArgs, DbCommand};
use crate::destination;
use crate::error::{CliError, Exit, error_chain};
use crate::output::Out;
use crate::text::escape_controls;

/// Run `ax db ...`.
pub async fn run(app: &App, command: DbCommand, out: Out) -> Result<Exit, CliError> {
    match command {
        DbCommand::Backup(args) => backup(app, args, out),
    }
}

/// How `ax db backup FILE` is named in refusals.
const FILE: destination::Naming = destination::Naming {
    flag: "",
    example: "ax-backup.db",
};

fn backup(app: &App, args: BackupArgs, out: Out) -> Result<Exit, CliError> {
    let database = match &app.storage {
        Storage::Sqlite(db) => db,
        Storage::Postgres(db) => {
            return Err(CliError::usage(format!(
                "`ax db backup` copies the SQLite database file; agents and discussions are on the PostgreSQL server {}",
                db.target()
            ))
            .hint("back it up on the server side: `pg_dump --format=custom` or the provider's snapshots (docs/STORAGE.md)"));
        }
    };
    // The adapter keeps the replaced file's permissions itself.
    let target = destination::check(&args.file, &app.data_dir, args.force, FILE)?;
    let report = database.backup_to(&target.file, args.force).map_err(|e| {
        let shown = escape_controls(&args.file.display().to_string());
        match &e {
            ax_adapter_sqlite::DatabaseError::BackupOverSelf { .. } => {
                CliError::usage(format!("{shown}: {}", error_chain(&e)))
            }
            ax_adapter_sqlite::DatabaseError::Backup { source, .. }
                if source
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists) =>
            {
                destination::exists(&args.file)
            }
            _ => CliError::failure(escape_controls(&error_chain(&e))),
        }
    })?;
    if out.json() {
        out.print_json(&json!({ "path": report.path, "bytes": report.bytes }))?;
    } else {
        out.line(&format!(
            "backed up {} to {} ({} bytes)",
            escape_controls(&database.path().display().to_string()),
            escape_controls(&report.path.display().to_string()),
            report.bytes
        ))?;
    }
    Ok(Exit::Ok)
}
