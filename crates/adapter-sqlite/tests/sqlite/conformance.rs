//! The shared `AgentStore` conformance suite (from `ax-agent-domain`, feature
//! `conformance`), run against the SQLite store on a fresh file per case.

use std::sync::Arc;

use ax_adapter_sqlite::SqliteDatabase;
use ax_agent_domain::store::AgentStore;

ax_agent_domain::agent_store_conformance!(|| async {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let db = SqliteDatabase::open(dir.path().join("data.db")).expect("open a fresh database");
    (Arc::new(db.agent_store()) as Arc<dyn AgentStore>, dir)
});

/// The same suite with SQLite running inline on the calling thread
/// ([`Execution::Inline`](ax_adapter_sqlite::Execution), as `ax agent` uses it).
mod inline {
    use std::sync::Arc;

    use ax_adapter_sqlite::{DatabaseOptions, Execution, SqliteDatabase};
    use ax_agent_domain::store::AgentStore;

    ax_agent_domain::agent_store_conformance!(|| async {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let options = DatabaseOptions {
            execution: Execution::Inline,
            ..DatabaseOptions::default()
        };
        let db = SqliteDatabase::open_with(dir.path().join("data.db"), options)
            .expect("open a fresh database");
        (Arc::new(db.agent_store()) as Arc<dyn AgentStore>, dir)
    });
}

/// The same suite with point reads inline and everything else on the blocking pool
/// ([`Execution::PointReadsInline`](ax_adapter_sqlite::Execution), as the MCP server
/// and `ax discuss` use it).
mod point_reads_inline {
    use std::sync::Arc;

    use ax_adapter_sqlite::{DatabaseOptions, Execution, SqliteDatabase};
    use ax_agent_domain::store::AgentStore;

    ax_agent_domain::agent_store_conformance!(|| async {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let options = DatabaseOptions {
            execution: Execution::PointReadsInline,
            ..DatabaseOptions::default()
        };
        let db = SqliteDatabase::open_with(dir.path().join("data.db"), options)
            .expect("open a fresh database");
        (Arc::new(db.agent_store()) as Arc<dyn AgentStore>, dir)
    });
}
