//! `ax discuss` as a user runs it: the offline demo, the process-wide limit set by
//! flag / environment / config file, fake provider programs that hang or crash,
//! Ctrl-C, and the saved history. After every test no provider process is left.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{
    DataDir, alive, assert_exit, code, recorded_pids, text, write_fake_providers_with,
};

/// Assert no recorded provider process is alive (allowing a short grace period for
/// the kernel to finish tearing down a killed group).
fn assert_no_provider_process_left(dir: &Path) {
    let pids = recorded_pids(dir);
    assert!(!pids.is_empty(), "the fakes recorded their pids");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "provider processes left running: {left:?}");
}

#[test]
fn the_offline_demo_runs_on_mock_providers_says_so_and_is_saved() {
    let data = DataDir::new();
    let out = data.run(&[
        "discuss",
        "Should a CLI keep its registry in SQLite?",
        "--fast",
    ]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("SIMULATED"),
        "the output says the answers are simulated:\n{stdout}"
    );
    assert!(
        text(&out.stderr).contains("round 1: mock-a"),
        "progress lines on stderr:\n{}",
        text(&out.stderr)
    );

    let (exit, result) = data.json(&["discuss", "Tabs or spaces?", "--pattern", "voting"]);
    assert_eq!(exit, 0);
    assert_eq!(result["metadata"]["simulated"], true);
    assert_eq!(result["pattern"], "voting");
    assert!(
        result["votingResults"]["options"]
            .as_array()
            .is_some_and(|o| o.len() == 2),
        "{}",
        result["votingResults"]
    );

    let (_, history) = data.json(&["discuss", "history"]);
    let saved = history["discussions"].as_array().expect("list");
    assert_eq!(saved.len(), 2);
    assert_eq!(
        saved[0]["discussionId"], result["discussionId"],
        "newest first"
    );
    let (exit, shown) = data.json(&[
        "discuss",
        "show",
        result["discussionId"].as_str().expect("id"),
    ]);
    assert_eq!(exit, 0);
    assert_eq!(shown, result, "show returns the saved result");
    assert_exit(&data.run(&["discuss", "show", "no-such-id"]), 3);
}

/// Spans: off by default; `AX_LOG=debug` (or `-v`) prints one line per closed span on
/// stderr — command > discussion > round > provider call, with their ids and outcome —
/// and `--format json` stdout stays exactly one document.
#[test]
fn ax_log_debug_prints_the_spans_of_a_discussion_on_stderr_only() {
    let data = DataDir::new();
    let args = ["--format", "json", "discuss", "Tabs or spaces?", "--fast"];

    let quiet = data.ax().args(args).output().expect("ax runs");
    assert_exit(&quiet, 0);
    assert!(
        !text(&quiet.stderr).contains("provider_call"),
        "no span lines by default:\n{}",
        text(&quiet.stderr)
    );

    let traced = data
        .ax()
        .env("AX_LOG", "debug")
        .args(args)
        .output()
        .expect("ax runs");
    assert_exit(&traced, 0);
    let result: Value = serde_json::from_slice(&traced.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is exactly one JSON document ({e}):\n{}",
            text(&traced.stdout)
        )
    });
    let id = result["discussionId"].as_str().expect("id");
    let stderr = text(&traced.stderr);
    // One line per closed span, naming the spans it is inside: `a{..}:b{..}: close`.
    let closed: Vec<&str> = stderr.lines().filter(|l| l.contains("}: close ")).collect();
    let discussion = format!("command{{command=\"discuss\"}}:discussion{{discussion_id={id} ");
    let calls = closed
        .iter()
        .filter(|l| {
            l.contains(&discussion)
                && l.contains("}:round{round=1 ")
                && l.contains("}:provider_call{speaker=mock-")
                && l.contains(" outcome=\"ok\" duration_ms=")
        })
        .count();
    assert!(
        calls >= 2,
        "a provider call span per speaker, inside the round, inside the discussion:\n{stderr}"
    );
    assert!(
        closed.iter().any(|l| l.contains(&discussion)
            && l.contains(" outcome=\"ok\" duration_ms=")
            && !l.contains("}:round{")
            && !l.contains("}:consensus{")),
        "the discussion's own span, with outcome and duration:\n{stderr}"
    );
    assert!(
        closed
            .iter()
            .any(|l| l.contains("command{command=\"discuss\" exit=0 outcome=\"ok\" duration_ms=")),
        "the command's span:\n{stderr}"
    );
    assert!(
        !text(&traced.stdout).contains("}: close "),
        "no span line on stdout"
    );
}

