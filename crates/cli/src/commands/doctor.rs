//! `ax doctor`: is everything in order? The data directory, the database (SQLite:
//! schema, pragmas, `PRAGMA quick_check`, whether it is read-only; PostgreSQL: the
//! target, server and schema versions, latency, TLS), the configuration, the
//! providers and the limit.

use serde_json::{Value, json};

use crate::app::{App, CONFIG_FILE, Storage};
use crate::commands::providers::{limit_in_force, provider_rows};
use crate::error::{CliError, Exit, error_chain};
use crate::output::Out;

/// Run `ax doctor`; exit 1 when something needs attention.
pub async fn run(app: &App, out: Out) -> Result<Exit, CliError> {
    let mut problems: Vec<String> = Vec::new();
    // Things worth knowing that do not make the installation unhealthy.
    let warnings: Vec<String> = Vec::new();

    let sqlite = match &app.storage {
        Storage::Sqlite(db) => db,
        Storage::Postgres(db) => {
            let database = postgres_health(db, &mut problems).await;
            return finish(app, out, database, problems, warnings).await;
        }
    };
    let database = match sqlite.health() {
        Ok(h) => {
            if !h.is_ok() {
                problems.push(format!(
                    "database integrity check failed: {}",
                    h.integrity.join("; ")
                ));
            }
            if h.read_only {
                problems.push(format!(
                    "database {} is read-only: its file, folder or file system cannot be written, so agents cannot be registered or changed and discussions are not saved",
                    h.path.display()
                ));
            } else if h.settings.journal_mode != "wal" {
                problems.push(format!(
                    "database journal mode is {}, expected wal",
                    h.settings.journal_mode
                ));
            }
            json!({
                "backend": "sqlite",
                "path": h.path,
                "schemaVersion": h.schema_version,
                "supportedSchemaVersion": h.supported_schema_version,
                "journalMode": h.settings.journal_mode,
                "busyTimeoutMs": h.settings.busy_timeout_ms,
                "foreignKeys": h.settings.foreign_keys,
                "synchronous": h.settings.synchronous,
                "integrity": h.integrity,
                "check": "quick_check",
                "readOnly": h.read_only,
                "agents": h.counts.agents,
                "discussions": h.counts.discussions,
            })
        }
        Err(e) => {
            problems.push(format!("database: {}", error_chain(&e)));
            json!({ "error": error_chain(&e) })
        }
    };

    finish(app, out, database, problems, warnings).await
}

