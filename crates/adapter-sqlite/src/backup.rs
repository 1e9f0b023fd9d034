//! `ax db backup FILE`: a consistent copy of the database made with SQLite's online
//! backup API, safe while other processes write.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use tempfile::NamedTempFile;

use crate::database::SqliteDatabase;
use crate::error::DatabaseError;

/// What a finished backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A new, empty file `<prefix><random>.tmp` in `dir`: created with `O_CREAT | O_EXCL`
/// (never an existing file, never through a planted link), owner-only (`0600`) on
/// Unix, and removed when dropped unless persisted.
pub(crate) fn new_temp_file_in(dir: &Path, prefix: &str) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
}

impl SqliteDatabase {
    /// Copies the database into `dest` with SQLite's online backup: one read
    /// transaction, so the copy is one consistent snapshot, while other connections
    /// and processes go on writing (WAL: a reader never blocks a writer).
    ///
    /// The copy is written to a new temporary file beside `dest` and renamed onto it
    /// only when complete and synced, so an interrupted backup never leaves a partial
    /// file at `dest`. An existing `dest` is replaced only with `replace` (its
    /// permissions are kept); without it the rename refuses a file that appeared
    /// meanwhile. A new file is owner-only (`0600`): it holds the registry and the
    /// history. The copy is a self-contained file (rollback journal mode) that
    /// `ax --data-dir` can use as its `data.db`.
    ///
    /// Refuses to write over the database's own file, its `-wal` or `-shm`.
    pub fn backup_to(&self, dest: &Path, replace: bool) -> Result<BackupReport, DatabaseError> {
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| DatabaseError::Backup {
            dest: dest.to_owned(),
            source,
        };
        if self.is_own_file(dest) {
            return Err(DatabaseError::BackupOverSelf {
                dest: dest.to_owned(),
            });
        }
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let existing = std::fs::metadata(dest).ok();
        let tmp = new_temp_file_in(&dir, ".ax-backup-").map_err(|e| fail(Box::new(e)))?;
        // On any error below, dropping `tmp` removes it.
        self.copy_into(tmp.path()).map_err(fail)?;
        tmp.as_file().sync_all().map_err(|e| fail(Box::new(e)))?;
        if let Some(meta) = existing.as_ref().filter(|_| replace) {
            tmp.as_file()
                .set_permissions(meta.permissions())
                .map_err(|e| fail(Box::new(e)))?;
        }
        let bytes = tmp
            .as_file()
            .metadata()
            .map_err(|e| fail(Box::new(e)))?
            .len();
        if replace {
            tmp.persist(dest).map_err(|e| fail(Box::new(e.error)))?;
        } else {
            // Fails, atomically, if `dest` exists (a file that appeared meanwhile).
            tmp.persist_noclobber(dest)
                .map_err(|e| fail(Box::new(e.error)))?;
        }
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(BackupReport {
            path: dest.to_owned(),
            bytes,
        })
    }

    /// The online backup from a pooled connection into the (empty) file `tmp`.
    fn copy_into(&self, tmp: &Path) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let source = self.connection()?;
        let mut copy = Connection::open_with_flags(
            tmp,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        {
            let backup = Backup::new(&source, &mut copy)?;
            // All pages in one step: one read transaction on the source, one
            // snapshot, whatever other processes commit meanwhile.
            let deadline = std::time::Instant::now() + self.busy_timeout();
            loop {
                match backup.step(-1)? {
                    rusqlite::backup::StepResult::Done => break,
                    _ if std::time::Instant::now() >= deadline => {
                        return Err(Box::new(crate::error::DatabaseBusy {
                            waited: self.busy_timeout(),
                        }));
                    }
                    _ => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        }
        // A file of its own: no `-wal` needed beside it.
        let _: String =
            copy.pragma_update_and_check(None, "journal_mode", "delete", |r| r.get(0))?;
        let check: String = copy.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(format!("the copy failed its check: {check}").into());
        }
        copy.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// Whether `path` is the database file, its `-wal` or `-shm` (by name once
    /// resolved, or by being the same file).
    fn is_own_file(&self, path: &Path) -> bool {
        let resolve = |p: &Path| -> Option<PathBuf> {
            std::fs::canonicalize(p).ok().or_else(|| {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
            })
        };
        let target = resolve(path);
        let target_meta = std::fs::metadata(path).ok();
        ["", "-wal", "-shm"].iter().any(|suffix| {
            let mut own = self.path().as_os_str().to_owned();
            own.push(suffix);
            let own = PathBuf::from(own);
            if target.is_some() && resolve(&own) == target {
                return true;
            }
            match (&target_meta, std::fs::metadata(&own)) {
                (Some(a), Ok(b)) => same_file(a, &b),
                _ => false,
            }
        })
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}
