//! The MCP server over stdio, driven by a real rmcp client (and, for hostile input,
//! by raw lines): every tool and resource, protocol versions, errors, progress,
//! cancellation, and registrations racing across two server processes and the CLI.

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientRequest, ReadResourceRequestParams, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::helpers::{DataDir, assert_exit, write_fake_providers};
use crate::mcp_client::{
    RawServer, args, call, connect_stdio, connect_stdio_with, issue_paths, ok, proc_status_bytes,
    survivors, tool_error, wait_for_pids,
};

/// Every tool, unprefixed.
const TOOLS: [&str; 11] = [
    "agent_list",
    "agent_get",
    "agent_register",
    "agent_update",
    "agent_remove",
    "agent_recommend",
    "agent_capabilities",
    "discuss",
    "discuss_quick",
    "discussion_get",
    "discussion_list",
];

/// A safety net so a broken server fails the test instead of hanging it; never a
/// performance assertion.
const PATIENCE: Duration = Duration::from_secs(120);

#[test]
fn initialize_negotiates_current_protocol_versions() {
    let data = DataDir::new();
    for (asked, expected) in [
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2025-03-26", "2025-03-26"),
        // A version the server does not know: it answers with its newest.
        ("2099-01-01", "2025-11-25"),
    ] {
        let mut server = RawServer::start(&data);
        let answer = server.initialize(asked);
        assert_eq!(answer["result"]["protocolVersion"], expected, "{answer}");
        assert_eq!(answer["result"]["serverInfo"]["name"], "automatosx");
        assert!(answer["result"]["capabilities"]["tools"].is_object());
        assert!(answer["result"]["capabilities"]["resources"].is_object());
        assert!(server.finish().success());
    }

    // 2026-07-28: no handshake; `server/discover`, then self-contained requests.
    let mut server = RawServer::start(&data);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
    });
    let discover = server.request(1, "server/discover", json!({"_meta": meta}));
    let versions = discover["result"]["supportedVersions"]
        .as_array()
        .expect("versions");
    for v in ["2025-06-18", "2025-11-25", "2026-07-28"] {
        assert!(versions.contains(&json!(v)), "{discover}");
    }
    let get = server.request(
        2,
        "tools/call",
        json!({"name": "ax_agent_get", "arguments": {"agentId": "reviewer"}, "_meta": meta}),
    );
    assert_eq!(
        get["result"]["structuredContent"]["agentId"], "reviewer",
        "{get}"
    );
    assert!(server.finish().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_listed_with_both_schemas_and_the_prefix_is_configurable() {
    let data = DataDir::new();
    let (client, _) = connect_stdio(&data).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, TOOLS.map(|t| format!("ax_{t}")));
    for tool in &tools {
        assert_eq!(
            tool.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            tool.name
        );
        let output = tool.output_schema.as_ref().expect("an outputSchema");
        assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(tool.description.as_deref().is_some_and(|d| d.len() > 20));
    }
    // Unprefixed calls work too.
    let reviewer = ok(&call(&client, "agent_get", json!({"agentId": "reviewer"})).await);
    assert_eq!(reviewer["agentId"], "reviewer");
    client.cancel().await.expect("close");

    let (bare, _) = connect_stdio_with(&data, &[("AX_MCP_TOOL_PREFIX", "")]).await;
    let names: Vec<String> = bare
        .list_all_tools()
        .await
        .expect("tools/list")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, TOOLS.map(str::to_owned));
    bare.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_tools_do_what_they_say() {
    let data = DataDir::new();
    let (client, _) = connect_stdio(&data).await;

    // register
    let profile = json!({
        "agentId": "rusty",
        "description": "Reviews Rust code for data races and unsafe blocks",
        "displayName": "Rusty",
        "team": "quality",
        "tags": ["rust"],
        "capabilities": ["code-review", "rust"],
        "selectionMetadata": {"keywords": ["rust", "borrow checker"], "agentCategory": "reviewer"}
    });
    let registered = ok(&call(&client, "ax_agent_register", profile.clone()).await);
    assert_eq!(registered["registered"], true);
    assert_eq!(registered["agentId"], "rusty");
    assert!(
        registered["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // REQ-1: a duplicate answers AGENT_ALREADY_EXISTS with the id and the message.
    let duplicate = tool_error(&call(&client, "ax_agent_register", profile).await);
    assert_eq!(duplicate["code"], "AGENT_ALREADY_EXISTS");
    assert_eq!(
        duplicate["message"],
        r#"Agent with ID "rusty" already exists"#
    );
    assert_eq!(duplicate["details"]["agentId"], "rusty");

    // Every broken rule at once, each by path; undeclared fields by name.
    let invalid = tool_error(
        &call(
            &client,
            "ax_agent_register",
            json!({"agentId": "9bad", "description": "", "temperature": 7, "colour": "red", "revision": 3}),
        )
        .await,
    );
    assert_eq!(invalid["code"], "INVALID_INPUT");
    let paths = issue_paths(&invalid);
    for path in [
        "agentId",
        "description",
        "temperature",
        "colour",
        "revision",
    ] {
        assert!(
            paths.iter().any(|p| p == path),
            "{path} missing from {paths:?}"
        );
    }

    // get
    let got = ok(&call(&client, "ax_agent_get", json!({"agentId": "rusty"})).await);
    assert_eq!(got["displayName"], "Rusty");
    assert_eq!(got["revision"], 1);
    let missing = tool_error(&call(&client, "ax_agent_get", json!({"agentId": "nobody"})).await);
    assert_eq!(missing["code"], "AGENT_NOT_FOUND");
    assert_eq!(missing["details"]["agentId"], "nobody");

    // list: filters and pages
    let team = ok(&call(&client, "ax_agent_list", json!({"team": "quality"})).await);
    let ids: Vec<&str> = team["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["agentId"].as_str())
        .collect();
    assert!(ids.contains(&"rusty"), "{ids:?}");
    assert!(
        team["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .all(|a| a["team"] == "quality")
    );
    let first = ok(&call(&client, "ax_agent_list", json!({"limit": 2})).await);
    assert_eq!(first["agents"].as_array().expect("agents").len(), 2);
    let total = first["total"].as_u64().expect("total");
    assert!(total >= 3);
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = ok(&call(
        &client,
        "ax_agent_list",
        json!({"limit": 2, "cursor": cursor}),
    )
    .await);
    assert_ne!(
        first["agents"][0]["agentId"],
        second["agents"][0]["agentId"]
    );
    let tagged = ok(&call(
        &client,
        "ax_agent_list",
        json!({"tags": ["rust"], "capability": "code-review", "enabled": true}),
    )
    .await);
    assert_eq!(tagged["total"], 1);
    let bad = tool_error(
        &call(
            &client,
            "ax_agent_list",
            json!({"limit": 0, "sort": "name"}),
        )
        .await,
    );
    assert_eq!(bad["code"], "INVALID_INPUT");
    assert_eq!(issue_paths(&bad), ["limit", "sort"]);

    // update, compare-and-swap
    let updated = ok(&call(
        &client,
        "ax_agent_update",
        json!({"agentId": "rusty", "patch": {"team": "core", "tags": null}, "ifVersion": 1}),
    )
    .await);
    assert_eq!(updated["team"], "core");
    assert!(updated.get("tags").is_none());
    assert_eq!(updated["revision"], 2);
    let stale = tool_error(
        &call(
            &client,
            "ax_agent_update",
            json!({"agentId": "rusty", "patch": {"team": "x"}, "ifVersion": 1}),
        )
        .await,
    );
    assert_eq!(stale["code"], "CONFLICT");
    let bad_patch = tool_error(
        &call(
            &client,
            "ax_agent_update",
            json!({"agentId": "rusty", "patch": {"temperature": "hot"}}),
        )
        .await,
    );
    assert_eq!(bad_patch["code"], "INVALID_INPUT");
    assert_eq!(issue_paths(&bad_patch), ["patch.temperature"]);

    // recommend, capabilities
    let recommendation = ok(&call(
        &client,
        "ax_agent_recommend",
        json!({"task": "review this rust code for borrow checker problems", "maxResults": 3}),
    )
    .await);
    let named: Vec<&Value> = std::iter::once(&recommendation["recommended"])
        .chain(
            recommendation["alternatives"]
                .as_array()
                .expect("alternatives")
                .iter()
                .map(|a| &a["agentId"]),
        )
        .collect();
    assert!(named.contains(&&json!("rusty")), "{recommendation}");
    let exhaustive = ok(&call(
        &client,
        "ax_agent_recommend",
        json!({"task": "review this rust code for borrow checker problems", "maxResults": 3, "exhaustive": true}),
    )
    .await);
    assert_eq!(
        exhaustive, recommendation,
        "same answer scoring every agent"
    );
    let in_team = ok(&call(
        &client,
        "ax_agent_recommend",
        json!({"task": "review this rust code", "team": "core"}),
    )
    .await);
    assert_eq!(in_team["recommended"], "rusty", "{in_team}");
    assert!(
        recommendation["confidence"]
            .as_f64()
            .is_some_and(|c| c > 0.0 && c <= 1.0)
    );
    assert!(recommendation["alternatives"].is_array());
    // A blank task passes the schema (one character) but not the registry's rule:
    // refused, not answered with the fallback agent.
    let blank = tool_error(&call(&client, "ax_agent_recommend", json!({"task": "  \t "})).await);
    assert_eq!(blank["code"], "INVALID_INPUT");
    assert_eq!(issue_paths(&blank), ["task"]);
    let index = ok(&call(&client, "ax_agent_capabilities", json!({})).await);
    assert!(
        index["agentsByCapability"]["code-review"]
            .as_array()
            .expect("list")
            .contains(&json!("rusty"))
    );
    assert_eq!(
        index["capabilitiesByAgent"]["rusty"],
        json!(["code-review", "rust"])
    );
    let reviewers = ok(&call(
        &client,
        "ax_agent_capabilities",
        json!({"category": "reviewer"}),
    )
    .await);
    assert_eq!(reviewers["categoriesByAgent"]["rusty"], "reviewer");
    assert!(
        reviewers["categoriesByAgent"]
            .as_object()
            .expect("map")
            .values()
            .all(|c| c == "reviewer")
    );
    let bad_category = tool_error(
        &call(
            &client,
            "ax_agent_capabilities",
            json!({"category": "wizard"}),
        )
        .await,
    );
    assert_eq!(issue_paths(&bad_category), ["category"]);

    // remove: twice, the second is not an error
    let removed = ok(&call(&client, "ax_agent_remove", json!({"agentId": "rusty"})).await);
    assert_eq!(removed, json!({"removed": true, "agentId": "rusty"}));
    let again = ok(&call(&client, "ax_agent_remove", json!({"agentId": "rusty"})).await);
    assert_eq!(again, json!({"removed": false, "agentId": "rusty"}));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_discussion_tools_run_save_and_list_discussions() {
    let data = DataDir::new();
    let (client, recorder) = connect_stdio(&data).await;

    let result = ok(&call(
        &client,
        "ax_discuss",
        json!({"topic": "Should a CLI keep its registry in SQLite?", "rounds": 1, "consensus": {"method": "synthesis"}}),
    )
    .await);
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(
        result["metadata"]["simulated"], true,
        "mock providers say so"
    );
    let id = result["discussionId"].as_str().expect("id").to_owned();

    // rmcp's client sends a progress token with every request: one notification
    // names the discussion, then one per finished provider call.
    let progress = recorder.progress.lock().expect("lock").clone();
    assert!(progress.len() >= 3, "{progress:?}");
    assert_eq!(
        progress[0].message.as_deref(),
        Some(format!("discussion {id} started").as_str())
    );
    assert!(
        progress.iter().any(|p| p
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("round 1: ")
                && m.contains(" done in ")
                && m.ends_with(')'))),
        "{progress:?}"
    );
    assert!(
        progress.windows(2).all(|w| w[1].progress > w[0].progress),
        "progress increases"
    );

    let saved = ok(&call(&client, "ax_discussion_get", json!({"discussionId": id})).await);
    assert_eq!(saved, result, "the saved result is what discuss returned");

    let quick = ok(&call(
        &client,
        "ax_discuss_quick",
        json!({"topic": "Tabs or spaces?"}),
    )
    .await);
    assert_eq!(quick["success"], true);
    assert!(!quick["synthesis"].as_str().unwrap_or("").is_empty());
    let quick_id = quick["discussionId"].as_str().expect("id").to_owned();

    let page = ok(&call(&client, "ax_discussion_list", json!({"limit": 1})).await);
    assert_eq!(page["discussions"].as_array().expect("list").len(), 1);
    assert_eq!(
        page["discussions"][0]["discussionId"], quick_id,
        "newest first"
    );
    assert_eq!(page["discussions"][0]["status"], "finished");
    let cursor = page["nextCursor"]
        .as_str()
        .expect("another page")
        .to_owned();
    let next = ok(&call(
        &client,
        "ax_discussion_list",
        json!({"limit": 1, "cursor": cursor}),
    )
    .await);
    assert_eq!(next["discussions"][0]["discussionId"], id);

    // Undeclared options are refused by name, with every other problem.
    let undeclared = tool_error(&call(&client, "ax_discuss", json!({"topic": "x", "rounds": 99, "consensus": {"method": "synthesis", "quorum": 2}, "verbose": true})).await);
    assert_eq!(undeclared["code"], "INVALID_INPUT");
    let paths = issue_paths(&undeclared);
    for path in ["consensus.quorum", "verbose", "rounds"] {
        assert!(
            paths.iter().any(|p| p == path),
            "{path} missing from {paths:?}"
        );
    }
    let pattern = tool_error(
        &call(
            &client,
            "ax_discuss",
            json!({"topic": "x", "pattern": "shouting"}),
        )
        .await,
    );
    assert_eq!(pattern["code"], "DISCUSSION_INVALID_PATTERN");
    let unknown = tool_error(
        &call(
            &client,
            "ax_discuss",
            json!({"topic": "x", "providers": ["nope-a", "nope-b"]}),
        )
        .await,
    );
    assert!(
        unknown["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("DISCUSSION_")),
        "{unknown}"
    );
    let gone = tool_error(
        &call(
            &client,
            "ax_discussion_get",
            json!({"discussionId": "0190-nope"}),
        )
        .await,
    );
    assert_eq!(gone["code"], "DISCUSSION_NOT_FOUND");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_listed_and_read() {
    let data = DataDir::new();
    let (client, _) = connect_stdio(&data).await;
    let resources = client.list_all_resources().await.expect("resources/list");
    assert_eq!(
        resources.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>(),
        ["automatosx://agents"]
    );
    let templates = client
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list");
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        [
            "automatosx://agents/{agentId}",
            "automatosx://discussions/{discussionId}"
        ]
    );

    let read = |uri: &str| ReadResourceRequestParams::new(uri.to_owned());
    let text = |result: rmcp::model::ReadResourceResult| -> Value {
        match &result.contents[0] {
            rmcp::model::ResourceContents::TextResourceContents {
                text, mime_type, ..
            } => {
                assert_eq!(mime_type.as_deref(), Some("application/json"));
                serde_json::from_str(text).expect("JSON contents")
            }
            other => panic!("unexpected contents {other:?}"),
        }
    };
    let agents = text(
        client
            .read_resource(read("automatosx://agents"))
            .await
            .expect("read"),
    );
    assert!(agents["total"].as_u64().is_some_and(|t| t >= 1));
    let reviewer = text(
        client
            .read_resource(read("automatosx://agents/reviewer"))
            .await
            .expect("read"),
    );
    assert_eq!(reviewer["agentId"], "reviewer");

    let discussion = ok(&call(
        &client,
        "ax_discuss_quick",
        json!({"topic": "Is this saved?"}),
    )
    .await);
    let id = discussion["discussionId"].as_str().expect("id");
    let saved = text(
        client
            .read_resource(read(&format!("automatosx://discussions/{id}")))
            .await
            .expect("read"),
    );
    assert_eq!(saved["discussionId"], id);

    for missing in [
        "automatosx://agents/nobody",
        "automatosx://discussions/none",
        "file:///etc/passwd",
    ] {
        let err = client
            .read_resource(read(missing))
            .await
            .expect_err("not found");
        assert!(
            err.to_string().contains("-32002") || err.to_string().contains("no resource"),
            "{err}"
        );
    }
    // Still serving.
    ok(&call(&client, "ax_agent_get", json!({"agentId": "reviewer"})).await);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_discussion_blocks_nothing_and_cancelling_it_kills_its_providers() {
    let data = DataDir::new();
    write_fake_providers(&data, &[("stuck1", "hang.sh"), ("stuck2", "hang.sh")]);
    let (client, _) = connect_stdio(&data).await;

    let params = CallToolRequestParams::new("ax_discuss").with_arguments(args(json!({
        "topic": "Will anyone answer?",
        "providers": ["stuck1", "stuck2"],
        "rounds": 1
    })));
    let handle = client
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("discuss sent");
    // Each hanging provider records itself and its grandchild.
    let pids = wait_for_pids(data.path(), 4).await;
    assert_eq!(pids.len(), 4, "both providers started: {pids:?}");

    // The discussion is running; other requests are served meanwhile.
    let answer = tokio::time::timeout(
        PATIENCE,
        call(&client, "ax_agent_get", json!({"agentId": "reviewer"})),
    )
    .await
    .expect("agent_get is answered while discuss runs");
    assert_eq!(ok(&answer)["agentId"], "reviewer");

    handle
        .cancel(Some("test cancels".into()))
        .await
        .expect("notifications/cancelled sent");
    let left = survivors(&pids).await;
    assert!(left.is_empty(), "provider processes left running: {left:?}");

    // The cancelled discussion is saved as such, and the server still serves.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let list = ok(&call(&client, "ax_discussion_list", json!({})).await);
        if list["discussions"][0]["status"] == "cancelled" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no cancelled discussion saved: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.cancel().await.expect("close");
}

/// INV-AGT-REG-001 / REQ-1 over MCP: the database decides, whichever server asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_registrations_of_one_id_across_two_servers_have_one_winner() {
    let data = DataDir::new();
    let (a, _) = connect_stdio(&data).await;
    let (b, _) = connect_stdio(&data).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let peer = if i % 2 == 0 {
            a.peer().clone()
        } else {
            b.peer().clone()
        };
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let params =
                CallToolRequestParams::new("ax_agent_register").with_arguments(args(json!({
                    "agentId": "contested",
                    "description": format!("registered by caller {i}")
                })));
            peer.call_tool(params).await.expect("a tool result")
        }));
    }
    let mut wins = Vec::new();
    let mut refusals = 0;
    for task in tasks {
        let result = task.await.expect("task");
        if result.is_error == Some(true) {
            let error = tool_error(&result);
            assert_eq!(error["code"], "AGENT_ALREADY_EXISTS", "{error}");
            assert_eq!(
                error["message"],
                r#"Agent with ID "contested" already exists"#
            );
            assert_eq!(error["details"]["agentId"], "contested");
            refusals += 1;
        } else {
            wins.push(ok(&result));
        }
    }
    assert_eq!((wins.len(), refusals), (1, 15));
    assert_eq!(crate::helpers::rows_for(&data.db(), "contested"), 1);
    let stored = ok(&call(&b, "ax_agent_get", json!({"agentId": "contested"})).await);
    assert_eq!(
        stored["createdAt"], wins[0]["createdAt"],
        "the winner's data is what is stored"
    );
    a.cancel().await.expect("close");
    b.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_a_server_writing_at_once_lose_nothing() {
    let data = std::sync::Arc::new(DataDir::new());
    let (client, _) = connect_stdio(&data).await;
    let cli = {
        let data = data.clone();
        std::thread::spawn(move || {
            for i in 0..12 {
                let id = format!("cli-{i}");
                let out = data.run(&[
                    "agent",
                    "register",
                    "--id",
                    &id,
                    "--description",
                    "from the CLI",
                ]);
                assert_exit(&out, 0);
            }
        })
    };
    let mut tasks = Vec::new();
    for i in 0..40 {
        let peer = client.peer().clone();
        tasks.push(tokio::spawn(async move {
            let params =
                CallToolRequestParams::new("ax_agent_register").with_arguments(args(json!({
                    "agentId": format!("mcp-{i}"),
                    "description": "from the MCP server"
                })));
            peer.call_tool(params).await.expect("a tool result")
        }));
    }
    for task in tasks {
        ok(&task.await.expect("task"));
    }
    tokio::task::spawn_blocking(move || cli.join())
        .await
        .expect("join")
        .expect("the CLI registrations succeeded");
    let db = data.db();
    let count = |pattern: &str| -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM agents WHERE agent_id LIKE ?1",
            [pattern],
            |r| r.get(0),
        )
        .expect("count")
    };
    assert_eq!((count("mcp-%"), count("cli-%")), (40, 12));
    let listed = ok(&call(&client, "ax_agent_list", json!({"limit": 100})).await);
    let listed_ids: Vec<&str> = listed["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["agentId"].as_str())
        .collect();
    assert!(listed_ids.contains(&"cli-11") && listed_ids.contains(&"mcp-39"));
    client.cancel().await.expect("close");
}

#[test]
fn hostile_and_malformed_lines_are_answered_and_the_server_keeps_serving() {
    let data = DataDir::new();
    let mut server = RawServer::start(&data);

    // Before initialize: a stray notification and a stray response are no reason to quit.
    server.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    server.send(r#"{"jsonrpc":"2.0","id":99,"result":{}}"#);
    server.send("{not json");
    let parse = server.read();
    assert_eq!(parse["error"]["code"], -32700, "{parse}");
    assert_eq!(parse["id"], Value::Null);
    let init = server.initialize("2025-06-18");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");

    let tool = |name: &str, arguments: Value| json!({"name": name, "arguments": arguments});
    // Wrong parameter types, unknown methods and tools: JSON-RPC errors with the id.
    let wrong_type = server.request(1, "tools/call", json!({"name": 5}));
    assert_eq!(wrong_type["error"]["code"], -32602, "{wrong_type}");
    let unknown_method = server.request(2, "tools/destroy", json!({}));
    assert_eq!(unknown_method["error"]["code"], -32601, "{unknown_method}");
    let unknown_tool = server.request(3, "tools/call", tool("ax_format_disk", json!({})));
    assert_eq!(unknown_tool["error"]["code"], -32602, "{unknown_tool}");
    assert!(
        unknown_tool["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Unknown tool")
    );
    let array_args = server.request(
        4,
        "tools/call",
        json!({"name": "ax_agent_get", "arguments": [1, 2]}),
    );
    assert_eq!(array_args["error"]["code"], -32602, "{array_args}");

    // Wrong argument types and undeclared fields: the tool answers isError.
    let bad_args = server.request(
        5,
        "tools/call",
        tool("ax_agent_get", json!({"agentId": 42, "x": 1})),
    );
    let body = &bad_args["result"]["structuredContent"]["error"];
    assert_eq!(bad_args["result"]["isError"], true, "{bad_args}");
    assert_eq!(body["code"], "INVALID_INPUT");
    assert_eq!(issue_paths(body), ["agentId", "x"]);

    // Not a request at all.
    for line in [r#"[1,2,3]"#, r#""just a string""#, "null"] {
        server.send(line);
        let answer = server.read();
        assert_eq!(answer["error"]["code"], -32600, "{line}: {answer}");
    }
    server.send(r#"{"jsonrpc":"1.0","id":6,"method":"ping"}"#);
    let old = server.answer_to(&json!(6));
    assert_eq!(old["error"]["code"], -32600, "{old}");

    // Bytes that are not UTF-8, nesting deeper than any parser allows, blank lines.
    server.write(b"\xff\xfe\x00garbage\n");
    assert_eq!(server.read()["error"]["code"], -32700);
    server.send(&format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)));
    assert_eq!(server.read()["error"]["code"], -32700);
    server.send("   ");
    server.send("");

    // Larger than the 4 MiB limit: refused, not buffered, answered with its id.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"ax_agent_register","arguments":{{"agentId":"huge","description":"{}"}}}}}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    server.send(&huge);
    let refused = server.answer_to(&json!(7));
    assert_eq!(refused["error"]["code"], -32600, "{}", refused["error"]);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("larger than")
    );

    // A cancellation of a request that does not exist, a notification with bad params.
    server.send(
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12345}}"#,
    );
    server.send(r#"{"jsonrpc":"2.0","method":"notifications/progress","params":"nonsense"}"#);

    // Still serving, and nothing was registered by the refused message.
    let pong = server.request(8, "ping", json!({}));
    assert!(pong["result"].is_object(), "{pong}");
    let reviewer = server.request(
        9,
        "tools/call",
        tool("ax_agent_get", json!({"agentId": "reviewer"})),
    );
    assert_eq!(
        reviewer["result"]["structuredContent"]["agentId"], "reviewer",
        "{reviewer}"
    );
    let huge_agent = server.request(
        10,
        "tools/call",
        tool("ax_agent_get", json!({"agentId": "huge"})),
    );
    assert_eq!(
        huge_agent["result"]["structuredContent"]["error"]["code"],
        "AGENT_NOT_FOUND"
    );
    assert!(server.finish().success(), "a clean exit when stdin closes");
}

