//! [`CliError`]: what a command failed with, as the user sees it — one line on
//! stderr (`error: agent "x" already exists`), an optional hint, the documented exit
//! code, and for `--format json` the `{"error": {code, message, details?}}` document.

use std::process::ExitCode;

use ax_agent_domain::AgentError;
use ax_contracts::error::{ErrorBody, ErrorCode, ErrorEnvelope, StorageBusy, StorageUnavailable};
use ax_contracts::validation::ValidationErrors;
use serde_json::{Value, json};

/// The documented exit codes (`ax --help`, `docs/CLI.md`). Which one an error exits
/// with is decided by its code alone, in [`exit_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0
    Ok = 0,
    /// 1: the command ran and failed (a discussion failed, storage error, ...).
    Failure = 1,
    /// 2: a usage error: bad arguments, unreadable input, an invalid `config.toml` or
    /// limit, a provider that is not configured.
    Usage = 2,
    /// 3: the agent or discussion does not exist.
    NotFound = 3,
    /// 4: already exists, or a compare-and-swap conflict.
    Conflict = 4,
    /// 5: an invalid profile, patch or discussion configuration.
    Invalid = 5,
    /// 130: interrupted by Ctrl-C.
    Interrupted = 130,
}

/// The exit code of a command that failed with `code`: the one table from error code
/// to exit code, so the same code exits the same way whichever command or path
/// reports it. Matched exhaustively (no `_` arm): a new [`ErrorCode`] does not compile
/// until it is placed here. A discussion that *ran* and failed is not an error of the
/// command: it exits [`Exit::Failure`] whatever its result's code (`docs/CLI.md`).
pub const fn exit_for(code: ErrorCode) -> Exit {
    match code {
        // Rejected before anything ran, for how ax was called: exit 2.
        ErrorCode::UsageError | ErrorCode::DiscussionProviderNotFound => Exit::Usage,
        ErrorCode::AgentNotFound | ErrorCode::DiscussionNotFound => Exit::NotFound,
        ErrorCode::AgentAlreadyExists | ErrorCode::Conflict => Exit::Conflict,
        // The input breaks the contract (a profile, a patch, a discussion's
        // configuration, whether the parser or the engine found it): exit 5.
        ErrorCode::InvalidInput
        | ErrorCode::DiscussionInvalidPattern
        | ErrorCode::DiscussionInvalidRoles
        | ErrorCode::DiscussionInvalidConfig => Exit::Invalid,
        ErrorCode::DiscussionCancelled => Exit::Interrupted,
        ErrorCode::DiscussionInsufficientProviders
        | ErrorCode::DiscussionProviderTimeout
        | ErrorCode::DiscussionAllProvidersFailed
        | ErrorCode::DiscussionConsensusFailed
        | ErrorCode::DiscussionSynthesisFailed
        | ErrorCode::DiscussionMaxDepthExceeded
        | ErrorCode::DiscussionBudgetExhausted
        | ErrorCode::DiscussionMaxCallsExceeded
        | ErrorCode::StorageBusy
        | ErrorCode::StorageUnavailable
        | ErrorCode::InternalError => Exit::Failure,
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failed command. Boxed so `Result<_, CliError>` stays one pointer wide on the
/// happy path.
#[derive(Debug)]
pub struct CliError(Box<Failure>);

impl std::ops::Deref for CliError {
    type Target = Failure;
    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl std::ops::DerefMut for CliError {
    fn deref_mut(&mut self) -> &mut Failure {
        &mut self.0
    }
}

/// What a failed command reports.
#[derive(Debug)]
pub struct Failure {
    /// Machine-readable code for JSON output; it alone decides the exit code
    /// ([`Failure::exit`]).
    pub code: ErrorCode,
    /// One line for people.
    pub message: String,
    /// Extra lines (e.g. every validation issue), printed under the message.
    pub lines: Vec<String>,
    /// The obvious next step, if there is one.
    pub hint: Option<String>,
    /// Structured details for JSON output.
    pub details: Option<Value>,
}

impl Failure {
    /// The exit code, from the code ([`exit_for`]).
    pub const fn exit(&self) -> Exit {
        exit_for(self.code)
    }
}

impl CliError {
    /// A failure with `code`; it exits as [`exit_for`] says.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Box::new(Failure {
            code,
            message: message.into(),
            lines: Vec::new(),
            hint: None,
            details: None,
        }))
    }

    /// A usage error (`USAGE_ERROR`, exit 2), e.g. unreadable input.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UsageError, message)
    }

    /// An internal failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }

    /// A storage failure (exit 1): `STORAGE_BUSY` with a hint to retry when another
    /// process held the database past the busy timeout, `STORAGE_UNAVAILABLE` when
    /// the database server could not be reached, else `INTERNAL_ERROR`; the message
    /// is the whole cause chain.
    pub fn storage(err: &(dyn std::error::Error + 'static)) -> Self {
        if StorageBusy::in_chain(err) {
            Self::busy(error_chain(err))
        } else if StorageUnavailable::in_chain(err) {
            Self::unavailable(error_chain(err))
        } else {
            Self::failure(error_chain(err))
        }
    }

    /// `STORAGE_BUSY` (exit 1): nothing was changed; the same command can be retried.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::StorageBusy, message)
            .hint("another process holds the database locked; retry when it is done")
    }

    /// `STORAGE_UNAVAILABLE` (exit 1): the database server could not be reached.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::StorageUnavailable, message).hint(
            "check that the database server is running and reachable (`ax doctor` shows the target); a write that broke off may or may not have been applied",
        )
    }

    /// Add a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Add structured details.
    pub fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The JSON document printed for `--format json`.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }
}

