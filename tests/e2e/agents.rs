//! `ax agent ...` as a user runs it: output, exit codes, files, the data directory.

use serde_json::{Value, json};

use crate::helpers::{DataDir, assert_exit, ax_bin, code, rows_for, text};

/// The data directory: `--data-dir`, else `AX_DATA_DIR` (an empty one is ignored), else
/// `~/.automatosx`.
#[test]
fn the_data_directory_comes_from_the_flag_then_the_environment_then_home() {
    let data = DataDir::new();
    let home = data.path().join("home");
    let run = |flag: Option<&str>, env: &str| {
        let mut cmd = std::process::Command::new(ax_bin());
        if let Some(dir) = flag {
            cmd.args(["--data-dir", dir]);
        }
        let out = cmd
            .args(["agent", "list"])
            .env("HOME", &home)
            .env("AX_DATA_DIR", env)
            .env_remove("AX_LOG")
            .output()
            .expect("ax runs");
        assert_exit(&out, 0);
    };
    let dir = |name: &str| data.path().join(name).display().to_string();
    run(None, &dir("from-env"));
    assert!(data.path().join("from-env/data.db").exists());
    run(Some(&dir("from-flag")), &dir("not-this"));
    assert!(data.path().join("from-flag/data.db").exists());
    assert!(!data.path().join("not-this").exists(), "the flag wins");
    run(None, "");
    assert!(
        home.join(".automatosx/data.db").exists(),
        "empty means not set"
    );
}

#[test]
fn a_fresh_data_directory_lists_the_built_in_agents() {
    let data = DataDir::new();
    let (exit, doc) = data.json(&["agent", "list", "--limit", "100"]);
    assert_eq!(exit, 0);
    let ids: Vec<&str> = doc["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| a["agentId"].as_str().expect("id"))
        .collect();
    assert!(ids.len() >= 9, "{ids:?}");
    assert!(ids.contains(&"standard"));
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "listing is ordered by agentId");
    assert_eq!(doc["total"], ids.len());
    let text_out = data.run(&["agent", "list"]);
    assert_exit(&text_out, 0);
    assert!(
        text(&text_out.stdout).starts_with("ID"),
        "a table with a header"
    );
}

#[test]
fn register_get_update_remove_round_trip_with_documented_exit_codes() {
    let data = DataDir::new();
    let out = data.run(&[
        "agent",
        "register",
        "--id",
        "rusty",
        "--description",
        "Reviews Rust",
        "--team",
        "eng",
        "--tag",
        "rust",
        "--capability",
        "code-review",
    ]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout).trim(), "registered agent \"rusty\"");

    let (exit, doc) = data.json(&[
        "agent",
        "register",
        "--json",
        r#"{"agentId":"rusty","description":"again"}"#,
    ]);
    assert_eq!(exit, 4, "already exists");
    assert_eq!(doc["error"]["code"], "AGENT_ALREADY_EXISTS");
    assert_eq!(
        doc["error"]["details"]["registryMessage"],
        r#"Agent with ID "rusty" already exists"#
    );

    let (exit, agent) = data.json(&["agent", "get", "rusty"]);
    assert_eq!(exit, 0);
    assert_eq!(agent["description"], "Reviews Rust");
    assert_eq!(agent["revision"], 1);

    let (exit, updated) = data.json(&[
        "agent",
        "update",
        "rusty",
        "--json",
        r#"{"team":"quality","tags":null}"#,
        "--if-version",
        "1",
    ]);
    assert_eq!(exit, 0);
    assert_eq!(updated["team"], "quality");
    assert_eq!(updated["revision"], 2);
    assert!(updated.get("tags").is_none(), "null removes a field");

    let stale = data.run(&[
        "agent",
        "update",
        "rusty",
        "--json",
        r#"{"team":"x"}"#,
        "--if-version",
        "1",
    ]);
    assert_exit(&stale, 4);
    assert!(
        text(&stale.stderr).contains("--if-version 2"),
        "the hint names the current revision: {}",
        text(&stale.stderr)
    );

    assert_exit(&data.run(&["agent", "get", "nobody"]), 3);
    assert_exit(&data.run(&["agent", "remove", "rusty"]), 0);
    assert_exit(&data.run(&["agent", "remove", "rusty"]), 3);
    assert_exit(&data.run(&["agent", "bogus-verb"]), 2);
    assert_exit(&data.run(&["agent", "list", "--limit", "0"]), 2);
}

