//! Which storage backend an invocation uses: SQLite in the data directory (the
//! default), or the PostgreSQL server a database URL names — `--database-url`, else
//! `$AX_DATABASE_URL`, else `database_url` in the data directory's `config.toml`.
//!
//! INV-PG-SECRET-001 (at the edge): the URL carries the password, so it is held in
//! [`DatabaseUrlArg`], whose `Debug` redacts it, is parsed by the adapter (whose
//! errors never quote it), and only the adapter's target (`user@host:port/db`) is
//! ever shown.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ax_adapter_postgres::DatabaseUrl;

use crate::app::CONFIG_FILE;
use crate::error::CliError;

/// The environment variable naming the PostgreSQL server.
pub const DATABASE_URL_ENV: &str = "AX_DATABASE_URL";
/// The `config.toml` key naming the PostgreSQL server.
pub const DATABASE_URL_KEY: &str = "database_url";

/// A database URL as given on the command line or in the environment, unparsed.
/// Its `Debug` output never shows it (the parsed command line may be logged), and
/// clap never quotes it: parsing into it cannot fail.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrlArg(String);

impl FromStr for DatabaseUrlArg {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for DatabaseUrlArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DatabaseUrlArg(<redacted>)")
    }
}

/// Where the chosen URL came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSource {
    /// `--database-url` or `$AX_DATABASE_URL` (clap merges the two; the flag wins).
    FlagOrEnvironment,
    /// `database_url` in `config.toml`.
    ConfigFile,
}

impl UrlSource {
    fn describe(self) -> String {
        match self {
            Self::FlagOrEnvironment => format!("--database-url / {DATABASE_URL_ENV}"),
            Self::ConfigFile => format!("{DATABASE_URL_KEY} in {CONFIG_FILE}"),
        }
    }
}

/// The PostgreSQL URL to use, if any: the flag or environment (clap already applied
/// flag > environment), else `config.toml`; `None` means SQLite in the data
/// directory. An empty value counts as not set.
pub fn resolve_database_url(
    flag_or_env: Option<&DatabaseUrlArg>,
    data_dir: &Path,
) -> Result<Option<(DatabaseUrl, UrlSource)>, CliError> {
    let given = match flag_or_env
        .map(|arg| arg.0.trim())
        .filter(|t| !t.is_empty())
    {
        Some(text) => Some((text.to_owned(), UrlSource::FlagOrEnvironment)),
        None => {
            url_from_config(&data_dir.join(CONFIG_FILE))?.map(|text| (text, UrlSource::ConfigFile))
        }
    };
    let Some((text, source)) = given else {
        return Ok(None);
    };
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Err(CliError::usage(format!(
            "the database URL from {} must start with postgres:// or postgresql://",
            source.describe()
        ))
        .hint("leave it unset to use SQLite in the data directory"));
    }
    let url = DatabaseUrl::parse(&text).map_err(|e| {
        CliError::usage(format!("{} (from {})", e, source.describe()))
            .hint("the form is postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require")
    })?;
    Ok(Some((url, source)))
}

/// One end of `ax db copy`: what `--from` / `--to` name.
#[derive(Debug)]
pub enum Endpoint {
    /// `sqlite`: `data.db` in the data directory (`--data-dir`, `$AX_DATA_DIR`, `~/.automatosx`).
    DataDir(PathBuf),
    /// Any other value: a SQLite database file.
    File(PathBuf),
    /// A `postgres://` or `postgresql://` URL (boxed: it is much the largest).
    Postgres(Box<DatabaseUrl>),
}

/// The word `--from` / `--to` take for the data directory's SQLite database.
pub const DATA_DIR_ENDPOINT: &str = "sqlite";