/// An invalid input (`INVALID_INPUT`, exit 5): every issue on its own line.
pub fn invalid(what: &str, errors: &ValidationErrors) -> CliError {
    let mut err = CliError::new(
        ErrorCode::InvalidInput,
        format!("invalid {what}: {} problem(s)", errors.issues.len()),
    );
    err.lines = errors
        .issues
        .iter()
        .map(|i| format!("  {}: {}", i.path, i.message))
        .collect();
    err.details = Some(json!({ "issues": errors.issues }));
    err
}

impl From<AgentError> for CliError {
    fn from(err: AgentError) -> Self {
        match &err {
            AgentError::AlreadyExists { agent_id } => CliError::new(err.code(), format!("agent \"{agent_id}\" already exists"))
                .hint(format!("change it with `ax agent update {agent_id} --json '{{...}}'`, or remove it first"))
                .details(json!({ "agentId": agent_id, "registryMessage": err.to_string() })),
            AgentError::NotFound { agent_id } => CliError::new(err.code(), format!("agent \"{agent_id}\" not found"))
                .hint("`ax agent list` shows the registered agents")
                .details(json!({ "agentId": agent_id })),
            AgentError::Validation(errors) => invalid("agent profile", errors),
            AgentError::InvalidRequest(errors) => invalid("request", errors),
            AgentError::Conflict { agent_id, expected, actual } => CliError::new(
                err.code(),
                format!("agent \"{agent_id}\" changed since revision {expected} (now at revision {actual})"),
            )
            .hint(format!("re-read it with `ax agent get {agent_id}` and retry with --if-version {actual}"))
            .details(json!({ "agentId": agent_id, "expectedRevision": expected, "actualRevision": actual })),
            AgentError::Storage(_) => CliError::storage(&err),
        }
    }
}

pub use ax_contracts::error::error_chain;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every error code has its exit code in the one table, each exit code it gives is
    /// one `ax --help` documents, and the codes whose exit used to depend on the path
    /// that reported them exit one way.
    #[test]
    fn every_error_code_has_one_documented_exit_code() {
        let help = crate::args::Cli::command()
            .get_after_help()
            .expect("the root help lists the exit codes")
            .to_string();
        for &code in ErrorCode::ALL {
            let exit = exit_for(code) as u8;
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{exit} "))),
                "{code} exits {exit}, which `ax --help` does not list:\n{help}"
            );
            let err = CliError::new(code, "x");
            assert_eq!(err.exit(), exit_for(code), "{code}");
        }
        assert_eq!(exit_for(ErrorCode::UsageError), Exit::Usage);
        assert_eq!(exit_for(ErrorCode::InvalidInput), Exit::Invalid);
        assert_eq!(exit_for(ErrorCode::DiscussionInvalidRoles), Exit::Invalid);
        assert_eq!(exit_for(ErrorCode::DiscussionInvalidConfig), Exit::Invalid);
        assert_eq!(CliError::usage("x").code, ErrorCode::UsageError);
        assert_eq!(CliError::usage("x").exit(), Exit::Usage);
    }
}
