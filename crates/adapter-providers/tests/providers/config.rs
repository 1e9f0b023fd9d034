//! `config.toml` parsing: presets overridden key by key, providers added, presets
//! hidden or replaced, and every mistake reported with the file, the key path and
//! what was wrong.

use std::time::Duration;

use ax_adapter_providers::command::spec::{OutputFormat, PromptMode};
use ax_adapter_providers::definition::DefinitionOrigin;
use ax_adapter_providers::mock::MockMode;
use ax_adapter_providers::{
    ConfigError, ProviderKind, ProviderRegistry, ProviderSpec, ProvidersFile,
};
use ax_discussion_domain::provider::{ProviderErrorKind, ProviderExecutor};

use crate::helpers::request;

fn parse(text: &str) -> Result<ProvidersFile, ConfigError> {
    ProvidersFile::from_str(text, "/data/config.toml")
}

fn invalid(text: &str) -> (String, String) {
    match parse(text) {
        Err(error @ ConfigError::Invalid { .. }) => (
            error.key().unwrap_or_default().to_owned(),
            error.to_string(),
        ),
        other => panic!("expected an invalid-key error for\n{text}\ngot {other:?}"),
    }
}

#[test]
fn an_empty_file_means_the_presets_in_their_stable_order() {
    let file = parse("").unwrap();
    let ids: Vec<&str> = file.providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "claude", "gemini", "codex", "grok", "opencode", "ollama", "mock-a", "mock-b", "mock-c"
        ]
    );
    assert_eq!(file, ProvidersFile::defaults());
    assert_eq!(file.max_concurrent_provider_calls, None);
}

#[test]
fn a_preset_table_overrides_only_the_keys_it_names() {
    let file = parse(
        "max_concurrent_provider_calls = 8\n\
         [providers.claude]\ntimeout = \"5m\"\nmax_concurrent = 2\nargs = [\"--model\", \"opus\"]\n",
    )
    .unwrap();
    let preset = ProvidersFile::defaults().get("claude").cloned().unwrap();
    let claude = file.get("claude").unwrap();

    assert_eq!(file.max_concurrent_provider_calls, Some(8));
    assert_eq!(claude.origin, DefinitionOrigin::OverriddenPreset);
    assert_eq!(claude.timeout, Some(Duration::from_secs(300)));
    assert_eq!(claude.max_concurrent, Some(2));
    let (ProviderSpec::Command(spec), ProviderSpec::Command(original)) =
        (&claude.spec, &preset.spec)
    else {
        panic!("claude is a command provider");
    };
    assert_eq!(
        spec.command, original.command,
        "the preset's flags are kept"
    );
    assert_eq!(spec.args, ["--model", "opus"]);
    assert_eq!(spec.output, OutputFormat::ClaudeJson);

    let registry = ProviderRegistry::from_config(&file).unwrap();
    assert_eq!(registry.max_concurrent_provider_calls(), Some(8));
    let info = registry
        .providers()
        .into_iter()
        .find(|p| p.id == "claude")
        .unwrap();
    assert_eq!(info.max_concurrent, Some(2));
    assert_eq!(info.default_timeout, Some(Duration::from_secs(300)));
    assert!(
        info.description.contains("--model opus"),
        "{}",
        info.description
    );
}

