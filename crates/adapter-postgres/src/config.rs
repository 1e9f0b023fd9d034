//! The connection settings: a database URL parsed once into the driver's
//! configuration, and the pool options.
//!
//! INV-PG-SECRET-001: the password is never part of anything this crate prints. The
//! URL text is not kept at all once parsed; [`DatabaseUrl`]'s `Debug` and
//! [`DatabaseUrl::target`] name user, hosts, ports and database only; parse errors
//! never repeat the URL (the driver's own parse messages can quote a character of
//! it, so only the names of offending options are passed on).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};

/// How long establishing one connection may take — TCP connect, TLS handshake and
/// authentication — before the server counts as unreachable. A closed port refuses
/// at once; this bounds a black-holed address or a hung server.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed PostgreSQL connection URL (`postgres://user:password@host:port/db?...`,
/// or libpq's `key=value` form). Its `Debug` output and [`Self::target`] leave the
/// password out (INV-PG-SECRET-001).
#[derive(Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
    /// `sslrootcert=PATH`: trust only the CA certificates in this PEM file (the
    /// driver does not know the option; this crate handles it).
    root_cert: Option<PathBuf>,
}

/// Why a database URL was refused. Never contains the URL or any part of its
/// password (INV-PG-SECRET-001).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PostgreSQL database URL: {reason}")]
pub struct InvalidUrl {
    /// What is wrong, in terms that do not quote the URL.
    pub reason: String,
}

impl DatabaseUrl {
    /// Parses `url`. Accepts what libpq accepts for the options the driver knows
    /// (`sslmode=disable|prefer|require`, `connect_timeout`, `options`,
    /// `application_name`, ...), plus `sslrootcert=PATH` in `postgres://` URLs. No
    /// `connect_timeout` in the URL means [`DEFAULT_CONNECT_TIMEOUT`].
    ///
    /// TLS always verifies the server: its chain against the system's roots, or
    /// only against the CA file `sslrootcert` names, and its host name — libpq's
    /// `verify-full`, also for `require` (which in libpq alone checks nothing).
    pub fn parse(url: &str) -> Result<Self, InvalidUrl> {
        let (url, root_cert) = take_root_cert(url)?;
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|error| InvalidUrl {
            reason: safe_parse_reason(&error),
        })?;
        if config.get_hosts().is_empty() {
            return Err(InvalidUrl {
                reason: "no host given".into(),
            });
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("ax");
        }
        // A server that stops answering (a cable pulled, a VM paused) is noticed by
        // the kernel instead of hanging a pooled connection forever.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        Ok(Self { config, root_cert })
    }

    /// The CA file of `sslrootcert`, if given.
    pub fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }

    /// `user@host:port/database` — what to show a person (logs, `ax doctor`,
    /// errors). Never the password.
    pub fn target(&self) -> String {
        let config = &self.config;
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(index, host)| {
                let name = match host {
                    Host::Tcp(name) => name.clone(),
                    Host::Unix(path) => path.display().to_string(),
                };
                // One port for all hosts, one per host, or none (the default 5432).
                let port = config
                    .get_ports()
                    .get(index)
                    .or_else(|| config.get_ports().first())
                    .copied()
                    .unwrap_or(5432);
                format!("{name}:{port}")
            })
            .collect();
        let user = config
            .get_user()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let database = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres");
        format!("{user}{}/{database}", hosts.join(","))
    }

    /// The TLS mode asked for (`prefer` when the URL says nothing).
    pub fn ssl_mode(&self) -> SslMode {
        self.config.get_ssl_mode()
    }

    /// The connect timeout in force.
    pub fn connect_timeout(&self) -> Duration {
        self.config
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// Sets the connect timeout (tests and callers with their own deadline).
    pub fn set_connect_timeout(&mut self, timeout: Duration) {
        self.config.connect_timeout(timeout);
    }

    /// The driver configuration, for the pool.
    pub(crate) fn driver_config(&self) -> &tokio_postgres::Config {
        &self.config
    }
}

impl FromStr for DatabaseUrl {
    type Err = InvalidUrl;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Self::parse(url)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("target", &self.target())
            .field(
                "password",
                &self.config.get_password().map(|_| "<redacted>"),
            )
            .field("ssl_mode", &self.config.get_ssl_mode())
            .field("connect_timeout", &self.connect_timeout())
            .field("root_cert", &self.root_cert)
            .finish()
    }
}

