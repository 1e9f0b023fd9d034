//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout.
//!
//! Why our own line transport instead of rmcp's: rmcp ignores a line that is not
//! JSON and silently drops one that is too long, so a client waiting on that request
//! waits forever. Here every faulty line is answered with a JSON-RPC error — parse
//! error (-32700), invalid request (-32600), invalid params (-32602, with the request's
//! id) or "message too large" (-32600; the id is recovered from the start of the line
//! when it is there) — and a line is never buffered beyond the limit. Nothing but
//! protocol messages is ever written to stdout.
//!
//! Bounded memory under floods: at most `max_in_flight` requests (default 64) are
//! in flight — read, and not yet answered or with the answer not yet written. At the
//! cap the server stops reading stdin until an answer has been written, so a client
//! that pipelines thousands of requests, or stops reading stdout, holds at most that
//! many requests and answers in the server (the rest wait in the pipe, in the
//! client). A second request with the id of one still in flight waits for the first
//! to be answered. Once stdin is closed (read to its end, or hung up while reading
//! was paused), the server exits when `stalled_output_timeout` (default 10 s)
//! passes with answers waiting and none of them read: a client that closed stdin
//! and stopped reading stdout cannot keep it alive.
//!
//! Why a loop around `serve_server`: rmcp ends a connection whose first message is
//! not a request (say, a stray notification) or whose `initialize` failed. The
//! transport's state is shared, so the server simply waits for the next
//! `initialize` on the same streams instead of exiting.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::RoleServer;
use rmcp::model::{ClientNotification, ErrorCode, ErrorData, JsonRpcMessage, RequestId};
use rmcp::service::{
    RxJsonRpcMessage, ServerInitializeError, TxJsonRpcMessage, serve_server_with_ct,
};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use crate::ServeError;
use crate::handler::AxServer;
use crate::services::{McpOptions, McpServices};

/// How much of an oversized line is kept to find its request id.
const ID_SCAN_BYTES: usize = 512;

/// Serve MCP on this process's stdin/stdout until stdin closes or `shutdown` is
/// cancelled. Cancelling stops running discussions (and their provider processes).
pub async fn serve_stdio(
    services: McpServices,
    options: McpOptions,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let (read, write) = rmcp::transport::stdio_pipes();
    serve_streams(
        services,
        options,
        read,
        write,
        shutdown,
        Some(Arc::new(stdin_hung_up)),
    )
    .await
}

/// Whether every writer of stdin is gone (a pipe or socket the client closed),
/// asked without reading: while reading is paused, unread requests may still sit
/// in the pipe in front of the end.
#[cfg(unix)]
fn stdin_hung_up() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = std::io::stdin();
    let mut wanted = PollFlags::IN;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        wanted |= PollFlags::RDHUP;
    }
    let mut fds = [PollFd::new(&stdin, wanted)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if poll(&mut fds, Some(&now)).is_err() {
        return false;
    }
    let revents = fds[0].revents();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        if revents.contains(PollFlags::RDHUP) {
            return true;
        }
    }
    revents.contains(PollFlags::HUP)
}

#[cfg(not(unix))]
fn stdin_hung_up() -> bool {
    false
}

/// Asks whether the input's writer is gone without reading it.
type HangUpProbe = Arc<dyn Fn() -> bool + Send + Sync>;

/// Serve MCP on any pair of byte streams (stdio, or a pipe in tests); `hung_up`
/// tells, without reading, whether the input's writer is gone.
pub(crate) async fn serve_streams<R, W>(
    services: McpServices,
    options: McpOptions,
    read: R,
    write: W,
    shutdown: CancellationToken,
    hung_up: Option<HangUpProbe>,
) -> Result<(), ServeError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let max = options.max_message_bytes;
    let stall = options.stalled_output_timeout;
    let flow = Arc::new(Flow::new(options.max_in_flight, hung_up));
    let server = AxServer::new(services, options);
    let lines = Lines {
        reader: Arc::new(Mutex::new(LineReader::new(read, max))),
        writer: Arc::new(Mutex::new(write)),
        flow: Arc::clone(&flow),
    };
    let gone = CancellationToken::new();
    let watchdog = tokio::spawn(watch_output(Arc::clone(&flow), stall, gone.clone()));
    let outcome = serve_sessions(server, lines, shutdown, &gone).await;
    watchdog.abort();
    outcome
}

