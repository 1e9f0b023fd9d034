//! The discussion contract (see `discussions.md` of the design brief): the
//! configuration a user or MCP client sends, and the result it gets back.
//!
//! JSON names are camelCase and are the contract shared by `ax discuss --format json`
//! and the MCP `discuss` tool. The configuration is read with
//! [`DiscussionConfig::from_json`], which reports every broken rule with its path and
//! rejects unknown fields by name, so that an MCP client never has an option silently
//! dropped (the reference server dropped half of its discuss options that way).

mod config;
pub mod limits;
mod result;
mod validate;

pub use config::{
    ConsensusConfig, ConsensusMethod, DiscussionConfig, Participant, ParticipantKind, Pattern,
    RecursiveConfig, Role, RoundEarlyExit,
};
pub use limits::ID_PATTERN;
pub use result::{
    ConsensusResult, CostSummary, DiscussionFailure, DiscussionMetadata, DiscussionPage,
    DiscussionResult, DiscussionRound, DiscussionStatus, DiscussionSummary, Dissent, EarlyExit,
    FailedProvider, FailureCode, ProviderCost, ProviderResponseRecord, QuickDiscussionResult,
    SubDiscussion, VoteRecord, VotingResults,
};
pub use validate::config_error_code;
