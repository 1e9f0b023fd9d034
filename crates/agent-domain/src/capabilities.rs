//! `capabilities`: every capability with the agents that have it, and each agent's
//! capabilities and category — what an MCP client reads to pick agents itself.

use ax_contracts::agent::AgentRecord;

pub use ax_contracts::agent::CapabilityIndex;

/// The index built one agent at a time, so that a registry can be read page by page
/// and only the index, never every decoded profile, is held at once (a million
/// profiles decoded at once took 3.4 GB).
pub struct IndexBuilder<'a> {
    category: Option<&'a str>,
    include_disabled: bool,
    out: CapabilityIndex,
}

impl<'a> IndexBuilder<'a> {
    /// An empty index of the agents of `category` (all when `None`), disabled ones
    /// only when `include_disabled`.
    pub fn new(category: Option<&'a str>, include_disabled: bool) -> Self {
        Self {
            category,
            include_disabled,
            out: CapabilityIndex::default(),
        }
    }

    /// Adds `record` when it passes the builder's category and enabled rules.
    pub fn add(&mut self, record: &AgentRecord) {
        let profile = &record.profile;
        if !self.include_disabled && !profile.enabled {
            return;
        }
        let agent_category = profile.agent_category().map(|c| c.as_str());
        if self.category.is_some_and(|c| agent_category != Some(c)) {
            return;
        }
        let out = &mut self.out;
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

    /// The index: each capability's agents sorted and without repeats.
    pub fn finish(mut self) -> CapabilityIndex {
        for agents in self.out.agents_by_capability.values_mut() {
            agents.sort();
            agents.dedup();
        }
        self.out.capabilities = self.out.agents_by_capability.keys().cloned().collect();
        self.out
    }
}
