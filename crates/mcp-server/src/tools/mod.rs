//! The tools. Each is one file here, holding one unit type that implements [`Tool`]:
//! its name, title, description, hints, argument and result types (whose schemas the
//! catalog publishes and calls are checked against) and its handler. The one
//! list at the bottom, [`ALL`], declares each file and fixes the `tools/list` order —
//! adding a tool is a new file plus one line there.
//!
//! Why a trait with a type-erased table rather than an enum of names with a `match`
//! per concern (schema, description, dispatch): those matches had to be kept in step
//! by hand, in three files, for every tool.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ax_discussion_domain::RunOptions;
use rmcp::RoleServer;
use rmcp::model::{JsonObject, ToolAnnotations};
use rmcp::service::RequestContext;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::failure::ToolFailure;
use crate::progress::ProgressForwarder;
use crate::schema;
use crate::services::McpServices;

/// One tool, described by its type.
pub(crate) trait Tool: 'static {
    /// The unprefixed name (`agent_list`).
    const NAME: &'static str;
    /// Short title.
    const TITLE: &'static str;
    /// What clients are told of its effects.
    const HINTS: Hints;
    /// Who checks a call's arguments against the schema.
    const CHECK: Check = Check::Schema;
    /// What it accepts: the `inputSchema` is generated from this type.
    type Args: JsonSchema;
    /// What it answers: the `outputSchema` is generated from this type.
    type Output: JsonSchema;

    /// What it does, as clients show it.
    fn description() -> String;

    /// The published `inputSchema`; the schema of [`Tool::Args`] unless a tool says
    /// otherwise.
    fn input_schema() -> Arc<JsonObject> {
        schema::input::<Self::Args>()
    }

    /// Run the call with checked arguments.
    fn call(
        call: &Call<'_>,
        args: Value,
    ) -> impl Future<Output = Result<Value, ToolFailure>> + Send;
}

/// A tool's hints (`readOnlyHint`, `destructiveHint`, `idempotentHint`,
/// `openWorldHint`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl Hints {
    /// Reads the registry or the history and changes nothing.
    pub(crate) const READ: Self = Self {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    };

    /// As MCP annotations.
    pub(crate) fn annotations(self) -> ToolAnnotations {
        ToolAnnotations::new()
            .read_only(self.read_only)
            .destructive(self.destructive)
            .idempotent(self.idempotent)
            .open_world(self.open_world)
    }
}

/// Who checks a tool's arguments against its `inputSchema`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// The server, with `ax_contracts::schema::check`, before the handler runs (the
    /// small argument objects of this crate); the handler gets the normalised value.
    Schema,
    /// The handler, with the contract's parser (`Valid::parse`), which walks the same
    /// schema and then the contract's own rules, so that one answer lists every
    /// problem of both kinds and nothing is checked twice.
    Contract,
}

/// What a handler is given besides its arguments.
pub(crate) struct Call<'a> {
    /// The wired services.
    pub services: &'a McpServices,
    /// The request: its cancellation token, progress token and peer.
    pub request: &'a RequestContext<RoleServer>,
}

impl Call<'_> {
    /// Run a discussion as this request: cancelled with it (a
    /// `notifications/cancelled`, a closed connection, or the server shutting down
    /// all cancel the request's token, which stops the engine and with it the
    /// provider processes), with progress when the request carries a progress token.
    pub(crate) async fn discussion<F, Fut>(&self, run: F) -> Result<Value, ToolFailure>
    where
        F: FnOnce(RunOptions) -> Fut,
        Fut: Future<Output = Result<Value, ToolFailure>>,
    {
        let discussion_id = uuid::Uuid::now_v7().to_string();
        let forwarder = self.request.meta.get_progress_token().map(|token| {
            ProgressForwarder::start(self.request.peer.clone(), token, &discussion_id)
        });
        let options = RunOptions {
            cancel: self.request.ct.clone(),
            deadline: None,
            progress: forwarder
                .as_ref()
                .map(ProgressForwarder::sink)
                .unwrap_or_default(),
            discussion_id: Some(discussion_id),
        };
        let outcome = run(options).await;
        if let Some(forwarder) = forwarder {
            forwarder.finish().await;
        }
        outcome
    }
}

