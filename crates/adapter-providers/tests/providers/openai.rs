//! The OpenAI-compatible provider against a small HTTP server on 127.0.0.1:0 that
//! answers with canned responses and records what it was sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ax_discussion_domain::provider::{ProviderErrorKind, ProviderExecutor};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{registry, request};

/// A response the server sends.
#[derive(Clone)]
pub(crate) struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    /// Never answer (for timeouts); the connection stays open until the client
    /// closes it.
    hang: bool,
    /// Close the connection without answering.
    close: bool,
}

impl Canned {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
            hang: false,
            close: false,
        }
    }

    /// A 200 whose body is not JSON.
    pub(crate) fn garbage() -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: "<html>definitely not json".into(),
            hang: false,
            close: false,
        }
    }

    /// Reads the request, then never answers.
    pub(crate) fn hang() -> Self {
        Self {
            hang: true,
            ..Self::json(200, json!({}))
        }
    }

    /// Reads the request, then closes the connection without a word.
    pub(crate) fn close() -> Self {
        Self {
            close: true,
            ..Self::json(200, json!({}))
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What the server received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Starts the server; returns the base URL (`http://127.0.0.1:PORT/v1`) and the log of
/// requests. Every connection gets `response`.
async fn serve(response: Canned) -> (String, Arc<Mutex<Vec<Received>>>) {
    let (url, log, _) = serve_counted(response).await;
    (url, log)
}

/// [`serve`], also returning how many connections are open right now.
pub(crate) async fn serve_counted(
    response: Canned,
) -> (String, Arc<Mutex<Vec<Received>>>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    let log = Arc::new(Mutex::new(Vec::new()));
    let open = Arc::new(AtomicUsize::new(0));
    let (server_log, server_open) = (Arc::clone(&log), Arc::clone(&open));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let response = response.clone();
            let log = Arc::clone(&server_log);
            let open = OpenConnection::new(Arc::clone(&server_open));
            tokio::spawn(async move {
                handle(stream, response, log).await;
                drop(open);
            });
        }
    });
    (format!("http://{address}/v1"), log, open)
}

/// Counts one connection as open while it lives.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(mut stream: TcpStream, response: Canned, log: Arc<Mutex<Vec<Received>>>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < header_end + length {
        let Ok(n) = stream.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body =
        serde_json::from_slice(&data[header_end..header_end + length]).unwrap_or(Value::Null);
    log.lock().expect("log lock").push(Received {
        request_line,
        headers,
        body,
    });
    if response.hang {
        // Until the client gives up and closes the connection.
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        return;
    }
    if response.close {
        return;
    }
    let mut out = format!(
        "HTTP/1.1 {} Canned\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&response.body);
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

pub(crate) fn provider_config(base_url: &str, extra: &str) -> String {
    format!(
        "[providers.local]\nkind = \"openai\"\nbase_url = {base_url:?}\nmodel = \"test-model\"\n{extra}\n"
    )
}

const TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_completion_returns_content_and_usage_and_sends_the_right_request() {
    let (url, log) = serve(Canned::json(
        200,
        json!({
            "id": "chatcmpl-1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "  Use PostgreSQL.  "}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25}
        }),
    ))
    .await;
    // CARGO_PKG_NAME is set by cargo for every test run, so it can stand in for an API
    // key variable (tests cannot set variables: that is unsafe in Rust 2024).
    let registry = registry(&provider_config(&url, "api_key_env = \"CARGO_PKG_NAME\""));
    let mut call = request("local", "Which database?", TIMEOUT);
    call.system_prompt = Some("You are terse.".into());
    call.temperature = Some(0.25);
    call.max_tokens = Some(300);

    let answer = registry.execute(call).await.unwrap();

    assert_eq!(answer.content, "Use PostgreSQL.");
    assert_eq!(
        (answer.input_tokens, answer.output_tokens),
        (Some(21), Some(4))
    );
    assert!(!answer.simulated);
    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(sent.request_line, "POST /v1/chat/completions HTTP/1.1");
    let key = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME for tests");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(sent.body["model"], "test-model");
    assert_eq!(sent.body["temperature"], 0.25);
    assert_eq!(sent.body["max_tokens"], 300);
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Which database?"}])
    );
}

#[tokio::test]
async fn without_a_key_variable_no_authorization_is_sent() {
    let ok = json!({"choices": [{"message": {"content": "hi"}}]});
    let (url, log) = serve(Canned::json(200, ok)).await;
    let registry = registry(&provider_config(
        &url,
        "api_key_env = \"AX_TEST_SURELY_UNSET_KEY_VARIABLE\"",
    ));

    let answer = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap();

    assert_eq!(answer.content, "hi");
    assert_eq!((answer.input_tokens, answer.output_tokens), (None, None));
    assert_eq!(log.lock().unwrap()[0].header("authorization"), None);
    // A loopback server needs no key to count as available.
    assert!(registry.is_available("local").await);
}

