//! `ax db backup FILE`: a consistent copy of the database, made with SQLite's online
//! backup while other processes may be writing.

use std::path::{Path, PathBuf};

use ax_contracts::error::ErrorCode;
use serde_json::json;

use crate::app::{App, CONFIG_FILE, DATABASE_FILE};
use crate::args::{BackupArgs, DbCommand};
use crate::error::{CliError, Exit, error_chain};
use crate::output::Out;
use crate::text::escape_controls;

/// Run `ax db ...`.
pub async fn run(app: &App, command: DbCommand, out: Out) -> Result<Exit, CliError> {
    match command {
        DbCommand::Backup(args) => backup(app, args, out),
    }
}

fn backup(app: &App, args: BackupArgs, out: Out) -> Result<Exit, CliError> {
    let target = backup_target(&args.file, &app.data_dir, args.force)?;
    let report = app.database.backup_to(&target, args.force).map_err(|e| {
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
                exists(&args.file)
            }
            _ => CliError::failure(escape_controls(&error_chain(&e))),
        }
    })?;
    if out.json() {
        out.print_json(&json!({ "path": report.path, "bytes": report.bytes }))?;
    } else {
        out.line(&format!(
            "backed up {} to {} ({} bytes)",
            escape_controls(&app.database.path().display().to_string()),
            escape_controls(&report.path.display().to_string()),
            report.bytes
        ))?;
    }
    Ok(Exit::Ok)
}

/// Where the backup goes: never a file of the data directory, a directory, FIFO,
/// device or socket; an existing file only with `--force` (through a symbolic link
/// to it, its target is replaced and the link kept).
fn backup_target(path: &Path, data_dir: &Path, force: bool) -> Result<PathBuf, CliError> {
    let shown = escape_controls(&path.display().to_string());
    let refuse = |why: &str| CliError::usage(format!("{shown}: {why}"));
    let data_dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let resolved = std::fs::canonicalize(path).ok().or_else(|| {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
    });
    let Some(resolved) = resolved else {
        return Err(refuse("its folder does not exist"));
    };
    for name in [DATABASE_FILE, "data.db-wal", "data.db-shm", CONFIG_FILE] {
        if resolved == data_dir.join(name) {
            return Err(refuse(&format!(
                "that is the data directory's own {name}; a backup never replaces it"
            ))
            .hint("name a file outside the data directory, e.g. ~/ax-backup.db"));
        }
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            Err(refuse("is a directory; name a file, e.g. DIR/ax-backup.db"))
        }
        Ok(meta) if !meta.is_file() => Err(refuse(
            "is not a regular file (a FIFO, device or socket); name a file",
        )),
        Ok(_) if !force => Err(exists(path)),
        Ok(_) => Ok(resolved),
        Err(_) if std::fs::symlink_metadata(path).is_ok() => Err(refuse(
            "is a symbolic link to nothing; remove it or name another file",
        )),
        Err(_) => Ok(resolved),
    }
}

fn exists(path: &Path) -> CliError {
    CliError::new(
        Exit::Conflict,
        ErrorCode::Conflict,
        format!(
            "{} already exists; not overwritten",
            escape_controls(&path.display().to_string())
        ),
    )
    .hint("add --force to replace it, or choose another file")
}
