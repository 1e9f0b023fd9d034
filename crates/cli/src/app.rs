//! The composition root: the one place where adapters are constructed and wired to
//! the domains (architecture rule 4). Commands receive an [`App`] and never build
//! adapters themselves.
//!
//! The storage backend is picked here and nowhere else: SQLite in the data
//! directory, or PostgreSQL when a database URL is given ([`crate::storage`]). The
//! domains and the edges see only the `AgentStore` and `DiscussionHistory` ports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ax_adapter_postgres::{PostgresDatabase, PostgresError};
use ax_adapter_providers::ProviderRegistry;
use ax_adapter_sqlite::{DatabaseOptions, Execution, SqliteDatabase};
use ax_agent_domain::import::{ImportItem, ImportSource, InvalidImport};
use ax_agent_domain::store::AgentStore;
use ax_agent_domain::{AgentError, AgentRegistry};
use ax_contracts::validation::{Issue, rule};
use ax_discussion_domain::history::DiscussionHistory;
use ax_discussion_domain::participants::{AgentPersona, ParticipantResolver, ResolveError};
use ax_discussion_domain::provider::ProviderExecutor;
use ax_discussion_domain::{DiscussionEngine, DiscussionService, ProviderLimiter};

use crate::copy;
use crate::error::{CliError, error_chain};
use crate::input;
use crate::storage::{DatabaseUrlArg, Endpoint, resolve_database_url};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "data.db";
/// The reference tool's registry file, imported once if found in the data directory.
pub const REFERENCE_REGISTRY_FILE: &str = "agents.json";
/// Marker recorded once the reference registry file has been imported.
pub const REFERENCE_IMPORT_MARKER: &str = "import:reference-agents.json";
/// The configuration file inside the data directory (providers and the limit).
pub const CONFIG_FILE: &str = "config.toml";
/// The environment variable that sets the process-wide provider call limit.
pub const LIMIT_ENV: &str = "AX_MAX_CONCURRENT_PROVIDER_CALLS";
/// The process-wide provider call limit when nothing sets it (INV-DISC-RATE-001).
pub const DEFAULT_PROVIDER_LIMIT: usize = 5;
/// The largest process-wide limit accepted.
pub const MAX_PROVIDER_LIMIT: usize = 64;

/// Wired services for one `ax` invocation.
pub struct App {
    /// The data directory in use.
    pub data_dir: PathBuf,
    /// The database (for diagnostics and backups).
    pub storage: Storage,
    /// The agent registry over the database.
    pub agents: AgentRegistry,
    /// `$AX_MAX_CONCURRENT_PROVIDER_CALLS` as clap read it, checked when the
    /// discussions are wired ([`App::discussions`]).
    limit_from_env: Option<String>,
}

/// The storage backend in use.
pub enum Storage {
    /// `data.db` in the data directory (the default).
    Sqlite(SqliteDatabase),
    /// A PostgreSQL server shared by every process and machine pointed at it.
    Postgres(PostgresDatabase),
}

impl Storage {
    /// Opens one end of `ax db copy` without seeding or importing anything (a copy
    /// brings the source's agents and one-time keys instead). A source must exist;
    /// a SQLite target file is created if missing (its folder must exist), and
    /// `sqlite` creates the data directory.
    pub async fn open_endpoint(endpoint: &Endpoint, source: bool) -> Result<Storage, CliError> {
        let path = match endpoint {
            Endpoint::Postgres(url) => {
                let database = PostgresDatabase::connect(url)
                    .await
                    .map_err(|e| postgres_error(&e))?;
                return Ok(Storage::Postgres(database));
            }
            Endpoint::DataDir(path) | Endpoint::File(path) => path,
        };
        if source && !path.is_file() {
            return Err(CliError::usage(format!(
                "--from: no SQLite database at {}",
                endpoint.shown()
            ))
            .hint("--from takes `sqlite` (the data directory's data.db), a SQLite file or a postgres:// URL"));
        }
        if let (Endpoint::DataDir(_), Some(dir)) = (endpoint, path.parent()) {
            create_private_dir(dir)?;
        }
        match SqliteDatabase::open_with(path, DatabaseOptions::default()) {
            Ok(database) => Ok(Storage::Sqlite(database)),
            // A source only has to be readable.
            Err(e) if source && e.is_read_only() => {
                SqliteDatabase::open_read_only(path, DatabaseOptions::default())
                    .map(Storage::Sqlite)
                    .map_err(|e| database_error(&e))
            }
            Err(e) => Err(database_error(&e)),
        }
    }

