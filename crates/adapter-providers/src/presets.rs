//! Built-in providers: the six AI CLIs (used when installed) and three mock providers
//! (for the offline demo). Every preset can be overridden key by key, replaced, or
//! hidden (`enabled = false`) in the config file.
//!
//! **No preset grants a provider permission to edit files or run tools, and none
//! loads a repository's own hooks, settings or MCP servers where the CLI has a switch
//! for it.** A discussion asks for opinions; an answer must never come with side
//! effects on the user's machine. Each preset uses the CLI's non-interactive mode and
//! its read-only / plan / no-approval setting, and never a flag that auto-approves
//! actions (`--dangerously-skip-permissions`, `--yolo`, `--full-auto`,
//! `--always-approve`, writable sandboxes). **Our retry policy is the only one:** where
//! a CLI lets us, its own retries are turned off, so a rate limit comes back to the
//! engine at once. Proven against the real CLIs by `tests/conformance/run-clis` (see
//! docs/PROVIDERS.md for the versions):
//!
//! | id | command | prompt | output |
//! |---|---|---|---|
//! | claude | `claude --print --output-format json --permission-mode plan --disallowedTools=Bash,Edit,Write,NotebookEdit --setting-sources user --strict-mcp-config` | stdin | `claude-json` |
//! | gemini | `gemini --output-format json --approval-mode default --skip-trust` | stdin | `gemini-json` |
//! | codex | `codex exec --json --sandbox read-only --skip-git-repo-check -` | stdin | `codex-jsonl` |
//! | grok | `grok --output-format json -p <prompt>` | argument | `grok-json` |
//! | opencode | `opencode run --format json --agent plan --print-logs --log-level ERROR` (+ edit/bash denied, no project config) | stdin | `opencode-jsonl` |
//! | ollama | `ollama run llama3.2` | stdin | `text` |
//!
//! Notes on the choices:
//! - claude: print mode cannot ask for permission, so anything not allowed is
//!   refused; `plan` mode makes it read-only and the disallowed list removes the
//!   mutating tools outright. The list is one word (`--disallowedTools=…`) because the
//!   flag takes several values and would swallow a prompt passed as an argument.
//!   `--setting-sources user` keeps a repository's `.claude/settings*.json` (and their
//!   hooks) out; `--strict-mcp-config` keeps its `.mcp.json` servers out;
//!   `CLAUDE_CODE_MAX_RETRIES=0` turns its own retries off. The system prompt goes to
//!   `--append-system-prompt`.
//! - gemini: piped stdin puts it in headless mode. `default` approval never
//!   auto-approves, and headless mode cannot prompt, so tools needing approval do not
//!   run. (Its `plan` mode is not used: headless, it exits plan mode by itself.)
//!   `--skip-trust`: headless gemini exits 55 in a folder never trusted interactively;
//!   the flag trusts it for this run only, and a repository's `.gemini/settings.json`
//!   hooks and MCP servers still do not run (checked by the conformance kit). Its own
//!   retries cannot be turned off from the command line; a call that times out while
//!   gemini is still retrying a 429 is reported as `rate_limit` (see `command`).
//! - codex: `-` reads the prompt from stdin; the read-only sandbox forbids writes;
//!   `exec` never asks for approval, it refuses. Its retries are per model provider
//!   (`request_max_retries`, `stream_max_retries`) and cannot be set for the built-in
//!   `openai` provider; set them to 0 in your own provider's table.
//! - grok: headless grok reads no stdin, so the prompt is the value of `-p`; without
//!   `--always-approve` any tool needing permission is cancelled. No registry serves
//!   this CLI; the npm `grok` (`@vibe-kit/grok-cli`) is another program and is
//!   reported unavailable.
//! - opencode: the `plan` agent denies edits; `OPENCODE_CONFIG_CONTENT` also denies
//!   edit, bash and webfetch, and `run` rejects every permission request.
//!   `OPENCODE_DISABLE_PROJECT_CONFIG` keeps a repository's `opencode.json` (its MCP
//!   servers, agents, permissions) out and `OPENCODE_PURE` loads no external plugins.
//!   Its retries cannot be turned off and leave no trace on stdout; `--print-logs
//!   --log-level ERROR` puts each failed attempt's API message on stderr, so a call
//!   that times out while opencode still retries is reported as what it is.
//! - ollama: a local model without tools; change the model with
//!   `[providers.ollama] command = ["ollama", "run", "qwen3"]`.
//!
//! Each CLI preset also carries an [`Identity`]: a program of the same name that is
//! not the targeted CLI is reported unavailable with the reason, and never joins a
//! default discussion.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::command::identity::Identity;
use crate::command::spec::{CommandSpec, OutputFormat, PromptMode};
use crate::definition::{DefinitionOrigin, ProviderDefinition, ProviderSpec};
use crate::mock::MockSpec;