impl Endpoint {
    /// Reads `--from` / `--to` (`flag` names which, for messages): `sqlite`, a
    /// PostgreSQL URL, or a path. A value that looks like a URL of another kind is
    /// refused rather than taken for a file name — without quoting it, since it
    /// may carry a password (INV-PG-SECRET-001).
    pub fn parse(arg: &DatabaseUrlArg, flag: &str, data_dir: &Path) -> Result<Self, CliError> {
        let text = arg.0.trim();
        if text.is_empty() {
            return Err(CliError::usage(format!(
                "{flag} is empty: give `{DATA_DIR_ENDPOINT}`, a SQLite file or a postgres:// URL"
            )));
        }
        if text == DATA_DIR_ENDPOINT {
            return Ok(Self::DataDir(data_dir.join(crate::app::DATABASE_FILE)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let url = DatabaseUrl::parse(text).map_err(|e| {
                CliError::usage(format!("{e} (from {flag})"))
                    .hint("the form is postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require")
            })?;
            return Ok(Self::Postgres(Box::new(url)));
        }
        if text.contains("://") {
            return Err(CliError::usage(format!(
                "{flag} looks like a URL but not a postgres:// one; only PostgreSQL URLs, \
                 `{DATA_DIR_ENDPOINT}` and SQLite file paths are accepted"
            ))
            .hint("for a SQLite file whose name contains \"://\", give it as ./NAME"));
        }
        Ok(Self::File(PathBuf::from(text)))
    }

    /// How messages name it: the file, or the server's `user@host:port/db` (never
    /// the password).
    pub fn shown(&self) -> String {
        match self {
            Self::DataDir(path) | Self::File(path) => {
                crate::text::escape_controls(&path.display().to_string())
            }
            Self::Postgres(url) => format!("PostgreSQL {}", url.target()),
        }
    }
}

/// `database_url` of `config.toml`, if the file and the key exist. A file that does
/// not parse is left to the provider configuration's own (precise) error, unless it
/// mentions `database_url`: then guessing SQLite would silently split the team's
/// registry, so it is an error here.
fn url_from_config(path: &Path) -> Result<Option<String>, CliError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    match toml::from_str::<toml::Table>(&text) {
        Ok(table) => match table.get(DATABASE_URL_KEY) {
            None => Ok(None),
            Some(toml::Value::String(url)) => Ok(Some(url.clone())),
            Some(_) => Err(CliError::usage(format!(
                "{DATABASE_URL_KEY} in {} must be a string (a postgres:// URL)",
                path.display()
            ))),
        },
        Err(_) if text.contains(DATABASE_URL_KEY) => Err(CliError::usage(format!(
            "invalid configuration: {} is not valid TOML, so its {DATABASE_URL_KEY} cannot be read",
            path.display()
        ))
        .hint("`ax doctor --database-url ...` or fixing the file shows the exact problem")),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "pa55-Zx81";

    fn arg(text: &str) -> DatabaseUrlArg {
        text.parse().unwrap_or_else(|never| match never {})
    }

    #[test]
    fn debug_never_shows_the_url() {
        let debug = format!("{:?}", arg(&format!("postgres://u:{SECRET}@h/db")));
        assert!(!debug.contains(SECRET), "{debug}");
    }

    #[test]
    fn the_flag_or_environment_wins_over_the_config_file_and_nothing_means_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(
            resolve_database_url(None, dir.path())
                .expect("no config")
                .is_none()
        );
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "database_url = \"postgres://cfg@config-host/db\"\n",
        )
        .expect("write");
        let (url, source) = resolve_database_url(None, dir.path())
            .expect("config")
            .expect("a url");
        assert_eq!(
            (url.target().as_str(), source),
            ("cfg@config-host:5432/db", UrlSource::ConfigFile)
        );
        let flag = arg("postgres://flag@flag-host:6000/x");
        let (url, source) = resolve_database_url(Some(&flag), dir.path())
            .expect("flag")
            .expect("a url");
        assert_eq!(
            (url.target().as_str(), source),
            ("flag@flag-host:6000/x", UrlSource::FlagOrEnvironment)
        );
        // An empty flag or environment value falls back to the config file.
        let empty = arg("  ");
        let (_, source) = resolve_database_url(Some(&empty), dir.path())
            .expect("config")
            .expect("a url");
        assert_eq!(source, UrlSource::ConfigFile);
    }

    #[test]
    fn copy_endpoints_are_the_data_dir_a_url_or_a_file_and_never_quote_a_password() {
        let data_dir = Path::new("/data");
        let parse = |text: &str| Endpoint::parse(&arg(text), "--to", data_dir);
        assert!(
            matches!(parse(" sqlite "), Ok(Endpoint::DataDir(p)) if p == Path::new("/data/data.db"))
        );
        assert!(matches!(parse("./sqlite"), Ok(Endpoint::File(p)) if p == Path::new("./sqlite")));
        match parse(&format!("postgresql://u:{SECRET}@h:6000/db")) {
            Ok(endpoint @ Endpoint::Postgres(_)) => {
                assert_eq!(endpoint.shown(), "PostgreSQL u@h:6000/db");
                assert!(!format!("{endpoint:?}").contains(SECRET));
            }
            other => panic!("a URL: {other:?}"),
        }
        for bad in [
            String::new(),
            format!("mysql://u:{SECRET}@h/db"),
            format!("postgres://u:{SECRET}@h:notaport/db"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert_eq!(err.exit(), crate::error::Exit::Usage);
            let text = format!("{} {:?}", err.message, err.hint);
            assert!(text.contains("--to"), "names the flag: {text}");
            assert!(!text.contains(SECRET), "{text}");
        }
    }

    #[test]
    fn bad_urls_are_usage_errors_that_never_quote_the_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        for bad in [
            format!("mysql://u:{SECRET}@h/db"),
            format!("postgres://u:{SECRET}@h:notaport/db"),
            format!("postgres://u:{SECRET}@/db"),
        ] {
            let err = resolve_database_url(Some(&arg(&bad)), dir.path()).expect_err(&bad);
            assert_eq!(err.exit(), crate::error::Exit::Usage);
            let text = format!("{} {:?}", err.message, err.hint);
            assert!(!text.contains(SECRET), "{text}");
        }
        std::fs::write(dir.path().join(CONFIG_FILE), "database_url = 5\n").expect("write");
        assert!(resolve_database_url(None, dir.path()).is_err());
        std::fs::write(dir.path().join(CONFIG_FILE), "database_url = \n").expect("write");
        assert!(resolve_database_url(None, dir.path()).is_err());
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "max_concurrent_provider_calls = \n",
        )
        .expect("write");
        assert!(
            resolve_database_url(None, dir.path())
                .expect("left to the providers")
                .is_none()
        );
    }
}
