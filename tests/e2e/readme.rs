//! The README runs as written: every `ax` line of its `sh` blocks, in order, on a fresh
//! HOME with no AI CLI on `PATH`, from the repository root, as a new user would paste
//! it. Lines that name real providers fail, and say on stderr which provider is missing
//! and what to do (stdout may still show the failed discussion, which was saved); every
//! other line exits 0. A server line (`ax mcp serve`) must start
//! and keep serving until it is stopped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{ax_bin, text};

/// Provider ids a fresh machine does not have: presets of real CLIs and the README's
/// `config.toml` examples.
const REAL_PROVIDERS: [&str; 8] = [
    "claude",
    "gemini",
    "codex",
    "grok",
    "opencode",
    "ollama",
    "local",
    "openrouter",
];

/// The `ax` lines of the README's `sh` blocks, trailing comments removed.
fn readme_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            in_sh = !in_sh && lang == "sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        // A comment starts at `#` after two spaces (none of our commands holds that).
        let command = match trimmed.find("  #") {
            Some(at) => trimmed[..at].trim_end(),
            None => trimmed,
        };
        if command.starts_with("ax ") || command.contains("&& ax ") {
            lines.push(command.to_owned());
        }
    }
    lines
}

/// Whether `line` asks for a provider that a fresh machine lacks.
fn names_real_provider(line: &str) -> Option<&'static str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        if pair[0] != "--providers" && pair[0] != "--participants" {
            return None;
        }
        pair[1]
            .trim_matches('"')
            .split(',')
            .map(|p| p.split(':').next().unwrap_or(p))
            .find_map(|p| REAL_PROVIDERS.iter().find(|r| **r == p).copied())
    })
}

/// A folder holding only `ax`, for a `PATH` without any AI CLI.
fn bin_dir(home: &Path) -> PathBuf {
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::os::unix::fs::symlink(ax_bin(), bin.join("ax")).expect("link ax");
    bin
}

#[test]
fn every_ax_line_of_the_readme_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lines = readme_lines(&readme);
    assert!(lines.len() >= 20, "found only {} ax lines", lines.len());

    let home = tempfile::tempdir().expect("home");
    let bin = bin_dir(home.path());
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut failures = Vec::new();
    for line in &lines {
        let mut command = Command::new("bash");
        command
            .args(["-c", line])
            .current_dir(root)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if line.starts_with("ax mcp serve") {
            // A server: it must come up and stay up until stopped.
            let mut child = command.spawn().expect("spawn");
            let deadline = Instant::now() + Duration::from_millis(1500);
            let mut exited = None;
            while Instant::now() < deadline {
                if let Some(status) = child.try_wait().expect("wait") {
                    exited = Some(status);
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            // stdio ends at end of input (stdin is /dev/null), which is a clean exit.
            if let Some(status) = exited
                && !status.success()
            {
                failures.push(format!("{line}\n  exited {status}: {}", text(&out.stderr)));
            }
            continue;
        }
        let out = command.output().expect("run");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        match names_real_provider(line) {
            Some(provider) => {
                // stdout may carry the failed discussion's result (it was saved);
                // the explanation belongs on stderr.
                if out.status.success() {
                    failures.push(format!("{line}\n  succeeded without {provider}"));
                } else if !stderr.contains(provider) {
                    failures.push(format!(
                        "{line}\n  stderr does not name the missing provider {provider}: {stderr}"
                    ));
                }
            }
            None => {
                if !out.status.success() {
                    failures.push(format!(
                        "{line}\n  exited {}: stdout: {stdout}\n  stderr: {stderr}",
                        out.status
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "README lines that do not run as written:\n{}",
        failures.join("\n")
    );
}

#[test]
fn readme_lines_are_found_and_real_providers_recognised() {
    let lines = readme_lines(
        "```sh\nax agent list   # the registry\ncargo build\nmkdir -p d && ax completions bash > d/ax\n```\n```toml\nax = 1\n```\n",
    );
    assert_eq!(
        lines,
        ["ax agent list", "mkdir -p d && ax completions bash > d/ax"]
    );
    assert_eq!(
        names_real_provider("ax discuss \"x\" --providers claude,gemini"),
        Some("claude")
    );
    assert_eq!(
        names_real_provider("ax discuss x --participants mock-a,reviewer:agent"),
        None
    );
    assert_eq!(
        names_real_provider("ax discuss x --participants gemini,reviewer:agent"),
        Some("gemini")
    );
}