#[test]
fn an_invalid_profile_reports_every_broken_rule_with_its_path_and_exit_5() {
    let data = DataDir::new();
    let profile = json!({
        "agentId": "9lives", "description": "", "temperature": 7, "bogusField": true,
        "workflow": [
            {"stepId": "a", "name": "A", "type": "prompt", "config": {"prompt": "x"}, "dependencies": ["b"]},
            {"stepId": "b", "name": "B", "type": "prompt", "config": {"prompt": "y"}, "dependencies": ["a"]}
        ]
    });
    let (exit, doc) = data.json(&["agent", "register", "--json", &profile.to_string()]);
    assert_eq!(exit, 5);
    assert_eq!(doc["error"]["code"], "INVALID_INPUT");
    let issues = doc["error"]["details"]["issues"]
        .as_array()
        .expect("issues");
    let paths: Vec<&str> = issues
        .iter()
        .map(|i| i["path"].as_str().expect("path"))
        .collect();
    for expected in ["agentId", "description", "temperature", "bogusField"] {
        assert!(paths.contains(&expected), "{expected} not in {paths:?}");
    }
    let cycle = issues
        .iter()
        .find(|i| i["rule"] == "cycle")
        .expect("the dependency cycle is reported (Bug 2)");
    assert!(
        cycle["message"]
            .as_str()
            .expect("message")
            .contains("a -> b -> a"),
        "{cycle}"
    );
    assert_eq!(rows_for(&data.db(), "9lives"), 0, "nothing stored");
}

