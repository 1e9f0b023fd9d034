//! [`DiscussionService`]: the one entry point the CLI and the MCP server share —
//! prepare a parsed configuration, run, and ALWAYS save the result (finished, failed or cancelled)
//! through the [`DiscussionHistory`] port before returning it.

use std::sync::Arc;

use ax_contracts::discussion::{
    DiscussionConfig, DiscussionFailure, DiscussionResult, DiscussionStatus, config_error_code,
};
use ax_contracts::error::{ErrorBody, ErrorCode, StorageBusy, StorageUnavailable};
use ax_contracts::parse::Valid;
use ax_contracts::validation::{Issue, JsonPath, ValidationErrors, rule};
use serde_json::{Value, json};

use crate::engine::{DiscussionEngine, RunOptions};
use crate::history::{DiscussionHistory, DiscussionRecord, HistoryError};
use crate::participants::{NoAgents, ParticipantResolver};

/// Why a discussion did not produce a (saved) result.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The configuration broke rules; every issue has its path. Nothing ran.
    #[error("invalid discussion configuration: {0}")]
    Invalid(ValidationErrors),
    /// The configuration names providers, agents or roles that do not exist or fit.
    /// Nothing ran.
    #[error("{}", .0.message)]
    Rejected(DiscussionFailure),
    /// The discussion ran but its result could not be saved; the result is here.
    #[error("the discussion ran but could not be saved: {source}")]
    NotSaved {
        /// The result, so that it is not lost.
        result: Box<DiscussionResult>,
        /// Why saving failed.
        #[source]
        source: HistoryError,
    },
}

impl ServiceError {
    /// The user-visible code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(e) => config_error_code(e),
            Self::Rejected(f) => f.code,
            Self::NotSaved { source, .. } if StorageBusy::in_chain(source) => {
                ErrorCode::StorageBusy
            }
            Self::NotSaved { source, .. } if StorageUnavailable::in_chain(source) => {
                ErrorCode::StorageUnavailable
            }
            Self::NotSaved { .. } => ErrorCode::InternalError,
        }
    }

    /// The `{code, message, details?}` body for CLI JSON output and MCP tool errors;
    /// validation errors list every issue under `details.issues`.
    pub fn to_error_body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            details: match self {
                Self::Invalid(e) => Some(json!({ "issues": e.issues })),
                Self::NotSaved { result, .. } => {
                    Some(json!({ "discussionId": result.discussion_id }))
                }
                Self::Rejected(_) => None,
            },
        }
    }
}

/// Validates, runs and saves discussions.
#[derive(Clone)]
pub struct DiscussionService {
    engine: DiscussionEngine,
    history: Arc<dyn DiscussionHistory>,
    resolver: Arc<dyn ParticipantResolver>,
}

impl std::fmt::Debug for DiscussionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscussionService")
            .field("engine", &self.engine)
            .finish()
    }
}

impl DiscussionService {
    /// A service running `engine` and saving into `history`; agents are unknown until
    /// [`DiscussionService::with_resolver`].
    pub fn new(engine: DiscussionEngine, history: Arc<dyn DiscussionHistory>) -> Self {
        Self {
            engine,
            history,
            resolver: Arc::new(NoAgents),
        }
    }

    /// Look agents up through `resolver` (the CLI wires the agent registry here).
    pub fn with_resolver(mut self, resolver: Arc<dyn ParticipantResolver>) -> Self {
        self.resolver = resolver;
        self
    }

    /// The engine (and through it the limiter).
    pub fn engine(&self) -> &DiscussionEngine {
        &self.engine
    }

    /// The history the service saves into.
    pub fn history(&self) -> &Arc<dyn DiscussionHistory> {
        &self.history
    }

