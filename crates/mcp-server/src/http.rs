//! The Streamable HTTP transport at `/mcp` (rmcp's `StreamableHttpService` behind
//! axum), with the protections a local HTTP server needs:
//!
//! - bound to `127.0.0.1` unless told otherwise, and refusing to start on a
//!   non-loopback address without a bearer token;
//! - `Host` checked against the names the server is reached by, and a browser
//!   `Origin` checked against loopback origins: a web page cannot reach the server
//!   through DNS rebinding or a cross-origin request;
//! - an optional bearer token (`Authorization: Bearer ...`, compared in constant
//!   time), answered `401` when missing or wrong;
//! - a request body limit, enforced while the body streams in (`413`);
//! - bounded memory and sockets, before authentication too: at most
//!   `max_connections` connections (256, or half the open-file limit when that is
//!   lower; more wait in the kernel's backlog until one closes), request headers read within `header_timeout` (10 s, else the
//!   connection is closed), a request body read within `body_timeout` (10 s, else
//!   `408`), and at most `max_sessions` sessions (256): an `initialize` beyond the
//!   cap is answered `503` with `Retry-After` (existing sessions are never evicted,
//!   so a flood cannot push out a working client; abandoned sessions expire after
//!   rmcp's 5 min idle timeout). Only HTTP/1.1 is served (MCP clients use it).
//!
//! Sessions are kept in memory (rmcp's `LocalSessionManager`), so a client's
//! `notifications/cancelled` reaches the request it cancels and progress
//! notifications stream back on the request's SSE response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::ServeError;
use crate::handler::AxServer;
use crate::services::{McpOptions, McpServices};

/// The endpoint path.
pub const MCP_PATH: &str = "/mcp";

/// Default cap on live sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 256;
/// Default cap on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default time to read a request's headers.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time to read a request's body.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// `HOST:PORT` to listen on, e.g. `127.0.0.1:8765` (port 0: any free port).
    pub addr: String,
    /// Bearer token clients must send; required on a non-loopback address.
    pub token: Option<String>,
    /// More `Host` names to accept (besides `localhost`, `127.0.0.1`, `::1` and the
    /// address listened on), e.g. the machine's DNS name.
    pub allowed_hosts: Vec<String>,
    /// More browser origins to accept (besides `http://localhost:*`,
    /// `http://127.0.0.1:*`, `http://[::1]:*`), e.g. `https://app.example.com:443`.
    pub allowed_origins: Vec<String>,
    /// Most live sessions; an `initialize` beyond it is answered `503`.
    pub max_sessions: usize,
    /// Most open connections; more wait to be accepted.
    pub max_connections: usize,
    /// Time allowed to read a request's headers.
    pub header_timeout: Duration,
    /// Time allowed to read a request's body.
    pub body_timeout: Duration,
}

impl HttpOptions {
    /// Listen on `addr` with no token and the default allow-lists.
    pub fn new(addr: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            token: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// A bound, not yet running HTTP server.
pub struct HttpServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    server: AxServer,
    config: StreamableHttpServerConfig,
    token: Option<Arc<str>>,
    limits: Limits,
}

/// What bounds the server's memory and sockets (see the module docs).
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_sessions: usize,
    max_connections: usize,
    header_timeout: Duration,
    body_timeout: Duration,
    max_body: usize,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("local_addr", &self.local_addr)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Check the options and open the socket. Refuses a non-loopback address
    /// without a token, and an empty token.
    pub async fn bind(
        services: McpServices,
        options: McpOptions,
        http: HttpOptions,
    ) -> Result<Self, ServeError> {
        let token = match http.token.as_deref().map(str::trim) {
            Some("") => {
                return Err(ServeError::Config(
                    "the bearer token is empty; pass a real token or none".into(),
                ));
            }
            Some(token) => Some(Arc::<str>::from(token)),
            None => None,
        };
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host(http.addr.as_str())
            .await
            .map_err(|source| ServeError::Bind {
                addr: http.addr.clone(),
                source,
            })?
            .collect();
        let Some(first) = addresses.first().copied() else {
            return Err(ServeError::Config(format!(
                "{} resolves to no address",
                http.addr
            )));
        };
        let loopback = addresses.iter().all(|a| a.ip().is_loopback());
        if !loopback && token.is_none() {
            return Err(ServeError::Config(format!(
                "refusing to serve MCP on the non-loopback address {} without a bearer token: pass --token or set AX_MCP_TOKEN (clients then send `Authorization: Bearer TOKEN`)",
                http.addr
            )));
        }
        let listener = TcpListener::bind(first)
            .await
            .map_err(|source| ServeError::Bind {
                addr: http.addr.clone(),
                source,
            })?;
        let local_addr = listener.local_addr()?;
        let config = transport_config(&http, local_addr, options.max_message_bytes);
        let limits = Limits {
            max_sessions: http.max_sessions.max(1),
            max_connections: http.max_connections.min(half_the_file_limit()).max(1),
            header_timeout: http.header_timeout,
            body_timeout: http.body_timeout,
            max_body: options.max_message_bytes,
        };
        Ok(Self {
            listener,
            local_addr,
            server: AxServer::new(services, options),
            config,
            token,
            limits,
        })
    }