    /// Whether `self` and `other` are the same database: the same file (also
    /// through another path or a hard link), or the same PostgreSQL server,
    /// database and schema however the URLs spell them.
    pub async fn same_database(&self, other: &Storage) -> Result<bool, CliError> {
        match (self, other) {
            (Self::Sqlite(a), Self::Sqlite(b)) => Ok(same_file(a.path(), b.path())),
            (Self::Postgres(a), Self::Postgres(b)) => {
                let identity = |db: &PostgresDatabase| {
                    let db = db.clone();
                    async move { db.identity().await.map_err(|e| postgres_error(&e)) }
                };
                Ok(identity(a).await? == identity(b).await?)
            }
            _ => Ok(false),
        }
    }

    fn agent_store(&self) -> Arc<dyn AgentStore> {
        match self {
            Self::Sqlite(db) => Arc::new(db.agent_store()),
            Self::Postgres(db) => Arc::new(db.agent_store()),
        }
    }

    fn history(&self) -> Arc<dyn DiscussionHistory> {
        match self {
            Self::Sqlite(db) => Arc::new(db.history()),
            Self::Postgres(db) => Arc::new(db.history()),
        }
    }
}

/// Where an invocation's data is: the data directory (`--data-dir`) and the
/// database URL (`--database-url` / `$AX_DATABASE_URL`), as given; and the
/// environment's provider call limit, which the app keeps for wiring discussions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Location<'a> {
    /// `--data-dir`.
    pub data_dir: Option<&'a Path>,
    /// `--database-url`, or `$AX_DATABASE_URL`.
    pub database_url: Option<&'a DatabaseUrlArg>,
    /// `$AX_MAX_CONCURRENT_PROVIDER_CALLS`.
    pub limit_from_env: Option<&'a str>,
}

/// `--data-dir`, else `$AX_DATA_DIR` (clap reads both, the flag first: `flag` is
/// whichever was given), else `~/.automatosx`. An empty value counts as not given.
pub fn resolve_data_dir(flag: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(dir) = flag.filter(|d| !d.as_os_str().is_empty()) {
        return Ok(dir.to_owned());
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".automatosx")),
        None => Err(
            CliError::usage("cannot find a data directory: HOME is not set")
                .hint("pass --data-dir DIR or set AX_DATA_DIR"),
        ),
    }
}

/// What the command will do with the database, which decides where SQLite's blocking
/// work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// One operation after another with nothing else to run meanwhile (`ax agent`):
    /// SQLite runs on the calling thread, saving a thread hand-off per statement.
    Sequential,
    /// Several things at once (a discussion with live progress, the MCP server):
    /// writes, scans and pages run on Tokio's blocking pool so a writer waiting for
    /// the lock never stalls the other tasks; point reads by id run inline (they
    /// never wait in WAL mode, and the hand-off would be most of their cost).
    Concurrent,
}

impl App {
    /// [`App::open_for`] a concurrent workload.
    pub async fn open(location: Location<'_>) -> Result<App, CliError> {
        Self::open_for(location, Workload::Concurrent).await
    }

    /// Connects to the PostgreSQL server the location names, if it names one
    /// (flag > environment > `config.toml`). The connection (and the migration)
    /// happens here, so a server that is down fails the command at once with
    /// `STORAGE_UNAVAILABLE`.
    async fn open_postgres(
        location: Location<'_>,
        data_dir: &Path,
    ) -> Result<Option<PostgresDatabase>, CliError> {
        let Some((url, _source)) = resolve_database_url(location.database_url, data_dir)? else {
            return Ok(None);
        };
        let database = PostgresDatabase::connect(&url)
            .await
            .map_err(|e| postgres_error(&e))?;
        tracing::debug!(target = database.target(), "using PostgreSQL");
        Ok(Some(database))
    }