/// The command presets, in the order `ax providers list` shows them.
pub const COMMAND_PRESET_IDS: [&str; 6] =
    ["claude", "gemini", "codex", "grok", "opencode", "ollama"];

/// The providers preferred as a discussion's synthesizer when it names none, best
/// first (the command presets, in their listing order); the CLI hands it to the
/// engine, which knows no provider by name.
pub const SYNTHESIZER_PREFERENCE: [&str; 6] = COMMAND_PRESET_IDS;

/// The mock presets the CLI falls back to when no real provider is available.
pub const MOCK_PRESET_IDS: [&str; 3] = ["mock-a", "mock-b", "mock-c"];

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const CLAUDE: Identity = Identity {
    program: "claude",
    target: "Claude Code",
    npm_packages: &["@anthropic-ai/claude-code"],
    help_args: &["--help"],
    help_markers: &[
        "--setting-sources",
        "--disallowedTools",
        "--permission-mode",
    ],
};

const GEMINI: Identity = Identity {
    program: "gemini",
    target: "Gemini CLI",
    npm_packages: &["@google/gemini-cli"],
    help_args: &["--help"],
    help_markers: &["--skip-trust", "--approval-mode", "--output-format"],
};

const CODEX: Identity = Identity {
    program: "codex",
    target: "OpenAI Codex CLI",
    npm_packages: &["@openai/codex"],
    help_args: &["exec", "--help"],
    help_markers: &["--sandbox", "--skip-git-repo-check", "--json"],
};

const GROK: Identity = Identity {
    program: "grok",
    target: "the grok CLI the preset targets",
    // No registry serves it; the npm `grok` (@vibe-kit/grok-cli) is another program.
    npm_packages: &[],
    help_args: &["--help"],
    help_markers: &["--output-format"],
};

const OPENCODE: Identity = Identity {
    program: "opencode",
    target: "opencode (opencode-ai)",
    npm_packages: &["opencode-ai", "opencode"],
    help_args: &["run", "--help"],
    help_markers: &["--format", "--agent"],
};

fn command(list: &[&str], prompt: PromptMode, output: OutputFormat) -> CommandSpec {
    CommandSpec {
        prompt,
        output,
        ..CommandSpec::new(words(list))
    }
}

/// The built-in definition of `id`, if it is a preset.
pub fn preset(id: &str) -> Option<ProviderDefinition> {
    let spec = match id {
        "claude" => ProviderSpec::Command(CommandSpec {
            system_prompt_flag: Some("--append-system-prompt".into()),
            env: env(&[("CLAUDE_CODE_MAX_RETRIES", "0")]),
            identity: Some(CLAUDE),
            ..command(
                &[
                    "claude",
                    "--print",
                    "--output-format",
                    "json",
                    "--permission-mode",
                    "plan",
                    "--disallowedTools=Bash,Edit,Write,NotebookEdit",
                    "--setting-sources",
                    "user",
                    "--strict-mcp-config",
                ],
                PromptMode::Stdin,
                OutputFormat::ClaudeJson,
            )
        }),
        "gemini" => ProviderSpec::Command(CommandSpec {
            identity: Some(GEMINI),
            retries_itself: true,
            ..command(
                &[
                    "gemini",
                    "--output-format",
                    "json",
                    "--approval-mode",
                    "default",
                    "--skip-trust",
                ],
                PromptMode::Stdin,
                OutputFormat::GeminiJson,
            )
        }),
        "codex" => ProviderSpec::Command(CommandSpec {
            identity: Some(CODEX),
            ..command(
                &[
                    "codex",
                    "exec",
                    "--json",
                    "--sandbox",
                    "read-only",
                    "--skip-git-repo-check",
                    "-",
                ],
                PromptMode::Stdin,
                OutputFormat::CodexJsonl,
            )
        }),
        "grok" => ProviderSpec::Command(CommandSpec {
            prompt_flag: Some("-p".into()),
            identity: Some(GROK),
            ..command(
                &["grok", "--output-format", "json"],
                PromptMode::Arg,
                OutputFormat::GrokJson,
            )
        }),
        "opencode" => ProviderSpec::Command(CommandSpec {
            env: env(&[
                (
                    "OPENCODE_CONFIG_CONTENT",
                    r#"{"permission":{"edit":"deny","bash":"deny","webfetch":"deny"}}"#,
                ),
                ("OPENCODE_DISABLE_PROJECT_CONFIG", "1"),
                ("OPENCODE_PURE", "1"),
            ]),
            identity: Some(OPENCODE),
            retries_itself: true,
            ..command(
                &[
                    "opencode",
                    "run",
                    "--format",
                    "json",
                    "--agent",
                    "plan",
                    "--print-logs",
                    "--log-level",
                    "ERROR",
                ],
                PromptMode::Stdin,
                OutputFormat::OpencodeJsonl,
            )
        }),
        "ollama" => ProviderSpec::Command(command(
            &["ollama", "run", "llama3.2"],
            PromptMode::Stdin,
            OutputFormat::Text,
        )),
        // Small, different latencies so the demo's progress display shows providers
        // finishing one after another, as real ones do.
        "mock-a" => ProviderSpec::Mock(MockSpec::with_latency(Duration::from_millis(200))),
        "mock-b" => ProviderSpec::Mock(MockSpec::with_latency(Duration::from_millis(300))),
        "mock-c" => ProviderSpec::Mock(MockSpec::with_latency(Duration::from_millis(400))),
        _ => return None,
    };
    Some(ProviderDefinition::new(id, spec, DefinitionOrigin::Preset))
}

