//! The shared `AgentStore` conformance suite (from `ax-agent-domain`, feature
//! `conformance`), run against the PostgreSQL store on a fresh schema per case.

use std::sync::Arc;

use ax_agent_domain::memory::MemoryAgentStore;
use ax_agent_domain::store::AgentStore;

ax_agent_domain::agent_store_conformance!(|| async {
    match crate::helpers::fresh().await {
        Some((test, db)) => (
            Arc::new(db.agent_store()) as Arc<dyn AgentStore>,
            Some(test),
        ),
        // AX_SKIP_POSTGRES=1 (announced on stderr): the case runs against the
        // in-memory store so that the macro's test still has a store to drive.
        None => (
            Arc::new(MemoryAgentStore::default()) as Arc<dyn AgentStore>,
            None,
        ),
    }
});
