//! Shared test helpers: fixture paths, registries built from config text, requests,
//! and process checks that find every process a test started (by a tag in its
//! environment) so each test can prove nothing it spawned is left running.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ax_adapter_providers::{ProviderRegistry, ProvidersFile};
use ax_discussion_domain::provider::{Expects, ProviderRequest};
use rustix::process::{Pid, test_kill_process};

/// The fake provider programs shared with the CLI's end-to-end tests.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/providers")
        .join(name);
    let path = path
        .canonicalize()
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    path.to_str().expect("fixture paths are UTF-8").to_owned()
}

/// A registry from config text (the presets plus the tables given).
pub fn registry(config: &str) -> ProviderRegistry {
    let file = ProvidersFile::from_str(config, "test-config.toml")
        .unwrap_or_else(|e| panic!("config: {e}\n{config}"));
    ProviderRegistry::from_config(&file).expect("registry builds")
}

/// A request for `provider` with `prompt`, allowed to run for `timeout`.
pub fn request(provider: &str, prompt: &str, timeout: Duration) -> ProviderRequest {
    ProviderRequest {
        provider_id: provider.to_owned(),
        prompt: prompt.to_owned(),
        expects: Expects::default(),
        system_prompt: None,
        temperature: None,
        max_tokens: None,
        timeout,
    }
}

/// What the fake programs answer for `prompt`: its first line with only
/// `[A-Za-z0-9 .,?-]` kept (80 characters at most) and its word count.
pub fn summary(prompt: &str) -> String {
    let first: String = prompt
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || " .,?-".contains(*c))
        .take(80)
        .collect();
    format!("{first} ({} words)", prompt.split_whitespace().count())
}

/// A per-test marker put in the environment of every process a test starts.
pub struct Tag {
    pub value: String,
    pub dir: tempfile::TempDir,
}

impl Tag {
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Self {
            value: format!(
                "ax-provider-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A path inside this test's temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The TOML `env` value tagging a provider's processes (plus extra variables).
    pub fn env(&self, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![format!("AX_FAKE_TEST_TAG = {:?}", self.value)];
        pairs.extend(extra.iter().map(|(k, v)| format!("{k} = {v:?}")));
        format!("{{ {} }}", pairs.join(", "))
    }

    /// A `[providers.<id>]` table running fixture `program`, tagged.
    pub fn command_table(
        &self,
        id: &str,
        program: &str,
        extra_env: &[(&str, &str)],
        more: &str,
    ) -> String {
        format!(
            "[providers.{id}]\nkind = \"command\"\ncommand = [{:?}]\nenv = {}\n{more}\n",
            fixture(program),
            self.env(extra_env)
        )
    }

    /// Pids of live (non-zombie) processes carrying this tag.
    pub fn live_processes(&self) -> Vec<i32> {
        let needle = format!("AX_FAKE_TEST_TAG={}", self.value);
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .map(|env| env.split(|b| *b == 0).any(|var| var == needle.as_bytes()))
                    .unwrap_or(false)
            })
            .filter(|pid| !is_zombie(*pid))
            .collect()
    }

    /// Fails unless every tagged process is gone (within a bounded wait: killed
    /// processes take a moment to disappear on a busy machine).
    pub async fn assert_no_process_left(&self) {
        for _ in 0..200 {
            if self.live_processes().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("processes left running: {:?}", self.live_processes());
    }

    /// Waits (bounded) for a fake to write its pid file, then returns the pids in it.
    pub async fn read_pids(&self, file: &Path) -> Vec<i32> {
        for _ in 0..400 {
            if let Ok(text) = std::fs::read_to_string(file) {
                let pids: Vec<i32> = text
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect();
                if !pids.is_empty() {
                    return pids;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{} was never written", file.display());
    }
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Whether `pid` no longer exists at all (killed *and* reaped).
pub fn is_gone(pid: i32) -> bool {
    match Pid::from_raw(pid) {
        Some(pid) => test_kill_process(pid).is_err(),
        None => true,
    }
}

/// Whether `pid` is not running: gone, or a zombie awaiting its (new) parent.
pub fn is_dead(pid: i32) -> bool {
    is_gone(pid) || is_zombie(pid)
}

/// Waits (bounded) until `check(pid)` holds for every pid; returns those for which it
/// never did.
pub async fn wait_until(pids: &[i32], check: fn(i32) -> bool) -> Vec<i32> {
    for _ in 0..200 {
        if pids.iter().all(|p| check(*p)) {
            return Vec::new();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pids.iter().copied().filter(|p| !check(*p)).collect()
}