/// INV-DISC-RATE-001 through the real binary: six slow providers, and the process-wide
/// limit from `--max-concurrent`, `AX_MAX_CONCURRENT_PROVIDER_CALLS` and config.toml
/// (in that order of precedence) is exactly the most calls ever in flight.
#[test]
fn the_process_wide_limit_is_set_by_flag_environment_and_config() {
    let data = DataDir::new();
    let mut toml = String::from("max_concurrent_provider_calls = 4\n");
    for n in 0..6 {
        toml.push_str(&format!(
            "[providers.slow{n}]\nkind = \"mock\"\nlatency = \"150ms\"\n"
        ));
    }
    std::fs::write(data.path().join("config.toml"), toml).expect("config");
    let providers = "slow0,slow1,slow2,slow3,slow4,slow5";
    let max_in_flight = |extra: &[&str], env: Option<&str>| {
        let mut cmd = data.ax();
        if let Some(v) = env {
            cmd.env("AX_MAX_CONCURRENT_PROVIDER_CALLS", v);
        }
        let out = cmd
            .args([
                "--format",
                "json",
                "discuss",
                "limit check",
                "--fast",
                "--providers",
                providers,
            ])
            .args(extra)
            .output()
            .expect("runs");
        assert_exit(&out, 0);
        let result: Value = serde_json::from_slice(&out.stdout).expect("json");
        result["metadata"]["maxInFlight"]
            .as_u64()
            .expect("maxInFlight")
    };
    assert_eq!(max_in_flight(&[], None), 4, "config.toml");
    assert_eq!(max_in_flight(&[], Some("3")), 3, "environment over config");
    assert_eq!(
        max_in_flight(&["--max-concurrent", "2"], Some("3")),
        2,
        "flag over environment"
    );
    assert_eq!(max_in_flight(&["--max-concurrent", "6"], None), 6);

    let bad = data
        .ax()
        .env("AX_MAX_CONCURRENT_PROVIDER_CALLS", "lots")
        .args(["discuss", "x"])
        .output()
        .expect("runs");
    assert_exit(&bad, 2);
    assert!(
        text(&bad.stderr).contains("AX_MAX_CONCURRENT_PROVIDER_CALLS"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn a_hanging_provider_times_out_and_its_processes_are_killed() {
    let data = DataDir::new();
    write_fake_providers_with(
        &data,
        &[
            ("stuck", "hang.sh"),
            ("steady", "slow.sh"),
            ("steady2", "slow.sh"),
        ],
        "",
    );
    let (exit, result) = data.json(&[
        "discuss",
        "Will this hang?",
        "--fast",
        "--providers",
        "stuck,steady,steady2",
        "--timeout",
        "5s",
    ]);
    assert_eq!(exit, 0, "two providers still answer: {result}");
    let failed = result["failedProviders"]
        .as_array()
        .expect("failedProviders");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["provider"], "stuck");
    assert_eq!(failed[0]["code"], "timeout");
    assert_no_provider_process_left(data.path());
}

#[test]
fn a_discussion_whose_providers_all_crash_fails_with_exit_1_and_is_saved() {
    let data = DataDir::new();
    write_fake_providers_with(&data, &[("bad1", "crash.sh"), ("bad2", "crash.sh")], "");
    let (exit, result) = data.json(&["discuss", "Anyone there?", "--providers", "bad1,bad2"]);
    assert_eq!(exit, 1);
    assert_eq!(result["success"], false);
    assert!(
        result["error"]["code"]
            .as_str()
            .expect("code")
            .starts_with("DISCUSSION_"),
        "{}",
        result["error"]
    );
    let (_, history) = data.json(&["discuss", "history"]);
    assert_eq!(history["discussions"][0]["status"], "failed");
}

#[test]
fn unknown_providers_and_bad_options_are_named() {
    let data = DataDir::new();
    let (exit, err) = data.json(&["discuss", "x", "--providers", "mock-a,nope"]);
    assert_eq!(exit, 2);
    assert_eq!(err["error"]["code"], "DISCUSSION_PROVIDER_NOT_FOUND");
    assert!(
        err["error"]["message"]
            .as_str()
            .expect("message")
            .contains("nope")
    );
    let (exit, err) = data.json(&["discuss", "x", "--rounds", "11", "--pattern", "shouting"]);
    assert_eq!(exit, 5);
    let paths: Vec<&str> = err["error"]["details"]["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["path"].as_str().expect("path"))
        .collect();
    assert!(
        paths.contains(&"rounds") && paths.contains(&"pattern"),
        "{paths:?}"
    );
    let (_, history) = data.json(&["discuss", "history"]);
    assert_eq!(
        history["discussions"].as_array().map(Vec::len),
        Some(0),
        "invalid requests are not saved"
    );
}

/// Ctrl-C: the providers' process groups are killed (INV-PROV-KILL-001), the partial
/// result is saved (INV-DISC-SAVE-001) and printed, and `ax` exits 130.
#[test]
fn ctrl_c_cancels_kills_the_providers_saves_and_exits_130() {
    let data = DataDir::new();
    write_fake_providers_with(
        &data,
        &[("h1", "hang.sh"), ("h2", "hang.sh"), ("h3", "hang.sh")],
        "",
    );
    let child = data
        .ax()
        .args([
            "--format",
            "json",
            "discuss",
            "Wait for me",
            "--providers",
            "h1,h2,h3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax starts");
    // Wait until every provider is running (each wrote its pid file).
    let deadline = Instant::now() + Duration::from_secs(20);
    while recorded_pids(data.path()).len() < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        recorded_pids(data.path()).len(),
        6,
        "three fakes, each with a grandchild, are running"
    );
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT");
    let out = child.wait_with_output().expect("ax exits");
    assert_eq!(code(&out), 130, "stderr: {}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("the partial result is printed");
    assert_eq!(result["error"]["code"], "DISCUSSION_CANCELLED");
    assert_no_provider_process_left(data.path());
    let (_, history) = data.json(&["discuss", "history"]);
    assert_eq!(history["discussions"][0]["status"], "cancelled");
    assert_eq!(
        history["discussions"][0]["discussionId"],
        result["discussionId"]
    );
}

#[test]
fn providers_list_and_doctor_report_the_configuration() {
    let data = DataDir::new();
    std::fs::write(data.path().join("config.toml"), "max_concurrent_provider_calls = 3\n[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n").expect("config");
    let (exit, list) = data.json(&["providers", "list"]);
    assert_eq!(exit, 0);
    assert_eq!(list["maxConcurrentProviderCalls"]["value"], 3);
    assert!(
        list["providers"]
            .as_array()
            .expect("providers")
            .iter()
            .any(|p| p["id"] == "local" && p["kind"] == "openai")
    );
    let (exit, doctor) = data.json(&["doctor"]);
    assert_eq!(exit, 0, "{doctor}");
    assert_eq!(doctor["database"]["integrity"], serde_json::json!(["ok"]));
    assert_eq!(doctor["database"]["journalMode"], "wal");

    std::fs::write(
        data.path().join("config.toml"),
        "[providers.claude]\ncomand = [\"claude\"]\n",
    )
    .expect("config");
    let out = data.run(&["providers", "list"]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("providers.claude.comand"),
        "the bad key is named: {}",
        text(&out.stderr)
    );
    // A usage error has its own code, never INVALID_INPUT (which always exits 5).
    let (exit, err) = data.json(&["providers", "list"]);
    assert_eq!(exit, 2);
    assert_eq!(err["error"]["code"], "USAGE_ERROR", "{err}");
}

/// Through the real binary: a command provider that answers 429 with a retry hint
/// is retried after it (and then answers); one that answers 401 is not retried.
#[test]
fn a_rate_limited_provider_is_retried_and_an_unauthorised_one_is_not() {
    let data = DataDir::new();
    let counter = data.path().join("flaky.count");
    let toml = format!(
        "[providers.flaky]\nkind = \"command\"\ncommand = [\"{}\"]\nenv = {{ AX_FAKE_COUNTER_FILE = \"{}\", AX_FAKE_FAIL_TIMES = \"1\" }}\n\
         [providers.locked]\nkind = \"command\"\ncommand = [\"{}\"]\n\
         [providers.steady]\nkind = \"command\"\ncommand = [\"{}\"]\nenv = {{ AX_FAKE_SLEEP = \"0\" }}\n",
        crate::helpers::fake("rate-limited.sh").display(),
        counter.display(),
        crate::helpers::fake("auth-failure.sh").display(),
        crate::helpers::fake("slow.sh").display(),
    );
    std::fs::write(data.path().join("config.toml"), toml).expect("config");
    let (exit, result) = data.json(&[
        "discuss",
        "Retry me",
        "--fast",
        "--providers",
        "flaky,locked,steady",
    ]);
    assert_eq!(exit, 0, "{result}");
    let answered: Vec<&str> = result["participatingProviders"]
        .as_array()
        .expect("participating")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        answered.contains(&"flaky"),
        "the rate-limited provider answered after a retry: {result}"
    );
    assert_eq!(
        result["metadata"]["costSummary"]["retries"], 1,
        "one retry: flaky's 429; the 401 is not retried"
    );
    let failed = result["failedProviders"].as_array().expect("failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["provider"], "locked");
    assert_eq!(failed[0]["code"], "auth");
    let attempts: u32 = std::fs::read_to_string(&counter)
        .expect("counter")
        .trim()
        .parse()
        .expect("number");
    assert!(
        attempts >= 2,
        "flaky was called again after its 429 ({attempts} attempts)"
    );
}

/// The id in the last line of a text result: `saved: ax discuss show ID`.
fn saved_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("saved: ax discuss show "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a `saved: ax discuss show ID` line")
        .to_owned()
}

/// A pager program that records that it ran (and what it was given) in `marker`.
fn recording_pager(marker: &Path) -> String {
    format!("cat > '{}'", marker.display())
}

/// Issue 8, item 1: text mode shows each round with each participant's answer,
/// labelled, then the synthesis and the consensus with dissent; `show ID` prints the
/// same; `--summary` keeps the short form. Off a terminal no pager runs, whatever
/// AX_PAGER and PAGER say.
#[test]
fn text_mode_shows_every_round_and_answer_and_show_prints_the_same() {
    let data = DataDir::new();
    let marker = data.path().join("pager-ran");
    let run = |args: &[&str]| {
        data.ax()
            .env("AX_PAGER", recording_pager(&marker))
            .env("PAGER", recording_pager(&marker))
            .env("COLUMNS", "72")
            .args(args)
            .output()
            .expect("ax runs")
    };
    let out = run(&[
        "discuss",
        "Should a CLI keep its registry in SQLite?",
        "--providers",
        "mock-a,mock-b,mock-c",
    ]);
    assert_exit(&out, 0);
    let full = text(&out.stdout);
    for expected in [
        "Pattern: synthesis · 2 rounds · mock-a, mock-b, mock-c",
        "── Round 1 · ",
        "── Round 2 · ",
        "── Synthesis · by ",
        "── Consensus: reached (synthesis",
        "  dissent — ",
    ] {
        assert!(full.contains(expected), "missing {expected:?}:\n{full}");
    }
    for speaker in ["mock-a", "mock-b", "mock-c"] {
        assert_eq!(
            full.lines()
                .filter(|l| l.starts_with(&format!("{speaker} · ")))
                .count(),
            2,
            "{speaker} is labelled once per round:\n{full}"
        );
        assert!(
            full.contains(&format!("    [simulated] {speaker} (")),
            "{speaker}'s answer is shown, indented under its label:\n{full}"
        );
    }
    for line in full.lines() {
        assert!(
            line.chars().count() <= 72,
            "wrapped to COLUMNS=72: {line:?}"
        );
    }
    assert!(!marker.exists(), "no pager when stdout is not a terminal");

    let id = saved_id(&full);
    let shown = run(&["discuss", "show", &id]);
    assert_exit(&shown, 0);
    let shown = text(&shown.stdout);
    let without_timing = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("── Round"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        without_timing(&shown),
        without_timing(&full),
        "`show` prints the same"
    );

    let summary = run(&["discuss", "show", &id, "--summary"]);
    assert_exit(&summary, 0);
    let summary = text(&summary.stdout);
    assert!(!summary.contains("── Round"), "{summary}");
    assert!(!summary.contains("[simulated] mock-b ("), "{summary}");
    assert!(summary.contains("Consensus: reached"), "{summary}");
    let short = run(&["discuss", "Tabs or spaces?", "--fast", "--summary"]);
    assert_exit(&short, 0);
    assert!(!text(&short.stdout).contains("── Round"));
    assert!(!marker.exists(), "no pager when stdout is not a terminal");
}

/// Issue 8, item 1: failed calls appear in their round with the reason, and a
/// provider's answer cannot send the terminal an escape sequence.
#[test]
fn failed_calls_show_their_reason_and_answers_cannot_reach_the_terminal() {
    let data = DataDir::new();
    let evil = data.path().join("evil.sh");
    std::fs::write(
        &evil,
        "#!/bin/sh\ncat > /dev/null\nprintf 'Sure.\\033]52;c;ZXZpbA==\\007\\033[2J\\033[31mred\\rX\\n'\n",
    )
    .expect("write evil.sh");
    // Fails with an escape sequence in its error output.
    let loud = data.path().join("loud.sh");
    std::fs::write(
        &loud,
        "#!/bin/sh\ncat > /dev/null\nprintf 'boom\\033[2J\\033]0;pwned\\007\\n' >&2\nexit 1\n",
    )
    .expect("write loud.sh");
    for script in [&evil, &loud] {
        std::fs::set_permissions(script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "[providers.evil]\nkind = \"command\"\ncommand = [\"{}\"]\n[providers.broken]\nkind = \"command\"\ncommand = [\"{}\"]\n[providers.loud]\nkind = \"command\"\ncommand = [\"{}\"]\n",
            evil.display(),
            crate::helpers::fake("crash.sh").display(),
            loud.display()
        ),
    )
    .expect("config");
    let out = data.run(&[
        "discuss",
        "Anything to hide?",
        "--fast",
        "--providers",
        "evil,broken,loud,mock-a",
    ]);
    assert_exit(&out, 0);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "no control character reaches the terminal:\n{stdout:?}"
    );
    assert!(
        !stderr.chars().any(|c| c.is_control() && c != '\n'),
        "not through the progress lines either:\n{stderr:?}"
    );
    assert!(stderr.contains("boom\\x1b[2J"), "{stderr}");
    assert!(
        stdout.contains("Sure.\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b[31mred\\x0dX"),
        "the answer is shown with its control characters written out:\n{stdout}"
    );
    let broken = stdout
        .lines()
        .position(|l| l.starts_with("broken · failed after "))
        .unwrap_or_else(|| panic!("the failed call is in its round:\n{stdout}"));
    assert!(
        stdout
            .lines()
            .nth(broken + 1)
            .is_some_and(|l| l.contains("crashed")),
        "with its reason under it:\n{stdout}"
    );
}

/// Issue 8, item 2: `--providers` naming CLIs that are not installed fails with the
/// reason and the next step on stderr (which provider, how to install it, that
/// omitting --providers runs the simulated ones); stdout carries only the result; exit 1.
/// In JSON, stdout is still the one result document.
#[test]
fn missing_providers_are_explained_on_stderr_with_a_next_step() {
    let data = DataDir::new();
    let empty_path = data.path().join("no-clis");
    std::fs::create_dir_all(&empty_path).expect("mkdir");
    let run = |extra: &[&str]| {
        data.ax()
            .env("PATH", &empty_path)
            .args(extra)
            .args([
                "discuss",
                "Pick a database",
                "--pattern",
                "voting",
                "--providers",
                "claude,gemini,codex",
            ])
            .output()
            .expect("ax runs")
    };
    let out = run(&[]);
    assert_exit(&out, 1);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stderr.starts_with("error: the discussion failed: "),
        "{stderr}"
    );
    for expected in [
        "claude: `claude` is not installed",
        "npm install -g @anthropic-ai/claude-code",
        "gemini: `gemini` is not installed",
        "npm install -g @google/gemini-cli",
        "codex: `codex` is not installed",
        "npm install -g @openai/codex",
        "hint: leave claude, gemini, codex out of --providers, or omit --providers to run the providers available here (mock-a, mock-b, mock-c: simulated answers, offline)",
    ] {
        assert!(
            stderr.contains(expected),
            "stderr lacks {expected:?}:\n{stderr}"
        );
    }
    assert!(
        !stdout.contains("error:") && !stdout.contains("hint:") && !stdout.contains("npm"),
        "stdout carries only the result:\n{stdout}"
    );
    assert!(stdout.contains("ax discuss show "), "{stdout}");

    let one = data
        .ax()
        .env("PATH", &empty_path)
        .args(["discuss", "x", "--providers", "claude"])
        .output()
        .expect("ax runs");
    assert_exit(&one, 5);
    assert!(one.stdout.is_empty(), "{}", text(&one.stdout));
    assert!(
        text(&one.stderr).contains("omit --providers to run the ones available here"),
        "{}",
        text(&one.stderr)
    );

    let out = run(&["--format", "json"]);
    assert_exit(&out, 1);
    let result: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(result["success"], false);
    assert_eq!(result["error"]["code"], "DISCUSSION_INSUFFICIENT_PROVIDERS");
    assert!(
        text(&out.stderr).contains("npm install -g @anthropic-ai/claude-code"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue 8, item 1: on a terminal the result goes through the pager ($AX_PAGER), and
/// `--no-pager`, an empty AX_PAGER and `--format json` turn it off. Runs `ax` under a
/// pseudo-terminal made by `script` (util-linux); skipped where there is none.
#[test]
fn on_a_terminal_the_result_goes_through_the_pager_unless_turned_off() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to make a pseudo-terminal");
        return;
    }
    let data = DataDir::new();
    let marker = data.path().join("paged.txt");
    let under_terminal_with = |ax_pager: &str, extra: &str, no_color: Option<&str>| {
        let _ = std::fs::remove_file(&marker);
        let command = format!(
            "'{}' --data-dir '{}' discuss 'Paged?' --fast {extra}",
            crate::helpers::ax_bin(),
            data.path().display()
        );
        let mut script = std::process::Command::new("script");
        match no_color {
            Some(value) => script.env("NO_COLOR", value),
            None => script.env_remove("NO_COLOR"),
        };
        let out = script
            .args(["-qec", &command, "/dev/null"])
            .env("HOME", data.path().join("home"))
            .env("AX_PAGER", ax_pager)
            .env_remove("AX_DATA_DIR")
            .env_remove("AX_LOG")
            .env_remove("AX_MAX_CONCURRENT_PROVIDER_CALLS")
            .stdin(Stdio::null())
            .output()
            .expect("script runs");
        assert!(out.status.success(), "{}", text(&out.stdout));
        std::fs::read_to_string(&marker).ok()
    };
    let under_terminal =
        |ax_pager: &str, extra: &str| under_terminal_with(ax_pager, extra, Some("1"));
    let paged = under_terminal(&recording_pager(&marker), "").expect("the pager ran on a terminal");
    assert!(
        paged.contains("── Round 1"),
        "the pager got the result:\n{paged}"
    );
    assert!(under_terminal(&recording_pager(&marker), "--no-pager").is_none());
    assert!(under_terminal("", "").is_none(), "AX_PAGER= turns it off");
    assert!(under_terminal(&recording_pager(&marker), "--format json").is_none());

    // Colour only on a terminal, and never with NO_COLOR.
    assert!(!paged.contains('\x1b'), "NO_COLOR=1: no colour:\n{paged:?}");
    let coloured = under_terminal_with(&recording_pager(&marker), "", None)
        .expect("the pager ran on a terminal");
    assert!(
        coloured.contains("\x1b[1m"),
        "colour on a terminal:\n{coloured:?}"
    );
    let off = data
        .ax()
        .env_remove("NO_COLOR")
        .args(["discuss", "Piped?", "--fast"])
        .output()
        .expect("ax runs");
    assert!(!off.stdout.contains(&0x1b), "no colour into a pipe");
}

/// Issue 8, item 1: agent fields are untrusted too (they are imported from anywhere):
/// `ax agent get|list` write control characters out instead of sending them.
#[test]
fn agent_fields_cannot_reach_the_terminal_either() {
    let data = DataDir::new();
    let out = data.run(&[
        "agent",
        "register",
        "--id",
        "sly",
        "--description",
        "hi \x1b[2J there",
        "--team",
        "t\x1b]0;x\x07",
        "--system-prompt",
        "line one\nclear \x1b[3J now",
    ]);
    assert_exit(&out, 0);
    for args in [&["agent", "get", "sly"][..], &["agent", "list"][..]] {
        let out = data.run(args);
        assert_exit(&out, 0);
        let stdout = text(&out.stdout);
        assert!(
            !stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?} sends a control character:\n{stdout:?}"
        );
        assert!(stdout.contains("hi \\x1b[2J there"), "{stdout}");
    }
}

/// `ax discuss show latest` shows the newest saved discussion, and a topic that is a
/// subcommand's name is discussed after `--` (issue 8: "history" could not be
/// discussed, and the README's `show <ID>` was a placeholder).
#[test]
fn show_latest_and_a_topic_named_like_a_subcommand() {
    let data = DataDir::new();
    let none = data.run(&["discuss", "show", "latest"]);
    assert_exit(&none, 3);
    assert!(text(&none.stderr).contains("no discussion has been saved yet"));

    let (exit, first) = data.json(&["discuss", "--fast", "--", "history"]);
    assert_eq!(exit, 0);
    assert_eq!(first["topic"], "history");
    let (exit, second) = data.json(&["discuss", "--fast", "--", "show"]);
    assert_eq!(exit, 0);
    assert_eq!(second["topic"], "show");

    let (exit, latest) = data.json(&["discuss", "show", "latest"]);
    assert_eq!(exit, 0);
    assert_eq!(latest["discussionId"], second["discussionId"]);
    let (exit, listed) = data.json(&["discuss", "history"]);
    assert_eq!(exit, 0);
    assert_eq!(listed["discussions"].as_array().map(Vec::len), Some(2));
    // `list` and `get`, the verbs of `ax agent` and of MCP, are the same subcommands:
    // neither starts a discussion about the word.
    assert_eq!(data.json(&["discuss", "list"]), (0, listed));
    let (exit, got) = data.json(&["discuss", "get", "latest"]);
    assert_eq!(exit, 0);
    assert_eq!(got["discussionId"], second["discussionId"]);
    let (exit, about_list) = data.json(&["discuss", "--fast", "--", "list"]);
    assert_eq!(exit, 0);
    assert_eq!(about_list["topic"], "list");
}

/// Issue 8, item 5: the offline demo is about the user's topic. A voting discussion on
/// "PostgreSQL or SQLite?" votes on those two options (not Yes/No), and the three
/// simulated voices answer differently, each naming the topic's options, still marked
/// simulated.
#[test]
fn the_offline_demo_votes_on_the_topics_options_and_its_voices_differ() {
    let data = DataDir::new();
    let (exit, result) = data.json(&["discuss", "PostgreSQL or SQLite?", "--pattern", "voting"]);
    assert_eq!(exit, 0, "{result}");
    assert_eq!(result["metadata"]["simulated"], true);
    let voting = &result["votingResults"];
    assert_eq!(
        voting["options"],
        serde_json::json!(["PostgreSQL", "SQLite"]),
        "{voting}"
    );
    let voted: Vec<&str> = voting["voteRecords"]
        .as_array()
        .expect("vote records")
        .iter()
        .map(|r| r["option"].as_str().expect("option"))
        .collect();
    assert_eq!(voted.len(), 3, "{voting}");
    assert!(
        voted.contains(&"PostgreSQL") && voted.contains(&"SQLite"),
        "the voices do not all vote alike: {voted:?}"
    );

    let (exit, result) = data.json(&["discuss", "Should we use PostgreSQL or SQLite?"]);
    assert_eq!(exit, 0, "{result}");
    let answers: Vec<&str> = result["rounds"][0]["responses"]
        .as_array()
        .expect("round 1 answers")
        .iter()
        .map(|r| {
            assert_eq!(r["simulated"], true, "{r}");
            r["content"].as_str().expect("content")
        })
        .collect();
    assert_eq!(answers.len(), 3, "{result}");
    // Past the header line (which quotes the topic), each answer names the topic's
    // options, and the answers differ.
    let bodies: Vec<String> = answers
        .iter()
        .map(|a| a.lines().skip(1).collect::<Vec<_>>().join("\n"))
        .collect();
    for (answer, body) in answers.iter().zip(&bodies) {
        assert!(answer.starts_with("[simulated]"), "{answer}");
        assert!(
            body.contains("PostgreSQL") && body.contains("SQLite"),
            "each answer is about the topic's options:\n{answer}"
        );
    }
    assert!(
        bodies[0] != bodies[1] && bodies[1] != bodies[2] && bodies[0] != bodies[2],
        "{bodies:#?}"
    );
    let stdout = text(
        &data
            .run(&["discuss", "show", "latest", "--no-pager"])
            .stdout,
    );
    assert!(stdout.contains("SIMULATED"), "{stdout}");
}

/// Issue 9, item 2: a discussion in which `s1` has answered while `h2` and `h3` hang
/// (each with a grandchild), started and waited for; returns the running `ax`.
fn a_discussion_with_one_answer_and_two_hanging_calls(data: &DataDir) -> std::process::Child {
    let mut toml = String::new();
    for (id, program, sleep) in [
        ("s1", "slow.sh", "0"),
        ("h2", "hang.sh", ""),
        ("h3", "hang.sh", ""),
    ] {
        toml.push_str(&format!(
            "\n[providers.{id}]\nkind = \"command\"\ncommand = [\"{}\"]\nenv = {{ AX_FAKE_PID_FILE = \"{}\", AX_FAKE_SLEEP = \"{sleep}\" }}\n",
            crate::helpers::fake(program).display(),
            data.path().join(format!("{id}.pid")).display()
        ));
    }
    std::fs::write(data.path().join("config.toml"), toml).expect("write config.toml");
    let child = data
        .ax()
        .args([
            "--format",
            "json",
            "discuss",
            "Wait for me",
            "--providers",
            "s1,h2,h3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ax starts");
    let deadline = Instant::now() + Duration::from_secs(15);
    let answered =
        |pids: &[u32]| pids.len() == 5 && pids.iter().filter(|p| alive(**p)).count() == 4;
    while !answered(&recorded_pids(data.path())) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        answered(&recorded_pids(data.path())),
        "s1 answered, h2 and h3 (each with a grandchild) are running"
    );
    // Let the engine take s1's answer in.
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// Sends `signal` to a running discussion and checks what every way of stopping it
/// promises: exit `expected`, no provider process left, the partial discussion printed
/// and saved as `cancelled` with the answer that was given.
fn a_signal_stops_the_discussion_and_keeps_what_was_said(
    signal: rustix::process::Signal,
    expected: i32,
) {
    let data = DataDir::new();
    let child = a_discussion_with_one_answer_and_two_hanging_calls(&data);
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    rustix::process::kill_process(pid, signal).expect("signal sent");
    let out = child.wait_with_output().expect("ax exits");
    assert_eq!(code(&out), expected, "stderr: {}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("the partial result is printed");
    assert_eq!(result["error"]["code"], "DISCUSSION_CANCELLED", "{result}");
    assert_no_provider_process_left(data.path());
    let (_, history) = data.json(&["discuss", "history"]);
    assert_eq!(history["discussions"][0]["status"], "cancelled");
    let id = result["discussionId"].as_str().expect("saved id");
    assert_eq!(history["discussions"][0]["discussionId"], id);
    let (exit, saved) = data.json(&["discuss", "show", id]);
    assert_eq!(exit, 0, "{saved}");
    assert!(
        saved.to_string().contains("slow answer: "),
        "what s1 said is kept: {saved}"
    );
}

#[test]
fn sigterm_stops_the_providers_saves_what_was_said_and_exits_143() {
    a_signal_stops_the_discussion_and_keeps_what_was_said(rustix::process::Signal::TERM, 143);
}

#[test]
fn sighup_stops_the_providers_saves_what_was_said_and_exits_129() {
    a_signal_stops_the_discussion_and_keeps_what_was_said(rustix::process::Signal::HUP, 129);
}

/// SIGKILL cannot be caught: on Linux each provider's leader is armed with
/// `PR_SET_PDEATHSIG`, so it dies with `ax`; its own children are not, and the next
/// `ax discuss` kills them (they carry the dead `ax`'s identity in their environment).
#[cfg(target_os = "linux")]
#[test]
fn sigkill_of_ax_takes_the_provider_leaders_with_it_and_the_next_run_ends_the_rest() {
    let data = DataDir::new();
    let mut child = a_discussion_with_one_answer_and_two_hanging_calls(&data);
    let leaders: Vec<u32> = ["h2", "h3"]
        .iter()
        .filter_map(|id| {
            std::fs::read_to_string(data.path().join(format!("{id}.pid")))
                .ok()
                .and_then(|t| t.split_whitespace().next().and_then(|p| p.parse().ok()))
        })
        .collect();
    assert_eq!(leaders.len(), 2);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while leaders.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<u32> = leaders.iter().copied().filter(|p| alive(*p)).collect();
    // The leaders' own children (`sleep 300`) survive the death signal; the next
    // `ax discuss` ends them.
    let others: Vec<u32> = recorded_pids(data.path())
        .into_iter()
        .filter(|p| !leaders.contains(p) && alive(*p))
        .collect();
    let _ = data.run(&["discuss", "Again", "--providers", "nope1,nope2"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while others.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survivors: Vec<u32> = others.iter().copied().filter(|p| alive(*p)).collect();
    for pid in recorded_pids(data.path()) {
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
    assert!(left.is_empty(), "provider leaders outlived ax: {left:?}");
    assert_eq!(others.len(), 2, "each hanging provider had started a child");
    assert!(
        survivors.is_empty(),
        "the next ax discuss did not end what the killed one left: {survivors:?}"
    );
}
