//! The MCP server over Streamable HTTP (`ax mcp serve --http`): a real rmcp client,
//! many calls at once, progress and cancellation, and the refusals a local HTTP
//! server owes its user — no token, a wrong token, a foreign `Origin` or `Host`
//! (DNS rebinding), an oversized body, malformed JSON — each answered, with the
//! server still serving afterwards.

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientRequest, ReadResourceRequestParams, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::json;

use crate::helpers::{DataDir, code, text, write_fake_providers};
use crate::mcp_client::{
    args, call, connect_http, install_crypto, ok, proc_status_bytes, start_http, start_http_with,
    start_http_with_file_limit, survivors, tool_error, wait_for_pids,
};

const TOKEN: &str = "test-token-0123456789abcdef";

/// A raw JSON-RPC POST to the endpoint.
fn post(url: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    install_crypto();
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body)
}

fn initialize_body() -> String {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_clients_are_served_concurrently_with_progress() {
    let data = DataDir::new();
    let server = start_http(&data, &[]);
    let (client, recorder) = connect_http(&server.url, None).await;
    let (other, _) = connect_http(&server.url, None).await;

    let tools = client.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), ax_mcp_server::tool_reference().len());
    assert!(tools.iter().all(|t| t.output_schema.is_some()));

    // Many calls at once, from two sessions.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let peer = if i % 2 == 0 {
            client.peer().clone()
        } else {
            other.peer().clone()
        };
        tasks.push(tokio::spawn(async move {
            let params = CallToolRequestParams::new("ax_agent_get")
                .with_arguments(args(json!({"agentId": "reviewer"})));
            peer.call_tool(params).await.expect("a tool result")
        }));
    }
    for task in tasks {
        assert_eq!(ok(&task.await.expect("task"))["agentId"], "reviewer");
    }

    let registered = ok(&call(
        &client,
        "ax_agent_register",
        json!({"agentId": "webby", "description": "Registered over HTTP"}),
    )
    .await);
    assert_eq!(registered["agentId"], "webby");
    let duplicate = tool_error(
        &call(
            &other,
            "ax_agent_register",
            json!({"agentId": "webby", "description": "again"}),
        )
        .await,
    );
    assert_eq!(duplicate["code"], "AGENT_ALREADY_EXISTS");

    let resource = other
        .read_resource(ReadResourceRequestParams::new("automatosx://agents/webby"))
        .await
        .expect("resources/read");
    assert!(format!("{:?}", resource.contents[0]).contains("Registered over HTTP"));

    let quick = ok(&call(&client, "ax_discuss_quick", json!({"topic": "Over HTTP?"})).await);
    assert_eq!(quick["success"], true);
    let progress = recorder.progress.lock().expect("lock").clone();
    assert!(
        progress.iter().any(|p| p
            .message
            .as_deref()
            .is_some_and(|m| m.contains(" done in "))),
        "progress notifications stream back over HTTP: {progress:?}"
    );
    client.cancel().await.expect("close");
    other.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_over_http_kills_the_provider_processes() {
    let data = DataDir::new();
    write_fake_providers(&data, &[("stuck1", "hang.sh"), ("stuck2", "hang.sh")]);
    let server = start_http(&data, &[]);
    let (client, _) = connect_http(&server.url, None).await;
    let params = CallToolRequestParams::new("ax_discuss").with_arguments(args(json!({
        "topic": "Anyone there?", "providers": ["stuck1", "stuck2"], "rounds": 1
    })));
    let handle = client
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("discuss sent");
    let pids = wait_for_pids(data.path(), 4).await;
    assert_eq!(pids.len(), 4, "both providers started: {pids:?}");
    ok(&call(&client, "ax_agent_get", json!({"agentId": "reviewer"})).await);
    handle
        .cancel(Some("test".into()))
        .await
        .expect("cancel sent");
    let left = survivors(&pids).await;
    assert!(left.is_empty(), "provider processes left running: {left:?}");
    ok(&call(&client, "ax_agent_list", json!({"limit": 1})).await);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_refusals_are_answered_and_the_server_keeps_serving() {
    let data = DataDir::new();
    let server = start_http(&data, &["--token", TOKEN]);
    let url = server.url.clone();
    let bearer = format!("Bearer {TOKEN}");

    // No token, a wrong token: 401 with a Bearer challenge.
    let none = post(&url, initialize_body())
        .send()
        .await
        .expect("response");
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = post(&url, initialize_body())
        .header("authorization", "Bearer not-the-token")
        .send()
        .await
        .expect("response");
    assert_eq!(wrong.status(), 401);

    // A web page's Origin, and a rebinding attacker's Host: 403.
    let origin = post(&url, initialize_body())
        .header("authorization", &bearer)
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("response");
    assert_eq!(origin.status(), 403, "{:?}", origin.text().await);
    let host = post(&url, initialize_body())
        .header("authorization", &bearer)
        .header("host", "evil.example:80")
        .send()
        .await
        .expect("response");
    assert_eq!(host.status(), 403);

    // A loopback Origin is fine.
    let local = post(&url, initialize_body())
        .header("authorization", &bearer)
        .header("origin", format!("http://{}", server.addr))
        .send()
        .await
        .expect("response");
    assert_eq!(local.status(), 200, "{:?}", local.text().await);

    // Larger than the 4 MiB limit: 413, without reading it all into memory.
    let huge = post(&url, vec![b' '; 5 * 1024 * 1024])
        .header("authorization", &bearer)
        .send()
        .await
        .expect("response");
    assert_eq!(huge.status(), 413);

    // Not JSON, and JSON that is not a message: client errors, never a crash.
    for body in ["{not json", "[1,2,3]", "\"text\""] {
        let response = post(&url, body)
            .header("authorization", &bearer)
            .send()
            .await
            .expect("response");
        assert!(
            response.status().is_client_error(),
            "{body}: {}",
            response.status()
        );
    }

    // A real client with the token still gets served; without it, it cannot connect.
    let (client, _) = connect_http(&url, Some(TOKEN)).await;
    ok(&call(&client, "ax_agent_get", json!({"agentId": "reviewer"})).await);
    let bad = tool_error(&call(&client, "ax_agent_get", json!({"agentId": ["x"]})).await);
    assert_eq!(bad["code"], "INVALID_INPUT");
    client.cancel().await.expect("close");
    let refused = tokio::time::timeout(Duration::from_secs(60), async {
        let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.as_str());
        rmcp::ServiceExt::serve((), transport).await
    })
    .await
    .expect("the refusal is prompt");
    assert!(refused.is_err(), "a client without the token is refused");
}

