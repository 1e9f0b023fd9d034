//! Where a command may write a file the user named (`ax agent export --out PATH`,
//! `ax db backup FILE`): one set of checks, so the two never drift apart.
//!
//! Refused, even with `--force`: the data directory's own files (by name once links
//! are resolved, or by being the same file), directories, FIFOs, devices, sockets and
//! dangling symbolic links. An existing file is replaced only with `--force`; a link
//! to one is followed (the file it points to is replaced, the link kept).

use std::fs::{Metadata, Permissions};
use std::path::{Path, PathBuf};

use ax_contracts::error::ErrorCode;

use crate::app::{CONFIG_FILE, DATABASE_FILE};
use crate::error::CliError;
use crate::text::escape_controls;

/// The files of the data directory a command must never replace, even with `--force`.
const DATA_DIR_FILES: [&str; 4] = [DATABASE_FILE, "data.db-wal", "data.db-shm", CONFIG_FILE];

/// How a command names the path in its messages.
#[derive(Debug, Clone, Copy)]
pub struct Naming {
    /// What precedes the path on the command line: `"--out "`, or `""` for an
    /// argument.
    pub flag: &'static str,
    /// A file name to suggest, e.g. `agents.json`.
    pub example: &'static str,
}

/// A destination known to be allowed.
#[derive(Debug)]
pub struct Destination {
    /// The file to write: the path given (its folder's links resolved), or the file a
    /// symbolic link there points to (the link is kept).
    pub file: PathBuf,
    /// The permissions of the file being replaced (`--force`), to keep on the new one.
    pub replaced: Option<Permissions>,
}

/// Check that `path` may be written by a command run on `data_dir`.
pub fn check(
    path: &Path,
    data_dir: &Path,
    force: bool,
    naming: Naming,
) -> Result<Destination, CliError> {
    let flag = naming.flag;
    let shown = escape_controls(&path.display().to_string());
    let refuse = |why: &str| CliError::usage(format!("{flag}{shown}: {why}"));
    // Where the file would be, symbolic links resolved (a missing file: its folder).
    let resolved = std::fs::canonicalize(path).ok().or_else(|| {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
    });
    let data_dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let existing = std::fs::metadata(path).ok();
    for name in DATA_DIR_FILES {
        let own = data_dir.join(name);
        let same_path = resolved.as_deref() == Some(own.as_path());
        let same_file = match (&existing, std::fs::metadata(&own)) {
            (Some(a), Ok(b)) => same_inode(a, &b),
            _ => false,
        };
        if same_path || same_file {
            return Err(refuse(&format!(
                "that is the data directory's own {name}; it is never overwritten, not even with --force"
            ))
            .hint(format!(
                "name a file outside the data directory, e.g. {flag}~/{}",
                naming.example
            )));
        }
    }
    if std::fs::symlink_metadata(path).is_err() {
        // Nothing there yet; the folder must exist.
        return match resolved {
            Some(file) => Ok(Destination {
                file,
                replaced: None,
            }),
            None => Err(refuse("its folder does not exist")),
        };
    }
    let Some(meta) = existing else {
        // A symbolic link to nothing: writing where it points could create a file a
        // planted link chose, and replacing the link may not be what was meant.
        return Err(refuse(
            "is a symbolic link to nothing; remove it or name another file",
        ));
    };
    if meta.is_dir() {
        return Err(refuse(&format!(
            "is a directory; name a file, e.g. {flag}DIR/{}",
            naming.example
        )));
    }
    if !meta.is_file() {
        return Err(refuse(
            "is not a regular file (a FIFO, device or socket); name a file",
        ));
    }
    if !force {
        return Err(exists(path));
    }
    Ok(Destination {
        file: resolved.unwrap_or_else(|| path.to_path_buf()),
        replaced: Some(meta.permissions()),
    })
}

/// `path` exists and `--force` was not given (or it appeared meanwhile).
pub fn exists(path: &Path) -> CliError {
    CliError::new(
        ErrorCode::Conflict,
        format!(
            "{} already exists; not overwritten without --force",
            escape_controls(&path.display().to_string())
        ),
    )
    .hint("add --force to replace it (its permissions are kept), or choose another file")
}

#[cfg(unix)]
fn same_inode(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(_: &Metadata, _: &Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    const NAMING: Naming = Naming {
        flag: "--out ",
        example: "agents.json",
    };

    #[test]
    fn a_new_file_in_an_existing_folder_is_allowed_and_a_missing_folder_is_not() {
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let ok = check(&dir.path().join("new.json"), &data, false, NAMING).expect("allowed");
        assert!(ok.replaced.is_none());
        assert_eq!(ok.file.file_name(), Some("new.json".as_ref()));
        let err =
            check(&dir.path().join("no/new.json"), &data, true, NAMING).expect_err("no folder");
        assert_eq!(err.exit(), Exit::Usage);
        assert!(
            err.message.contains("folder does not exist"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_existing_file_needs_force_and_keeps_its_permissions() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("old.json");
        std::fs::write(&file, "x").expect("write");
        let err = check(&file, dir.path(), false, NAMING).expect_err("exists");
        assert_eq!(err.exit(), Exit::Conflict);
        assert!(err.message.contains("--force"), "{}", err.message);
        let ok = check(&file, dir.path(), true, NAMING).expect("forced");
        assert!(ok.replaced.is_some());
    }

    #[cfg(unix)]
    #[test]
    fn links_are_written_through_and_a_dangling_link_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("target.json");
        std::fs::write(&target, "x").expect("write");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).expect("link");
        let ok = check(&link, dir.path(), true, NAMING).expect("forced");
        assert_eq!(ok.file, std::fs::canonicalize(&target).expect("target"));

        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("link");
        for force in [false, true] {
            let err = check(&dangling, dir.path(), force, NAMING).expect_err("dangling");
            assert_eq!(err.exit(), Exit::Usage);
            assert!(err.message.contains("link to nothing"), "{}", err.message);
        }
        assert!(!dir.path().join("nowhere").exists());
    }

    #[test]
    fn the_data_directory_s_files_and_non_files_are_refused_even_with_force() {
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        for own in DATA_DIR_FILES {
            let err = check(&data.join(own), &data, true, NAMING).expect_err("own file");
            assert_eq!(err.exit(), Exit::Usage);
            assert!(err.message.contains(own), "{}", err.message);
        }
        let err = check(dir.path(), &data, true, NAMING).expect_err("a directory");
        assert!(err.message.contains("is a directory"), "{}", err.message);
        #[cfg(unix)]
        {
            let err = check(Path::new("/dev/null"), &data, true, NAMING).expect_err("device");
            assert!(
                err.message.contains("not a regular file"),
                "{}",
                err.message
            );
            // The same file under another name (a hard link) is still the database.
            std::fs::write(data.join(DATABASE_FILE), "db").expect("db");
            let alias = dir.path().join("alias.db");
            std::fs::hard_link(data.join(DATABASE_FILE), &alias).expect("hard link");
            let err = check(&alias, &data, true, NAMING).expect_err("same inode");
            assert!(err.message.contains("own data.db"), "{}", err.message);
        }
    }
}