    /// Open the data directory: create it if needed, open (and migrate) the
    /// database, seed the built-in agents once, and import a reference `agents.json`
    /// once if one is there.
    pub async fn open_for(location: Location<'_>, workload: Workload) -> Result<App, CliError> {
        let data_dir = resolve_data_dir(location.data_dir)?;
        create_private_dir(&data_dir)?;
        if let Some(database) = Self::open_postgres(location, &data_dir).await? {
            return Self::wire(location, data_dir, Storage::Postgres(database)).await;
        }
        let db_path = data_dir.join(DATABASE_FILE);
        let execution = match workload {
            Workload::Sequential => Execution::Inline,
            Workload::Concurrent => Execution::PointReadsInline,
        };
        let database = SqliteDatabase::open_with(
            &db_path,
            DatabaseOptions {
                execution,
                ..DatabaseOptions::default()
            },
        )
        .map_err(|e| database_error(&e))?;
        Self::wire(location, data_dir, Storage::Sqlite(database)).await
    }

    /// The registry over `database`, seeded, with the reference registry imported
    /// once.
    async fn wire(
        location: Location<'_>,
        data_dir: PathBuf,
        storage: Storage,
    ) -> Result<App, CliError> {
        let agents = AgentRegistry::new(storage.agent_store());
        agents.seed_defaults().await?;
        let app = App {
            data_dir,
            storage,
            agents,
            limit_from_env: location.limit_from_env.map(str::to_owned),
        };
        app.import_reference_registry_once().await?;
        Ok(app)
    }

    /// [`App::open`], or — when the database cannot be written (a read-only file,
    /// folder or file system) — the database opened for reading only, without
    /// seeding or importing anything: for `ax doctor` and `ax db backup`, which only
    /// read. [`App::read_only`] says which.
    /// On PostgreSQL this is [`App::open`]: the server decides what may be written.
    pub async fn open_or_read_only(location: Location<'_>) -> Result<App, CliError> {
        let data_dir = resolve_data_dir(location.data_dir)?;
        if let Some(database) = Self::open_postgres(location, &data_dir).await? {
            return Self::wire(location, data_dir, Storage::Postgres(database)).await;
        }
        let db_path = data_dir.join(DATABASE_FILE);
        if db_path.is_file() {
            match SqliteDatabase::open_with(&db_path, DatabaseOptions::default()) {
                Ok(database) => {
                    return Self::wire(location, data_dir, Storage::Sqlite(database)).await;
                }
                Err(e) if e.is_read_only() => {
                    let database =
                        SqliteDatabase::open_read_only(&db_path, DatabaseOptions::default())
                            .map_err(|e| database_error(&e))?;
                    let storage = Storage::Sqlite(database);
                    return Ok(App {
                        data_dir,
                        agents: AgentRegistry::new(storage.agent_store()),
                        storage,
                        limit_from_env: location.limit_from_env.map(str::to_owned),
                    });
                }
                Err(e) => return Err(database_error(&e)),
            }
        }
        Self::open(Location {
            data_dir: Some(&data_dir),
            database_url: None,
            ..location
        })
        .await
    }

    /// Whether the database was opened for reading only ([`App::open_or_read_only`]).
    pub fn read_only(&self) -> bool {
        match &self.storage {
            Storage::Sqlite(db) => db.is_read_only().unwrap_or(false),
            Storage::Postgres(_) => false,
        }
    }

    /// For `ax db backup` on PostgreSQL: a new SQLite database in `dir` holding a
    /// copy of every agent (revisions and timestamps kept), the one-time keys and
    /// every saved discussion, read through the ports ([`crate::copy`]). Put in a
    /// data directory as `data.db`, it is a complete SQLite registry; it is not one
    /// point-in-time snapshot of a server others keep writing to (`pg_dump` is,
    /// docs/STORAGE.md). Returns the copy and how many agents and discussions it holds.
    pub async fn copy_to_sqlite(&self, dir: &Path) -> Result<(SqliteDatabase, u64, u64), CliError> {
        let copy = SqliteDatabase::open_with(dir.join(DATABASE_FILE), DatabaseOptions::default())
            .map_err(|e| database_error(&e))?;
        let report = copy_all(&self.storage, &Storage::Sqlite(copy.clone()), false).await?;
        Ok((copy, report.agents.copied, report.discussions.copied))
    }