#[test]
fn a_non_loopback_address_needs_a_token() {
    let data = DataDir::new();
    let out = data.run(&["mcp", "serve", "--http", "0.0.0.0:0"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("token"), "{}", text(&out.stderr));
    let empty = data.run(&["mcp", "serve", "--http", "127.0.0.1:0", "--token", " "]);
    assert_eq!(code(&empty), 2, "{}", text(&empty.stderr));
}

const MIB: u64 = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_abandoned_sessions_keep_the_server_under_64_mib() {
    let data = DataDir::new();
    let server = start_http(&data, &[]);
    let pid = server.child.id();
    let client = {
        install_crypto();
        reqwest::Client::new()
    };
    let url = server.url.clone();
    let mut opened = 0usize;
    let mut refused = 0usize;
    for batch in 0..(5_000 / 50) {
        let mut calls = Vec::new();
        for _ in 0..50 {
            let request = client
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(initialize_body());
            calls.push(tokio::spawn(async move {
                request.send().await.map(|r| r.status().as_u16())
            }));
        }
        for call in calls {
            match call.await.expect("task").expect("an answer") {
                200 => opened += 1,
                503 => refused += 1,
                other => panic!("initialize answered {other}"),
            }
        }
        let rss = proc_status_bytes(pid, "VmRSS");
        assert!(
            rss < 64 * MIB,
            "{} MiB resident after {} abandoned initialize calls",
            rss / MIB,
            (batch + 1) * 50
        );
    }
    let high_water = proc_status_bytes(pid, "VmHWM");
    eprintln!(
        "sessions opened: {opened}, refused 503: {refused}, VmHWM {} MiB",
        high_water / MIB
    );
    assert!(high_water < 64 * MIB, "VmHWM {} MiB", high_water / MIB);
    assert_eq!(opened, 256, "the default session cap");
    // Requests of existing sessions are still served; the refusal says why.
    let refusal = post(&url, initialize_body()).send().await.expect("answer");
    assert_eq!(refusal.status(), 503);
    assert!(refusal.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_headers_and_bodies_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let data = DataDir::new();
    let server = start_http(&data, &[]);
    let started = std::time::Instant::now();
    // Headers that never end, and a body that never ends.
    let mut headers = tokio::net::TcpStream::connect(&server.addr)
        .await
        .expect("connect");
    headers
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("write");
    let mut body = tokio::net::TcpStream::connect(&server.addr)
        .await
        .expect("connect");
    body.write_all(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\"",
    )
    .await
    .expect("write");
    let patience = Duration::from_secs(16);
    let mut seen = Vec::new();
    let cut = tokio::time::timeout(patience, headers.read_to_end(&mut seen)).await;
    assert!(
        cut.is_ok(),
        "a connection sending headers slowly was held for {} s",
        started.elapsed().as_secs()
    );
    let mut answer = Vec::new();
    let cut = tokio::time::timeout(patience, body.read_to_end(&mut answer)).await;
    assert!(
        cut.is_ok(),
        "a connection sending its body slowly was held for {} s",
        started.elapsed().as_secs()
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    eprintln!("both cut after {:.1} s", started.elapsed().as_secs_f32());
    // Still serving.
    let (client, _) = connect_http(&server.url, None).await;
    ok(&call(&client, "ax_agent_get", json!({"agentId": "reviewer"})).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_token_never_reaches_a_provider_and_can_come_from_a_file() {
    let data = DataDir::new();
    let script = data.path().join("envdump.sh");
    let dump = data.path().join("provider-env.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv >> '{}'\ncat > /dev/null\necho 'I agree.'\n",
            dump.display()
        ),
    )
    .expect("script");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "[providers.envdump]\nkind = \"command\"\ncommand = [\"{0}\"]\n[providers.envdump2]\nkind = \"command\"\ncommand = [\"{0}\"]\n",
            script.display()
        ),
    )
    .expect("config");
    let server = start_http_with(&data, &[], &[("AX_MCP_TOKEN", TOKEN)]);
    let (client, _) = connect_http(&server.url, Some(TOKEN)).await;
    let result = call(
        &client,
        "ax_discuss",
        json!({"topic": "Env?", "providers": ["envdump", "envdump2"], "rounds": 1}),
    )
    .await;
    let env = std::fs::read_to_string(&dump)
        .unwrap_or_else(|e| panic!("the provider did not run ({e}): {result:?}"));
    assert!(env.contains("PATH="), "{env}");
    assert!(
        !env.contains("AX_MCP_TOKEN") && !env.contains(TOKEN),
        "the token reached the provider"
    );
    client.cancel().await.expect("close");
    drop(server);

    // --token-file: the token is not on the command line.
    let file = data.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("token file");
    let path = file.display().to_string();
    let server = start_http(&data, &["--token-file", &path]);
    let refused = post(&server.url, initialize_body())
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 401);
    let (client, _) = connect_http(&server.url, Some(TOKEN)).await;
    ok(&call(&client, "ax_agent_get", json!({"agentId": "reviewer"})).await);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_lock_a_client_out_under_a_low_file_limit() {
    let data = DataDir::new();
    let server = start_http_with_file_limit(&data, 64);
    // More idle connections than the server has descriptors.
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(
            tokio::net::TcpStream::connect(&server.addr)
                .await
                .expect("connect"),
        );
    }
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(18),
        post(&server.url, initialize_body()).send(),
    )
    .await;
    assert!(
        matches!(&answer, Ok(Ok(r)) if r.status() == 200),
        "a real client behind 60 idle connections: {answer:?} after {} s",
        started.elapsed().as_secs()
    );
    eprintln!("served after {:.1} s", started.elapsed().as_secs_f32());
    drop(idle);
}