#[test]
fn stopping_the_server_stops_its_discussions_and_their_providers() {
    stop_the_server_with(rustix::process::Signal::TERM);
}

/// A closed terminal (or `kill -HUP`) stops the server like SIGTERM: before, SIGHUP
/// killed it outright and its providers were left running under pid 1, unsaved.
#[test]
fn a_hangup_stops_the_server_its_discussions_and_their_providers() {
    stop_the_server_with(rustix::process::Signal::HUP);
}

/// Start a discussion of two hanging providers over stdio, send `signal` to the
/// server: it exits 0, no provider process is left, and the discussion is saved as
/// `cancelled`.
fn stop_the_server_with(signal: rustix::process::Signal) {
    let data = DataDir::new();
    write_fake_providers(&data, &[("stuck1", "hang.sh"), ("stuck2", "hang.sh")]);
    let mut server = RawServer::start(&data);
    server.initialize("2025-11-25");
    server.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "ax_discuss",
            "arguments": {"topic": "Still there?", "providers": ["stuck1", "stuck2"], "rounds": 1}
        }})
        .to_string(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pids = runtime.block_on(wait_for_pids(data.path(), 4));
    assert_eq!(pids.len(), 4, "both providers started: {pids:?}");
    let pid = rustix::process::Pid::from_raw(server.child.id() as i32).expect("pid");
    rustix::process::kill_process(pid, signal).expect("signal");
    let status = server.child.wait().expect("the server exits");
    assert!(status.success(), "{signal:?}: {status:?}");
    let left = runtime.block_on(survivors(&pids));
    assert!(left.is_empty(), "provider processes left running: {left:?}");
    let (exit, list) = data.json(&["discuss", "history"]);
    assert_eq!(exit, 0, "{list}");
    assert_eq!(list["discussions"][0]["status"], "cancelled", "{list}");
}

