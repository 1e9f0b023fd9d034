//! MCP server benchmarks (`cargo bench --bench mcp`), against the real `ax` binary
//! built by the bench profile:
//!
//! 1. start-up: process spawn → `initialize` answered, on an initialised data dir;
//! 2. sequential `agent_get` calls per second over stdio, with a minimal raw client
//!    (one line out, one line in) so the figure is the server's, not a client's;
//! 3. concurrent `agent_get` calls per second over Streamable HTTP, with rmcp's
//!    client (several sessions, many calls in flight);
//! 4. resident memory of each server (VmRSS now, VmHWM peak, from /proc).
//!
//! Targets (issue 4): initialize < 20 ms, ≥ 25,000 sequential agent_get/s over stdio,
//! < 20 MB resident. `AX_BENCH_CALLS` changes the number of sequential calls.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::json;

#[path = "support/mod.rs"]
mod support;
use support::{Samples, machine, ms, status_kib, us};

fn ax() -> &'static str {
    env!("CARGO_BIN_EXE_ax")
}

fn command(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(ax());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env("HOME", data_dir.join("home"))
        .env_remove("AX_LOG")
        .env_remove("AX_DATA_DIR");
    cmd
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;

/// A stdio server driven line by line.
struct Stdio2 {
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    line: String,
}

impl Stdio2 {
    fn spawn(data_dir: &std::path::Path) -> Self {
        let mut child = command(data_dir)
            .args(["mcp", "serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ax mcp serve starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self {
            child,
            stdin,
            stdout,
            line: String::new(),
        }
    }

    fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).expect("write");
        self.stdin.write_all(b"\n").expect("write");
        self.stdin.flush().expect("flush");
    }

    fn read(&mut self) -> &str {
        self.line.clear();
        let n = self.stdout.read_line(&mut self.line).expect("read");
        assert!(n > 0, "server closed stdout");
        &self.line
    }

    fn finish(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// VmRSS and VmHWM of a process, in MiB.
/// `(VmRSS, VmHWM)` of process `pid`, in MiB (NaN when unknown).
fn memory(pid: u32) -> (f64, f64) {
    let mib = |field| status_kib(Some(pid), field).map_or(f64::NAN, |kib| kib as f64 / 1024.0);
    (mib("VmRSS"), mib("VmHWM"))
}

fn bench_startup(data_dir: &std::path::Path) {
    let mut samples = Vec::new();
    for _ in 0..30 {
        let t0 = Instant::now();
        let mut server = Stdio2::spawn(data_dir);
        server.send(INITIALIZE);
        let answer = server.read().to_owned();
        samples.push(t0.elapsed());
        assert!(answer.contains("protocolVersion"), "{answer}");
        server.finish();
    }
    let samples = Samples::new(samples);
    println!(
        "startup: spawn → initialize answered: p50 {} ms, p95 {} ms, min {} ms (30 runs, target < 20 ms)",
        ms(samples.percentile(50.0)),
        ms(samples.percentile(95.0)),
        ms(samples.min())
    );
}

/// The floor under any sequential stdio figure on this machine: the same request
/// line echoed back by `cat` — two processes, two pipes, no server at all. Each round
/// trip is two process wake-ups, which on a small VM can cost more than a whole MCP
/// call's work, so the server's figures are best read as a share of this one.
fn bench_pipe_floor(calls: usize) {
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cat starts");
    let mut input = cat.stdin.take().expect("stdin");
    let mut output = BufReader::new(cat.stdout.take().expect("stdout"));
    let line = format!(
        "{}\n",
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ax_agent_get","arguments":{"agentId":"reviewer"}}}"#
    );
    let mut answer = String::new();
    let mut latencies = Vec::with_capacity(calls);
    let t0 = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        input.write_all(line.as_bytes()).expect("write");
        answer.clear();
        output.read_line(&mut answer).expect("read");
        latencies.push(t.elapsed());
    }
    let elapsed = t0.elapsed();
    let latencies = Samples::new(latencies);
    println!(
        "pipe floor (a line echoed by `cat`, no server): {:.0} round trips/s, p50 {} µs",
        calls as f64 / elapsed.as_secs_f64(),
        us(latencies.percentile(50.0))
    );
    drop(input);
    let _ = cat.wait();
}

fn bench_sequential_stdio(data_dir: &std::path::Path) {
    let calls: usize = std::env::var("AX_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    bench_pipe_floor(calls);
    let mut server = Stdio2::spawn(data_dir);
    server.send(INITIALIZE);
    server.read();
    server.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // `AX_BENCH_REQUEST=ping|invalid|missing` measures parts of the same loop:
    // `ping` is the transport and rmcp alone, `invalid` adds a tool call refused by
    // the argument check before the registry is asked, `missing` adds the store's
    // round trip for an id that does not exist (a small answer).
    let kind = std::env::var("AX_BENCH_REQUEST").unwrap_or_else(|_| "agent_get".into());
    let request = |id: usize| match kind.as_str() {
        "ping" => format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
        "missing" => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"ax_agent_get","arguments":{{"agentId":"nobody"}}}}}}"#
        ),
        "invalid" => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"ax_agent_get","arguments":{{"agentId":7}}}}}}"#
        ),
        _ => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"ax_agent_get","arguments":{{"agentId":"reviewer"}}}}}}"#
        ),
    };
    // Warm up (page cache, SQLite statement cache, allocator).
    for id in 1..=500 {
        server.send(&request(id));
        server.read();
    }
    let mut latencies = Vec::with_capacity(calls);
    let t0 = Instant::now();
    for id in 1000..1000 + calls {
        let t = Instant::now();
        server.send(&request(id));
        let answer = server.read();
        latencies.push(t.elapsed());
        debug_assert!(answer.contains("\"id\""));
    }
    let elapsed = t0.elapsed();
    let latencies = Samples::new(latencies);
    let (rss, hwm) = memory(server.child.id());
    println!(
        "stdio: {calls} sequential {kind}: {:.0} calls/s, p50 {} µs, p99 {} µs (target ≥ 25,000/s)",
        calls as f64 / elapsed.as_secs_f64(),
        us(latencies.percentile(50.0)),
        us(latencies.percentile(99.0))
    );
    println!(
        "stdio server memory after the run: VmRSS {rss:.1} MiB, VmHWM {hwm:.1} MiB (target < 20 MB)"
    );
    server.finish();
}