    /// Saved discussions, without wiring providers (for `ax discuss history|show`).
    pub fn history(&self) -> Arc<dyn DiscussionHistory> {
        self.storage.history()
    }

    /// Wire the discussion side: the providers of `config.toml` (or the presets),
    /// the ONE process-wide limiter every provider call passes (INV-DISC-RATE-001),
    /// the engine, the history in the database, and agents as participants through
    /// the registry.
    ///
    /// `max_concurrent` is `--max-concurrent`; it wins over
    /// `AX_MAX_CONCURRENT_PROVIDER_CALLS`, which wins over `config.toml`, which wins
    /// over the default of 5.
    pub fn discussions(&self, max_concurrent: Option<usize>) -> Result<Discussions, CliError> {
        let config_path = self.data_dir.join(CONFIG_FILE);
        let providers = Arc::new(ProviderRegistry::load(&config_path).map_err(|e| {
            CliError::usage(format!("invalid configuration: {e}"))
                .hint(format!("fix or move {}", config_path.display()))
        })?);
        let limit = resolve_limit(
            max_concurrent,
            self.limit_from_env.as_deref(),
            providers.max_concurrent_provider_calls(),
        )?;
        let executor: Arc<dyn ProviderExecutor> = providers.clone();
        let limiter = ProviderLimiter::with_providers(limit.value, &executor.providers());
        let history = self.history();
        let engine = DiscussionEngine::new(executor, limiter.clone()).with_synthesizer_preference(
            ax_adapter_providers::presets::SYNTHESIZER_PREFERENCE.map(String::from),
        );
        let service = DiscussionService::new(engine, history.clone()).with_resolver(Arc::new(
            RegistryParticipants {
                agents: self.agents.clone(),
            },
        ));
        Ok(Discussions {
            service: Arc::new(service),
            history,
            providers,
            limiter,
            limit,
        })
    }

    /// The reference tool kept its registry in `agents.json`, rewritten on every
    /// change (the file race this project exists to fix). If one sits in the data
    /// directory, import it once — skipping ids already registered — and record
    /// that it was done so a later removal is not undone. The record and the import
    /// are one transaction claimed by an insert-if-absent, so any number of
    /// processes starting at once import it exactly once.
    async fn import_reference_registry_once(&self) -> Result<(), CliError> {
        let path = self.data_dir.join(REFERENCE_REGISTRY_FILE);
        // Cheap checks first, for every start after the first; they decide nothing
        // (the claim in `import_once` does).
        if std::fs::symlink_metadata(&path).is_err()
            || self
                .agents
                .store()
                .is_marked(REFERENCE_IMPORT_MARKER)
                .await
                .map_err(AgentError::from)?
        {
            return Ok(());
        }
        let source = match read_reference_registry(&self.data_dir, &path) {
            Ok(source) => source,
            Err(message) => {
                tracing::warn!("not importing {}: {message}", path.display());
                return Ok(());
            }
        };
        let Some(report) = self
            .agents
            .import_once(REFERENCE_IMPORT_MARKER, source)
            .await?
        else {
            return Ok(()); // another process imported it
        };
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

/// The one-time keys, the agents and the discussions of `from` copied into `to`, in
/// that order (INV-COPY-001: the keys first, so that an interrupted copy does not
/// leave the target to seed what the source removed).
pub async fn copy_all(
    from: &Storage,
    to: &Storage,
    overwrite: bool,
) -> Result<CopyReport, CliError> {
    let failed = |e: copy::CopyError| CliError::storage(&e);
    let (agents_from, agents_to) = (from.agent_store(), to.agent_store());
    let once_keys = copy::copy_once_keys(agents_from.as_ref(), agents_to.as_ref())
        .await
        .map_err(failed)?;
    let agents = copy::copy_agents(agents_from.as_ref(), agents_to.as_ref(), overwrite)
        .await
        .map_err(failed)?;
    let discussions =
        copy::copy_discussions(from.history().as_ref(), to.history().as_ref(), overwrite)
            .await
            .map_err(failed)?;
    Ok(CopyReport {
        agents,
        discussions,
        once_keys,
    })
}

/// What [`copy_all`] did, per kind.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyReport {
    /// Agents.
    pub agents: copy::Tally,
    /// Saved discussions.
    pub discussions: copy::Tally,
    /// One-time action keys and seeded ids.
    pub once_keys: copy::Tally,
}

/// Whether two paths name one file (canonical paths, or device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(x), Ok(y)) = (std::fs::canonicalize(a), std::fs::canonicalize(b))
        && x == y
    {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (x.dev(), x.ino()) == (y.dev(), y.ino());
        }
    }
    false
}