/// A handler's future. Boxed: a discussion's state machine is large, and rmcp spawns
/// one task per request, copying the handler's future; boxed, an `agent_get` does not
/// pay for moving a discussion's state around.
pub(crate) type Running<'a> = Pin<Box<dyn Future<Output = Result<Value, ToolFailure>> + Send + 'a>>;

/// A [`Tool`] as a table row, so that the list can hold every tool.
pub(crate) struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub hints: Hints,
    pub check: Check,
    pub description: fn() -> String,
    pub input: fn() -> Arc<JsonObject>,
    pub output: fn() -> Arc<JsonObject>,
    pub call: for<'a> fn(&'a Call<'a>, Value) -> Running<'a>,
}

const fn def<T: Tool>() -> ToolDef {
    ToolDef {
        name: T::NAME,
        title: T::TITLE,
        hints: T::HINTS,
        check: T::CHECK,
        description: T::description,
        input: T::input_schema,
        output: schema::output::<T::Output>,
        call: running::<T>,
    }
}

fn running<'a, T: Tool>(call: &'a Call<'a>, args: Value) -> Running<'a> {
    Box::pin(T::call(call, args))
}

/// Declares each tool's file and lists the tools, in `tools/list` order.
macro_rules! tools {
    ($($file:ident :: $tool:ident),* $(,)?) => {
        $(pub(crate) mod $file;)*

        /// Every tool, in `tools/list` order.
        pub(crate) static ALL: &[ToolDef] = &[$(def::<$file::$tool>()),*];
    };
}

tools! {
    agent_list::AgentList,
    agent_get::AgentGet,
    agent_register::AgentRegister,
    agent_update::AgentUpdate,
    agent_remove::AgentRemove,
    agent_recommend::AgentRecommend,
    agent_capabilities::AgentCapabilities,
    discuss::Discuss,
    discuss_quick::DiscussQuick,
    discussion_get::DiscussionGet,
    discussion_list::DiscussionList,
}

/// The position in [`ALL`] of the tool a call names: the exposed (prefixed) name or
/// the bare one.
pub(crate) fn position(name: &str, prefix: &str) -> Option<usize> {
    let bare = if prefix.is_empty() {
        name
    } else {
        name.strip_prefix(prefix).unwrap_or(name)
    };
    ALL.iter().position(|tool| tool.name == bare)
}

/// Read checked arguments into their type. The schema check ran first, so a failure
/// here is rare (e.g. a number too large for the field); it is still `INVALID_INPUT`.
pub(crate) fn typed<T: DeserializeOwned>(args: Value) -> Result<T, ToolFailure> {
    serde_json::from_value(args).map_err(|e| {
        ToolFailure::invalid(ax_contracts::validation::ValidationErrors::single(
            &ax_contracts::validation::JsonPath::root(),
            ax_contracts::validation::rule::TYPE,
            e.to_string(),
        ))
    })
}

/// A tool's result as JSON.
pub(crate) fn output<T: Serialize>(value: &T) -> Result<Value, ToolFailure> {
    serde_json::to_value(value)
        .map_err(|e| ToolFailure::internal(format!("cannot write the result: {e}")))
}

/// A discussion's result as the tool's answer: a discussion that ran and failed
/// answers `isError` with its whole result.
pub(crate) fn run_outcome<T: Serialize>(value: &T, success: bool) -> Result<Value, ToolFailure> {
    let value = output(value)?;
    if success {
        Ok(value)
    } else {
        Err(ToolFailure::FailedRun(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, prefix: &str) -> Option<&'static str> {
        position(name, prefix).map(|i| ALL[i].name)
    }

    #[test]
    fn prefixed_and_bare_names_both_resolve() {
        assert_eq!(named("ax_agent_get", "ax_"), Some("agent_get"));
        assert_eq!(named("agent_get", "ax_"), Some("agent_get"));
        assert_eq!(named("agent_get", ""), Some("agent_get"));
        assert_eq!(named("ax_agent_get", ""), None);
        assert_eq!(named("ax_nope", "ax_"), None);
        assert_eq!(named("my_discuss", "my_"), Some("discuss"));
    }

    #[test]
    fn tool_names_are_unique() {
        for (i, tool) in ALL.iter().enumerate() {
            assert_eq!(
                position(tool.name, ""),
                Some(i),
                "{} listed twice",
                tool.name
            );
        }
    }
}