/// Serve sessions until the input ends, `shutdown` is cancelled, or the client is
/// `gone` (see [`watch_output`]).
async fn serve_sessions<R, W>(
    server: AxServer,
    lines: Lines<R, W>,
    shutdown: CancellationToken,
    gone: &CancellationToken,
) -> Result<(), ServeError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let flow = Arc::clone(&lines.flow);
    loop {
        let session = shutdown.child_token();
        let started = tokio::select! {
            started = serve_server_with_ct(server.clone(), lines.clone(), session.clone()) => started,
            () = gone.cancelled() => {
                session.cancel();
                return Ok(());
            }
        };
        match started {
            Ok(running) => {
                let ct = running.cancellation_token();
                tokio::select! {
                    reason = running.waiting() => {
                        tracing::info!(?reason, "MCP stdio session ended");
                    }
                    () = gone.cancelled() => {
                        // The session's task may be stuck writing to a pipe nobody
                        // reads; stop its requests and leave it behind.
                        ct.cancel();
                        session.cancel();
                    }
                }
                return Ok(());
            }
            Err(ServerInitializeError::ConnectionClosed(_) | ServerInitializeError::Cancelled) => {
                return Ok(());
            }
            Err(ServerInitializeError::TransportError { error, context }) => {
                return Err(ServeError::Io(std::io::Error::other(format!(
                    "{context}: {error}"
                ))));
            }
            Err(other) => {
                // Answered already where an answer was due; wait for an `initialize`.
                // Nothing of that session is in flight any more.
                tracing::warn!(error = %other, "no session started; waiting for initialize");
                flow.clear();
            }
        }
    }
}

/// Once stdin is closed, end the server (`gone`) when answers are waiting and
/// none was written for `stall`.
async fn watch_output(flow: Arc<Flow>, stall: Duration, gone: CancellationToken) {
    let tick = (stall / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if !flow.input_closed.load(Ordering::Acquire) {
            continue;
        }
        if flow.writes_pending.load(Ordering::Acquire) > 0 && flow.since_output() >= stall {
            tracing::warn!(
                "stdin is closed and stdout has not been read for {} s: exiting",
                stall.as_secs_f32()
            );
            gone.cancel();
            return;
        }
    }
}

/// The requests in flight and the state of the output.
struct Flow {
    /// Ids of the requests read and not yet answered (answer written).
    in_flight: std::sync::Mutex<HashSet<RequestId>>,
    max_in_flight: usize,
    /// Signalled when a request leaves `in_flight`.
    released: Notify,
    /// stdin reached its end or hung up.
    input_closed: AtomicBool,
    hung_up: Option<HangUpProbe>,
    /// Writes started and not finished.
    writes_pending: AtomicUsize,
    /// When the output last made progress (or started waiting to).
    last_output: std::sync::Mutex<Instant>,
}

