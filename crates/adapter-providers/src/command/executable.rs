//! Finding a provider's program. Availability of a command provider *is* "its program
//! is on `PATH`", and resolving the path ourselves lets a missing CLI be reported as
//! `not_found` with its name instead of as a spawn error.

use std::env;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The executable `program` names: itself when it contains a `/` (relative to the
/// working directory), else the first executable file of that name on `PATH`.
pub fn find_executable(program: &str) -> Option<PathBuf> {
    find_executable_in(program, env::var_os("PATH").as_deref())
}

/// [`find_executable`] against an explicit `PATH` value (tests, and callers that
/// resolve for a child whose `PATH` differs).
pub fn find_executable_in(program: &str, path_var: Option<&OsStr>) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable_file(&path).then_some(path);
    }
    env::split_paths(path_var?)
        // An empty PATH entry means the working directory in POSIX shells; running a
        // provider from whatever directory we happen to be in is not something a user
        // would expect, so such entries are skipped.
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn finds_executables_on_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("fake-cli");
        fs::write(&exe, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let plain = dir.path().join("not-exec");
        fs::write(&plain, "").unwrap();

        let path_var = env::join_paths(["/nonexistent", dir.path().to_str().unwrap()]).unwrap();
        assert_eq!(
            find_executable_in("fake-cli", Some(&path_var)),
            Some(exe.clone())
        );
        assert_eq!(find_executable_in("not-exec", Some(&path_var)), None);
        assert_eq!(find_executable_in("fake-cli", None), None);
        assert_eq!(find_executable_in(exe.to_str().unwrap(), None), Some(exe));
        assert_eq!(
            find_executable_in(dir.path().to_str().unwrap(), None),
            None,
            "a directory is not a program"
        );
    }
}