#[test]
fn list_filters_and_pages() {
    let data = DataDir::new();
    for n in 0..7 {
        let team = if n % 2 == 0 { "even" } else { "odd" };
        let out = data.run(&[
            "agent",
            "register",
            "--id",
            &format!("pg{n}"),
            "--description",
            "d",
            "--team",
            team,
            "--tag",
            "paging",
        ]);
        assert_exit(&out, 0);
    }
    let (_, first) = data.json(&["agent", "list", "--tag", "paging", "--limit", "3"]);
    let (_, second) = data.json(&[
        "agent", "list", "--tag", "paging", "--limit", "3", "--offset", "3",
    ]);
    let (_, third) = data.json(&[
        "agent", "list", "--tag", "paging", "--limit", "3", "--offset", "6",
    ]);
    let ids = |doc: &Value| {
        doc["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .map(|a| a["agentId"].as_str().expect("id").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ["pg0", "pg1", "pg2"]);
    assert_eq!(ids(&second), ["pg3", "pg4", "pg5"]);
    assert_eq!(ids(&third), ["pg6"]);
    assert_eq!(first["total"], 7);
    assert_eq!(first["nextOffset"], 3);
    assert!(third.get("nextOffset").is_none());
    let (_, odd) = data.json(&["agent", "list", "--tag", "paging", "--team", "odd"]);
    assert_eq!(ids(&odd), ["pg1", "pg3", "pg5"]);
}

#[test]
fn hostile_strings_survive_the_cli_verbatim() {
    let data = DataDir::new();
    let nasty = "'); DROP TABLE agents;-- \"quoted\" \\back\\ 日本語 🦀 مرحبا";
    let nasty_tag = "'; DROP--\"q\" 日本 🦀"; // tags are at most 50 characters
    let profile = json!({"agentId": "hostile", "description": nasty, "systemPrompt": nasty, "team": nasty, "tags": [nasty_tag]});
    assert_eq!(
        data.json(&["agent", "register", "--json", &profile.to_string()])
            .0,
        0
    );
    let (_, got) = data.json(&["agent", "get", "hostile"]);
    assert_eq!(got["description"], nasty);
    assert_eq!(got["systemPrompt"], nasty);
    let (_, by_team) = data.json(&["agent", "list", "--team", nasty]);
    assert_eq!(by_team["total"], 1);
    let (_, by_tag) = data.json(&["agent", "list", "--tag", nasty_tag]);
    assert_eq!(by_tag["total"], 1);
    assert!(
        rows_for(&data.db(), "standard") == 1,
        "the agents table is intact"
    );
}

#[test]
fn export_then_import_round_trips_every_field() {
    let source = DataDir::new();
    let profile = json!({
        "agentId": "full", "description": "everything", "displayName": "Full", "role": "r", "team": "t",
        "systemPrompt": "p", "version": "1.2.3", "expertise": ["e"], "capabilities": ["c"], "tags": ["x"],
        "temperature": 0.3, "maxTokens": 1000, "priority": 7, "metadata": {"any": {"nested": [1, 2, {"k": null}]}},
        "orchestration": {"maxDelegationDepth": 2, "canDelegateToArchetypes": ["kept-verbatim"]},
        "selectionMetadata": {"keywords": ["k"], "agentCategory": "specialist"},
        "workflow": [{"stepId": "s1", "name": "Step", "type": "delegate", "config": {"targetAgentId": "standard"}}]
    });
    assert_eq!(
        source
            .json(&["agent", "register", "--json", &profile.to_string()])
            .0,
        0
    );
    let export_file = source.path().join("export.json");
    assert_exit(
        &source.run(&[
            "agent",
            "export",
            "full",
            "--out",
            export_file.to_str().expect("utf-8 path"),
        ]),
        0,
    );

    let target = DataDir::new();
    let (exit, report) = target.json(&["agent", "import", export_file.to_str().expect("path")]);
    assert_eq!(exit, 0, "{report}");
    assert_eq!(report["imported"], json!(["full"]));
    let (_, original) = source.json(&["agent", "get", "full"]);
    let (_, copy) = target.json(&["agent", "get", "full"]);
    let strip = |mut v: Value| {
        for k in ["createdAt", "updatedAt", "revision"] {
            v.as_object_mut().expect("object").remove(k);
        }
        v
    };
    assert_eq!(strip(copy), strip(original.clone()));
    assert_eq!(
        original["orchestration"]["canDelegateToArchetypes"],
        json!(["kept-verbatim"]),
        "unknown nested keys kept"
    );
    assert_eq!(
        original["workflow"][0]["config"]["targetAgent"], "standard",
        "the alias is normalised"
    );

    let (exit, again) = target.json(&["agent", "import", export_file.to_str().expect("path")]);
    assert_eq!(exit, 0);
    assert_eq!(again["skipped"], json!(["full"]));
    let (exit, fail) = target.json(&[
        "agent",
        "import",
        export_file.to_str().expect("path"),
        "--on-conflict",
        "fail",
    ]);
    assert_eq!(exit, 4);
    assert_eq!(fail["conflict"], "full");
}

#[test]
fn import_reads_a_directory_of_json_and_yaml_and_reports_invalid_files() {
    let data = DataDir::new();
    let dir = data.path().join("profiles");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(
        dir.join("a.json"),
        r#"{"agentId":"from-json","description":"json profile"}"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("b.yaml"),
        "agentId: from-yaml\ndescription: yaml profile\ntags: [y]\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("c.yml"),
        "name: legacy-yml\nrole: Legacy role used as description\nabilities: [one, two]\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("d.json"),
        r#"{"agentId":"broken","description":"x","maxTokens":0}"#,
    )
    .expect("write");
    std::fs::write(dir.join("notes.txt"), "ignored").expect("write");
    let (exit, report) = data.json(&[
        "agent",
        "import",
        dir.to_str().expect("path"),
        "--continue-on-error",
    ]);
    assert_eq!(
        exit, 5,
        "an invalid profile makes the import exit 5: {report}"
    );
    assert_eq!(
        report["imported"],
        json!(["from-json", "from-yaml", "legacy-yml"])
    );
    assert_eq!(report["invalid"][0]["agentId"], "broken");
    assert_eq!(report["invalid"][0]["issues"][0]["path"], "maxTokens");
    let (_, legacy) = data.json(&["agent", "get", "legacy-yml"]);
    assert_eq!(legacy["description"], "Legacy role used as description");
    assert_eq!(legacy["abilities"]["core"], json!(["one", "two"]));
}

#[test]
fn a_reference_agents_json_in_the_data_directory_is_imported_once() {
    let data = DataDir::new();
    let registry = json!({
        "version": "1", "updatedAt": "2026-01-19T10:00:00.000Z",
        "agents": [
            {"agentId": "legacy-one", "description": "from the reference tool", "team": "old"},
            {"agentId": "legacy-two", "description": "also from it", "capabilities": ["x"]}
        ]
    });
    std::fs::write(data.path().join("agents.json"), registry.to_string())
        .expect("write agents.json");
    let out = data.run(&["agent", "get", "legacy-one"]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("imported 2 agent(s) from the reference registry"),
        "{}",
        text(&out.stderr)
    );

    assert_exit(&data.run(&["agent", "remove", "legacy-two"]), 0);
    let again = data.run(&["agent", "list"]);
    assert_exit(&again, 0);
    assert!(
        !text(&again.stderr).contains("imported"),
        "imported once only"
    );
    assert_exit(&data.run(&["agent", "get", "legacy-two"]), 3);
}

#[test]
fn removed_or_edited_defaults_are_not_restored() {
    let data = DataDir::new();
    assert_exit(&data.run(&["agent", "remove", "writer"]), 0);
    assert_exit(
        &data.run(&[
            "agent",
            "update",
            "standard",
            "--json",
            r#"{"description":"my own standard"}"#,
        ]),
        0,
    );
    for _ in 0..2 {
        assert_exit(&data.run(&["agent", "get", "writer"]), 3);
        let (_, standard) = data.json(&["agent", "get", "standard"]);
        assert_eq!(standard["description"], "my own standard");
    }
}

#[test]
fn migrations_are_idempotent_and_upgrade_a_database_of_the_oldest_schema() {
    let data = DataDir::new();
    {
        // A database as the requirement's first schema left it, with a row in it.
        let db = data.db();
        db.execute_batch(
            "CREATE TABLE agents (
                id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL UNIQUE, display_name TEXT,
                description TEXT NOT NULL, system_prompt TEXT, capabilities TEXT, tags TEXT, team TEXT,
                enabled INTEGER DEFAULT 1, created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT DEFAULT CURRENT_TIMESTAMP);
             CREATE UNIQUE INDEX idx_agents_agent_id ON agents(agent_id);
             INSERT INTO agents (agent_id, display_name, description, capabilities, tags, team)
                VALUES ('old-timer', 'Old Timer', 'written by schema v1', '[\"legacy\"]', '[\"v1\"]', 'history');
             PRAGMA user_version = 1;",
        )
        .expect("old schema");
    }
    for _ in 0..2 {
        let (exit, old) = data.json(&["agent", "get", "old-timer"]);
        assert_eq!(exit, 0, "{old}");
        assert_eq!(old["description"], "written by schema v1");
        assert_eq!(old["displayName"], "Old Timer");
    }
    let (_, by_tag) = data.json(&["agent", "list", "--tag", "v1"]);
    assert_eq!(
        by_tag["total"], 1,
        "old rows are indexed for filters after the upgrade"
    );
    let version: i64 = data
        .db()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert!(version > 1);
    let unique: i64 = data
        .db()
        .query_row(
            "SELECT \"unique\" FROM pragma_index_list('agents') WHERE name = 'idx_agents_agent_id'",
            [],
            |r| r.get(0),
        )
        .expect("INV-AGT-DB-001: the unique index exists");
    assert_eq!(unique, 1);
}

#[test]
fn json_output_is_exactly_one_document_even_on_errors() {
    let data = DataDir::new();
    for args in [
        vec!["agent", "get", "nobody"],
        vec!["agent", "list"],
        vec!["agent", "recommend", "write the docs"],
    ] {
        let out = data
            .ax()
            .arg("--format")
            .arg("json")
            .args(&args)
            .output()
            .expect("runs");
        let parsed: Result<Value, _> = serde_json::from_slice(&out.stdout);
        assert!(
            parsed.is_ok(),
            "{args:?}: stdout is one JSON document: {}",
            text(&out.stdout)
        );
        if code(&out) != 0 {
            assert!(parsed.expect("checked")["error"]["code"].is_string());
        }
    }
}

#[test]
fn recommend_picks_a_specialist_and_explains_why() {
    let data = DataDir::new();
    let (exit, rec) = data.json(&[
        "agent",
        "recommend",
        "set up a CI pipeline and deploy the service to kubernetes",
    ]);
    assert_eq!(exit, 0);
    assert_eq!(rec["recommended"], "devops");
    assert!(
        rec["reason"].as_str().expect("reason").contains("keywords"),
        "{rec}"
    );
    let (_, fallback) = data.json(&["agent", "recommend", "qwzx vbnm"]);
    assert_eq!(fallback["recommended"], "standard");
    assert_eq!(fallback["confidence"], 0.5);
    // The candidates from the term index give the answer scoring every agent gives,
    // at this size (INV-AGT-REC-002).
    for task in [
        "set up a CI pipeline and deploy the service to kubernetes",
        "review this pull request for race conditions",
        "qwzx vbnm",
    ] {
        let (_, fast) = data.json(&["agent", "recommend", task, "--max", "5"]);
        let (exit, exhaustive) =
            data.json(&["agent", "recommend", task, "--max", "5", "--exhaustive"]);
        assert_eq!(exit, 0);
        assert_eq!(fast, exhaustive, "{task}");
    }
}

/// A blank or overlong task is refused with the rule it broke (exit 5), in text and
/// in JSON, as the MCP tool refuses it; a blank one used to get the fallback agent,
/// told as "no agent matched the task".
#[test]
fn recommend_refuses_a_blank_or_overlong_task() {
    let data = DataDir::new();
    let longest = "x".repeat(5000);
    let too_long = "x".repeat(5001);
    for (task, message) in [
        ("", "task: must not be empty"),
        (" \t ", "task: must not be blank"),
        (
            too_long.as_str(),
            "task: must be at most 5000 characters (got 5001)",
        ),
    ] {
        let out = data.run(&["agent", "recommend", task]);
        assert_exit(&out, 5);
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("invalid request") && stderr.contains(message),
            "{stderr}"
        );
        let (exit, body) = data.json(&["agent", "recommend", task, "--exhaustive"]);
        assert_eq!(exit, 5, "{body}");
        assert_eq!(body["error"]["code"], "INVALID_INPUT");
        assert_eq!(body["error"]["details"]["issues"][0]["path"], "task");
    }
    let (exit, rec) = data.json(&["agent", "recommend", &longest]);
    assert_eq!(exit, 0, "{rec}");
    assert_eq!(rec["recommended"], "standard");
}