impl Flow {
    fn new(max_in_flight: usize, hung_up: Option<HangUpProbe>) -> Self {
        Self {
            in_flight: std::sync::Mutex::new(HashSet::new()),
            max_in_flight: max_in_flight.max(1),
            released: Notify::new(),
            input_closed: AtomicBool::new(false),
            hung_up,
            writes_pending: AtomicUsize::new(0),
            last_output: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, HashSet<RequestId>> {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take a place for request `id` if there is one and `id` is not in flight.
    fn try_admit(&self, id: &RequestId) -> bool {
        let mut ids = self.ids();
        if ids.len() >= self.max_in_flight || ids.contains(id) {
            return false;
        }
        ids.insert(id.clone());
        true
    }

    /// Wait for a place for request `id`. Cancel-safe.
    async fn admit(&self, id: &RequestId) {
        loop {
            let released = self.released.notified();
            if self.try_admit(id) {
                return;
            }
            if self.hung_up.is_none() || self.input_closed.load(Ordering::Acquire) {
                released.await;
                continue;
            }
            tokio::select! {
                () = released => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => self.notice_hang_up(),
            }
        }
    }

    /// Wait for the answer to a faulty line to be written, noticing meanwhile when
    /// stdin hangs up (so the stalled-output rule applies).
    async fn until_done_or_hung_up(&self, answer: &mut tokio::task::JoinHandle<()>) {
        loop {
            tokio::select! {
                _ = &mut *answer => return,
                () = tokio::time::sleep(Duration::from_millis(200)) => self.notice_hang_up(),
            }
        }
    }

    fn notice_hang_up(&self) {
        if !self.input_closed.load(Ordering::Acquire)
            && self.hung_up.as_ref().is_some_and(|probe| probe())
        {
            tracing::info!("stdin was closed while reading was paused");
            self.input_closed.store(true, Ordering::Release);
        }
    }

    /// Request `id` was answered (or cancelled: rmcp then drops its answer).
    fn release(&self, id: &RequestId) {
        if self.ids().remove(id) {
            self.released.notify_waiters();
        }
    }

    /// Forget every request (no session is running).
    fn clear(&self) {
        self.ids().clear();
        self.released.notify_waiters();
    }

    fn output_moved(&self) {
        *self
            .last_output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
    }

    fn since_output(&self) -> Duration {
        self.last_output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .elapsed()
    }
}

/// The transport: a shared reader and writer (see the module docs for why shared).
struct Lines<R, W> {
    reader: Arc<Mutex<LineReader<R>>>,
    writer: Arc<Mutex<W>>,
    flow: Arc<Flow>,
}

impl<R, W> Clone for Lines<R, W> {
    fn clone(&self) -> Self {
        Self {
            reader: Arc::clone(&self.reader),
            writer: Arc::clone(&self.writer),
            flow: Arc::clone(&self.flow),
        }
    }
}

/// Write one message and its newline, then flush; `flow` learns when the output
/// is stuck.
async fn write_line<W: AsyncWrite + Unpin>(
    writer: &Mutex<W>,
    flow: &Flow,
    bytes: &[u8],
) -> std::io::Result<()> {
    if flow.writes_pending.fetch_add(1, Ordering::AcqRel) == 0 {
        flow.output_moved();
    }
    let written = async {
        let mut writer = writer.lock().await;
        writer.write_all(bytes).await?;
        writer.flush().await
    }
    .await;
    flow.output_moved();
    flow.writes_pending.fetch_sub(1, Ordering::AcqRel);
    written
}

impl<R, W> Transport<RoleServer> for Lines<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = Arc::clone(&self.writer);
        let flow = Arc::clone(&self.flow);
        let answered = match &item {
            JsonRpcMessage::Response(response) => Some(response.id.clone()),
            JsonRpcMessage::Error(error) => error.id.clone(),
            _ => None,
        };
        async move {
            let mut bytes = serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            drop(item);
            bytes.push(b'\n');
            let written = write_line(&writer, &flow, &bytes).await;
            // Only now: an answer waiting to be written still counts as in flight,
            // which bounds the output queue too.
            if let Some(id) = answered {
                flow.release(&id);
            }
            written
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut reader = self.reader.lock().await;
        loop {
            if let Some(held) = &reader.held {
                // Kept in `reader` while waiting: `receive` can be cancelled.
                if let JsonRpcMessage::Request(request) = held.as_ref() {
                    let id = request.id.clone();
                    self.flow.admit(&id).await;
                }
                return reader.held.take().map(|message| *message);
            }
            if let Some(answer) = reader.pending_answer.as_mut() {
                // Kept in `reader` until done: `receive` can be cancelled.
                self.flow.until_done_or_hung_up(answer).await;
                reader.pending_answer = None;
            }
            let fault = match reader.next_line().await {
                Line::Eof => {
                    self.flow.input_closed.store(true, Ordering::Release);
                    return None;
                }
                Line::Failed(error) => {
                    tracing::error!(%error, "cannot read stdin");
                    self.flow.input_closed.store(true, Ordering::Release);
                    return None;
                }
                Line::Oversized { id } => Fault {
                    id,
                    error: ErrorData::invalid_request(
                        format!(
                            "message refused: larger than {} bytes",
                            reader.max_line_bytes
                        ),
                        Some(json!({ "maxBytes": reader.max_line_bytes })),
                    ),
                },
                Line::Text(text) => match parse(text) {
                    Parsed::Message(message) => {
                        if let JsonRpcMessage::Notification(notification) = message.as_ref()
                            && let ClientNotification::CancelledNotification(cancelled) =
                                &notification.notification
                            && let Some(id) = &cancelled.params.request_id
                        {
                            // rmcp drops the answer of a cancelled request.
                            self.flow.release(id);
                        }
                        reader.held = Some(message);
                        continue;
                    }
                    Parsed::Ignore => continue,
                    Parsed::Fault(fault) => fault,
                },
            };
            tracing::debug!(code = fault.error.code.0, message = %fault.error.message, "answering a faulty message");
            let answer = json!({
                "jsonrpc": "2.0",
                "id": fault.id.unwrap_or(Value::Null),
                "error": fault.error,
            });
            let mut bytes = answer.to_string().into_bytes();
            bytes.push(b'\n');
            // On its own task, like rmcp's sends: `receive` can be cancelled, and a
            // write cut in half would corrupt the stream. The next read waits for it,
            // so a client that floods faulty lines without reading the answers is
            // slowed down instead of piling up answers in memory.
            let writer = Arc::clone(&self.writer);
            let flow = Arc::clone(&self.flow);
            reader.pending_answer = Some(tokio::spawn(async move {
                if let Err(error) = write_line(&writer, &flow, &bytes).await {
                    tracing::error!(%error, "cannot write stdout");
                }
            }));
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Bounded: a write to a pipe nobody reads may hold the writer for ever.
        let flush = async { self.writer.lock().await.flush().await };
        tokio::time::timeout(Duration::from_secs(2), flush)
            .await
            .unwrap_or(Ok(()))
    }
}

/// A message that gets an error answer instead of being served.
struct Fault {
    /// The request id when it could be read (JSON-RPC says `null` otherwise).
    id: Option<Value>,
    error: ErrorData,
}

enum Parsed {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// A notification that cannot be read: JSON-RPC never answers notifications.
    Ignore,
    Fault(Fault),
}

/// Read one line as a client message, or say how to answer it.
fn parse(line: &[u8]) -> Parsed {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
        Ok(message) => Parsed::Message(Box::new(message)),
        // Still answered with the request's id when it can be found: a lone
        // surrogate (`"\ud800"`) in a string is a syntax error to serde_json, and
        // a client waits for ever for an answer to a request it sent with an id.
        Err(error) if error.is_syntax() || error.is_eof() => Parsed::Fault(Fault {
            id: request_id_in(line),
            error: ErrorData::parse_error(format!("Parse error: {error}"), None),
        }),
        Err(error) => {
            let Ok(value) = serde_json::from_slice::<Value>(line) else {
                return Parsed::Fault(Fault {
                    id: None,
                    error: ErrorData::parse_error(format!("Parse error: {error}"), None),
                });
            };
            classify(&value, &error)
        }
    }
}

/// JSON that is not a valid message: which error, with which id.
fn classify(value: &Value, error: &serde_json::Error) -> Parsed {
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_i64() || id.is_u64())
        .cloned();
    let has_method = value.get("method").is_some_and(Value::is_string);
    if has_method && value.get("id").is_none() {
        tracing::debug!(%error, "ignoring a notification that cannot be read");
        return Parsed::Ignore;
    }
    let well_formed = value.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let error = if well_formed && has_method && id.is_some() {
        ErrorData::new(
            ErrorCode::INVALID_PARAMS,
            format!("Invalid params: {error}"),
            None,
        )
    } else {
        ErrorData::invalid_request(format!("Invalid Request: {error}"), None)
    };
    Parsed::Fault(Fault { id, error })
}

/// One line read from the client.
enum Line<'a> {
    Text(&'a [u8]),
    /// Longer than the limit; it was skipped, not buffered.
    Oversized {
        id: Option<Value>,
    },
    Eof,
    Failed(std::io::Error),
}

/// Reads newline-terminated lines without ever holding more than the limit.
struct LineReader<R> {
    read: BufReader<R>,
    line: Vec<u8>,
    /// `line` holds a line handed out by the last call; clear it before reading.
    handed_out: bool,
    /// Skipping the rest of an oversized line (kept here, not in a local, because
    /// a read can be cancelled and resumed).
    discarding: bool,
    /// The id found at the start of the oversized line being skipped.
    oversized_id: Option<Value>,
    /// The answer to the last faulty line, still being written.
    pending_answer: Option<tokio::task::JoinHandle<()>>,
    /// A message read and waiting for a place among the requests in flight.
    held: Option<Box<RxJsonRpcMessage<RoleServer>>>,
    max_line_bytes: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(read: R, max_line_bytes: usize) -> Self {
        Self {
            read: BufReader::with_capacity(64 * 1024, read),
            line: Vec::new(),
            handed_out: false,
            discarding: false,
            oversized_id: None,
            pending_answer: None,
            held: None,
            max_line_bytes,
        }
    }