/// The PostgreSQL part of the report: never the password, only the target.
async fn postgres_health(
    db: &ax_adapter_postgres::PostgresDatabase,
    problems: &mut Vec<String>,
) -> Value {
    match db.health().await {
        Ok(h) => {
            let supported = ax_adapter_postgres::SCHEMA_VERSION;
            if h.schema_version != i64::from(supported) {
                problems.push(format!(
                    "database schema version is {}, this build uses {supported}",
                    h.schema_version
                ));
            }
            json!({
                "backend": "postgresql",
                "target": h.target,
                "serverVersion": h.server_version,
                "schemaVersion": h.schema_version,
                "supportedSchemaVersion": supported,
                "latencyMs": (h.latency.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
                "tls": h.tls,
                "agents": h.agents,
                "discussions": h.discussions,
            })
        }
        Err(e) => {
            problems.push(format!("database: {}", error_chain(&e)));
            json!({ "backend": "postgresql", "target": db.target(), "error": error_chain(&e) })
        }
    }
}

/// The rest of the checks, and the report in the asked format.
async fn finish(
    app: &App,
    out: Out,
    database: Value,
    mut problems: Vec<String>,
    mut warnings: Vec<String>,
) -> Result<Exit, CliError> {
    let config_path = app.data_dir.join(CONFIG_FILE);
    let (config, providers, limit) = match app.discussions(None) {
        Ok(wiring) => {
            let rows = provider_rows(&wiring);
            let defaults = wiring.service.engine().default_providers().await;
            if defaults.simulated {
                warnings.push(format!(
                    "discussions without --providers will be simulated: {}",
                    defaults.reason
                ));
            }
            (
                json!({"path": config_path, "exists": config_path.is_file(), "valid": true}),
                serde_json::to_value(rows).unwrap_or_default(),
                serde_json::to_value(limit_in_force(&wiring)).unwrap_or_default(),
            )
        }
        Err(e) => {
            problems.push(e.message.clone());
            (
                json!({"path": config_path, "exists": config_path.is_file(), "valid": false, "error": e.message}),
                json!([]),
                Value::Null,
            )
        }
    };

    let healthy = problems.is_empty();
    if out.json() {
        out.print_json(&json!({
            "healthy": healthy,
            "dataDir": app.data_dir,
            "database": database,
            "config": config,
            "providers": providers,
            "maxConcurrentProviderCalls": limit,
            "problems": problems,
            "warnings": warnings,
        }))?;
    } else {
        let mark = |ok: bool| if ok { out.green("✓") } else { out.red("✗") };
        out.line(&format!(
            "{} data directory  {}",
            mark(true),
            app.data_dir.display()
        ))?;
        if database["backend"] == "postgresql" {
            out.line(&postgres_line(
                &database,
                mark(database.get("error").is_none()),
            ))?;
        } else {
            sqlite_line(&out, &database, &mark)?;
        }
        let config_ok = config["valid"] == true;
        let config_state = if config["exists"] == true {
            ""
        } else {
            " (not present: built-in presets)"
        };
        out.line(&format!(
            "{} config          {}{config_state}",
            mark(config_ok),
            config_path.display()
        ))?;
        if let Some(rows) = providers.as_array() {
            let names = |available: bool| -> Vec<String> {
                rows.iter()
                    .filter(|r| (r["available"] == true) == available && r["simulated"] != true)
                    .map(|r| r["id"].as_str().unwrap_or("").to_owned())
                    .collect()
            };
            let (up, down) = (names(true), names(false));
            out.line(&format!(
                "{} providers       available: {}",
                mark(up.len() >= 2),
                if up.is_empty() {
                    "none".into()
                } else {
                    up.join(", ")
                }
            ))?;
            if !down.is_empty() {
                out.line(&format!(
                    "                  not available: {}",
                    down.join(", ")
                ))?;
            }
        }
        if !limit.is_null() {
            out.line(&format!(
                "{} provider limit  {} calls in flight ({})",
                mark(true),
                limit["value"],
                limit["source"].as_str().unwrap_or("")
            ))?;
        }
        for p in &problems {
            out.line(&format!("{} {p}", out.red("problem:")))?;
        }
        for w in &warnings {
            out.line(&format!("{} {w}", out.yellow("note:")))?;
        }
    }
    Ok(if healthy { Exit::Ok } else { Exit::Failure })
}

/// `✓ database        postgresql alice@db:5432/ax (PostgreSQL 15.8, schema 1, ...)`.
fn postgres_line(database: &Value, mark: String) -> String {
    let target = database["target"].as_str().unwrap_or("?");
    if let Some(error) = database["error"].as_str() {
        return format!("{mark} database        postgresql {target}: {error}");
    }
    format!(
        "{mark} database        postgresql {target} (PostgreSQL {}, schema {}, latency {} ms, TLS {}, {} agents, {} discussions)",
        database["serverVersion"].as_str().unwrap_or("?"),
        database["schemaVersion"],
        database["latencyMs"],
        if database["tls"] == true { "on" } else { "off" },
        database["agents"],
        database["discussions"],
    )
}

/// `✓ database        /path/data.db (schema 3, wal journal, ...)`.
fn sqlite_line(out: &Out, database: &Value, mark: &dyn Fn(bool) -> String) -> Result<(), CliError> {
    let read_only = database["readOnly"] == true;
    let db_ok =
        database.get("error").is_none() && database["integrity"] == json!(["ok"]) && !read_only;
    out.line(&format!(
        "{} database        {}{} (schema {}, {} journal, busy_timeout {} ms, {} agents, {} discussions, quick_check {})",
            mark(db_ok),
            database["path"].as_str().unwrap_or("?"),
            if read_only { " read-only" } else { "" },
            database["schemaVersion"],
            database["journalMode"].as_str().unwrap_or("?"),
            database["busyTimeoutMs"],
            database["agents"],
            database["discussions"],
            database["integrity"].get(0).and_then(Value::as_str).unwrap_or("?"),
        ))?;
    Ok(())
}
