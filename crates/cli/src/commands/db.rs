//! `ax db backup FILE`: a consistent copy of the database, made with SQLite's online
//! backup while other processes may be writing. On PostgreSQL the same kind of file:
//! a SQLite database holding a copy of every agent (revisions and timestamps kept)
//! and every discussion, read through the ports — usable as a data directory's
//! `data.db`, but not one point-in-time snapshot of a server others keep writing to
//! (`pg_dump` is; docs/STORAGE.md).

use serde_json::json;

use std::path::Path;

use crate::app::{App, Storage, copy_all};
use crate::args::{BackupArgs, CopyArgs, DbCommand};
use crate::copy::Tally;
use crate::destination;
use crate::error::{CliError, Exit, error_chain};
use crate::output::Out;
use crate::storage::Endpoint;
use crate::text::escape_controls;

/// Run `ax db ...`.
pub async fn run(app: &App, command: DbCommand, out: Out) -> Result<Exit, CliError> {
    match command {
        DbCommand::Backup(args) => backup(app, args, out).await,
        // Dispatched before an app is opened (`commands::run`).
        DbCommand::Copy(args) => copy(&app.data_dir, args, out).await,
    }
}

/// `ax db copy --from FROM --to TO [--overwrite]`: everything missing on TO, in
/// batches ([`crate::copy`]); a summary per kind. Conflicts (without `--overwrite`)
/// exit 4 after the summary. Endpoints are shown as files or `user@host:port/db`,
/// never with the password (INV-PG-SECRET-001).
pub async fn copy(data_dir: &Path, args: CopyArgs, out: Out) -> Result<Exit, CliError> {
    let from = Endpoint::parse(&args.from, "--from", data_dir)?;
    let to = Endpoint::parse(&args.to, "--to", data_dir)?;
    let source = Storage::open_endpoint(&from, true).await?;
    let target = Storage::open_endpoint(&to, false).await?;
    if source.same_database(&target).await? {
        return Err(CliError::usage(format!(
            "--from and --to are the same database ({}); nothing to copy",
            to.shown()
        )));
    }
    let report = copy_all(&source, &target, args.overwrite).await?;
    let conflicts = report.agents.conflicts + report.discussions.conflicts;
    if out.json() {
        out.print_json(&json!({
            "from": from.shown(),
            "to": to.shown(),
            "agents": report.agents,
            "discussions": report.discussions,
            "onceKeys": report.once_keys,
        }))?;
    } else {
        out.line(&format!("copied {} to {}", from.shown(), to.shown()))?;
        for (kind, tally) in [
            ("agents", &report.agents),
            ("discussions", &report.discussions),
        ] {
            out.line(&summary_line(kind, tally))?;
        }
        out.line(&format!(
            "  one-time keys: {} copied, {} already there",
            report.once_keys.copied, report.once_keys.skipped
        ))?;
    }
    if conflicts == 0 {
        return Ok(Exit::Ok);
    }
    eprintln!(
        "error: {conflicts} record(s) differ on the target and were left alone; `--overwrite` replaces them with the source's"
    );
    Ok(Exit::Conflict)
}

/// `  agents: 3 copied, 1 already there, 1 conflict (a)` — the ids shown are the
/// first few, escaped (they come from a database).
fn summary_line(kind: &str, tally: &Tally) -> String {
    const SHOWN: usize = 10;
    let mut line = format!(
        "  {kind}: {} copied, {} already there",
        tally.copied, tally.skipped
    );
    if tally.overwritten > 0 {
        line.push_str(&format!(", {} overwritten", tally.overwritten));
    }
    if tally.conflicts > 0 {
        let mut ids: Vec<String> = tally
            .conflict_ids
            .iter()
            .take(SHOWN)
            .map(|id| escape_controls(id))
            .collect();
        if tally.conflicts > ids.len() as u64 {
            ids.push("...".into());
        }
        line.push_str(&format!(
            ", {} conflict(s) ({})",
            tally.conflicts,
            ids.join(", ")
        ));
    }
    line
}

/// How `ax db backup FILE` is named in refusals.
const FILE: destination::Naming = destination::Naming {
    flag: "",
    example: "ax-backup.db",
};

async fn backup(app: &App, args: BackupArgs, out: Out) -> Result<Exit, CliError> {
    // The adapter keeps the replaced file's permissions itself.
    let target = destination::check(&args.file, &app.data_dir, args.force, FILE)?;
    // On PostgreSQL: copy into a SQLite database in a private temporary folder
    // beside the target, then back that up onto the target as for SQLite (written
    // beside it and renamed: an interrupted backup leaves nothing half-written).
    let mut copied = None;
    let copy;
    let _scratch;
    let database = match &app.storage {
        Storage::Sqlite(db) => db,
        Storage::Postgres(db) => {
            let folder = match target.file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            let scratch = tempfile::Builder::new()
                .prefix(".ax-backup-")
                .tempdir_in(folder)
                .map_err(|e| {
                    CliError::failure(format!(
                        "cannot create a temporary folder beside {}: {e}",
                        escape_controls(&args.file.display().to_string())
                    ))
                })?;
            let (database, agents, discussions) = app.copy_to_sqlite(scratch.path()).await?;
            copied = Some((db.target().to_owned(), agents, discussions));
            copy = database;
            _scratch = scratch;
            &copy
        }
    };
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
    if let Some((source, agents, discussions)) = copied {
        if out.json() {
            out.print_json(&json!({
                "path": report.path,
                "bytes": report.bytes,
                "source": source,
                "agents": agents,
                "discussions": discussions,
            }))?;
        } else {
            out.line(&format!(
                "backed up PostgreSQL {source} ({agents} agents, {discussions} discussions) to {} ({} bytes)",
                escape_controls(&report.path.display().to_string()),
                report.bytes
            ))?;
        }
    } else if out.json() {
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