#[test]
fn progress_goes_to_the_callers_token_and_stops_with_the_answer() {
    let data = DataDir::new();
    let mut server = RawServer::start(&data);
    server.initialize("2025-06-18");
    // Without a progress token: no notification at all.
    server.send(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "ax_discuss_quick", "arguments": {"topic": "Quietly?"}
        }})
        .to_string(),
    );
    let quiet = server.read();
    assert_eq!(quiet["id"], 1, "the answer comes first and alone: {quiet}");
    // With one: notifications under that token, then the answer, then nothing more.
    server.send(
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "ax_discuss_quick", "arguments": {"topic": "Loudly?"},
            "_meta": {"progressToken": "tok-7"}
        }})
        .to_string(),
    );
    let mut notes = Vec::new();
    let answer = loop {
        let message = server.read();
        if message.get("id") == Some(&json!(2)) {
            break message;
        }
        assert_eq!(message["method"], "notifications/progress", "{message}");
        assert_eq!(message["params"]["progressToken"], "tok-7");
        notes.push(
            message["params"]["message"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        );
    };
    let id = answer["result"]["structuredContent"]["discussionId"]
        .as_str()
        .expect("discussion id");
    assert_eq!(notes[0], format!("discussion {id} started"));
    assert!(
        notes.len() >= 3,
        "one per finished provider call: {notes:?}"
    );
    assert!(
        notes[1..]
            .iter()
            .all(|n| n.contains(" done in ") || n.contains(" failed")),
        "{notes:?}"
    );
    server.send(r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#);
    let next = server.read();
    assert_eq!(next["id"], 3, "nothing follows the answer: {next}");
    // A configuration refused before anything ran announces nothing.
    server.send(
        &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "ax_discuss", "arguments": {"topic": "x", "pattern": "shouting"},
            "_meta": {"progressToken": "tok-8"}
        }})
        .to_string(),
    );
    let refused = server.read();
    assert_eq!(refused["id"], 4, "{refused}");
    assert_eq!(
        refused["result"]["structuredContent"]["error"]["code"],
        "DISCUSSION_INVALID_PATTERN"
    );
    assert!(server.finish().success());
}