/// The profiles of the data directory's `agents.json`: a regular file there (a link
/// only to a file inside the data directory), read under the usual size and depth
/// limits.
fn read_reference_registry(data_dir: &Path, path: &Path) -> Result<ImportSource, String> {
    let root = std::fs::canonicalize(data_dir).map_err(|e| e.to_string())?;
    let entry = root.join(REFERENCE_REGISTRY_FILE);
    let shown = data_dir.display().to_string();
    let (open, _) = input::file_in_folder(&root, &entry, &shown)?;
    let doc = input::read_document(&open).map_err(|e| e.message.clone())?;
    let mut source = ImportSource::default();
    push_entries(&mut source, &path.display().to_string(), doc);
    match source.unreadable.first() {
        Some(bad) => Err(bad
            .issues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")),
        None => Ok(source),
    }
}

/// The discussion side of the app, wired by [`App::discussions`].
pub struct Discussions {
    /// Validates, runs and saves discussions.
    pub service: Arc<DiscussionService>,
    /// Saved discussions.
    pub history: Arc<dyn DiscussionHistory>,
    /// The configured providers (for `ax providers`, `ax doctor`).
    pub providers: Arc<ProviderRegistry>,
    /// The one process-wide limiter (INV-DISC-RATE-001).
    pub limiter: ProviderLimiter,
    /// The limit in force and where it came from.
    pub limit: ProviderLimit,
}

/// The process-wide limit and its source, for `ax providers` and `ax doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderLimit {
    /// Most provider calls in flight in this process.
    pub value: usize,
    /// `--max-concurrent`, `AX_MAX_CONCURRENT_PROVIDER_CALLS`, `config.toml` or `default`.
    pub source: &'static str,
}

/// Apply the precedence flag > environment > config file > default, checking range.
pub fn resolve_limit(
    flag: Option<usize>,
    env: Option<&str>,
    config: Option<usize>,
) -> Result<ProviderLimit, CliError> {
    let (value, source) = if let Some(v) = flag {
        (v, "--max-concurrent")
    } else if let Some(text) = env.filter(|t| !t.trim().is_empty()) {
        let v = text.trim().parse::<usize>().map_err(|_| {
            CliError::usage(format!(
                "{LIMIT_ENV} must be a whole number from 1 to {MAX_PROVIDER_LIMIT} (got \"{text}\")"
            ))
        })?;
        (v, LIMIT_ENV)
    } else if let Some(v) = config {
        (v, "config.toml")
    } else {
        (DEFAULT_PROVIDER_LIMIT, "default")
    };
    if !(1..=MAX_PROVIDER_LIMIT).contains(&value) {
        return Err(CliError::usage(format!(
            "the provider call limit from {source} must be from 1 to {MAX_PROVIDER_LIMIT} (got {value})"
        )));
    }
    Ok(ProviderLimit { value, source })
}

/// Agents take part in discussions through this port implementation: an enabled
/// agent's system prompt, display name and provider affinity (preferred, excluded,
/// fallback strategy).
struct RegistryParticipants {
    agents: AgentRegistry,
}

#[async_trait::async_trait]
impl ParticipantResolver for RegistryParticipants {
    async fn resolve_agent(&self, agent_id: &str) -> Result<Option<AgentPersona>, ResolveError> {
        match self.agents.get(agent_id).await {
            Ok(record) if record.profile.enabled => {
                let profile = record.profile;
                Ok(Some(AgentPersona {
                    display_name: profile
                        .display_name
                        .clone()
                        .unwrap_or_else(|| profile.agent_id.clone()),
                    preferred_providers: profile
                        .preferred_providers()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    excluded_providers: profile
                        .provider_affinity
                        .as_ref()
                        .and_then(|a| a.excluded.clone())
                        .unwrap_or_default(),
                    fallback: profile.provider_affinity.as_ref().map_or(
                        ax_contracts::agent::FallbackStrategy::Cascade,
                        ax_contracts::agent::ProviderAffinity::fallback_strategy,
                    ),
                    system_prompt: profile.system_prompt.clone(),
                    agent_id: profile.agent_id,
                }))
            }
            Ok(_) | Err(AgentError::NotFound { .. }) => Ok(None),
            Err(other) => Err(ResolveError {
                agent_id: agent_id.to_owned(),
                message: error_chain(&other),
            }),
        }
    }
}

