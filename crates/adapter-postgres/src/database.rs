//! [`PostgresDatabase`]: the connection pool (with TLS as the URL asks), the
//! migration on connect, and the store handles that share the pool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

use crate::agent_store::PostgresAgentStore;
use crate::config::{DatabaseUrl, PoolOptions};
use crate::error::{Failure, PostgresError};
use crate::history::PostgresHistory;
use crate::migrations;

/// An open, migrated PostgreSQL database and its connection pool. Cheap to clone;
/// the clones and every store handle taken from them share the pool. Connections
/// are opened on demand; one the server closed (a restart, a failover) is noticed
/// when it is next checked out and replaced by a new one.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    shared: Shared,
}

/// The pool and the printable target, shared by the database and every handle.
#[derive(Clone)]
pub(crate) struct Shared(Arc<SharedInner>);

struct SharedInner {
    pool: Pool,
    target: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("target", &self.0.target)
            .field("status", &self.0.pool.status())
            .finish()
    }
}

impl Shared {
    /// `user@host:port/database`, for messages.
    pub(crate) fn target(&self) -> &str {
        &self.0.target
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, Failure> {
        Ok(self.0.pool.get().await?)
    }
}

/// What `ax doctor` shows about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseHealth {
    /// `user@host:port/database` (never the password).
    pub target: String,
    /// The server's `server_version`, e.g. `15.8 (Debian 15.8-0+deb12u1)`.
    pub server_version: String,
    /// The schema version recorded in the database.
    pub schema_version: i64,
    /// Round trip of one trivial query on a pooled connection.
    pub latency: Duration,
    /// Whether that connection is encrypted (TLS).
    pub tls: bool,
    /// Number of registered agents.
    pub agents: i64,
    /// Number of saved discussions.
    pub discussions: i64,
}

impl PostgresDatabase {
    /// Connects with the default [`PoolOptions`], migrating the schema if needed.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, PostgresError> {
        Self::connect_with(url, PoolOptions::default()).await
    }

    /// Connects: builds the pool, opens one connection (so an unreachable server
    /// or bad credentials are reported here, within the connect timeout), and
    /// brings the schema up to date (INV-PG-MIGRATE-001).
    pub async fn connect_with(
        url: &DatabaseUrl,
        options: PoolOptions,
    ) -> Result<Self, PostgresError> {
        let target = url.target();
        let pool = build_pool(url, &options)?;
        let shared = Shared(Arc::new(SharedInner {
            pool,
            target: target.clone(),
        }));
        let mut client = shared
            .client()
            .await
            .map_err(|failure| open_error(&target, "connecting", failure))?;
        migrations::bring_up_to_date(&mut client, &target).await?;
        crate::term_index::ensure_built(&mut client)
            .await
            .map_err(|failure| open_error(&target, "building the recommend term index", failure))?;
        Ok(Self { shared })
    }

    /// The `AgentStore` on this database.
    pub fn agent_store(&self) -> PostgresAgentStore {
        PostgresAgentStore::new(self.shared.clone())
    }

    /// The `DiscussionHistory` on this database.
    pub fn history(&self) -> PostgresHistory {
        PostgresHistory::new(self.shared.clone())
    }

    /// `user@host:port/database` (never the password).
    pub fn target(&self) -> &str {
        self.shared.target()
    }

    /// What tells this database apart from every other reachable one: the server
    /// (its start time, to the microsecond, and port), the database and the schema
    /// the tables live in. Two URLs that spell the same place differently (a host
    /// name and its address, another user) give the same identity — how
    /// `ax db copy` refuses to copy a database onto itself.
    pub async fn identity(&self) -> Result<String, PostgresError> {
        let target = self.shared.target();
        let fail = |failure: Failure| open_error(target, "reading the server's identity", failure);
        let client = self.shared.client().await.map_err(fail)?;
        let row = client
            .query_one(
                "SELECT concat_ws(' ', pg_postmaster_start_time()::text, \
                 current_setting('port'), current_database(), current_schema())",
                &[],
            )
            .await
            .map_err(|e| fail(e.into()))?;
        row.try_get(0).map_err(|e| fail(e.into()))
    }

    /// Server version, schema version, latency and row counts, for `ax doctor`.
    pub async fn health(&self) -> Result<DatabaseHealth, PostgresError> {
        let target = self.shared.target();
        let fail =
            |context: &'static str| move |failure: Failure| open_error(target, context, failure);
        let client = self.shared.client().await.map_err(fail("connecting"))?;
        let started = Instant::now();
        client
            .simple_query("")
            .await
            .map_err(|e| fail("measuring latency")(e.into()))?;
        let latency = started.elapsed();
        let row = client
            .query_one(
                "SELECT current_setting('server_version'), \
                 (SELECT COUNT(*) FROM agents), (SELECT COUNT(*) FROM discussions), \
                 COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .await
            .map_err(|e| fail("reading server facts")(e.into()))?;
        let schema_version = migrations::current_version(&client)
            .await
            .map_err(|e| fail("reading the schema version")(e.into()))?;
        let get = |e: tokio_postgres::Error| fail("reading server facts")(e.into());
        Ok(DatabaseHealth {
            target: target.to_owned(),
            server_version: row.try_get(0).map_err(get)?,
            schema_version,
            latency,
            agents: row.try_get(1).map_err(get)?,
            discussions: row.try_get(2).map_err(get)?,
            tls: row.try_get(3).map_err(get)?,
        })
    }
}

/// A connect-time failure: [`PostgresError::Unreachable`] when the server is not
/// there (INV-PG-UNREACH-001), [`PostgresError::Connect`] when it refused the
/// connection, [`PostgresError::Query`] otherwise.
fn open_error(target: &str, context: &'static str, failure: Failure) -> PostgresError {
    if failure.is_unreachable() {
        PostgresError::Unreachable {
            target: target.to_owned(),
            source: failure.into_cause(target),
        }
    } else if context == "connecting" {
        PostgresError::Connect {
            target: target.to_owned(),
            source: failure.into_box(),
        }
    } else {
        PostgresError::Query {
            target: target.to_owned(),
            context,
            source: failure.into_box(),
        }
    }
}

/// The pool, with rustls for `sslmode=require` (and `prefer`, where TLS is used
/// when the server offers it).
fn build_pool(url: &DatabaseUrl, options: &PoolOptions) -> Result<Pool, PostgresError> {
    let config = url.driver_config().clone();
    let manager_config = ManagerConfig {
        // A cheap check on checkout (is the connection's task still running?); a
        // connection the server closed is dropped and replaced.
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match url.ssl_mode() {
        SslMode::Disable => Manager::from_config(config, NoTls, manager_config),
        SslMode::Require => Manager::from_config(
            config,
            crate::tls::connector(url.root_cert())?,
            manager_config,
        ),
        // `prefer` without usable TLS roots still connects to a server without TLS
        // (libpq's behaviour); a server offering TLS then fails the handshake.
        _ => match crate::tls::connector(url.root_cert()) {
            Ok(tls) => Manager::from_config(config, tls, manager_config),
            Err(error) => {
                tracing::warn!(%error, "no TLS available; sslmode=prefer connects without it");
                Manager::from_config(config, NoTls, manager_config)
            }
        },
    };
    Pool::builder(manager)
        .max_size(options.max_connections.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(options.wait_timeout))
        .create_timeout(Some(url.connect_timeout()))
        .recycle_timeout(Some(url.connect_timeout()))
        .build()
        .map_err(|source| PostgresError::Pool {
            source: Box::new(source),
        })
}
