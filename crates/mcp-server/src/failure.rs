//! How a tool that ran and failed answers: a `CallToolResult` with `isError: true`
//! whose `structuredContent` (and text) is `{"error": {code, message, details?}}` —
//! never a JSON-RPC error, because clients show the model a tool error but hide a
//! protocol error behind "tool failed". Every output schema admits the envelope
//! (`schema`, INV-MCP-ERR-001), so clients that validate errors against it pass them on.
//! [`delivery`] is the one place that says how each [`ErrorCode`] reaches a client, in
//! a tool result and in a `resources/read` answer.

use ax_agent_domain::AgentError;
use ax_contracts::error::{ErrorBody, ErrorCode, ErrorEnvelope, StorageBusy, StorageUnavailable};
use ax_contracts::validation::ValidationErrors;
use ax_discussion_domain::ServiceError;
use rmcp::ErrorData;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};

/// How a failure with some [`ErrorCode`] reaches an MCP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The thing asked for does not exist: in a tool call an `isError` result with the
    /// envelope; in a `resources/read` the JSON-RPC "resource not found" error the
    /// protocol asks for.
    NotFound,
    /// Anything else the server can report: in a tool call an `isError` result with
    /// the envelope; in a `resources/read` a JSON-RPC internal error with the message.
    Failed,
    /// Never sent over MCP: the CLI's own code for how it was called (an MCP client's
    /// malformed request is a JSON-RPC protocol error instead). Sent by mistake, it
    /// goes out as `INTERNAL_ERROR`.
    CliOnly,
}

/// How a failure with `code` reaches an MCP client: the MCP half of the one table
/// from error code to what each edge does with it (the CLI's half is `exit_for` in
/// `crates/cli/src/error.rs`). Matched exhaustively (no `_` arm): a new [`ErrorCode`]
/// does not compile until it is placed here.
pub(crate) const fn delivery(code: ErrorCode) -> Delivery {
    match code {
        ErrorCode::UsageError => Delivery::CliOnly,
        ErrorCode::AgentNotFound | ErrorCode::DiscussionNotFound => Delivery::NotFound,
        ErrorCode::InvalidInput
        | ErrorCode::AgentAlreadyExists
        | ErrorCode::Conflict
        | ErrorCode::DiscussionInsufficientProviders
        | ErrorCode::DiscussionProviderTimeout
        | ErrorCode::DiscussionAllProvidersFailed
        | ErrorCode::DiscussionConsensusFailed
        | ErrorCode::DiscussionInvalidPattern
        | ErrorCode::DiscussionInvalidRoles
        | ErrorCode::DiscussionSynthesisFailed
        | ErrorCode::DiscussionInvalidConfig
        | ErrorCode::DiscussionProviderNotFound
        | ErrorCode::DiscussionMaxDepthExceeded
        | ErrorCode::DiscussionBudgetExhausted
        | ErrorCode::DiscussionMaxCallsExceeded
        | ErrorCode::DiscussionCancelled
        | ErrorCode::StorageBusy
        | ErrorCode::StorageUnavailable
        | ErrorCode::InternalError => Delivery::Failed,
    }
}

/// A failed tool call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToolFailure {
    /// The `{"error": ...}` envelope.
    Error(ErrorBody),
    /// A discussion that ran and failed: its whole result (which carries
    /// `error: {code, message}`) is the answer, so the rounds it completed are not lost.
    FailedRun(Value),
}

impl ToolFailure {
    /// `INVALID_INPUT` listing every issue under `details.issues`.
    pub(crate) fn invalid(errors: ValidationErrors) -> Self {
        Self::invalid_with_code(ErrorCode::InvalidInput, errors)
    }

    /// A validation failure reported with another code (e.g. a discussion's
    /// `DISCUSSION_INVALID_CONFIG`), still listing every issue.
    pub(crate) fn invalid_with_code(code: ErrorCode, errors: ValidationErrors) -> Self {
        Self::Error(ErrorBody {
            code,
            message: format!("invalid input: {errors}"),
            details: Some(json!({ "issues": errors.issues })),
        })
    }

    /// A failure of ours or of the storage; the message says what.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::Error(ErrorBody {
            code: ErrorCode::InternalError,
            message: message.into(),
            details: None,
        })
    }

    /// A storage failure: `STORAGE_BUSY` when another process held the database past
    /// the busy timeout (the client may retry), `STORAGE_UNAVAILABLE` when the
    /// database server could not be reached, else `INTERNAL_ERROR`.
    pub(crate) fn storage(err: &(dyn std::error::Error + 'static)) -> Self {
        Self::Error(ErrorBody {
            code: if StorageBusy::in_chain(err) {
                ErrorCode::StorageBusy
            } else if StorageUnavailable::in_chain(err) {
                ErrorCode::StorageUnavailable
            } else {
                ErrorCode::InternalError
            },
            message: error_chain(err),
            details: None,
        })
    }

    /// The tool result for this failure.
    pub(crate) fn into_result(self) -> CallToolResult {
        match self {
            Self::Error(mut error) => {
                if delivery(error.code) == Delivery::CliOnly {
                    tracing::error!(code = %error.code, "a CLI-only error code reached MCP");
                    error.code = ErrorCode::InternalError;
                }
                let envelope = serde_json::to_value(ErrorEnvelope { error }).unwrap_or_else(
                    |e| json!({"error": {"code": "INTERNAL_ERROR", "message": e.to_string()}}),
                );
                CallToolResult::structured_error(envelope)
            }
            Self::FailedRun(result) => CallToolResult::structured_error(result),
        }
    }

    /// The JSON-RPC error a `resources/read` of `uri` answers with instead.
    pub(crate) fn into_resource_error(self, uri: &str) -> ErrorData {
        match self {
            Self::Error(body) if delivery(body.code) == Delivery::NotFound => {
                resource_not_found(uri)
            }
            Self::Error(body) => ErrorData::internal_error(body.message, None),
            Self::FailedRun(_) => ErrorData::internal_error("unexpected discussion result", None),
        }
    }
}