/// Takes `sslrootcert=PATH` out of a `postgres://` URL's query (percent-decoded),
/// leaving the rest for the driver, which rejects options it does not know.
fn take_root_cert(url: &str) -> Result<(String, Option<PathBuf>), InvalidUrl> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_owned(), None));
    };
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("sslrootcert=") {
            Some(value) => {
                let path = percent_decode(value).ok_or_else(|| InvalidUrl {
                    reason: "sslrootcert is not a valid percent-encoded UTF-8 path".into(),
                })?;
                root_cert = Some(PathBuf::from(path));
            }
            None => kept.push(pair),
        }
    }
    let rebuilt = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rebuilt, root_cert))
}

/// `%XX` decoding (and nothing else: `+` stays `+` in a path).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The driver's parse error, reduced to what cannot quote the URL: the name of an
/// option with a bad value, or a generic reason. (Its messages for malformed text
/// show the offending character, which may be one of the password's.)
fn safe_parse_reason(error: &tokio_postgres::Error) -> String {
    let detail = std::error::Error::source(error).map(ToString::to_string);
    match detail {
        Some(text) if text.starts_with("invalid value for option `") => text,
        Some(text) if text == "unknown option `sslrootcert`" => {
            "sslrootcert is understood in postgres:// URLs only".into()
        }
        _ => "not a valid postgres:// URL or key=value connection string".into(),
    }
}

/// How [`crate::PostgresDatabase::connect_with`] sizes and times the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections this process opens. Each holds a server backend (a few MB
    /// of server memory), so a process needs only a handful; the server's
    /// `max_connections` is shared by every process and machine.
    pub max_connections: usize,
    /// How long a caller waits for a free pooled connection when all are busy.
    pub wait_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            wait_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Pa55";

    #[test]
    fn debug_and_target_never_show_the_password() {
        let url = DatabaseUrl::parse(&format!(
            "postgres://alice:{SECRET}@db.example:6543/registry?sslmode=require"
        ))
        .expect("valid");
        let debug = format!("{url:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert_eq!(url.target(), "alice@db.example:6543/registry");
        assert_eq!(url.ssl_mode(), SslMode::Require);
        assert_eq!(url.connect_timeout(), DEFAULT_CONNECT_TIMEOUT);
    }

    #[test]
    fn parse_errors_never_quote_the_url() {
        for bad in [
            format!("postgres://alice:{SECRET}@host:notaport/db"),
            format!("postgres://alice:{SECRET}@host/db?sslmode={SECRET}"),
            format!("postgres://alice:{SECRET}@host/db?{SECRET}={SECRET}"),
            format!("host=h password='{SECRET}"),
            format!("postgres://alice:{SECRET}@/db"),
            format!("postgres://alice:{SECRET}@host/db?connect_timeout=x{SECRET}"),
        ] {
            let error = DatabaseUrl::parse(&bad).expect_err(&bad);
            let text = format!("{error} {error:?}");
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains("s3cr"), "{text}");
        }
    }

    #[test]
    fn sslrootcert_is_taken_out_of_the_url_and_decoded() {
        let url = DatabaseUrl::parse(&format!(
            "postgres://a:{SECRET}@h/db?sslmode=require&sslrootcert=%2Fetc%2Fax%20ca.pem&application_name=x"
        ))
        .expect("valid");
        assert_eq!(url.root_cert(), Some(Path::new("/etc/ax ca.pem")));
        assert_eq!(url.ssl_mode(), SslMode::Require);
        assert_eq!(url.driver_config().get_application_name(), Some("x"));
        let error = DatabaseUrl::parse("host=h sslrootcert=/ca.pem").expect_err("kv form");
        assert!(error.reason.contains("postgres:// URLs only"), "{error}");
    }

    #[test]
    fn an_explicit_connect_timeout_is_kept() {
        let url = DatabaseUrl::parse("postgres://u@h/db?connect_timeout=2").expect("valid");
        assert_eq!(url.connect_timeout(), Duration::from_secs(2));
    }
}