    /// The next non-empty line. Cancel-safe: a partial line stays in `self.line`
    /// and the next call resumes it (rmcp polls `receive` inside a `select!`).
    async fn next_line(&mut self) -> Line<'_> {
        if self.handed_out {
            self.line.clear();
            self.handed_out = false;
        }
        loop {
            let (used, done) = {
                let available = match self.read.fill_buf().await {
                    Ok(bytes) => bytes,
                    Err(error) => return Line::Failed(error),
                };
                if available.is_empty() {
                    return Line::Eof;
                }
                let newline = available.iter().position(|b| *b == b'\n');
                if self.discarding {
                    match newline {
                        Some(end) => (end + 1, true),
                        None => (available.len(), false),
                    }
                } else {
                    match newline {
                        Some(end) => {
                            self.line.extend_from_slice(&available[..end]);
                            (end + 1, true)
                        }
                        None => {
                            self.line.extend_from_slice(available);
                            (available.len(), false)
                        }
                    }
                }
            };
            self.read.consume(used);
            if self.discarding {
                if done {
                    self.discarding = false;
                    return Line::Oversized {
                        id: self.oversized_id.take(),
                    };
                }
                continue;
            }
            if self.line.len() > self.max_line_bytes {
                self.oversized_id = request_id_in(&self.line[..ID_SCAN_BYTES.min(self.line.len())]);
                self.line.clear();
                self.line.shrink_to(64 * 1024);
                if done {
                    return Line::Oversized {
                        id: self.oversized_id.take(),
                    };
                }
                self.discarding = true;
                continue;
            }
            if done {
                if self.line.iter().all(u8::is_ascii_whitespace) {
                    self.line.clear();
                    continue;
                }
                // Cleared at the start of the next call.
                self.handed_out = true;
                return Line::Text(&self.line);
            }
        }
    }
}

