//! Who speaks in a discussion: [`Speaker`]s built from providers and agents, and the
//! [`ParticipantResolver`] port through which an agent's persona is looked up.
//!
//! Why a port and not a dependency on the agent domain: domains do not depend on each
//! other (architecture rule 2). The composition root (`crates/cli/src/app.rs`,
//! `RegistryParticipants`) implements this port over the agent registry and gives it
//! to the [`DiscussionService`](crate::DiscussionService), which the CLI and the MCP
//! server both use; [`NoAgents`] (the service's default) serves embeddings without
//! agents.

use async_trait::async_trait;
use ax_contracts::agent::FallbackStrategy;
use ax_contracts::discussion::Role;

/// What a discussion needs to know about an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentPersona {
    /// The agent id.
    pub agent_id: String,
    /// Name shown to people.
    pub display_name: String,
    /// The agent's system prompt, given to the provider with every call it makes.
    pub system_prompt: Option<String>,
    /// Providers it prefers, best first (`providerAffinity.preferred`).
    pub preferred_providers: Vec<String>,
    /// Providers it must never speak through (`providerAffinity.excluded`).
    pub excluded_providers: Vec<String>,
    /// What to do when no preferred provider is available
    /// (`providerAffinity.fallbackStrategy`, `cascade` by default).
    pub fallback: FallbackStrategy,
}

impl AgentPersona {
    /// The provider this agent speaks through, by its fallback strategy: `cascade`
    /// takes the first usable preferred provider, else the first of `candidates`;
    /// `strict` only a preferred one; `any-available` the first of `candidates`. An
    /// agent with no preferences takes the first of `candidates` whatever its
    /// strategy. Excluded providers are never chosen. `candidates` are the available
    /// providers, best first.
    pub fn route(&self, usable: &dyn Fn(&str) -> bool, candidates: &[String]) -> Option<String> {
        let allowed = |id: &str| !self.excluded_providers.iter().any(|x| x == id);
        let preferred = || {
            self.preferred_providers
                .iter()
                .find(|id| allowed(id) && usable(id))
                .cloned()
        };
        let any = || candidates.iter().find(|id| allowed(id)).cloned();
        if self.preferred_providers.is_empty() {
            return any();
        }
        match self.fallback {
            FallbackStrategy::Cascade => preferred().or_else(any),
            FallbackStrategy::Strict => preferred(),
            FallbackStrategy::AnyAvailable => any(),
        }
    }
}

/// A failure to look an agent up (the registry was unreachable, ...).
#[derive(Debug, thiserror::Error)]
#[error("looking up agent \"{agent_id}\": {message}")]
pub struct ResolveError {
    /// The agent that was looked up.
    pub agent_id: String,
    /// What went wrong.
    pub message: String,
}

/// Looks agents up for discussions.
#[async_trait]
pub trait ParticipantResolver: Send + Sync {
    /// The persona of `agent_id`, or `None` when no (enabled) agent has that id.
    async fn resolve_agent(&self, agent_id: &str) -> Result<Option<AgentPersona>, ResolveError>;
}

/// A resolver that knows no agents: agent participants are reported as not found.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAgents;

#[async_trait]
impl ParticipantResolver for NoAgents {
    async fn resolve_agent(&self, _agent_id: &str) -> Result<Option<AgentPersona>, ResolveError> {
        Ok(None)
    }
}

/// A fixed set of personas (tests, embeddings, demos).
#[derive(Debug, Clone, Default)]
pub struct StaticAgents(pub Vec<AgentPersona>);

#[async_trait]
impl ParticipantResolver for StaticAgents {
    async fn resolve_agent(&self, agent_id: &str) -> Result<Option<AgentPersona>, ResolveError> {
        Ok(self.0.iter().find(|p| p.agent_id == agent_id).cloned())
    }
}

/// One voice in a discussion: a provider speaking as itself, or an agent speaking
/// through a provider with its own system prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Speaker {
    /// The id shown in results: the provider id, or the agent id.
    pub id: String,
    /// The provider called for this speaker.
    pub provider: String,
    /// The agent's system prompt, if this speaker is an agent.
    pub system_prompt: Option<String>,
    /// Name shown in prompts (the agent's display name, else the id).
    pub display_name: String,
    /// True for agents.
    pub is_agent: bool,
    /// Vote weight multiplier: the configured agent multiplier for agents, 1 otherwise.
    pub weight: f64,
    /// The speaker's role, when the pattern or the configuration gives it one.
    pub role: Option<Role>,
}

impl Speaker {
    /// A provider speaking as itself.
    pub fn provider(id: impl Into<String>) -> Self {
        let id = id.into();
        Self {
            provider: id.clone(),
            display_name: id.clone(),
            id,
            system_prompt: None,
            is_agent: false,
            weight: 1.0,
            role: None,
        }
    }

    /// An agent speaking through `provider`.
    pub fn agent(persona: &AgentPersona, provider: impl Into<String>, weight: f64) -> Self {
        Self {
            id: persona.agent_id.clone(),
            provider: provider.into(),
            system_prompt: persona.system_prompt.clone(),
            display_name: persona.display_name.clone(),
            is_agent: true,
            weight,
            role: None,
        }
    }
}