/// Extra `Host` names and `Origin`s come from `--allowed-host` / `--allowed-origin` or
/// their environment variables, read by the CLI (the composition root), not by the MCP
/// crate; the flag wins over the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_hosts_and_origins_come_from_flags_or_the_environment() {
    let data = DataDir::new();
    let status = |url: String, header: &'static str, value: &'static str| async move {
        post(&url, initialize_body())
            .header("authorization", format!("Bearer {TOKEN}"))
            .header(header, value)
            .send()
            .await
            .expect("response")
            .status()
            .as_u16()
    };
    let plain = start_http(&data, &["--token", TOKEN]);
    assert_eq!(
        status(plain.url.clone(), "host", "ax.example:80").await,
        403
    );
    drop(plain);

    let flags = start_http(
        &data,
        &[
            "--token",
            TOKEN,
            "--allowed-host",
            "ax.example",
            "--allowed-origin",
            "https://app.example",
        ],
    );
    assert_eq!(
        status(flags.url.clone(), "host", "ax.example:80").await,
        200
    );
    assert_eq!(
        status(flags.url.clone(), "origin", "https://app.example").await,
        200
    );
    assert_eq!(
        status(flags.url.clone(), "host", "other.example:80").await,
        403
    );
    drop(flags);

    let env = start_http_with(
        &data,
        &["--token", TOKEN],
        &[
            ("AX_MCP_ALLOWED_HOSTS", " ax.example , other.example,"),
            ("AX_MCP_ALLOWED_ORIGINS", "https://app.example"),
        ],
    );
    assert_eq!(
        status(env.url.clone(), "host", "other.example:80").await,
        200
    );
    assert_eq!(
        status(env.url.clone(), "origin", "https://app.example").await,
        200
    );
    drop(env);

    let both = start_http_with(
        &data,
        &["--token", TOKEN, "--allowed-host", "ax.example"],
        &[("AX_MCP_ALLOWED_HOSTS", "other.example")],
    );
    assert_eq!(status(both.url.clone(), "host", "ax.example:80").await, 200);
    assert_eq!(
        status(both.url.clone(), "host", "other.example:80").await,
        403
    );
}