fn bench_concurrent_http(data_dir: &std::path::Path) {
    let mut child = command(data_dir)
        .args(["mcp", "serve", "--http", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax mcp serve --http starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = lines.next().expect("address line").expect("stderr");
        if let Some(i) = line.find("http://") {
            break line[i..].split_whitespace().next().unwrap_or("").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sessions = 4;
    let per_session_in_flight = 8;
    let calls_per_task = 250;
    let (elapsed, total) = runtime.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..sessions {
            let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.as_str());
            clients.push(().serve(transport).await.expect("initialize over HTTP"));
        }
        let params = CallToolRequestParams::new("ax_agent_get").with_arguments(
            json!({"agentId": "reviewer"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        // Warm up.
        for client in &clients {
            client.call_tool(params.clone()).await.expect("call");
        }
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for client in &clients {
            for _ in 0..per_session_in_flight {
                let peer = client.peer().clone();
                let params = params.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..calls_per_task {
                        let result = peer.call_tool(params.clone()).await.expect("call");
                        assert_ne!(result.is_error, Some(true));
                    }
                }));
            }
        }
        for task in tasks {
            task.await.expect("task");
        }
        let elapsed = t0.elapsed();
        for client in clients {
            let _ = client.cancel().await;
        }
        (elapsed, sessions * per_session_in_flight * calls_per_task)
    });
    let (rss, hwm) = memory(child.id());
    println!(
        "http: {total} agent_get, {sessions} sessions × {per_session_in_flight} in flight: {:.0} calls/s",
        total as f64 / elapsed.as_secs_f64()
    );
    println!("http server memory after the run: VmRSS {rss:.1} MiB, VmHWM {hwm:.1} MiB");
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs us too: keep that quick.
    let quick = std::env::args().all(|a| a != "--bench");
    if quick {
        println!("mcp bench: run with `cargo bench --bench mcp`");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    // Initialise the data dir (database, seeded agents) once, outside the timings.
    let status = command(data.path())
        .args(["agent", "get", "reviewer"])
        .stdout(Stdio::null())
        .status()
        .expect("ax runs");
    assert!(status.success());
    println!("machine: {}", machine());
    let only = std::env::var("AX_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "startup" {
        bench_startup(data.path());
    }
    if only.is_empty() || only == "stdio" {
        bench_sequential_stdio(data.path());
    }
    if only.is_empty() || only == "http" {
        bench_concurrent_http(data.path());
    }
}
