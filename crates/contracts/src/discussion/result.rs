//! [`DiscussionResult`]: what a discussion returns — and what the history keeps —
//! whether it finished, failed or was cancelled. A failed discussion still carries the
//! rounds it completed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{ConsensusMethod, Pattern, Role};
use crate::error::ErrorCode;
use crate::provider::ProviderErrorKind;

/// The outcome of one discussion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionResult {
    /// UUID v7 (ids sort by start time).
    pub discussion_id: String,
    /// True when the discussion produced its conclusion.
    pub success: bool,
    /// The pattern that was run.
    pub pattern: Pattern,
    /// The topic.
    pub topic: String,
    /// Speakers (provider ids, agent ids) that answered at least once.
    pub participating_providers: Vec<String>,
    /// Speakers that failed, with why.
    pub failed_providers: Vec<FailedProvider>,
    /// The rounds run, including a round interrupted by cancellation.
    pub rounds: Vec<DiscussionRound>,
    /// The final answer (empty when the discussion failed before reaching one).
    pub synthesis: String,
    /// How the conclusion was reached, and who disagreed.
    pub consensus: ConsensusResult,
    /// The tally, for the `voting` pattern or method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voting_results: Option<VotingResults>,
    /// Sub-discussions that settled disputed points (recursive mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_discussions: Option<Vec<SubDiscussion>>,
    /// Wall time of the whole discussion.
    pub total_duration_ms: u64,
    /// Timing, cost and concurrency facts.
    pub metadata: DiscussionMetadata,
    /// Why the discussion failed or stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DiscussionFailure>,
}

/// A speaker that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedProvider {
    /// The speaker id (provider or agent).
    pub provider: String,
    /// The provider error kind: `timeout`, `rate_limit`, `auth`, `network`, `server`,
    /// `invalid_output`, `not_found`, `cancelled`, `unknown` (or a `DISCUSSION_*` code
    /// when a budget stopped the call).
    pub code: FailureCode,
    /// What happened.
    pub message: String,
}

/// The `code` of a [`FailedProvider`]: written on the wire as the bare name of either
/// kind (untagged), so `"timeout"` or `"DISCUSSION_MAX_CALLS_EXCEEDED"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum FailureCode {
    /// The provider was called (or could not be) and failed this way.
    Provider(ProviderErrorKind),
    /// A discussion limit stopped the call before it started (the recursive call
    /// budget: `DISCUSSION_MAX_CALLS_EXCEEDED`).
    Discussion(ErrorCode),
}

impl FailureCode {
    /// The name as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider(kind) => kind.as_str(),
            Self::Discussion(code) => code.as_str(),
        }
    }
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ProviderErrorKind> for FailureCode {
    fn from(kind: ProviderErrorKind) -> Self {
        Self::Provider(kind)
    }
}

impl From<ErrorCode> for FailureCode {
    fn from(code: ErrorCode) -> Self {
        Self::Discussion(code)
    }
}

/// One round of a discussion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionRound {
    /// 1-based.
    pub round_number: u32,
    /// Wall time of the round.
    pub duration_ms: u64,
    /// Every answer of the round, failed ones included, in speaking order.
    pub responses: Vec<ProviderResponseRecord>,
}

/// One speaker's answer in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderResponseRecord {
    /// The speaker id (provider id, or agent id for an agent).
    pub provider: String,
    /// 1-based round number.
    pub round: u32,
    /// The speaker's role, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The answer text (empty when the call failed).
    pub content: String,
    /// Stated confidence 0–1 (votes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The option voted for (votes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<String>,
    /// Wall time of the call, retries included.
    pub duration_ms: u64,
    /// Tokens used, when the provider reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_count: Option<u64>,
    /// Why the call failed, as `kind: message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For an agent: the provider it spoke through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_provider: Option<String>,
    /// True when the answer came from the mock provider, not a model.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
}

/// How the conclusion was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusResult {
    /// The method used.
    pub method: ConsensusMethod,
    /// Who wrote the conclusion (synthesis, moderator, unanimous, majority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthesizer: Option<String>,
    /// Whether consensus holds: for `synthesis`/`moderator`, a conclusion was written;
    /// for `unanimous`, every participant agreed; for `majority`, the agreeing share
    /// exceeded the threshold; for `voting`, one option won (no tie).
    pub reached: bool,
    /// 0–1. Polls: the agreeing share. Voting: the winner's share of the weighted
    /// votes. Synthesis/moderator: the lexical agreement of the last round's answers
    /// (mean pairwise cosine similarity of their word counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_score: Option<f64>,
    /// Points the participants share.
    pub agreements: Vec<String>,
    /// Who disagreed, and with what.
    pub dissent: Vec<Dissent>,
    /// Valuable points only one participant made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insights: Vec<String>,
}

impl ConsensusResult {
    /// An empty result for `method`, not reached (used when a discussion stops before
    /// its consensus step).
    pub fn not_reached(method: ConsensusMethod) -> Self {
        Self {
            method,
            synthesizer: None,
            reached: false,
            agreement_score: None,
            agreements: Vec::new(),
            dissent: Vec::new(),
            insights: Vec::new(),
        }
    }
}

/// One dissenting position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dissent {
    /// The dissenting speaker (`unattributed` when a synthesis did not say who).
    pub provider: String,
    /// What it holds instead.
    pub position: String,
}

