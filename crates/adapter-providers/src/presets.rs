//! Built-in providers: the six AI CLIs (used when installed) and three mock providers
//! (for the offline demo). Every preset can be overridden key by key, replaced, or
//! hidden (`enabled = false`) in the config file.
//!
//! **No preset grants a provider permission to edit files or run tools.** A discussion
//! asks for opinions; an answer must never come with side effects on the user's
//! machine. Each preset uses the CLI's non-interactive mode and its read-only /
//! plan / no-approval setting, and never a flag that auto-approves actions
//! (`--dangerously-skip-permissions`, `--yolo`, `--full-auto`, `--always-approve`,
//! writable sandboxes). Flags as of the CLIs' current documentation:
//!
//! | id | command | prompt | output |
//! |---|---|---|---|
//! | claude | `claude --print --output-format json --permission-mode plan --disallowedTools Bash,Edit,Write,MultiEdit,NotebookEdit` | stdin | `claude-json` |
//! | gemini | `gemini --output-format json --approval-mode default` | stdin | `gemini-json` |
//! | codex | `codex exec --json --sandbox read-only --skip-git-repo-check -` | stdin | `codex-jsonl` |
//! | grok | `grok --output-format json -p <prompt>` | argument | `grok-json` |
//! | opencode | `opencode run --format json --agent plan` (+ edit/bash denied) | stdin | `opencode-jsonl` |
//! | ollama | `ollama run llama3.2` | stdin | `text` |
//!
//! Notes on the choices:
//! - claude: print mode cannot ask for permission, so anything not allowed is
//!   refused; `plan` mode makes it read-only and the disallowed list removes the
//!   mutating tools outright. The system prompt goes to `--append-system-prompt`.
//! - gemini: piped stdin puts it in headless mode. `default` approval never
//!   auto-approves, and headless mode cannot prompt, so tools needing approval do not
//!   run. (Its `plan` mode is not used: headless, it exits plan mode by itself.)
//! - codex: `-` reads the prompt from stdin; the read-only sandbox forbids writes;
//!   `exec` never asks for approval, it refuses.
//! - grok: headless grok reads no stdin, so the prompt is the value of `-p`; without
//!   `--always-approve` any tool needing permission is cancelled.
//! - opencode: the `plan` agent denies edits; `OPENCODE_CONFIG_CONTENT` also denies
//!   edit, bash and webfetch, and `run` rejects every permission request.
//! - ollama: a local model without tools; change the model with
//!   `[providers.ollama] command = ["ollama", "run", "qwen3"]`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::command::spec::{CommandSpec, OutputFormat, PromptMode};
use crate::definition::{DefinitionOrigin, ProviderDefinition, ProviderSpec};
use crate::mock::MockSpec;

/// The command presets, in the order `ax providers list` shows them.
pub const COMMAND_PRESET_IDS: [&str; 6] =
    ["claude", "gemini", "codex", "grok", "opencode", "ollama"];

/// The mock presets the CLI falls back to when no real provider is available.
pub const MOCK_PRESET_IDS: [&str; 3] = ["mock-a", "mock-b", "mock-c"];

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

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
            ..command(
                &[
                    "claude",
                    "--print",
                    "--output-format",
                    "json",
                    "--permission-mode",
                    "plan",
                    "--disallowedTools",
                    "Bash,Edit,Write,MultiEdit,NotebookEdit",
                ],
                PromptMode::Stdin,
                OutputFormat::ClaudeJson,
            )
        }),
        "gemini" => ProviderSpec::Command(command(
            &[
                "gemini",
                "--output-format",
                "json",
                "--approval-mode",
                "default",
            ],
            PromptMode::Stdin,
            OutputFormat::GeminiJson,
        )),
        "codex" => ProviderSpec::Command(command(
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
        )),
        "grok" => ProviderSpec::Command(CommandSpec {
            prompt_flag: Some("-p".into()),
            ..command(
                &["grok", "--output-format", "json"],
                PromptMode::Arg,
                OutputFormat::GrokJson,
            )
        }),
        "opencode" => ProviderSpec::Command(CommandSpec {
            env: BTreeMap::from([(
                "OPENCODE_CONFIG_CONTENT".to_owned(),
                r#"{"permission":{"edit":"deny","bash":"deny","webfetch":"deny"}}"#.to_owned(),
            )]),
            ..command(
                &["opencode", "run", "--format", "json", "--agent", "plan"],
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

    #[test]
    fn every_listed_preset_exists_and_others_do_not() {
        for id in COMMAND_PRESET_IDS.iter().chain(&MOCK_PRESET_IDS) {
            assert_eq!(preset(id).map(|d| d.id), Some((*id).to_owned()));
        }
        assert!(preset("gpt").is_none());
    }
}
