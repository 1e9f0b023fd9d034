//! Is the program on `PATH` the CLI a preset was written for? A name is not an
//! identity: the `grok` that npm serves is a different program from the one the grok
//! preset targets and rejects its flags. A preset's [`Identity`] says what the real
//! CLI looks like, and [`check`] tells a stranger apart, cheaply:
//!
//! 1. Installed from npm (the usual case): the executable's real path lies inside a
//!    package under `node_modules`; its `package.json` name decides. No process runs.
//! 2. Otherwise the program's `--help` (or `--version`) output must mention the flags
//!    the preset passes. One short run, bounded by [`PROBE_TIMEOUT`].
//!
//! Results are cached per process and per resolved path, so `ax providers list`, a
//! discussion's default-provider choice and every call share one probe.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Longest a `--help` probe may take before its answer is taken as "cannot tell".
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the CLI a preset targets looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The program name the preset runs (`claude`). The check applies only while the
    /// configured program still has this file name: a user's wrapper script is
    /// trusted to be what they say it is.
    pub program: &'static str,
    /// The program the preset targets, for messages (`Claude Code`).
    pub target: &'static str,
    /// npm package names (or name prefixes, for platform packages such as
    /// `@openai/codex-linux-x64`) that are this CLI. Empty: no npm package is.
    pub npm_packages: &'static [&'static str],
    /// Arguments that print the CLI's help (`["--help"]`, `["exec", "--help"]`).
    pub help_args: &'static [&'static str],
    /// Words the help must contain: the flags the preset relies on.
    pub help_markers: &'static [&'static str],
}

impl Identity {
    /// Whether the check applies to a spec running `program`.
    pub fn applies_to(&self, program: &str) -> bool {
        Path::new(program).file_name().and_then(|n| n.to_str()) == Some(self.program)
    }
}

type Cache = Mutex<HashMap<(PathBuf, &'static str), Result<(), String>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `Ok` when `executable` is (or may be) the CLI `identity` describes; `Err` with a
/// sentence saying what it is instead. Cached per process.
pub fn check(identity: &Identity, executable: &Path) -> Result<(), String> {
    let key = (executable.to_path_buf(), identity.program);
    if let Some(known) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return known;
    }
    let verdict = probe(identity, executable);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, verdict.clone());
    }
    verdict
}

fn probe(identity: &Identity, executable: &Path) -> Result<(), String> {
    let real = fs::canonicalize(executable).unwrap_or_else(|_| executable.to_path_buf());
    if let Some((name, version)) = npm_package_of(&real) {
        let matches = identity
            .npm_packages
            .iter()
            .any(|p| name == *p || name.starts_with(&format!("{p}-")));
        return if matches {
            Ok(())
        } else {
            Err(format!(
                "`{}` on PATH is the npm package {name}{}, not {}",
                identity.program,
                version.map(|v| format!(" {v}")).unwrap_or_default(),
                identity.target
            ))
        };
    }
    if identity.help_markers.is_empty() {
        return Ok(());
    }
    let Some(help) = run_for_text(executable, identity.help_args, PROBE_TIMEOUT) else {
        // It did not answer in time or could not start: the call itself will say why.
        return Ok(());
    };
    let missing: Vec<&str> = identity
        .help_markers
        .iter()
        .copied()
        .filter(|m| !help.contains(m))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`{} {}` does not mention {}: this is not {}",
            identity.program,
            identity.help_args.join(" "),
            missing.join(", "),
            identity.target
        ))
    }
}

/// The npm package an executable belongs to: the nearest `package.json` above it whose
/// folder sits directly in a `node_modules` folder (`node_modules/<name>` or
/// `node_modules/@scope/<name>`), as (name, version).
pub fn npm_package_of(real_path: &Path) -> Option<(String, Option<String>)> {
    for dir in real_path.ancestors().skip(1).take(6) {
        let parent = dir.parent()?;
        let in_node_modules = parent.file_name().is_some_and(|n| n == "node_modules")
            || (parent
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('@'))
                && parent
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "node_modules"));
        if !in_node_modules {
            continue;
        }
        let text = fs::read_to_string(dir.join("package.json")).ok()?;
        let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
        let name = doc.get("name")?.as_str()?.to_owned();
        let version = doc
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        return Some((name, version));
    }
    None
}

