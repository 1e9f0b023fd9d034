//! Errors of connecting and migrating, and the helpers that turn driver and pool
//! failures into the ports' error types without losing the cause.
//!
//! INV-PG-UNREACH-001: a server that cannot be reached — refused, timed out, gone
//! mid-query, shutting down — is reported as "database unreachable (target)", so
//! the edges can tell it from a failed statement; it is never retried blindly
//! here (a write whose connection broke may or may not have committed).
//!
//! INV-PG-SECRET-001: every message is built from the target (`user@host:port/db`),
//! an operation name and the driver's error, none of which holds the password.

use std::error::Error as StdError;

use ax_agent_domain::store::StoreError;
use ax_contracts::error::StorageUnavailable;
use ax_discussion_domain::history::HistoryError;
use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::config::InvalidUrl;

/// A boxed cause.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// Why the database could not be opened (connected to, set up for TLS, migrated)
/// or inspected. Store operations report through the ports' own error types.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The URL could not be parsed.
    #[error(transparent)]
    InvalidUrl(#[from] InvalidUrl),
    /// The TLS client could not be set up (e.g. no usable root certificates).
    #[error("cannot set up TLS for the database connection")]
    Tls {
        /// The rustls failure.
        #[source]
        source: rustls::Error,
    },
    /// The `sslrootcert` file could not be used.
    #[error("cannot use the CA certificates in {path} (sslrootcert): {detail}")]
    RootCert {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The pool could not be built.
    #[error("cannot build the database connection pool")]
    Pool {
        /// The pool's failure.
        #[source]
        source: BoxError,
    },
    /// No connection could be made: refused, timed out, closed, shutting down.
    #[error("database unreachable ({target})")]
    Unreachable {
        /// `user@host:port/database`.
        target: String,
        /// The connection failure.
        #[source]
        source: BoxError,
    },
    /// The server answered but the connection was refused: bad credentials, no
    /// such database, a TLS handshake that failed (an untrusted certificate, no TLS
    /// on the server under `sslmode=require`).
    #[error("cannot connect to the database ({target})")]
    Connect {
        /// `user@host:port/database`.
        target: String,
        /// The refusal.
        #[source]
        source: BoxError,
    },
    /// The schema was written by a newer build. Refusing is the only safe answer:
    /// an older binary would write rows without what the newer schema relies on.
    #[error(
        "the database ({target}) has schema version {found}, newer than version \
         {supported} that this build understands; use a newer ax"
    )]
    SchemaTooNew {
        /// `user@host:port/database`.
        target: String,
        /// The version recorded in `schema_version`.
        found: i64,
        /// The newest version this build can read and write.
        supported: u32,
    },
    /// A migration step failed; its transaction was rolled back.
    #[error("migrating the database ({target}) to schema version {version} failed")]
    Migration {
        /// `user@host:port/database`.
        target: String,
        /// The step that failed.
        version: u32,
        /// The server's failure.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A query (connecting worked) failed.
    #[error("database query failed ({target}): {context}")]
    Query {
        /// `user@host:port/database`.
        target: String,
        /// What was being asked.
        context: &'static str,
        /// The failure.
        #[source]
        source: BoxError,
    },
}

impl PostgresError {
    /// Whether the server could not be reached (INV-PG-UNREACH-001).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// A driver or pool failure, classified once.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The driver failed.
    Driver(tokio_postgres::Error),
    /// The pool failed (timed out, closed, or connecting failed).
    Pool(PoolError),
    /// A write's row kept vanishing and reappearing under concurrent removes and
    /// re-registrations; it gave up rather than loop.
    Contended,
}

/// The cause of [`Failure::Contended`].
#[derive(Debug, thiserror::Error)]
#[error("the agent kept changing under concurrent writers; try again")]
pub(crate) struct Contended;

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Driver(error)
    }
}

impl From<PoolError> for Failure {
    fn from(error: PoolError) -> Self {
        Self::Pool(error)
    }
}

impl Failure {
    /// INV-PG-UNREACH-001: the server is not there (or not any more, or not yet).
    pub(crate) fn is_unreachable(&self) -> bool {
        match self {
            Self::Driver(error) | Self::Pool(PoolError::Backend(error)) => {
                driver_unreachable(error)
            }
            // Connecting took longer than the timeout, or the pool waited for a
            // connection that never came (every slot stuck connecting).
            Self::Pool(PoolError::Timeout(_)) => true,
            Self::Pool(_) | Self::Contended => false,
        }
    }

    /// The failure as a cause: when the server could not be reached, wrapped in the
    /// contracts' [`StorageUnavailable`] marker so the domains and edges report
    /// `STORAGE_UNAVAILABLE` without knowing this adapter (INV-PG-UNREACH-001).
    pub(crate) fn into_cause(self, target: &str) -> BoxError {
        if self.is_unreachable() {
            Box::new(StorageUnavailable {
                target: target.to_owned(),
                source: Some(self.into_box()),
            })
        } else {
            self.into_box()
        }
    }

    pub(crate) fn into_box(self) -> BoxError {
        match self {
            Self::Driver(error) => Box::new(error),
            Self::Pool(error) => Box::new(error),
            Self::Contended => Box::new(Contended),
        }
    }
}

/// A driver error that means the server could not be talked to: no SQLSTATE and an
/// I/O cause, a closed connection, a timeout; or the server's own "connection
/// exception" (class 08) and "shutting down / starting up" answers.
fn driver_unreachable(error: &tokio_postgres::Error) -> bool {
    if let Some(code) = error.code() {
        return code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(code);
    }
    // A refused or failed TLS handshake (an untrusted certificate, a server
    // without TLS under `require`) is an answer, not an absence.
    if error.to_string() == "error performing TLS handshake" {
        return false;
    }
    if error.is_closed() {
        return true;
    }
    let mut cause: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(current) = cause {
        if current.is::<std::io::Error>() {
            return true;
        }
        cause = current.source();
    }
    // The driver's own connect timeout has no cause to inspect.
    error.to_string() == "timeout waiting for server"
}

/// Context for a failure: "database unreachable (target): what" when the server
/// is gone, "what" otherwise.
pub(crate) fn context(target: &str, what: &str, failure: &Failure) -> String {
    if failure.is_unreachable() {
        format!("database unreachable ({target}): {what}")
    } else {
        what.to_owned()
    }
}

/// A [`StoreError::Backend`] for `failure` while doing `what`.
pub(crate) fn store_backend(target: &str, what: impl AsRef<str>, failure: Failure) -> StoreError {
    StoreError::Backend {
        context: context(target, what.as_ref(), &failure),
        source: failure.into_cause(target),
    }
}

/// A [`HistoryError`] for `failure` while doing `what`.
pub(crate) fn history_backend(
    target: &str,
    what: impl AsRef<str>,
    failure: Failure,
) -> HistoryError {
    HistoryError {
        context: context(target, what.as_ref(), &failure),
        source: failure.into_cause(target),
    }
}

/// A value that does not fit where it has to go (a revision past `i64::MAX`, a
/// negative stored count).
#[derive(Debug, thiserror::Error)]
#[error("{what} out of range: {value}")]
pub(crate) struct OutOfRange {
    pub(crate) what: &'static str,
    pub(crate) value: String,
}

/// Stored data that does not decode (a profile that is not a profile).
pub(crate) fn decode_error(what: impl Into<String>, source: impl Into<BoxError>) -> StoreError {
    StoreError::Backend {
        context: what.into(),
        source: source.into(),
    }
}
