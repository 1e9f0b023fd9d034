//! The composition root: the one place where adapters are constructed and wired to
//! the domains (architecture rule 4). Commands receive an [`App`] and never build
//! adapters themselves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::AgentRegistry;
use ax_agent_domain::import::{ImportItem, OnConflict};
use ax_agent_domain::store::AgentStore;

use crate::error::{CliError, error_chain};
use crate::input;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "data.db";
/// The reference tool's registry file, imported once if found in the data directory.
pub const REFERENCE_REGISTRY_FILE: &str = "agents.json";
/// Marker recorded once the reference registry file has been imported.
pub const REFERENCE_IMPORT_MARKER: &str = "import:reference-agents.json";

/// Wired services for one `ax` invocation.
pub struct App {
    /// The data directory in use.
    pub data_dir: PathBuf,
    /// The database (for diagnostics).
    pub database: SqliteDatabase,
    /// The agent registry over the database.
    pub agents: AgentRegistry,
}

/// `--data-dir`, else `$AX_DATA_DIR`, else `~/.automatosx`.
pub fn resolve_data_dir(flag: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(dir) = flag {
        return Ok(dir.to_owned());
    }
    if let Some(dir) = std::env::var_os("AX_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".automatosx")),
        None => Err(
            CliError::usage("cannot find a data directory: HOME is not set")
                .hint("pass --data-dir DIR or set AX_DATA_DIR"),
        ),
    }
}

impl App {
    /// Open the data directory: create it if needed, open (and migrate) the
    /// database, seed the built-in agents once, and import a reference `agents.json`
    /// once if one is there.
    pub async fn open(data_dir_flag: Option<&Path>) -> Result<App, CliError> {
        let data_dir = resolve_data_dir(data_dir_flag)?;
        create_private_dir(&data_dir)?;
        let db_path = data_dir.join(DATABASE_FILE);
        let database = SqliteDatabase::open(&db_path).map_err(|e| {
            CliError::failure(format!(
                "cannot open the database {}: {}",
                db_path.display(),
                error_chain(&e)
            ))
        })?;
        let store: Arc<dyn AgentStore> = Arc::new(database.agent_store());
        let agents = AgentRegistry::new(store);
        agents.seed_defaults().await?;
        let app = App {
            data_dir,
            database,
            agents,
        };
        app.import_reference_registry_once().await?;
        Ok(app)
    }

    /// The reference tool kept its registry in `agents.json`, rewritten on every
    /// change (the file race this project exists to fix). If one sits in the data
    /// directory, import it once — skipping ids already registered — and record
    /// that it was done so a later removal is not undone.
    async fn import_reference_registry_once(&self) -> Result<(), CliError> {
        let path = self.data_dir.join(REFERENCE_REGISTRY_FILE);
        if !path.is_file()
            || self
                .agents
                .store()
                .is_marked(REFERENCE_IMPORT_MARKER)
                .await
                .map_err(ax_agent_domain::AgentError::from)?
        {
            return Ok(());
        }
        let items = match read_import_items(&path) {
            Ok(items) => items,
            Err(err) => {
                tracing::warn!("not importing {}: {}", path.display(), err.message);
                return Ok(());
            }
        };
        let report = self.agents.import(items, OnConflict::Skip).await?;
        self.agents
            .store()
            .mark_once(REFERENCE_IMPORT_MARKER)
            .await
            .map_err(ax_agent_domain::AgentError::from)?;
        eprintln!(
            "note: imported {} agent(s) from the reference registry {} ({} already registered, {} invalid); it will not be imported again",
            report.imported.len(),
            path.display(),
            report.skipped.len(),
            report.invalid.len(),
        );
        Ok(())
    }
}

/// Every profile in an import source, labelled with where it came from.
pub fn read_import_items(path: &Path) -> Result<Vec<ImportItem>, CliError> {
    let mut items = Vec::new();
    let files = if path == Path::new("-") {
        vec![path.to_owned()]
    } else {
        input::import_files(path)?
    };
    for file in files {
        let doc = input::read_document(&file)?;
        let entries = ax_contracts::agent::import_entries(doc)
            .map_err(|e| crate::error::invalid(&format!("import file {}", file.display()), &e))?;
        for (label, profile) in entries {
            let source = if label == "$" {
                file.display().to_string()
            } else {
                format!("{}: {label}", file.display())
            };
            items.push(ImportItem { source, profile });
        }
    }
    Ok(items)
}

/// Create the data directory (owner-only on Unix: it holds the user's agents and
/// discussion history).
fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| {
        CliError::failure(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })
}