#[tokio::test]
async fn http_401_is_auth_and_not_retryable() {
    let (url, _) = serve(Canned::json(
        401,
        json!({"error": {"message": "Incorrect API key provided"}}),
    ))
    .await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Auth);
    assert!(!error.retryable);
    assert!(
        error.message.contains("401") && error.message.contains("Incorrect API key"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn http_429_is_a_rate_limit_with_retry_after_seconds() {
    let (url, _) = serve(
        Canned::json(429, json!({"error": {"message": "Rate limit reached"}}))
            .header("Retry-After", "7"),
    )
    .await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::RateLimit);
    assert!(error.retryable);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn http_429_with_an_http_date_retry_after() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(30);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let (url, _) = serve(Canned::json(429, json!({})).header("Retry-After", &date)).await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::RateLimit);
    let delay = error.retry_after.expect("the date is turned into a delay");
    // The header has whole seconds, and some time passed before it was read.
    assert!(
        delay > Duration::from_secs(5) && delay <= Duration::from_secs(31),
        "{delay:?}"
    );
}

#[tokio::test]
async fn http_500_is_a_retryable_server_error() {
    let (url, _) = serve(Canned::json(
        500,
        json!({"error": {"message": "upstream exploded"}}),
    ))
    .await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Server);
    assert!(error.retryable);
    assert!(
        error.message.contains("upstream exploded"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_garbage_body_is_invalid_output() {
    let (url, _) = serve(Canned::garbage()).await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::InvalidOutput);
    assert!(!error.retryable);
}

#[tokio::test]
async fn json_without_an_answer_is_invalid_output() {
    let (url, _) = serve(Canned::json(
        200,
        json!({"choices": [{"message": {"content": ""}, "finish_reason": "length"}]}),
    ))
    .await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::InvalidOutput);
    assert!(error.message.contains("length"), "{}", error.message);
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    // A port that was just free: bind, note it, release it.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = registry(&provider_config(&format!("http://127.0.0.1:{port}/v1"), ""));

    let error = registry
        .execute(request("local", "hello", TIMEOUT))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Network, "{error}");
    assert!(error.retryable);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (url, _) = serve(Canned::hang()).await;
    let registry = registry(&provider_config(&url, ""));

    let error = registry
        .execute(request("local", "hello", Duration::from_secs(1)))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Timeout, "{error}");
}

#[tokio::test]
async fn a_remote_provider_without_its_key_is_unavailable() {
    let registry = registry(
        "[providers.remote]\nkind = \"openai\"\nbase_url = \"https://api.example.com/v1\"\nmodel = \"m\"\n\
         api_key_env = \"AX_TEST_SURELY_UNSET_KEY_VARIABLE\"\n\
         [providers.keyed]\nkind = \"openai\"\nbase_url = \"https://api.example.com/v1\"\nmodel = \"m\"\n\
         api_key_env = \"CARGO_PKG_NAME\"\n",
    );

    assert!(!registry.is_available("remote").await);
    assert!(registry.is_available("keyed").await);
}

/// A server on this machine counts as available only while something listens for it,
/// and the reason says where (issue 8: a loopback server that was not running was
/// listed as available); a remote one needs its API key variable, and the reason
/// names the variable.
#[tokio::test]
async fn availability_says_which_server_is_down_or_which_key_is_missing() {
    let (url, _) = serve(Canned::json(200, json!({}))).await;
    let up = registry(&provider_config(&url, ""));
    assert!(up.is_available_now("local"));
    assert_eq!(up.why_unavailable("local"), None);

    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = registry(&provider_config(&format!("http://127.0.0.1:{port}/v1"), ""));
    assert!(!down.is_available_now("local"));
    let why = down.explain_unavailable("local").expect("a reason");
    assert!(
        why.contains(&format!("nothing is listening at 127.0.0.1:{port}")),
        "{why}"
    );

    // A remote server is never contacted to decide; its key variable is named.
    let remote = registry(
        "[providers.remote]\nkind = \"openai\"\nbase_url = \"https://example.invalid/v1\"\nmodel = \"m\"\napi_key_env = \"AX_TEST_SURELY_UNSET_KEY\"\n",
    );
    assert!(!remote.is_available_now("remote"));
    assert_eq!(
        remote.why_unavailable("remote").as_deref(),
        Some("its API key variable AX_TEST_SURELY_UNSET_KEY is not set")
    );
}
