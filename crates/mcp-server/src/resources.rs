//! Resources: `automatosx://agents` (every agent, summarised), the template
//! `automatosx://agents/{agentId}` (one full profile) and the template
//! `automatosx://discussions/{discussionId}` (one saved discussion). Contents are
//! JSON text; an unknown URI or id is a JSON-RPC "resource not found" error, as the
//! protocol asks.

use ax_agent_domain::store::{AgentFilter, PageRequest};
use rmcp::ErrorData;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::Value;

use crate::failure::{ToolFailure, error_chain, resource_not_found};
use crate::services::McpServices;
use crate::tools::discussion_get;
use ax_contracts::agent::{AgentPage, AgentSummary};

/// The list of every agent.
pub(crate) const AGENTS_URI: &str = "automatosx://agents";
/// One agent: `automatosx://agents/{agentId}`.
const AGENT_PREFIX: &str = "automatosx://agents/";
/// One saved discussion: `automatosx://discussions/{discussionId}`.
const DISCUSSION_PREFIX: &str = "automatosx://discussions/";
const JSON: &str = "application/json";

/// `resources/list`.
pub(crate) fn list() -> ListResourcesResult {
    ListResourcesResult::with_all_items(vec![
        Resource::new(AGENTS_URI, "agents")
            .with_title("Registered agents")
            .with_description("Every registered agent: id, display name, description, team, enabled, capabilities.")
            .with_mime_type(JSON),
    ])
}

/// `resources/templates/list`.
pub(crate) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(format!("{AGENT_PREFIX}{{agentId}}"), "agent")
            .with_title("Agent profile")
            .with_description("The full profile of one agent, as agent_get returns it.")
            .with_mime_type(JSON),
        ResourceTemplate::new(format!("{DISCUSSION_PREFIX}{{discussionId}}"), "discussion")
            .with_title("Saved discussion")
            .with_description("The saved result of one discussion, as discussion_get returns it.")
            .with_mime_type(JSON),
    ])
}

/// `resources/read`.
pub(crate) async fn read(
    services: &McpServices,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let document = if uri == AGENTS_URI {
        all_agents(services).await?
    } else if let Some(agent_id) = id_after(uri, AGENT_PREFIX) {
        match services.agents.get(agent_id).await {
            Ok(record) => serde_json::to_value(record).map_err(|e| internal(e.to_string()))?,
            Err(err) => return Err(ToolFailure::from(err).into_resource_error(uri)),
        }
    } else if let Some(discussion_id) = id_after(uri, DISCUSSION_PREFIX) {
        match discussion_get::saved_result(&services.history, discussion_id).await {
            Ok(result) => result,
            Err(failure) => return Err(failure.into_resource_error(uri)),
        }
    } else {
        return Err(resource_not_found(uri));
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(document.to_string(), uri).with_mime_type(JSON),
    ]))
}

/// The non-empty id after `prefix`, without further path segments.
fn id_after<'u>(uri: &'u str, prefix: &str) -> Option<&'u str> {
    uri.strip_prefix(prefix)
        .filter(|id| !id.is_empty() && !id.contains(['/', '?', '#']))
}

async fn all_agents(services: &McpServices) -> Result<Value, ErrorData> {
    let page = services
        .agents
        .list(&AgentFilter::default(), PageRequest::ALL)
        .await
        .map_err(|e| internal(error_chain(&e)))?;
    let listing = AgentPage {
        agents: page.agents.iter().map(AgentSummary::from).collect(),
        total: page.total,
        next_cursor: None,
        offset: None,
        limit: None,
        next_offset: None,
    };
    serde_json::to_value(listing).map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

fn internal(message: impl Into<String>) -> ErrorData {
    ErrorData::internal_error(message.into(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_taken_from_the_uri_only_when_well_formed() {
        assert_eq!(
            id_after("automatosx://agents/reviewer", AGENT_PREFIX),
            Some("reviewer")
        );
        assert_eq!(id_after("automatosx://agents/", AGENT_PREFIX), None);
        assert_eq!(id_after("automatosx://agents/a/b", AGENT_PREFIX), None);
        assert_eq!(id_after("automatosx://agentsX", AGENT_PREFIX), None);
    }
}