/// The tally of a vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VotingResults {
    /// The options, in the order the topic gave them.
    pub options: Vec<String>,
    /// The winning option; `null` on a tie or when nobody voted.
    pub winner: Option<String>,
    /// Option → number of votes.
    pub votes: BTreeMap<String, u32>,
    /// Option → sum of weights (confidence × agent multiplier).
    pub weighted_votes: BTreeMap<String, f64>,
    /// Every counted vote.
    pub vote_records: Vec<VoteRecord>,
    /// True when every counted vote went to the same option.
    pub unanimous: bool,
    /// Weighted lead of the winner over the runner-up (0 on a tie).
    pub margin: f64,
    /// True when two or more options share the top weighted total.
    pub tie: bool,
    /// The options sharing the top total, when `tie` is true.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tied_options: Vec<String>,
}

/// One counted vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoteRecord {
    /// The voter (provider or agent id).
    pub provider: String,
    /// The option voted for.
    pub option: String,
    /// Stated confidence 0–1 (0.5 when none was stated).
    pub confidence: f64,
    /// confidence × multiplier (the agent multiplier for agents, 1 otherwise).
    pub weight: f64,
    /// The voter's reason.
    pub reason: String,
}

/// A disputed point settled (or not) in a sub-discussion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubDiscussion {
    /// The disputed point.
    pub point: String,
    /// 1 for a sub-discussion of the top discussion, and so on.
    pub depth: u32,
    /// The sub-discussion, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<DiscussionResult>,
    /// Why it did not run or did not finish (`DISCUSSION_MAX_DEPTH_EXCEEDED`,
    /// `DISCUSSION_MAX_CALLS_EXCEEDED`, `DISCUSSION_BUDGET_EXHAUSTED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DiscussionFailure>,
}

/// Timing, cost and concurrency facts of one discussion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionMetadata {
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub completed_at: String,
    /// Calls, retries, tokens.
    pub cost_summary: CostSummary,
    /// Set when rounds were skipped because the answers already agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_exit: Option<EarlyExit>,
    /// The most provider calls of this discussion (sub-discussions included) that ran
    /// at the same time. Never above the process-wide limit (INV-DISC-RATE-001).
    pub max_in_flight: u32,
    /// True when any answer came from the mock provider: the content is simulated.
    pub simulated: bool,
    /// 0 for a top discussion, n for a sub-discussion n levels down.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the provider calls cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostSummary {
    /// Provider calls started, retries included.
    pub total_calls: u32,
    /// Of those, how many were retries.
    pub retries: u32,
    /// Tokens reported by providers (input + output).
    pub total_tokens: u64,
    /// Per provider id.
    pub by_provider: BTreeMap<String, ProviderCost>,
}

/// One provider's share of the cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCost {
    /// Calls started, retries included.
    pub calls: u32,
    /// Retries.
    pub retries: u32,
    /// Calls that ended in failure (after retries).
    pub failures: u32,
    /// Tokens reported.
    pub tokens: u64,
}

/// Why the rounds stopped early.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyExit {
    /// The last round that ran.
    pub after_round: u32,
    /// The agreement measured after it (0–1).
    pub agreement_score: f64,
    /// For people.
    pub reason: String,
}

/// Why a discussion failed or stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionFailure {
    /// A `DISCUSSION_*` code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

impl DiscussionFailure {
    /// A failure with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// What `discuss_quick` returns: the gist of a fast synthesis discussion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuickDiscussionResult {
    /// Whether it produced a conclusion.
    pub success: bool,
    /// The conclusion.
    pub synthesis: String,
    /// Speakers that answered.
    pub participating_providers: Vec<String>,
    /// Wall time.
    pub total_duration_ms: u64,
    /// Id for `discussion_get` / `ax discuss show`.
    pub discussion_id: String,
    /// True when the answers were simulated by the mock provider.
    pub simulated: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DiscussionFailure>,
}

impl From<&DiscussionResult> for QuickDiscussionResult {
    fn from(r: &DiscussionResult) -> Self {
        Self {
            success: r.success,
            synthesis: r.synthesis.clone(),
            participating_providers: r.participating_providers.clone(),
            total_duration_ms: r.total_duration_ms,
            discussion_id: r.discussion_id.clone(),
            simulated: r.metadata.simulated,
            error: r.error.clone(),
        }
    }
}

wire_enum! {
    /// How a saved discussion ended.
    pub enum DiscussionStatus {
        /// It ran to its end and succeeded.
        Finished = "finished",
        /// It ended without success (a failure, or no consensus).
        Failed = "failed",
        /// It was cancelled (Ctrl-C, a client's cancellation, its deadline).
        Cancelled = "cancelled",
    }
}

/// One saved discussion in a history listing (the record without its result), as
/// `ax discuss history --format json` and MCP `discussion_list` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionSummary {
    /// The discussion id.
    pub discussion_id: String,
    /// The topic.
    pub topic: String,
    /// The pattern.
    pub pattern: Pattern,
    /// How it ended.
    pub status: DiscussionStatus,
    /// Whether it reached its conclusion.
    pub success: bool,
    /// Speakers that took part.
    pub providers: Vec<String>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Wall time in milliseconds.
    pub total_duration_ms: u64,
}

/// A page of saved discussions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionPage {
    /// Saved discussions, newest first.
    pub discussions: Vec<DiscussionSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
