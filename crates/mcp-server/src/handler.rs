//! [`AxServer`]: the rmcp `ServerHandler` — `initialize`, tools, resources. One value
//! serves one connection (stdio) or every session (HTTP); clones share everything.
//!
//! Requests are served concurrently: rmcp runs each request on its own task, and
//! nothing here holds a lock across a call, so a running `discuss` never delays an
//! `agent_get`.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CustomRequest, CustomResult,
    ErrorCode, Implementation, InitializeRequestParams, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use tracing::Instrument;
use tracing::field::Empty;

use crate::catalog::{self, ToolSpec};
use crate::failure::ToolFailure;
use crate::resources;
use crate::services::{McpOptions, McpServices};
use crate::tools::{self, Call, Check};

/// What clients are told about this server in `initialize`.
const INSTRUCTIONS: &str = "AutomatosX: a registry of AI agent profiles (agent_* tools) and multi-model discussions (discuss, discuss_quick; saved, see discussion_get/discussion_list). Failed calls return isError with {error: {code, message, details}}. discuss can run for minutes: send a progressToken for progress, and raise the client's tool timeout.";

/// Methods of the protocol: a request naming one that rmcp could not read has bad
/// params, not an unknown method.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "subscriptions/listen",
];

/// Longest tool name echoed back in an "unknown tool" error.
const MAX_ECHOED_NAME: usize = 100;

/// The MCP server handler.
#[derive(Clone)]
pub(crate) struct AxServer {
    inner: Arc<Inner>,
}

struct Inner {
    services: McpServices,
    options: McpOptions,
    tools: OnceLock<Vec<Tool>>,
}

impl AxServer {
    pub(crate) fn new(services: McpServices, options: McpOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                services,
                options,
                tools: OnceLock::new(),
            }),
        }
    }

    fn tools(&self) -> &[Tool] {
        self.inner
            .tools
            .get_or_init(|| catalog::listed_tools(&self.inner.options.tool_prefix))
    }

    /// Check the arguments of a call of `spec`'s tool, then run it to its result
    /// (success or `isError`).
    async fn run_tool(
        &self,
        spec: &'static ToolSpec,
        args: Value,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        // Plain argument objects are walked against the published schema here, by
        // the contracts' one structural engine; a contract type's arguments are parsed
        // by the tool with that contract's parser, which walks the same schema.
        let args = match spec.def.check {
            Check::Schema => match ax_contracts::schema::check(&args, &spec.input) {
                Ok(normalized) => normalized,
                Err(errors) => return ToolFailure::invalid(errors).into_result(),
            },
            Check::Contract => args,
        };
        let call = Call {
            services: &self.inner.services,
            request: context,
        };
        match (spec.def.call)(&call, args).await {
            Ok(value) => CallToolResult::structured(value),
            Err(failure) => failure.into_result(),
        }
    }
}

impl ServerHandler for AxServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("automatosx", self.inner.options.server_version.clone())
                .with_title("AutomatosX"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn ping(&self, context: RequestContext<RoleServer>) -> Result<(), ErrorData> {
        traced(request_span("ping", None, &context), ok, async { Ok(()) }).await
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        traced(request_span("tools/list", None, &context), ok, async {
            Ok(ListToolsResult::with_all_items(self.tools().to_vec()))
        })
        .await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let position = tools::position(name, &self.inner.options.tool_prefix)?;
        self.tools().get(position).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let span = request_span("tools/call", Some(echoed(&request.name)), &context);
        let call = async {
            let spec = tools::position(&request.name, &self.inner.options.tool_prefix)
                .and_then(catalog::spec);
            let Some(spec) = spec else {
                // The protocol's answer to an unknown tool is a JSON-RPC error.
                let shown: String = request.name.chars().take(MAX_ECHOED_NAME).collect();
                return Err(ErrorData::invalid_params(
                    format!("Unknown tool: {shown}"),
                    Some(json!({ "tool": shown })),
                ));
            };
            let args = Value::Object(request.arguments.unwrap_or_default());
            Ok(self.run_tool(spec, args, &context).await)
        };
        traced(span, tool_outcome, call).await.map(Into::into)
    }

    /// rmcp reads a known method with malformed params as a custom request; answer
    /// those with "invalid params" (saying what is wrong), and truly unknown methods
    /// with "method not found".
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let span = request_span(echoed(&request.method), None, &context);
        traced(span, ok, self.custom_request(request)).await
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        traced(request_span("resources/list", None, &context), ok, async {
            Ok(resources::list())
        })
        .await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let span = request_span("resources/templates/list", None, &context);
        traced(span, ok, async { Ok(resources::templates()) }).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let span = request_span("resources/read", None, &context);
        let read = resources::read(&self.inner.services, &request.uri);
        traced(span, ok, read).await.map(Into::into)
    }
}

