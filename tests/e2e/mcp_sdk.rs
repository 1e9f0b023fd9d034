//! `ax mcp serve` through the official TypeScript MCP SDK client
//! (`@modelcontextprotocol/sdk`, the client of VS Code, Gemini CLI and the MCP
//! Inspector), over stdio and over Streamable HTTP: `tests/mcp-sdk/sdk.test.mjs` run
//! with node's test runner. That client validates `structuredContent` against the
//! tool's `outputSchema` even on `isError` results and warns about non-standard
//! schema `format`s, which the rmcp and Python clients do not.
//!
//! The SDK is installed with `npm ci` from the pinned `tests/mcp-sdk/package-lock.json`
//! into a cache folder outside the repository (`$AX_TEST_CACHE`, default
//! `~/.cache/automatosx-tests`), once, and reused. Without `node` the tests say
//! `SKIPPED` and pass; with `node`, a failed install fails them (see
//! `tests/mcp-sdk/README.md`).

use std::ffi::OsStr;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::helpers::{DataDir, ax_bin, text, write_fake_providers};
use crate::mcp_client::start_http;

/// The node test suite and its pinned dependencies.
fn sdk_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp-sdk")
}

/// What running the SDK tests needs: the folder holding `node_modules`, or why the
/// tests are skipped.
enum Setup {
    Ready(PathBuf),
    Skipped(String),
}

/// Install the SDK once per test process (both transports share it).
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| match Command::new("node").arg("--version").output() {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Setup::Skipped(format!("`node` is not installed ({e})"))
        }
        Err(e) => panic!("cannot run `node --version`: {e}"),
        Ok(out) if !out.status.success() => panic!(
            "`node --version` failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        ),
        Ok(_) => Setup::Ready(install_sdk()),
    })
}

/// 64-bit FNV-1a: a stable fingerprint of the lockfile for the cache folder's name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The cache folder for tests that install things (never inside the repository).
fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("AX_TEST_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache/automatosx-tests"),
        None => std::env::temp_dir().join("automatosx-tests"),
    }
}

/// `<cache>/mcp-sdk-<version>-<lock hash>/` with `node_modules` installed by `npm ci`
/// from the pinned lockfile: reused when present, else installed into a private
/// folder and renamed into place (so concurrent test runs never see half an install).
fn install_sdk() -> PathBuf {
    let src = sdk_tests_dir();
    let manifest = std::fs::read(src.join("package.json")).expect("tests/mcp-sdk/package.json");
    let lock =
        std::fs::read(src.join("package-lock.json")).expect("tests/mcp-sdk/package-lock.json");
    let version = serde_json::from_slice::<serde_json::Value>(&manifest)
        .expect("package.json is JSON")["dependencies"]["@modelcontextprotocol/sdk"]
        .as_str()
        .expect("the SDK's version is pinned in package.json")
        .to_owned();
    let root = cache_root();
    let dir = root.join(format!("mcp-sdk-{version}-{:016x}", fnv1a(&lock)));
    let installed = |d: &Path| {
        d.join("node_modules/@modelcontextprotocol/sdk/package.json")
            .is_file()
    };
    if installed(&dir) {
        return dir;
    }
    std::fs::create_dir_all(&root)
        .unwrap_or_else(|e| panic!("cannot create the test cache {}: {e}", root.display()));
    let tmp = tempfile::Builder::new()
        .prefix(".mcp-sdk-install-")
        .tempdir_in(&root)
        .expect("a private install folder in the test cache");
    std::fs::write(tmp.path().join("package.json"), &manifest).expect("copy package.json");
    std::fs::write(tmp.path().join("package-lock.json"), &lock).expect("copy package-lock.json");
    let out = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--fetch-retries=1",
            "--fetch-timeout=60000",
        ])
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("node is installed but `npm` cannot run ({e}): install npm to run these tests")
        });
    assert!(
        out.status.success(),
        "`npm ci` of @modelcontextprotocol/sdk {version} into {} failed (is the npm registry \
         reachable?):\n{}{}",
        tmp.path().display(),
        text(&out.stdout),
        text(&out.stderr)
    );
    let staged = tmp.keep();
    if let Err(e) = std::fs::rename(&staged, &dir) {
        // Another run won the race; its install is as good as ours.
        let _ = std::fs::remove_dir_all(&staged);
        assert!(
            installed(&dir),
            "cannot move the SDK install into {}: {e}",
            dir.display()
        );
    }
    dir
}

/// The installed SDK, or `None` (after saying `SKIPPED`) when `node` is missing.
fn sdk_or_skip(transport: &str) -> Option<&'static Path> {
    match setup() {
        Setup::Ready(dir) => Some(dir),
        Setup::Skipped(why) => {
            // Straight to the process's stderr, past the test harness's capture, so a
            // plain `cargo test` shows that this check did not run.
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED: the TypeScript MCP SDK client over {transport}: {why}"
            );
            None
        }
    }
}

/// `node --test tests/mcp-sdk/sdk.test.mjs` against one transport; its output on failure.
fn run_sdk_tests(sdk_dir: &Path, transport: &str, env: &[(&str, &OsStr)]) {
    let mut node = Command::new("node");
    node.args(["--test", "--test-reporter=spec"])
        .arg(sdk_tests_dir().join("sdk.test.mjs"))
        .env("AX_MCP_SDK_DIR", sdk_dir)
        .env("AX_MCP_TRANSPORT", transport)
        .env("NO_COLOR", "1")
        .env_remove("NODE_OPTIONS")
        .stdin(Stdio::null());
    for (key, value) in env {
        node.env(key, value);
    }
    let out: Output = node.output().expect("node runs");
    assert!(
        out.status.success(),
        "the TypeScript MCP SDK client over {transport} failed (exit {:?}):\n{}\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A data directory with two command providers that always fail, for the
/// "discussion ran and failed" paths; `mock-a`/`mock-b` are built in.
fn data_dir() -> DataDir {
    let data = DataDir::new();
    write_fake_providers(&data, &[("broken1", "crash.sh"), ("broken2", "crash.sh")]);
    data
}

#[test]
fn the_typescript_sdk_client_over_stdio_gets_every_result_and_error() {
    let Some(sdk) = sdk_or_skip("stdio") else {
        return;
    };
    let data = data_dir();
    let home = data.path().join("home");
    run_sdk_tests(
        sdk,
        "stdio",
        &[
            ("AX_BIN", OsStr::new(ax_bin())),
            ("AX_DATA_DIR", data.path().as_os_str()),
            ("AX_SERVER_HOME", home.as_os_str()),
        ],
    );
}

#[test]
fn the_typescript_sdk_client_over_http_gets_every_result_and_error() {
    let Some(sdk) = sdk_or_skip("http") else {
        return;
    };
    let data = data_dir();
    let server = start_http(&data, &[]);
    run_sdk_tests(sdk, "http", &[("AX_MCP_URL", OsStr::new(&server.url))]);
}