/// The top-level `"id"` of a JSON-RPC message, read from its first bytes (a best
/// effort for a message too large to parse: clients write the id before the params).
fn request_id_in(prefix: &[u8]) -> Option<Value> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < prefix.len() {
        match prefix[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let end = string_end(prefix, i)?;
                if depth == 1 && &prefix[i + 1..end] == b"id" {
                    let rest = skip_space(prefix, end + 1);
                    if prefix.get(rest) == Some(&b':') {
                        let start = skip_space(prefix, rest + 1);
                        return scalar_at(prefix, start);
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index of the quote closing the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// A number or a string starting at `start`.
fn scalar_at(bytes: &[u8], start: usize) -> Option<Value> {
    let end = if bytes.get(start) == Some(&b'"') {
        string_end(bytes, start)? + 1
    } else {
        start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || **b == b'-')
                .count()
    };
    let value: Value = serde_json::from_slice(bytes.get(start..end)?).ok()?;
    (value.is_string() || value.is_number()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_of_an_oversized_request_is_recovered_from_its_start() {
        assert_eq!(
            request_id_in(br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"arguments":{"x":"aaaa"#),
            Some(json!(42))
        );
        assert_eq!(
            request_id_in(br#"{"method":"tools/call","id" : "req-1","params":{"#),
            Some(json!("req-1"))
        );
        assert_eq!(
            request_id_in(br#"{"jsonrpc":"2.0","method":"x","params":{"id":7,"#),
            None,
            "a nested id is not the request's"
        );
        assert_eq!(
            request_id_in(br#"{"jsonrpc":"2.0","params":{"a":"b\"id\":3"#),
            None
        );
    }

    #[test]
    fn faulty_lines_are_classified() {
        let fault = |line: &str| match parse(line.as_bytes()) {
            Parsed::Fault(f) => Some((f.error.code.0, f.id)),
            Parsed::Ignore => None,
            Parsed::Message(_) => Some((0, None)),
        };
        assert_eq!(fault("{not json"), Some((-32700, None)));
        assert_eq!(
            fault(r#"{"jsonrpc":"2.0","id":"s1","method":"ping","params":{"x":"\ud800"}}"#),
            Some((-32700, Some(json!("s1"))))
        );
        assert_eq!(
            fault(r#"{"jsonrpc":"1.0","id":4,"method":"ping"}"#),
            Some((-32600, Some(json!(4))))
        );
        assert_eq!(fault(r#"[1,2]"#), Some((-32600, None)));
        assert_eq!(
            fault(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":5}"#),
            None
        );
        assert_eq!(
            fault(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Some((0, None))
        );
    }
}
