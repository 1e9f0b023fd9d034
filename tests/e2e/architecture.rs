//! The dependency rules of the hexagonal layout (design brief, `architecture.md`),
//! checked against `cargo metadata` so a crate that breaks them fails CI:
//!
//! 1. `contracts` depends on no workspace crate and on no runtime, storage, CLI or
//!    protocol crate.
//! 2. The domains depend only on `contracts` among workspace crates, and only on
//!    small async/sync crates otherwise; never on the other domain.
//! 3. Adapters depend on `contracts` and the domains whose ports they implement;
//!    never on each other, `mcp-server` or `cli`.
//! 4. `cli` is the composition root: adapters are constructed in one module of it
//!    (`app.rs`). `mcp-server` is handed the wired services, so it needs no adapter
//!    crate at all; `cli` may use `mcp-server`, not the other way round.
//! 5. Only `mcp-server` knows rmcp; only `cli` knows clap.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Normal (non-dev, non-build) dependencies of each workspace package: name → features.
fn workspace_dependencies() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let mut result = BTreeMap::new();
    for package in meta["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name").to_owned();
        let mut deps = BTreeMap::new();
        for dep in package["dependencies"].as_array().expect("dependencies") {
            if dep["kind"].is_null() {
                let features = dep["features"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                deps.insert(dep["name"].as_str().expect("dep name").to_owned(), features);
            }
        }
        result.insert(name, deps);
    }
    result
}

const WORKSPACE: [&str; 9] = [
    "ax-contracts",
    "ax-agent-domain",
    "ax-discussion-domain",
    "ax-adapter-sqlite",
    "ax-adapter-postgres",
    "ax-adapter-providers",
    "ax-mcp-server",
    "ax-cli",
    "automatosx",
];