    /// The address listened on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serve until `shutdown` is cancelled; cancelling also ends every session and
    /// so cancels running discussions.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ServeError> {
        let config = self.config.with_cancellation_token(shutdown.child_token());
        let server = self.server;
        let sessions = Arc::new(LocalSessionManager::default());
        let service =
            StreamableHttpService::new(move || Ok(server.clone()), Arc::clone(&sessions), config);
        let limits = self.limits;
        let mut router = Router::new()
            .route_service(MCP_PATH, service)
            .layer(middleware::from_fn_with_state(
                SessionCap {
                    sessions,
                    max: limits.max_sessions,
                    opening: Arc::default(),
                },
                cap_sessions,
            ))
            .layer(middleware::from_fn_with_state(limits, read_body_in_time));
        if let Some(token) = self.token {
            router = router.layer(middleware::from_fn_with_state(token, require_token));
        }
        tracing::info!(addr = %self.local_addr, "MCP server listening on http://{}{MCP_PATH}", self.local_addr);
        serve_connections(self.listener, router, limits, shutdown).await;
        Ok(())
    }
}

/// Accept connections (at most `max_connections` open at once) and serve each with
/// hyper, headers read within `header_timeout`, until `shutdown`.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // E.g. out of file descriptors: wait instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = http1
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .with_upgrades();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                }
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                }
            }
            drop(slot);
        });
    }
    // Let open connections finish (their sessions were cancelled with `shutdown`).
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(5), slots.acquire_many(all)).await;
}

/// Half the open-file limit: connections never take every descriptor, so the
/// database and the provider processes still get theirs.
fn half_the_file_limit() -> usize {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        limit
            .current
            .and_then(|n| usize::try_from(n / 2).ok())
            .unwrap_or(usize::MAX)
    }
    #[cfg(not(unix))]
    {
        usize::MAX
    }
}

/// The live sessions and their cap.
#[derive(Clone)]
struct SessionCap {
    sessions: Arc<LocalSessionManager>,
    max: usize,
    /// Held by a request that opens a session from the count until the session
    /// exists: counting and creating are one step, so concurrent `initialize`s
    /// cannot both see room for one more (a load test opened 257 of 256).
    opening: Arc<tokio::sync::Mutex<()>>,
}

/// Answer `503` to a request that would open a session beyond the cap.
async fn cap_sessions(State(cap): State<SessionCap>, request: Request, next: Next) -> Response {
    let opens_session = request.method() == axum::http::Method::POST
        && !request.headers().contains_key("mcp-session-id");
    if !opens_session {
        return next.run(request).await;
    }
    let _opening = cap.opening.lock().await;
    if cap.sessions.sessions.read().await.len() >= cap.max {
        tracing::warn!(
            max = cap.max,
            "refused a new MCP session: too many sessions"
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("60"))],
            format!(
                "Service Unavailable: {} MCP sessions are open; close one (DELETE /mcp) or wait for idle ones to expire",
                cap.max
            ),
        )
            .into_response();
    }
    next.run(request).await
}

/// Read the whole body within `body_timeout` (`408` otherwise) and at most
/// `max_body` bytes (`413`), so a trickling client cannot hold a request open.
async fn read_body_in_time(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, limits.max_body);
    match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|e| e.to_string().contains("length limit"))
                || error.to_string().contains("length limit");
            if too_large {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "Payload Too Large: the body is larger than {} bytes",
                        limits.max_body
                    ),
                )
                    .into_response()
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {error}"),
                )
                    .into_response()
            }
        }
        Err(_) => {
            tracing::warn!("a request body was not sent in time");
            (
                StatusCode::REQUEST_TIMEOUT,
                [(header::CONNECTION, HeaderValue::from_static("close"))],
                format!(
                    "Request Timeout: the body was not sent within {} s",
                    limits.body_timeout.as_secs()
                ),
            )
                .into_response()
        }
    }
}

/// rmcp's transport settings: the allow-lists and the body limit.
fn transport_config(
    http: &HttpOptions,
    local: SocketAddr,
    max_body: usize,
) -> StreamableHttpServerConfig {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let unspecified = local.ip().is_unspecified();
    if !unspecified {
        hosts.push(local.ip().to_string());
    }
    hosts.extend(http.allowed_hosts.iter().cloned());
    let mut origins: Vec<String> = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    origins.extend(http.allowed_origins.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_max_request_body_bytes(max_body)
        .with_allowed_origins(origins)
        .enforce_origin_validation();
    if unspecified && http.allowed_hosts.is_empty() {
        // Listening on every interface, the names clients use are unknown; the
        // required bearer token is what keeps a rebinding page out.
        tracing::warn!(
            "listening on all interfaces: Host names are not checked (name them with --allowed-host or AX_MCP_ALLOWED_HOSTS to check them); the bearer token protects the server"
        );
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(hosts)
    }
}

/// Refuse requests without the right `Authorization: Bearer` token.
async fn require_token(State(expected): State<Arc<str>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match presented {
        Some(token) if same_secret(token.as_bytes(), expected.as_bytes()) => {
            next.run(request).await
        }
        _ => {
            tracing::warn!("rejected an MCP request without the right bearer token");
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
                "Unauthorized: missing or wrong bearer token",
            )
                .into_response()
        }
    }
}

/// Compare two secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }

    #[test]
    fn loopback_hosts_and_origins_are_allowed_by_default() {
        let config = transport_config(
            &HttpOptions::new("127.0.0.1:0"),
            "127.0.0.1:8765".parse().expect("addr"),
            1024,
        );
        assert!(config.allowed_hosts.iter().any(|h| h == "localhost"));
        assert!(
            config
                .allowed_origins
                .iter()
                .any(|o| o == "http://127.0.0.1:*")
        );
        assert_eq!(config.max_request_body_bytes, 1024);
    }
}
