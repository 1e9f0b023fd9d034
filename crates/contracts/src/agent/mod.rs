//! The agent profile contract (see `docs/agents.md` of the design brief): the
//! profile itself, the registry's record around it, and its validation.

mod profile;
mod record;

pub use profile::AgentProfile;
pub use record::AgentRecord;