impl AxServer {
    /// [`ServerHandler::on_custom_request`], in its span.
    async fn custom_request(&self, request: CustomRequest) -> Result<CustomResult, ErrorData> {
        let method: String = request.method.chars().take(MAX_ECHOED_NAME).collect();
        let params = request.params.unwrap_or(Value::Null);
        let reason = match method.as_str() {
            "tools/call" => serde_json::from_value::<CallToolRequestParams>(params).err(),
            "resources/read" => serde_json::from_value::<ReadResourceRequestParams>(params).err(),
            "initialize" => serde_json::from_value::<InitializeRequestParams>(params).err(),
            "tools/list" | "resources/list" | "resources/templates/list" | "prompts/list" => {
                serde_json::from_value::<Option<PaginatedRequestParams>>(params).err()
            }
            known if KNOWN_METHODS.contains(&known) => None,
            _ => {
                return Err(ErrorData::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("Method not found: {method}"),
                    Some(json!({ "method": method })),
                ));
            }
        };
        let detail = reason.map_or_else(|| "malformed params".to_owned(), |e| e.to_string());
        Err(ErrorData::invalid_params(
            format!("Invalid params for {method}: {detail}"),
            Some(json!({ "method": method })),
        ))
    }
}

/// The span of one MCP request: `mcp_request` with the JSON-RPC request id, the
/// method, the tool (for `tools/call`) and, when it ends, the outcome and duration in
/// ms. Made in each handler method because rmcp runs every request on a task of its
/// own and answers `initialize` itself; there is no one dispatch point of ours that
/// all transports share.
fn request_span(
    method: &str,
    tool: Option<&str>,
    context: &RequestContext<RoleServer>,
) -> tracing::Span {
    tracing::info_span!(
        "mcp_request",
        request_id = %context.id,
        method,
        tool,
        outcome = Empty,
        duration_ms = Empty,
    )
}

/// Run one request's `handler` inside `span`, then record its outcome: what `outcome`
/// says of a result, or `jsonrpc_error <code>` — and its duration.
async fn traced<T>(
    span: tracing::Span,
    outcome: impl FnOnce(&T) -> &str,
    handler: impl Future<Output = Result<T, ErrorData>>,
) -> Result<T, ErrorData> {
    let started = Instant::now();
    let result = handler.instrument(span.clone()).await;
    if !span.is_disabled() {
        match &result {
            Ok(value) => span.record("outcome", outcome(value)),
            Err(e) => span.record("outcome", format!("jsonrpc_error {}", e.code.0)),
        };
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        span.record("duration_ms", millis);
    }
    result
}

/// The outcome of a request that answered.
fn ok<T>(_: &T) -> &str {
    "ok"
}

/// The outcome of a tool call: `ok`, or the error code of its `isError` result
/// (`{error: {code, ...}}`, a registry error or a failed discussion alike).
fn tool_outcome(result: &CallToolResult) -> &str {
    if result.is_error != Some(true) {
        return "ok";
    }
    result
        .structured_content
        .as_ref()
        .and_then(|v| v["error"]["code"].as_str())
        .unwrap_or("tool_error")
}

/// At most [`MAX_ECHOED_NAME`] characters of a name the client chose, for a span.
fn echoed(name: &str) -> &str {
    name.char_indices()
        .nth(MAX_ECHOED_NAME)
        .map_or(name, |(end, _)| &name[..end])
}