/// `resources/read` of a URI that names nothing.
pub(crate) fn resource_not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(format!("no resource at {uri}"), Some(json!({ "uri": uri })))
}

impl From<AgentError> for ToolFailure {
    /// Every registry error keeps its message verbatim (REQ-1: a duplicate answers
    /// `Agent with ID "x" already exists`) and names the agent in `details`.
    fn from(err: AgentError) -> Self {
        let message = err.to_string();
        let details = match &err {
            AgentError::AlreadyExists { agent_id } | AgentError::NotFound { agent_id } => {
                Some(json!({ "agentId": agent_id }))
            }
            AgentError::Conflict {
                agent_id,
                expected,
                actual,
            } => Some(json!({
                "agentId": agent_id,
                "expectedRevision": expected,
                "actualRevision": actual,
            })),
            AgentError::Validation(errors) | AgentError::InvalidRequest(errors) => {
                Some(json!({ "issues": errors.issues }))
            }
            AgentError::Storage(_) => {
                tracing::error!(error = %error_chain(&err), "registry storage failure");
                None
            }
        };
        let message = match &err {
            AgentError::Storage(_) => error_chain(&err),
            _ => message,
        };
        Self::Error(ErrorBody {
            code: err.code(),
            message,
            details,
        })
    }
}

impl From<ServiceError> for ToolFailure {
    fn from(err: ServiceError) -> Self {
        if let ServiceError::NotSaved { source, .. } = &err {
            tracing::error!(error = %source, "a discussion ran but could not be saved");
        }
        Self::Error(err.to_error_body())
    }
}

pub(crate) use ax_contracts::error::error_chain;

#[cfg(test)]
mod tests {
    use super::*;

    fn structured(result: &CallToolResult) -> &Value {
        result.structured_content.as_ref().expect("structured")
    }

    #[test]
    fn a_duplicate_names_the_agent_and_keeps_the_registry_message() {
        let result = ToolFailure::from(AgentError::AlreadyExists {
            agent_id: "rusty".into(),
        })
        .into_result();
        assert_eq!(result.is_error, Some(true));
        let body = &structured(&result)["error"];
        assert_eq!(body["code"], "AGENT_ALREADY_EXISTS");
        assert_eq!(body["message"], r#"Agent with ID "rusty" already exists"#);
        assert_eq!(body["details"]["agentId"], "rusty");
        let text = result.content[0].as_text().expect("text").text.clone();
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("json"),
            *structured(&result),
            "the text block carries the same JSON"
        );
    }

    /// Every code is placed in the table; only the CLI's own code is never sent, and
    /// a not-found code answers a resource read with the protocol's "not found".
    #[test]
    fn every_error_code_has_one_way_to_reach_a_client() {
        for &code in ErrorCode::ALL {
            let body = ErrorBody {
                code,
                message: "m".into(),
                details: None,
            };
            let result = ToolFailure::Error(body.clone()).into_result();
            assert_eq!(result.is_error, Some(true), "{code}");
            let sent = &structured(&result)["error"]["code"];
            let rpc = ToolFailure::Error(body).into_resource_error("automatosx://x");
            match delivery(code) {
                Delivery::CliOnly => {
                    assert_eq!(code, ErrorCode::UsageError);
                    assert_eq!(sent, "INTERNAL_ERROR");
                }
                Delivery::NotFound => {
                    assert_eq!(sent, code.as_str());
                    assert_eq!(
                        rpc.code,
                        rmcp::model::ErrorCode::RESOURCE_NOT_FOUND,
                        "{code}"
                    );
                }
                Delivery::Failed => {
                    assert_eq!(sent, code.as_str());
                    assert_eq!(rpc.code, rmcp::model::ErrorCode::INTERNAL_ERROR, "{code}");
                }
            }
        }
    }

    /// The published error envelope names every code a client can get, and not the
    /// CLI's own.
    #[test]
    fn the_published_codes_leave_out_the_cli_only_one() {
        let schema = serde_json::to_string(&schemars::schema_for!(ErrorEnvelope)).expect("json");
        for &code in ErrorCode::ALL {
            assert_eq!(
                schema.contains(&format!("\"{code}\"")),
                delivery(code) != Delivery::CliOnly,
                "{code} in {schema}"
            );
        }
    }

    #[test]
    fn invalid_input_lists_every_issue() {
        let errors = ValidationErrors {
            issues: vec![
                ax_contracts::validation::Issue {
                    path: "limit".into(),
                    rule: "range".into(),
                    message: "too big".into(),
                },
                ax_contracts::validation::Issue {
                    path: "bogus".into(),
                    rule: "unknown_field".into(),
                    message: "unknown".into(),
                },
            ],
        };
        let result = ToolFailure::invalid(errors).into_result();
        let body = &structured(&result)["error"];
        assert_eq!(body["code"], "INVALID_INPUT");
        assert_eq!(body["details"]["issues"][0]["path"], "limit");
        assert_eq!(body["details"]["issues"][1]["path"], "bogus");
    }
}