/// stdout and stderr of `program args…` (stdin closed), or `None` when it cannot start
/// or does not finish within `timeout` (it is killed then).
fn run_for_text(program: &Path, args: &[&str], timeout: Duration) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let mut stderr = child.stderr.take()?;
    // Read both pipes on helper threads so a chatty program cannot block on a full
    // pipe while we wait for it.
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.by_ref().take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.by_ref().take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&out.join().ok()?).into_owned();
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&err.join().ok()?));
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const GROK: Identity = Identity {
        program: "grok",
        target: "the grok CLI this preset targets",
        npm_packages: &[],
        help_args: &["--help"],
        help_markers: &["--output-format"],
    };

    const CODEX: Identity = Identity {
        program: "codex",
        target: "OpenAI Codex CLI",
        npm_packages: &["@openai/codex"],
        help_args: &["exec", "--help"],
        help_markers: &["--sandbox"],
    };

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn npm_package(root: &Path, name: &str, version: &str) -> PathBuf {
        let dir = root.join("node_modules").join(name);
        fs::create_dir_all(dir.join("bin")).unwrap();
        fs::write(
            dir.join("package.json"),
            format!(r#"{{"name":"{name}","version":"{version}"}}"#),
        )
        .unwrap();
        script(&dir.join("bin"), "cli.js", "echo should not run; exit 1")
    }

    #[test]
    fn an_npm_package_with_another_name_is_not_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let exe = npm_package(dir.path(), "@vibe-kit/grok-cli", "0.0.34");
        let link = dir.path().join("grok");
        std::os::unix::fs::symlink(&exe, &link).unwrap();
        let err = check(&GROK, &link).unwrap_err();
        assert!(err.contains("@vibe-kit/grok-cli 0.0.34"), "{err}");
        assert!(err.contains("not the grok CLI"), "{err}");
    }

    #[test]
    fn the_target_package_and_its_platform_packages_are_accepted_without_running() {
        let dir = tempfile::tempdir().unwrap();
        let exe = npm_package(dir.path(), "@openai/codex", "0.171.0");
        assert_eq!(check(&CODEX, &exe), Ok(()));
        let native = npm_package(dir.path(), "@openai/codex-linux-x64", "0.171.0");
        assert_eq!(check(&CODEX, &native), Ok(()));
        let other = npm_package(dir.path(), "@openai/codexish", "1.0.0");
        assert!(check(&CODEX, &other).is_err());
    }

    #[test]
    fn outside_npm_the_help_text_decides() {
        let dir = tempfile::tempdir().unwrap();
        let good = script(
            dir.path(),
            "grok-good",
            "echo 'Usage: grok [--output-format json] -p <prompt>'",
        );
        let bad = script(dir.path(), "grok-bad", "echo 'Usage: grok -p <prompt>' >&2");
        let silent = script(dir.path(), "grok-hangs", "sleep 30");
        assert_eq!(check(&GROK, &good), Ok(()));
        let err = check(&GROK, &bad).unwrap_err();
        assert!(err.contains("does not mention --output-format"), "{err}");
        let started = Instant::now();
        assert_eq!(
            probe_with_timeout(&GROK, &silent, Duration::from_millis(200)),
            Ok(())
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    fn probe_with_timeout(
        identity: &Identity,
        exe: &Path,
        timeout: Duration,
    ) -> Result<(), String> {
        match run_for_text(exe, identity.help_args, timeout) {
            None => Ok(()),
            Some(text) if identity.help_markers.iter().all(|m| text.contains(m)) => Ok(()),
            Some(_) => Err("mismatch".into()),
        }
    }

    #[test]
    fn applies_only_to_the_presets_program_name() {
        assert!(GROK.applies_to("grok"));
        assert!(GROK.applies_to("/usr/local/bin/grok"));
        assert!(!GROK.applies_to("/repo/tests/fixtures/providers/grok.sh"));
    }
}