/// A database that cannot be opened, as the user sees it: the adapter's message
/// already names the file and says why (busy, read-only, newer schema, ...), once.
fn database_error(e: &ax_adapter_sqlite::DatabaseError) -> CliError {
    if e.is_busy() {
        CliError::busy(error_chain(e))
    } else if e.is_read_only() {
        CliError::failure(error_chain(e)).hint("`ax doctor` can still check it; use a writable --data-dir to change agents or save discussions")
    } else {
        CliError::failure(error_chain(e))
    }
}

/// A PostgreSQL database that cannot be opened: `STORAGE_UNAVAILABLE` when the
/// server is not there; a usage error for a URL the adapter refused; a failure
/// otherwise (credentials, TLS, a newer schema). The adapter's messages name the
/// target, never the password (INV-PG-SECRET-001).
fn postgres_error(e: &PostgresError) -> CliError {
    match e {
        _ if e.is_unreachable() => CliError::unavailable(error_chain(e)),
        PostgresError::InvalidUrl(_) => CliError::usage(error_chain(e)),
        PostgresError::Connect { .. } => CliError::failure(error_chain(e))
            .hint("check the user, password, database name and sslmode in the database URL"),
        _ => CliError::failure(error_chain(e)),
    }
}

/// A directory's file that could not be read or parsed, as an invalid entry of the
/// report (so every problem is reported, not only the first).
pub(crate) fn unreadable(source: String, err: &CliError) -> InvalidImport {
    InvalidImport {
        source,
        agent_id: None,
        issues: vec![Issue {
            path: "$".into(),
            rule: rule::UNREADABLE.into(),
            message: err.message.clone(),
        }],
    }
}

/// Where an entry at `label` (`agents[3]`, `[0]`, `$`) of `file` came from, for the
/// report.
pub(crate) fn entry_source(file: &str, label: &str) -> String {
    if label == "$" {
        file.to_owned()
    } else {
        format!("{file}: {label}")
    }
}

/// The profiles of one document read from `file`; a document that is no registry
/// file, profile or list of profiles is reported as invalid.
pub(crate) fn push_entries(source: &mut ImportSource, file: &str, doc: serde_json::Value) {
    match ax_contracts::agent::import_entries(doc) {
        Ok(entries) => {
            for (label, profile) in entries {
                source.items.push(ImportItem {
                    source: entry_source(file, &label),
                    profile,
                });
            }
        }
        Err(errors) => source.unreadable.push(InvalidImport {
            source: file.to_owned(),
            agent_id: None,
            issues: errors.issues,
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_comes_from_flag_then_environment_then_config_then_default() {
        assert_eq!(
            resolve_limit(Some(3), Some("7"), Some(9))
                .map(|l| (l.value, l.source))
                .ok(),
            Some((3, "--max-concurrent"))
        );
        assert_eq!(
            resolve_limit(None, Some("7"), Some(9))
                .map(|l| (l.value, l.source))
                .ok(),
            Some((7, LIMIT_ENV))
        );
        assert_eq!(
            resolve_limit(None, Some(" "), Some(9))
                .map(|l| (l.value, l.source))
                .ok(),
            Some((9, "config.toml"))
        );
        assert_eq!(
            resolve_limit(None, None, None)
                .map(|l| (l.value, l.source))
                .ok(),
            Some((5, "default"))
        );
        for (flag, env) in [
            (Some(0), None),
            (Some(65), None),
            (None, Some("abc")),
            (None, Some("-1")),
        ] {
            let err = resolve_limit(flag, env, None).expect_err("out of range or not a number");
            assert_eq!(err.exit(), crate::error::Exit::Usage);
        }
    }
}
