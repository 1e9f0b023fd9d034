//! Helpers for the MCP tests: a real rmcp client connected to a real `ax mcp serve`
//! child process (stdio) or to `ax mcp serve --http` (Streamable HTTP), a client
//! handler that records progress notifications, raw line access for hostile input,
//! and the fake-provider plumbing (config.toml, pid files).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

use crate::helpers::{DataDir, alive, recorded_pids};

/// A client handler that keeps every progress notification it receives.
#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().expect("progress lock").push(params);
    }
}

/// A connected client.
pub type Client = RunningService<RoleClient, Recorder>;

/// `ax --data-dir DIR mcp serve` as a tokio command, with the test environment of
/// [`DataDir::ax`] (HOME inside the temp dir, no inherited AX_* settings).
pub fn serve_command(data: &DataDir, extra_env: &[(&str, &str)]) -> tokio::process::Command {
    let mut cmd = data.ax();
    cmd.args(["mcp", "serve"]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    tokio::process::Command::from(cmd)
}

/// A client over stdio to a fresh `ax mcp serve` on `data`.
pub async fn connect_stdio(data: &DataDir) -> (Client, Recorder) {
    connect_stdio_with(data, &[]).await
}

/// Like [`connect_stdio`] with extra environment for the server.
pub async fn connect_stdio_with(data: &DataDir, env: &[(&str, &str)]) -> (Client, Recorder) {
    let (transport, _stderr) = TokioChildProcess::builder(serve_command(data, env))
        .stderr(Stdio::null())
        .spawn()
        .expect("ax mcp serve starts");
    let recorder = Recorder::default();
    let client = recorder
        .clone()
        .serve(transport)
        .await
        .expect("the server answers initialize");
    (client, recorder)
}

/// A running `ax mcp serve --http` and the URL of its endpoint.
pub struct HttpServer {
    pub child: Child,
    pub url: String,
    pub addr: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `ax mcp serve --http 127.0.0.1:0 ARGS` and wait for its address on stderr.
pub fn start_http(data: &DataDir, args: &[&str]) -> HttpServer {
    start_http_with(data, args, &[])
}

/// [`start_http`] with extra environment for the server.
pub fn start_http_with(data: &DataDir, args: &[&str], env: &[(&str, &str)]) -> HttpServer {
    let mut command = data.ax();
    for (k, v) in env {
        command.env(k, v);
    }
    command
        .args(["mcp", "serve", "--http", "127.0.0.1:0"])
        .args(args);
    listening(command)
}

/// `ax mcp serve --http 127.0.0.1:0` with at most `open_files` file descriptors.
pub fn start_http_with_file_limit(data: &DataDir, open_files: u32) -> HttpServer {
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
        .arg(crate::helpers::ax_bin())
        .arg("--data-dir")
        .arg(data.path())
        .args(["mcp", "serve", "--http", "127.0.0.1:0"])
        .env("HOME", data.path().join("home"))
        .env("NO_COLOR", "1")
        .env_remove("AX_DATA_DIR")
        .env_remove("AX_LOG")
        .stdin(Stdio::null());
    listening(command)
}

/// Spawn the HTTP server `command` and wait for its address on stderr.
fn listening(mut command: std::process::Command) -> HttpServer {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax mcp serve --http starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .expect("stderr line");
        if let Some(start) = line.find("http://") {
            let url: String = line[start..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            break url;
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    HttpServer { child, url, addr }
}

/// A client over Streamable HTTP, optionally with a bearer token.
pub async fn connect_http(url: &str, token: Option<&str>) -> (Client, Recorder) {
    install_crypto();
    let mut config =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let recorder = Recorder::default();
    let client = recorder
        .clone()
        .serve(transport)
        .await
        .expect("the HTTP server answers initialize");
    (client, recorder)
}

/// reqwest is built without a default TLS provider; install one (idempotent).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Call a tool with JSON arguments.
pub async fn call(client: &Client, name: &str, args: Value) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name.to_owned());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    client
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("{name} answered a protocol error: {e}"))
}

/// The structured content of a result, checked to equal the JSON of its text block.
pub fn structured(result: &CallToolResult) -> Value {
    let value = result
        .structured_content
        .clone()
        .expect("a structuredContent");
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .expect("a text block");
    let from_text: Value = serde_json::from_str(&text).expect("the text block is JSON");
    assert_eq!(from_text, value, "text and structuredContent agree");
    value
}

/// The result of a successful call.
#[track_caller]
pub fn ok(result: &CallToolResult) -> Value {
    let value = structured(result);
    assert_ne!(
        result.is_error,
        Some(true),
        "unexpected tool error: {value}"
    );
    value
}

/// The `{code, message, details}` of a failed call.
#[track_caller]
pub fn tool_error(result: &CallToolResult) -> Value {
    let value = structured(result);
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a tool error, got {value}"
    );
    value["error"].clone()
}

/// The paths of an `INVALID_INPUT` error's issues.
pub fn issue_paths(error: &Value) -> Vec<String> {
    error["details"]["issues"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .filter_map(|i| i["path"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Arguments as a JSON object map.
pub fn args(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// A raw stdio connection to `ax mcp serve`: lines in, lines out.
pub struct RawServer {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl RawServer {
    pub fn start(data: &DataDir) -> Self {
        let mut child = data
            .ax()
            .args(["mcp", "serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ax mcp serve starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// Write raw bytes (a newline is not added).
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to the server");
        stdin.flush().expect("flush");
    }

    /// Write one line.
    pub fn send(&mut self, line: &str) {
        self.write(format!("{line}\n").as_bytes());
    }

    /// The next line the server writes, as JSON (every line must be JSON).
    pub fn read(&mut self) -> Value {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .expect("read from the server");
        assert!(n > 0, "the server closed stdout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line}"))
    }

    /// Send a request and read lines until its answer (skipping notifications).
    pub fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        self.answer_to(&json!(id))
    }

    /// Read lines until the answer with this id.
    pub fn answer_to(&mut self, id: &Value) -> Value {
        loop {
            let message = self.read();
            if message.get("id") == Some(id) {
                return message;
            }
        }
    }

    /// `initialize` with this protocol version, then `notifications/initialized`.
    pub fn initialize(&mut self, version: &str) -> Value {
        let answer = self.request(
            0,
            "initialize",
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}),
        );
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        answer
    }

    /// Hand stdin to the caller (e.g. a writer thread); the server is still killed
    /// when this is dropped before it exits.
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin open")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Close stdin and wait for the server to exit.
    pub fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.child.wait().expect("server exits")
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes; 0 when gone.
pub fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Wait (bounded) until `count` pids were recorded under `dir`.
pub async fn wait_for_pids(dir: &Path, count: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pids = recorded_pids(dir);
        if pids.len() >= count || Instant::now() > deadline {
            return pids;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pids still alive after a grace period for the kernel to reap a killed group.
pub async fn survivors(pids: &[u32]) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pids.iter().copied().filter(|p| alive(*p)).collect()
}
