//! `capabilities`: every capability with the agents that have it, and each agent's
//! capabilities and category — what an MCP client reads to pick agents itself.

use ax_contracts::agent::AgentRecord;

pub use ax_contracts::agent::CapabilityIndex;

/// Build the index over `agents`: only agents of `category` when given, disabled
/// agents only when `include_disabled`.
pub fn index(
    agents: &[AgentRecord],
    category: Option<&str>,
    include_disabled: bool,
) -> CapabilityIndex {
    let mut out = CapabilityIndex::default();
    for record in agents {
        let profile = &record.profile;
        if !include_disabled && !profile.enabled {
            continue;
        }
        let agent_category = profile.agent_category().map(|c| c.as_str());
        if category.is_some_and(|c| agent_category != Some(c)) {
            continue;
        }
        let id = profile.agent_id.clone();
        let capabilities: Vec<String> = profile
            .capabilities()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for capability in &capabilities {
            out.agents_by_capability
                .entry(capability.clone())
                .or_default()
                .push(id.clone());
        }
        if let Some(category) = agent_category {
            out.categories_by_agent
                .insert(id.clone(), category.to_owned());
        }
        out.capabilities_by_agent.insert(id, capabilities);
    }
    for agents in out.agents_by_capability.values_mut() {
        agents.sort();
        agents.dedup();
    }
    out.capabilities = out.agents_by_capability.keys().cloned().collect();
    out
}