/// A reader that stops early (`ax completions fish | head`) ends the output quietly:
/// exit 0 and no panic, for every shell (issue 8: fish and powershell panicked).
#[test]
fn completions_to_a_closed_pipe_exit_quietly() {
    for shell in ["bash", "elvish", "fish", "powershell", "zsh"] {
        let mut child = std::process::Command::new(crate::helpers::ax_bin())
            .args(["completions", shell])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn ax");
        // Close the read end before ax writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(code(&out), 0, "{shell}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{shell}");
    }
}

/// `ax doctor --help` promises only what `ax doctor` checks (issue 8: it promised an
/// MCP-client check that does not exist): each thing named is a key of its report.
#[test]
fn doctor_help_names_only_what_doctor_reports() {
    let data = DataDir::new();
    let help = text(&data.run(&["doctor", "--help"]).stdout);
    let first = help.lines().next().unwrap_or_default().to_lowercase();
    let (exit, report) = data.json(&["doctor"]);
    assert_eq!(exit, 0);
    for (named, key) in [
        ("data directory", "dataDir"),
        ("database", "database"),
        ("config.toml", "config"),
        ("providers", "providers"),
        ("limit", "maxConcurrentProviderCalls"),
    ] {
        assert!(first.contains(named), "help names {named}: {first}");
        assert!(report.get(key).is_some(), "doctor reports {key}: {report}");
    }
    assert!(
        !first.contains("mcp"),
        "doctor checks no MCP client: {first}"
    );
}