/// Provider programs of this test only: copies of `slow.sh` under the data dir, so
/// counting their processes is not disturbed by other tests running at once.
fn private_slow_providers(data: &DataDir, ids: &[&str]) -> std::path::PathBuf {
    let dir = data.path().join("fakes");
    std::fs::create_dir_all(&dir).expect("dir");
    for file in ["slow.sh", "_lib.sh"] {
        std::fs::copy(crate::helpers::fake(file), dir.join(file)).expect("copy fake");
    }
    let script = dir.join("slow.sh");
    let mut toml = String::new();
    for id in ids {
        toml.push_str(&format!(
            "\n[providers.{id}]\nkind = \"command\"\ncommand = [\"{}\"]\nenv = {{ AX_FAKE_SLEEP = \"1\" }}\n",
            script.display()
        ));
    }
    std::fs::write(data.path().join("config.toml"), toml).expect("config.toml");
    script
}

/// How many provider calls are running `script` right now: distinct process groups
/// (each call runs in a group of its own; a shell's `$(...)` forks share it).
fn running(script: &std::path::Path) -> usize {
    let needle = script.to_string_lossy().into_owned();
    let mut groups = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let path = entry.path();
        let runs_it = std::fs::read(path.join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(&needle))
            .unwrap_or(false);
        if !runs_it {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the command name: state, ppid, pgrp, ...
        if let Some((_, rest)) = stat.rsplit_once(')')
            && let Some(pgrp) = rest.split_whitespace().nth(2)
        {
            groups.insert(pgrp.to_owned());
        }
    }
    groups.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_discussions_of_one_server_share_its_provider_limit() {
    // INV-DISC-RATE-001 over MCP: two discussions at once, six provider calls each
    // round, and never more than the server's limit of 2 provider processes alive.
    let data = DataDir::new();
    let script = private_slow_providers(&data, &["s1", "s2", "s3"]);
    let (transport, _) = rmcp::transport::TokioChildProcess::builder({
        let mut cmd = data.ax();
        cmd.args(["mcp", "serve", "--max-concurrent", "2"]);
        tokio::process::Command::from(cmd)
    })
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("ax mcp serve starts");
    let client = rmcp::ServiceExt::serve(crate::mcp_client::Recorder::default(), transport)
        .await
        .expect("initialize");
    let mut discussions = Vec::new();
    for topic in ["First topic?", "Second topic?"] {
        let peer = client.peer().clone();
        discussions.push(tokio::spawn(async move {
            let params = CallToolRequestParams::new("ax_discuss").with_arguments(args(json!({
                "topic": topic, "providers": ["s1", "s2", "s3"], "rounds": 1
            })));
            peer.call_tool(params).await.expect("a result")
        }));
    }
    let mut most = 0;
    while discussions.iter().any(|d| !d.is_finished()) {
        most = most.max(running(&script));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(most >= 1, "the providers were seen running");
    assert!(most <= 2, "{most} provider calls at once with a limit of 2");
    for discussion in discussions {
        let result = ok(&discussion.await.expect("task"));
        assert_eq!(result["success"], true, "{result}");
        assert!(
            result["metadata"]["maxInFlight"]
                .as_u64()
                .is_some_and(|m| m <= 2)
        );
    }
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discussion_that_ran_and_failed_answers_is_error_with_its_whole_result() {
    let data = DataDir::new();
    write_fake_providers(&data, &[("broken1", "crash.sh"), ("broken2", "crash.sh")]);
    let (client, _) = connect_stdio(&data).await;
    let result = call(
        &client,
        "ax_discuss",
        json!({"topic": "Does anyone work?", "providers": ["broken1", "broken2"], "rounds": 1}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    let body = crate::mcp_client::structured(&result);
    let code = body["error"]["code"].as_str().expect("error code");
    assert!(code.starts_with("DISCUSSION_"), "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(
        body["failedProviders"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    assert!(body["rounds"].is_array(), "the rounds are kept: {body}");
    // Saved as failed.
    let id = body["discussionId"].as_str().expect("id");
    let saved = call(&client, "ax_discussion_get", json!({"discussionId": id})).await;
    assert_eq!(crate::mcp_client::structured(&saved)["error"]["code"], code);
    client.cancel().await.expect("close");
}

/// One wire type per shape: what `ax ... --format json` prints and what the MCP tools
/// answer are the same objects, down to leaving absent optional fields out (the CLI
/// once wrote `displayName: null` where MCP left it out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_json_and_the_mcp_tools_answer_with_the_same_shapes() {
    let data = DataDir::new();
    let (exit, registered) = data.json(&[
        "agent",
        "register",
        "--id",
        "plain",
        "--description",
        "No display name, no team",
    ]);
    assert_eq!(exit, 0);
    assert_eq!(registered["registered"], true);
    let (exit, cli_page) = data.json(&["agent", "list", "--limit", "100"]);
    assert_eq!(exit, 0);
    let (exit, _) = data.json(&[
        "discuss",
        "Tabs or spaces?",
        "--providers",
        "mock-a,mock-b",
        "--fast",
    ]);
    assert_eq!(exit, 0);
    let (exit, cli_history) = data.json(&["discuss", "history"]);
    assert_eq!(exit, 0);

    let (client, _) = connect_stdio(&data).await;
    let mcp_page =
        crate::mcp_client::structured(&call(&client, "ax_agent_list", json!({"limit": 100})).await)
            .clone();
    let mcp_history =
        crate::mcp_client::structured(&call(&client, "ax_discussion_list", json!({})).await)
            .clone();
    client.cancel().await.expect("close");

    let plain_cli = cli_page["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["agentId"] == "plain"))
        .expect("listed by the CLI");
    assert!(plain_cli.get("displayName").is_none(), "{plain_cli}");
    assert!(plain_cli.get("team").is_none(), "{plain_cli}");
    assert_eq!(cli_page["agents"], mcp_page["agents"]);
    assert_eq!(cli_page["total"], mcp_page["total"]);
    assert_eq!(cli_history["discussions"], mcp_history["discussions"]);
    assert_eq!(cli_history["discussions"].as_array().map(Vec::len), Some(1));
}

const MIB: u64 = 1024 * 1024;

/// One `agent_list` request line.
fn agent_list_line(id: u64) -> String {
    format!(
        "{}\n",
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "ax_agent_list", "arguments": {"limit": 5}}})
    )
}

#[test]
fn a_flood_of_requests_from_a_client_that_does_not_read_stays_under_64_mib() {
    use std::io::Write;
    const REQUESTS: u64 = 10_000;
    let data = DataDir::new();
    let mut server = RawServer::start(&data);
    server.initialize("2025-06-18");
    let pid = server.pid();
    let mut stdin = server.take_stdin();
    let writer = std::thread::spawn(move || {
        for id in 1..=REQUESTS {
            if stdin.write_all(agent_list_line(id).as_bytes()).is_err() {
                return None;
            }
        }
        let _ = stdin.flush();
        Some(stdin)
    });

    // Not reading: the server must stop reading too instead of piling up answers.
    let mut peak = 0;
    let until = std::time::Instant::now() + Duration::from_secs(3);
    while std::time::Instant::now() < until {
        let rss = proc_status_bytes(pid, "VmRSS");
        peak = peak.max(rss);
        assert!(
            rss < 64 * MIB,
            "{} MiB resident while the client does not read",
            rss / MIB
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Reading now: every request is answered, with its own id.
    let mut answered = std::collections::HashSet::new();
    while answered.len() < REQUESTS as usize {
        let answer = server.read();
        if let Some(id) = answer["id"].as_u64() {
            assert!(
                answer["result"]["structuredContent"]["agents"].is_array(),
                "{answer}"
            );
            assert!(answered.insert(id), "answered twice: {id}");
        }
    }
    let stdin = writer
        .join()
        .expect("writer")
        .expect("every request written");
    let high_water = proc_status_bytes(pid, "VmHWM");
    eprintln!(
        "peak VmRSS while not reading: {} MiB; VmHWM after {REQUESTS} requests: {} MiB",
        peak / MIB,
        high_water / MIB
    );
    assert!(high_water < 64 * MIB, "VmHWM {} MiB", high_water / MIB);
    drop(stdin);
    assert!(server.finish().success());
}

#[test]
fn a_client_that_closed_stdin_and_stopped_reading_does_not_keep_the_server_alive() {
    use std::io::Write;
    let data = DataDir::new();
    let mut server = RawServer::start(&data);
    server.initialize("2025-06-18");
    let mut stdin = server.take_stdin();
    // Few enough to fit in the pipe, many more answers than stdout's pipe holds.
    for id in 1..=300 {
        stdin
            .write_all(agent_list_line(id).as_bytes())
            .expect("write");
    }
    drop(stdin);
    // Never read again: the server gives up 10 s after its output stalled.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(18),
            "still running {} s after its client closed stdin and stopped reading",
            started.elapsed().as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "exited after {:.1} s: {status}",
        started.elapsed().as_secs_f32()
    );
}

#[test]
fn a_request_holding_a_lone_surrogate_is_answered_with_its_id() {
    let data = DataDir::new();
    let mut server = RawServer::start(&data);
    server.initialize("2025-06-18");
    server.send(
        r#"{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"ax_agent_get","arguments":{"agentId":"\ud800"}}}"#,
    );
    server.send(r#"{"jsonrpc":"2.0","id":78,"method":"ping"}"#);
    let mut before_ping = Vec::new();
    loop {
        let answer = server.read();
        if answer["id"] == json!(78) {
            break;
        }
        before_ping.push(answer);
    }
    let answer = before_ping
        .iter()
        .find(|a| a["id"] == json!(77))
        .unwrap_or_else(|| panic!("no answer with id 77 before the ping's: {before_ping:?}"));
    assert!(answer["error"]["code"].is_i64(), "{answer}");
    assert!(server.finish().success());
}

#[test]
fn a_client_that_sent_faulty_lines_closed_stdin_and_stopped_reading_does_not_keep_the_server_alive()
{
    use std::io::Write;
    let data = DataDir::new();
    let mut server = RawServer::start(&data);
    let mut stdin = server.take_stdin();
    // 12 KB of input, about 1.5 MB of error answers nobody reads.
    stdin
        .write_all("{bad\n".repeat(2_500).as_bytes())
        .expect("write");
    drop(stdin);
    let started = std::time::Instant::now();
    while server.child.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(18),
            "still running {} s after its client closed stdin and stopped reading",
            started.elapsed().as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