    /// Run a discussion from its JSON configuration (the MCP `discuss` tool, `ax
    /// discuss`): the one parser, whose refusal also names listed providers that are
    /// not configured, then [`DiscussionService::discuss`].
    pub async fn discuss_json(
        &self,
        input: &Value,
        run: RunOptions,
    ) -> Result<DiscussionResult, ServiceError> {
        let config = DiscussionConfig::from_json(input)
            .map_err(|errors| ServiceError::Invalid(self.with_unknown_providers(input, errors)))?;
        self.discuss(config, run).await
    }

    /// `errors` plus one issue per listed provider that is not configured, so that an
    /// answer to `--providers nosuch` names `nosuch` and not only the count rule
    /// (once the configuration is valid, the engine refuses unknown names itself).
    fn with_unknown_providers(
        &self,
        input: &Value,
        mut errors: ValidationErrors,
    ) -> ValidationErrors {
        let known: Vec<String> = self
            .engine
            .executor()
            .providers()
            .into_iter()
            .map(|p| p.id)
            .collect();
        let Some(listed) = input.get("providers").and_then(Value::as_array) else {
            return errors;
        };
        for (i, id) in listed.iter().enumerate() {
            if let Some(id) = id.as_str()
                && !known.iter().any(|k| k == id)
            {
                errors.issues.push(Issue {
                    path: JsonPath::root()
                        .key("providers")
                        .index(i)
                        .as_str()
                        .to_owned(),
                    rule: rule::REFERENCE.to_owned(),
                    message: format!(
                        "no provider named \"{id}\" is configured (configured: {})",
                        known.join(", ")
                    ),
                });
            }
        }
        errors
    }

    /// INV-DISC-SAVE-001: run a discussion and save its result, whatever the outcome. Input errors return
    /// `Err` before anything runs (and nothing is saved); once the discussion has
    /// started, its result — finished, failed or cancelled — is saved and returned.
    pub async fn discuss(
        &self,
        config: Valid<DiscussionConfig>,
        run: RunOptions,
    ) -> Result<DiscussionResult, ServiceError> {
        let prepared = self
            .engine
            .prepare(config, self.resolver.as_ref())
            .await
            .map_err(ServiceError::Rejected)?;
        let result = self.engine.run(prepared, run).await;
        match self.history.save(&record(&result)).await {
            Ok(()) => Ok(result),
            Err(source) => Err(ServiceError::NotSaved {
                result: Box::new(result),
                source,
            }),
        }
    }

    /// A quick discussion (MCP `discuss_quick`, `ax discuss --fast`): the topic, the
    /// given or the available providers, one synthesis round.
    pub async fn discuss_quick(
        &self,
        topic: &str,
        providers: Option<Vec<String>>,
        run: RunOptions,
    ) -> Result<DiscussionResult, ServiceError> {
        let mut config = DiscussionConfig::new(topic);
        config.providers = providers;
        config.fast_mode = true;
        config.rounds = 1;
        let config = Valid::from_typed(&config).map_err(ServiceError::Invalid)?;
        self.discuss(config, run).await
    }
}

/// How `result` ended, as the history stores it.
pub fn status_of(result: &DiscussionResult) -> DiscussionStatus {
    match &result.error {
        Some(e) if e.code == ErrorCode::DiscussionCancelled => DiscussionStatus::Cancelled,
        _ if !result.success => DiscussionStatus::Failed,
        _ => DiscussionStatus::Finished,
    }
}

fn record(result: &DiscussionResult) -> DiscussionRecord {
    DiscussionRecord {
        discussion_id: result.discussion_id.clone(),
        topic: result.topic.clone(),
        pattern: result.pattern,
        status: status_of(result),
        success: result.success,
        providers: result.participating_providers.clone(),
        started_at: result.metadata.started_at.clone(),
        completed_at: result.metadata.completed_at.clone(),
        total_duration_ms: result.total_duration_ms,
        // Serialising plain data with string keys cannot fail.
        result: serde_json::to_value(result).unwrap_or(Value::Null),
    }
}