fn workspace_edges(deps: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<&str> {
    deps.keys()
        .map(String::as_str)
        .filter(|d| WORKSPACE.contains(d))
        .collect()
}

fn external(deps: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<&str> {
    deps.keys()
        .map(String::as_str)
        .filter(|d| !WORKSPACE.contains(d))
        .collect()
}

#[test]
fn every_crate_of_the_fixed_layout_exists() {
    let deps = workspace_dependencies();
    for name in WORKSPACE {
        assert!(
            deps.contains_key(name),
            "workspace package {name} is missing"
        );
    }
    for dir in [
        "contracts",
        "agent-domain",
        "discussion-domain",
        "adapter-sqlite",
        "adapter-postgres",
        "adapter-providers",
        "mcp-server",
        "cli",
    ] {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("crates")
                .join(dir)
                .join("Cargo.toml")
                .is_file(),
            "crates/{dir}"
        );
    }
}

#[test]
fn contracts_is_plain_data() {
    let deps = workspace_dependencies();
    let contracts = &deps["ax-contracts"];
    assert!(
        workspace_edges(contracts).is_empty(),
        "contracts depends on {:?}",
        workspace_edges(contracts)
    );
    // chrono only parses RFC 3339 text here (no clock is read); strsim suggests names.
    let allowed: BTreeSet<&str> = [
        "serde",
        "serde_json",
        "thiserror",
        "schemars",
        "regex",
        "chrono",
        "strsim",
    ]
    .into();
    let extra: Vec<_> = external(contracts).difference(&allowed).copied().collect();
    assert!(extra.is_empty(), "contracts may not depend on {extra:?}");
}

#[test]
fn domains_depend_only_on_contracts_and_small_async_crates() {
    let deps = workspace_dependencies();
    let allowed: BTreeSet<&str> = [
        "async-trait",
        "tokio",
        "tokio-util",
        "futures",
        "serde",
        "serde_json",
        "thiserror",
        "chrono",
        "uuid",
        // The facade only (spans and events); subscribers belong to the composition root.
        "tracing",
    ]
    .into();
    // tokio only for its synchronisation, timers and (for the conformance suite)
    // task spawning — never processes, sockets, files or stdio.
    let allowed_tokio: BTreeSet<&str> = ["sync", "time", "macros", "rt"].into();
    for domain in ["ax-agent-domain", "ax-discussion-domain"] {
        let d = &deps[domain];
        assert_eq!(
            workspace_edges(d),
            BTreeSet::from(["ax-contracts"]),
            "{domain} workspace dependencies"
        );
        let extra: Vec<_> = external(d).difference(&allowed).copied().collect();
        assert!(extra.is_empty(), "{domain} may not depend on {extra:?}");
        if let Some(features) = d.get("tokio") {
            let bad: Vec<_> = features
                .iter()
                .filter(|f| !allowed_tokio.contains(f.as_str()))
                .collect();
            assert!(bad.is_empty(), "{domain} uses tokio features {bad:?}");
        }
    }
}

#[test]
fn adapters_depend_on_contracts_and_domains_only() {
    let deps = workspace_dependencies();
    let allowed: BTreeSet<&str> =
        ["ax-contracts", "ax-agent-domain", "ax-discussion-domain"].into();
    for adapter in [
        "ax-adapter-sqlite",
        "ax-adapter-postgres",
        "ax-adapter-providers",
    ] {
        let edges = workspace_edges(&deps[adapter]);
        let bad: Vec<_> = edges.difference(&allowed).copied().collect();
        assert!(bad.is_empty(), "{adapter} may not depend on {bad:?}");
        assert!(
            edges.contains("ax-contracts"),
            "{adapter} implements ports over contracts types"
        );
    }
}

#[test]
fn composition_roots_and_edge_crates() {
    let deps = workspace_dependencies();
    let mcp = workspace_edges(&deps["ax-mcp-server"]);
    let bad: Vec<_> = mcp
        .iter()
        .filter(|d| d.starts_with("ax-adapter") || **d == "ax-cli")
        .collect();
    assert!(
        bad.is_empty(),
        "mcp-server is handed wired services and may not depend on {bad:?}"
    );
    assert_eq!(
        workspace_edges(&deps["automatosx"]),
        BTreeSet::from(["ax-cli"]),
        "the binary is thin glue over cli"
    );
    for (package, package_deps) in &deps {
        if package_deps.contains_key("rmcp") {
            assert_eq!(package, "ax-mcp-server", "only mcp-server may know rmcp");
        }
        if package_deps.contains_key("clap") || package_deps.contains_key("clap_complete") {
            assert_eq!(package, "ax-cli", "only cli may know clap");
        }
        if package_deps.contains_key("rusqlite") || package_deps.contains_key("r2d2") {
            assert_eq!(
                package, "ax-adapter-sqlite",
                "only the SQLite adapter may know SQLite"
            );
        }
        if package_deps.contains_key("tokio-postgres")
            || package_deps.contains_key("deadpool-postgres")
        {
            assert_eq!(
                package, "ax-adapter-postgres",
                "only the PostgreSQL adapter may know PostgreSQL"
            );
        }
    }
}

/// Rule 4: adapters are constructed in one module of the composition root, so the
/// wiring can be read in one place.
#[test]
fn adapters_are_constructed_in_one_module_of_the_composition_root() {
    let constructors = [
        "SqliteDatabase::open",
        "PostgresDatabase::connect",
        "ProviderRegistry::",
        "ProvidersFile::load",
    ];
    let wiring = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/cli/src/app.rs");
    let mut offenders = Vec::new();
    for dir in ["crates/cli/src", "crates/mcp-server/src"] {
        visit(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
            &mut |path, text| {
                // A module's unit tests may build what they test.
                let text = text
                    .find("#[cfg(test)]\nmod tests")
                    .map_or(text, |at| &text[..at]);
                if path != wiring {
                    for c in constructors {
                        if text.contains(c) {
                            offenders.push(format!("{} uses {c}", path.display()));
                        }
                    }
                }
            },
        );
    }
    assert!(
        offenders.is_empty(),
        "adapters constructed outside crates/cli/src/app.rs: {offenders:?}"
    );
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, f);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("source file is readable");
            f(&path, &text);
        }
    }
}

/// The declared `rust-version` is the oldest toolchain that really builds `--locked`:
/// no locked dependency declares a newer one (issue 8: `Cargo.lock` pinned the
/// parking_lot 0.13 family, which needs 1.95, under a declared 1.88). Newer standard
/// library APIs in our own code are caught by clippy's `incompatible_msrv` lint, which
/// reads the same `rust-version` in CI.
///
/// The packages checked are those of this machine's platform: `cargo metadata`
/// without `--filter-platform` needs every platform's packages downloaded, which a
/// build here never fetches (a new machine failed offline on
/// `android_system_properties`).
#[test]
fn no_locked_dependency_needs_a_newer_toolchain_than_declared() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let about = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let about = String::from_utf8_lossy(&about.stdout);
    let host = about
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata --locked failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let version = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    let resolved: BTreeSet<&str> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    let packages = meta["packages"].as_array().expect("packages");
    let declared = packages
        .iter()
        .find(|p| p["name"] == "automatosx")
        .and_then(|p| p["rust_version"].as_str())
        .expect("the workspace declares rust-version");
    let too_new: Vec<String> = packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| resolved.contains(id)))
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(declared)).then(|| {
                format!(
                    "{} {} needs {needs}",
                    p["name"].as_str().unwrap_or("?"),
                    p["version"].as_str().unwrap_or("?")
                )
            })
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "rust-version = {declared}, but: {}",
        too_new.join(", ")
    );
}
