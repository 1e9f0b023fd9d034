//! [`AgentError`]: the one error type of the registry. Each variant maps to one
//! user-visible code (`AGENT_ALREADY_EXISTS`, ...) and one CLI exit code.

use ax_contracts::error::{ErrorCode, StorageBusy, StorageUnavailable};
use ax_contracts::validation::ValidationErrors;

use crate::store::StoreError;

/// Everything a registry operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The id is taken; nothing was overwritten (REQ-1: the message is part of the
    /// contract and reaches MCP clients verbatim).
    #[error("Agent with ID \"{agent_id}\" already exists")]
    AlreadyExists {
        /// The id that is taken.
        agent_id: String,
    },
    /// No agent has this id.
    #[error("Agent with ID \"{agent_id}\" not found")]
    NotFound {
        /// The id that was asked for.
        agent_id: String,
    },
    /// The profile or patch broke one or more rules (all of them are listed).
    #[error("invalid agent profile: {0}")]
    Validation(#[from] ValidationErrors),
    /// A request (not a profile) broke a rule, e.g. a blank `recommend` task; nothing
    /// was read or written.
    #[error("invalid request: {0}")]
    InvalidRequest(ValidationErrors),
    /// A compare-and-swap update lost: someone else changed the agent first.
    #[error("Agent with ID \"{agent_id}\" changed: expected revision {expected}, found {actual}")]
    Conflict {
        /// The agent.
        agent_id: String,
        /// The revision the caller based its change on.
        expected: u64,
        /// The revision actually stored.
        actual: u64,
    },
    /// The store failed; the cause is kept.
    #[error(transparent)]
    Storage(StoreError),
}

impl AgentError {
    /// The user-visible error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::AlreadyExists { .. } => ErrorCode::AgentAlreadyExists,
            Self::NotFound { .. } => ErrorCode::AgentNotFound,
            Self::Validation(_) | Self::InvalidRequest(_) => ErrorCode::InvalidInput,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::Storage(cause) if StorageBusy::in_chain(cause) => ErrorCode::StorageBusy,
            Self::Storage(cause) if StorageUnavailable::in_chain(cause) => {
                ErrorCode::StorageUnavailable
            }
            Self::Storage(_) => ErrorCode::InternalError,
        }
    }
}

impl From<StoreError> for AgentError {
    /// Store errors that carry domain meaning become the domain variants; only true
    /// backend failures stay `Storage`.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::AlreadyExists { agent_id } => Self::AlreadyExists { agent_id },
            StoreError::NotFound { agent_id } => Self::NotFound { agent_id },
            StoreError::RevisionMismatch {
                agent_id,
                expected,
                actual,
            } => Self::Conflict {
                agent_id,
                expected,
                actual,
            },
            backend @ StoreError::Backend { .. } => Self::Storage(backend),
        }
    }
}