/// Whether `id` names a preset.
pub fn is_preset(id: &str) -> bool {
    COMMAND_PRESET_IDS.contains(&id) || MOCK_PRESET_IDS.contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flags that would let a provider change files or run tools unattended.
    const FORBIDDEN: &[&str] = &[
        "--dangerously-skip-permissions",
        "--yolo",
        "-y",
        "--full-auto",
        "--always-approve",
        "bypassPermissions",
        "acceptEdits",
        "auto_edit",
        "workspace-write",
        "danger-full-access",
        "--auto",
    ];

    #[test]
    fn no_preset_grants_edit_or_tool_permissions() {
        for id in COMMAND_PRESET_IDS {
            let Some(ProviderDefinition {
                spec: ProviderSpec::Command(spec),
                ..
            }) = preset(id)
            else {
                panic!("{id} is a command preset");
            };
            for word in spec.command.iter().chain(&spec.args) {
                assert!(!FORBIDDEN.contains(&word.as_str()), "{id} passes {word}");
            }
            for value in spec.env.values() {
                assert!(
                    !value.contains("\"allow\""),
                    "{id} env allows something: {value}"
                );
            }
        }
    }

    fn command_spec(id: &str) -> CommandSpec {
        match preset(id).map(|d| d.spec) {
            Some(ProviderSpec::Command(spec)) => spec,
            other => panic!("{id} is not a command preset: {other:?}"),
        }
    }

    #[test]
    fn claude_keeps_repository_settings_out_and_never_swallows_an_argument_prompt() {
        let spec = command_spec("claude");
        let argv = spec.command.join(" ");
        // Several-valued flags must be one word, or `prompt = "arg"` becomes a tool name.
        assert!(argv.contains("--disallowedTools=Bash,Edit,Write,NotebookEdit"));
        assert!(!spec.command.iter().any(|w| w == "--disallowedTools"));
        assert!(!argv.contains("MultiEdit"), "MultiEdit is no longer a tool");
        assert!(argv.contains("--setting-sources user"), "no project hooks");
        assert!(
            argv.contains("--strict-mcp-config"),
            "no project MCP servers"
        );
        assert_eq!(
            spec.env.get("CLAUDE_CODE_MAX_RETRIES").map(String::as_str),
            Some("0")
        );
    }

    #[test]
    fn gemini_runs_in_a_folder_never_trusted_interactively() {
        assert!(
            command_spec("gemini")
                .command
                .iter()
                .any(|w| w == "--skip-trust")
        );
    }

    #[test]
    fn opencode_loads_no_project_config_or_plugins() {
        let spec = command_spec("opencode");
        assert_eq!(
            spec.env
                .get("OPENCODE_DISABLE_PROJECT_CONFIG")
                .map(String::as_str),
            Some("1")
        );
        assert_eq!(spec.env.get("OPENCODE_PURE").map(String::as_str), Some("1"));
        assert!(spec.env["OPENCODE_CONFIG_CONTENT"].contains(r#""edit":"deny""#));
    }

    #[test]
    fn every_cli_preset_knows_what_its_program_looks_like() {
        for id in ["claude", "gemini", "codex", "grok", "opencode"] {
            let spec = command_spec(id);
            let identity = spec
                .identity
                .clone()
                .unwrap_or_else(|| panic!("{id} has an identity"));
            assert!(identity.applies_to(spec.program()), "{id}");
            // The flags the preset passes are what the help must mention.
            for marker in identity.help_markers {
                let flag = marker.trim_start_matches('-');
                assert!(
                    spec.command
                        .iter()
                        .any(|w| w.trim_start_matches('-').starts_with(flag)),
                    "{id}: {marker} is not a flag the preset passes"
                );
            }
        }
        assert!(
            command_spec("grok")
                .identity
                .unwrap()
                .npm_packages
                .is_empty()
        );
        assert!(command_spec("ollama").identity.is_none());
    }

    #[test]
    fn every_listed_preset_exists_and_others_do_not() {
        for id in COMMAND_PRESET_IDS.iter().chain(&MOCK_PRESET_IDS) {
            assert_eq!(preset(id).map(|d| d.id), Some((*id).to_owned()));
        }
        assert!(preset("gpt").is_none());
    }
}