#[test]
fn the_design_brief_example_parses() {
    let file = parse(
        r#"
max_concurrent_provider_calls = 5

[providers.claude]
kind = "command"
command = ["claude", "--print", "--output-format", "stream-json", "--verbose"]
prompt = "stdin"
output = "claude-stream-json"
timeout = "10m"
max_concurrent = 2

[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:11434/v1"
model = "llama3.2"
api_key_env = "OLLAMA_API_KEY"

[providers.sim]
kind = "mock"
latency = "200ms"
"#,
    )
    .unwrap();
    let ids: Vec<&str> = file.providers.iter().map(|p| p.id.as_str()).collect();
    // Additions come after the command presets and before the mock presets.
    assert_eq!(
        ids,
        [
            "claude", "gemini", "codex", "grok", "opencode", "ollama", "local", "sim", "mock-a",
            "mock-b", "mock-c"
        ]
    );
    let local = file.get("local").unwrap();
    assert_eq!(local.origin, DefinitionOrigin::Config);
    let ProviderSpec::OpenAi(spec) = &local.spec else {
        panic!("local is openai")
    };
    assert_eq!(
        (spec.base_url.as_str(), spec.model.as_str()),
        ("http://127.0.0.1:11434/v1", "llama3.2")
    );
    assert_eq!(spec.api_key_env.as_deref(), Some("OLLAMA_API_KEY"));
    let ProviderSpec::Mock(sim) = &file.get("sim").unwrap().spec else {
        panic!("sim is a mock")
    };
    assert_eq!(sim.latency, Duration::from_millis(200));
    let ProviderSpec::Command(claude) = &file.get("claude").unwrap().spec else {
        panic!()
    };
    assert_eq!(claude.prompt, PromptMode::Stdin);
    assert_eq!(claude.command.last().map(String::as_str), Some("--verbose"));
}

#[test]
fn a_different_kind_replaces_a_preset() {
    let file = parse("[providers.ollama]\nkind = \"openai\"\nbase_url = \"http://localhost:11434/v1\"\nmodel = \"qwen3\"\n").unwrap();
    let ollama = file.get("ollama").unwrap();
    assert_eq!(ollama.spec.kind(), ProviderKind::OpenAi);
    assert_eq!(ollama.origin, DefinitionOrigin::OverriddenPreset);
}

#[tokio::test]
async fn enabled_false_hides_a_preset() {
    let file = parse("[providers.grok]\nenabled = false\n").unwrap();
    assert!(file.get("grok").is_none());
    assert_eq!(file.disabled, ["grok"]);

    let registry = ProviderRegistry::from_config(&file).unwrap();
    let error = registry
        .execute(request("grok", "hi", Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::NotFound);
    assert!(error.message.contains("disabled"), "{}", error.message);
}

#[test]
fn mock_settings() {
    let file = parse(
        "[providers.flaky]\nkind = \"mock\"\nlatency = \"1s\"\nmode = \"garbage\"\nfail_first = 2\n\
         fail_kind = \"server\"\nretry_after = \"250ms\"\n",
    )
    .unwrap();
    let ProviderSpec::Mock(spec) = &file.get("flaky").unwrap().spec else {
        panic!("a mock")
    };
    assert_eq!(spec.latency, Duration::from_secs(1));
    assert_eq!(spec.mode, MockMode::Garbage);
    assert_eq!(spec.fail_first, 2);
    assert_eq!(spec.fail_kind, Some(ProviderErrorKind::Server));
    assert_eq!(spec.retry_after, Some(Duration::from_millis(250)));
}

#[test]
fn an_unknown_key_is_an_error_with_its_path_and_a_suggestion() {
    let (key, message) = invalid("[providers.claude]\ncomand = [\"claude\"]\n");
    assert_eq!(key, "providers.claude.comand");
    assert!(
        message.starts_with("/data/config.toml: providers.claude.comand: unknown key"),
        "{message}"
    );
    assert!(message.contains("did you mean `command`?"), "{message}");

    let (key, message) = invalid("max_concurent_provider_calls = 3\n");
    assert_eq!(key, "max_concurent_provider_calls");
    assert!(
        message.contains("did you mean `max_concurrent_provider_calls`?"),
        "{message}"
    );
}

#[test]
fn a_key_of_another_kind_is_an_error() {
    let (key, message) = invalid("[providers.claude]\nbase_url = \"http://x\"\n");
    assert_eq!(key, "providers.claude.base_url");
    assert!(
        message.contains("not a setting of a command provider"),
        "{message}"
    );
}

#[test]
fn bad_durations_are_errors() {
    let (key, message) = invalid("[providers.claude]\ntimeout = \"10 minutes\"\n");
    assert_eq!(key, "providers.claude.timeout");
    assert!(message.contains("10 minutes"), "{message}");

    let (_, message) = invalid("[providers.claude]\ntimeout = 90\n");
    assert!(message.contains("expected a duration string"), "{message}");

    let (key, _) = invalid("[providers.claude]\ntimeout = \"0s\"\n");
    assert_eq!(key, "providers.claude.timeout");

    let (key, _) = invalid("[providers.sim]\nkind = \"mock\"\nlatency = \"fast\"\n");
    assert_eq!(key, "providers.sim.latency");
}

#[test]
fn values_are_checked() {
    let cases = [
        (
            "max_concurrent_provider_calls = 0\n",
            "max_concurrent_provider_calls",
            "out of range",
        ),
        (
            "max_concurrent_provider_calls = \"5\"\n",
            "max_concurrent_provider_calls",
            "expected an integer",
        ),
        (
            "[providers.claude]\nmax_concurrent = 65\n",
            "providers.claude.max_concurrent",
            "out of range",
        ),
        (
            "[providers.claude]\noutput = \"yaml\"\n",
            "providers.claude.output",
            "unknown output format",
        ),
        (
            "[providers.claude]\nprompt = \"file\"\n",
            "providers.claude.prompt",
            "unknown prompt mode",
        ),
        (
            "[providers.claude]\ncommand = []\n",
            "providers.claude.command",
            "must name a program",
        ),
        (
            "[providers.claude]\ncommand = \"claude -p\"\n",
            "providers.claude.command",
            "expected a list of strings",
        ),
        (
            "[providers.claude]\ncommand = [\"claude\", 3]\n",
            "providers.claude.command[1]",
            "expected a string",
        ),
        (
            "[providers.claude]\nenv = { A = 1 }\n",
            "providers.claude.env.A",
            "expected a string",
        ),
        (
            "[providers.claude]\nkind = \"shell\"\n",
            "providers.claude.kind",
            "unknown kind",
        ),
        (
            "[providers.claude]\nenabled = \"no\"\n",
            "providers.claude.enabled",
            "expected true or false",
        ),
        (
            "[providers.newcli]\ncommand = [\"x\"]\n",
            "providers.newcli.kind",
            "not a preset",
        ),
        (
            "[providers.newcli]\nkind = \"command\"\n",
            "providers.newcli.command",
            "missing",
        ),
        (
            "[providers.api]\nkind = \"openai\"\nmodel = \"m\"\n",
            "providers.api.base_url",
            "missing",
        ),
        (
            "[providers.api]\nkind = \"openai\"\nbase_url = \"ftp://x\"\nmodel = \"m\"\n",
            "providers.api.base_url",
            "not an http(s) URL",
        ),
        (
            "[providers.api]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\n",
            "providers.api.model",
            "missing",
        ),
        (
            "[providers.sim]\nkind = \"mock\"\nmode = \"explode\"\n",
            "providers.sim.mode",
            "unknown mode",
        ),
        (
            "[providers.sim]\nkind = \"mock\"\nfail_kind = \"oops\"\n",
            "providers.sim.fail_kind",
            "unknown error kind",
        ),
        (
            "[providers.\"bad id\"]\nkind = \"mock\"\n",
            "providers.\"bad id\"",
            "provider id",
        ),
        ("providers = 3\n", "providers", "expected a table"),
        (
            "[providers]\nx = 3\n",
            "providers.x",
            "expected a table of settings",
        ),
        (
            "[providers.claude]\nenv = { \"A=B\" = \"x\" }\n",
            "providers.claude.env.\"A=B\"",
            "not a valid environment variable name",
        ),
        (
            "[providers.claude]\ndescription = 1979-05-27\n",
            "providers.claude.description",
            "expected a string, found a datetime",
        ),
        (
            "[providers.api]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nmodle = \"m\"\n",
            "providers.api.modle",
            "did you mean `model`?",
        ),
        (
            "[providers.sim]\nkind = \"mock\"\nfail_first = -1\n",
            "providers.sim.fail_first",
            "-1 is out of range (0–1000000)",
        ),
    ];
    for (text, expected_key, expected_message) in cases {
        let (key, message) = invalid(text);
        assert_eq!(key, expected_key, "for {text:?}: {message}");
        assert!(
            message.contains(expected_message),
            "for {text:?}: {message}"
        );
        assert!(
            message.starts_with("/data/config.toml: "),
            "names the file: {message}"
        );
    }
}

/// The whole table is read before `enabled = false` hides a provider, so a typo in
/// a disabled table is reported too, not kept for the day it is enabled.
#[test]
fn a_disabled_table_is_still_checked() {
    let (key, message) = invalid("[providers.grok]\nenabled = false\ntimeout = 90\n");
    assert_eq!(key, "providers.grok.timeout");
    assert!(message.contains("expected a duration string"), "{message}");
    // Only the keys a provider needs when it runs may be left out.
    let file = parse("[providers.later]\nkind = \"command\"\nenabled = false\n").unwrap();
    assert_eq!(file.disabled, ["later"]);
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    match parse("max_concurrent_provider_calls = 5\n[providers.claude\n") {
        Err(error @ ConfigError::Syntax { .. }) => {
            let message = error.to_string();
            assert!(
                message.starts_with("/data/config.toml: invalid TOML at line 2"),
                "{message}"
            );
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn load_reads_the_file_and_a_missing_file_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");

    assert_eq!(
        ProvidersFile::load(&path).unwrap(),
        ProvidersFile::defaults()
    );

    std::fs::write(
        &path,
        "max_concurrent_provider_calls = 3\n[providers.codex]\nenabled = false\n",
    )
    .unwrap();
    let file = ProvidersFile::load(&path).unwrap();
    assert_eq!(file.max_concurrent_provider_calls, Some(3));
    assert_eq!(file.source.as_deref(), path.to_str());
    assert!(file.get("codex").is_none());

    std::fs::write(&path, "[providers.codex]\ntimeout = \"soon\"\n").unwrap();
    let message = ProvidersFile::load(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}: providers.codex.timeout: ", path.display())),
        "{message}"
    );
}
