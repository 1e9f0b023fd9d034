//! What `ax doctor` reports about the database: where it is, its schema version, the
//! settings connections really run with, SQLite's integrity check and row counts.
//! All of these block; call them from a blocking context.

use std::path::PathBuf;

use crate::connection::ConnectionSettings;
use crate::database::SqliteDatabase;
use crate::error::DatabaseError;
use crate::migrations::{self, SCHEMA_VERSION};

/// How many rows the main tables hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCounts {
    /// Registered agents.
    pub agents: u64,
    /// Default agent ids ever seeded.
    pub seeded_defaults: u64,
    /// One-time markers recorded.
    pub markers: u64,
    /// Saved discussions.
    pub discussions: u64,
}

/// A snapshot of the database's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseHealth {
    /// The database file.
    pub path: PathBuf,
    /// The schema version recorded in the file.
    pub schema_version: i64,
    /// The schema version this build writes.
    pub supported_schema_version: u32,
    /// The settings of a pooled connection.
    pub settings: ConnectionSettings,
    /// `PRAGMA quick_check`'s lines: exactly `["ok"]` when the file is sound.
    pub integrity: Vec<String>,
    /// The database could only be opened for reading (its file, folder or file
    /// system cannot be written): `ax` can show agents but not change them.
    pub read_only: bool,
    /// Row counts.
    pub counts: TableCounts,
}

impl DatabaseHealth {
    /// Whether the integrity check found nothing wrong.
    pub fn is_ok(&self) -> bool {
        self.integrity == ["ok"]
    }
}

impl SqliteDatabase {
    /// The schema version recorded in the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, DatabaseError> {
        let conn = self.connection()?;
        migrations::user_version(&conn).map_err(|source| DatabaseError::Query {
            context: "reading the schema version",
            source,
        })
    }

    /// The settings a pooled connection runs with.
    pub fn connection_settings(&self) -> Result<ConnectionSettings, DatabaseError> {
        let conn = self.connection()?;
        ConnectionSettings::read(&conn).map_err(|source| DatabaseError::Query {
            context: "reading connection settings",
            source,
        })
    }

    /// `PRAGMA integrity_check`: `["ok"]`, or the problems SQLite found. Reads the
    /// whole file, so it takes time proportional to its size.
    pub fn integrity_check(&self) -> Result<Vec<String>, DatabaseError> {
        self.check_pragma("PRAGMA integrity_check", "running the integrity check")
    }

    /// Row counts of the main tables, from one snapshot.
    pub fn counts(&self) -> Result<TableCounts, DatabaseError> {
        let conn = self.connection()?;
        let fail = |source| DatabaseError::Query {
            context: "counting rows",
            source,
        };
        let (agents, seeded_defaults, markers, discussions): (i64, i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM agents), (SELECT COUNT(*) FROM seeded_defaults), \
                 (SELECT COUNT(*) FROM markers), (SELECT COUNT(*) FROM discussions)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(fail)?;
        // COUNT(*) is never negative.
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        Ok(TableCounts {
            agents: count(agents),
            seeded_defaults: count(seeded_defaults),
            markers: count(markers),
            discussions: count(discussions),
        })
    }

    /// `PRAGMA quick_check`: `["ok"]`, or the problems SQLite found. Checks every
    /// page and record like [`Self::integrity_check`] but not that indexes match
    /// their tables, in time linear in the file's size.
    pub fn quick_check(&self) -> Result<Vec<String>, DatabaseError> {
        self.check_pragma("PRAGMA quick_check", "running the quick check")
    }

    /// The lines a checking pragma reports (`["ok"]` when all is well).
    fn check_pragma(
        &self,
        pragma: &str,
        context: &'static str,
    ) -> Result<Vec<String>, DatabaseError> {
        let conn = self.connection()?;
        let fail = |source| DatabaseError::Query { context, source };
        let mut stmt = conn.prepare(pragma).map_err(fail)?;
        let lines = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        Ok(lines)
    }

    /// Whether this database was opened read-only ([`Self::open_read_only`]).
    pub fn is_read_only(&self) -> Result<bool, DatabaseError> {
        let conn = self.connection()?;
        conn.is_readonly(rusqlite::MAIN_DB)
            .map_err(|source| DatabaseError::Query {
                context: "asking whether the database is read-only",
                source,
            })
    }

    /// Everything `ax doctor` shows about the database, in one call (the check is
    /// [`Self::quick_check`]).
    pub fn health(&self) -> Result<DatabaseHealth, DatabaseError> {
        Ok(DatabaseHealth {
            path: self.path().to_path_buf(),
            schema_version: self.schema_version()?,
            supported_schema_version: SCHEMA_VERSION,
            settings: self.connection_settings()?,
            integrity: self.quick_check()?,
            read_only: self.is_read_only()?,
            counts: self.counts()?,
        })
    }
}
