//! What a command provider runs: the argument list, where the prompt goes, how the
//! output is read, and the limits that keep a misbehaving CLI from hurting us.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::CommandProvider;
use super::identity::Identity;
use crate::config::values::{Env, Name, NonEmpty, Program, Ranged, Words, named};
use crate::kind::{Kind, Live, Missing};

/// Default cap on a provider's stdout. Real answers are a few KiB; JSON event streams
/// with tool traces reach a few hundred KiB. Past the cap the process is killed and the
/// call fails with `invalid_output`, so a runaway CLI cannot exhaust our memory.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// How much of stderr is kept (the tail, where CLIs print the actual error). The rest
/// is read and discarded so the child never blocks on a full pipe.
pub const STDERR_TAIL_BYTES: usize = 16 * 1024;

ax_contracts::wire_enum! {
    /// Where the prompt goes (`prompt` in `config.toml`).
    pub enum PromptMode {
        /// Written to the child's stdin, which is then closed. Preferred: no length
        /// limit, nothing in `ps` output.
        Stdin = "stdin",
        /// Passed as the last argument (after `prompt_flag` when one is set), for CLIs
        /// that do not read stdin. Linux limits one argument to 128 KiB.
        Arg = "arg",
    }
}

ax_contracts::wire_enum! {
    /// How a command provider's stdout is turned into an answer (`output` in
    /// `config.toml`). Besides the canonical names, `stream-json` means `jsonl` and a
    /// preset's id means that preset's parser (`output = "claude"`), so a user who
    /// points a preset at a wrapper script can say "parse it like claude".
    pub enum OutputFormat {
        /// The whole of stdout, trimmed, is the answer (ollama, `claude` without JSON).
        Text = "text" | "ollama",
        /// One JSON document; the answer is found under any of the fields the known
        /// CLIs use (`result`, `response`, `text`, `choices[0].message.content`,
        /// `content`).
        Json = "json",
        /// JSON lines (stream-json); every known event shape is understood and the
        /// final assistant text is collected.
        Jsonl = "jsonl" | "stream-json",
        /// `claude --print --output-format json`: `result`, `is_error`, `usage`.
        ClaudeJson = "claude-json" | "claude",
        /// `claude --print --output-format stream-json --verbose`: the final `result`
        /// event.
        ClaudeStreamJson = "claude-stream-json",
        /// `gemini --output-format json`: `response`, `error`, `stats.models.*.tokens`.
        GeminiJson = "gemini-json" | "gemini",
        /// `gemini --output-format stream-json`: assistant `message` events and
        /// `result`.
        GeminiStreamJson = "gemini-stream-json",
        /// `codex exec --json`: `item.completed` agent messages, `turn.completed` usage.
        CodexJsonl = "codex-jsonl" | "codex",
        /// `grok -p ... --output-format json`: `text`, `stopReason`.
        GrokJson = "grok-json" | "grok",
        /// `opencode run --format json`: `text` parts of the last step, `step_finish`
        /// tokens.
        OpencodeJsonl = "opencode-jsonl" | "opencode",
    }
}

named! {
    PromptMode => "prompt mode",
    OutputFormat => "output format",
}

/// A command provider's keys in `config.toml`; each replaces the preset's value,
/// except `env`, whose variables are added to the preset's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSection {
    command: Option<Program>,
    args: Option<Words>,
    prompt: Option<Name<PromptMode>>,
    prompt_flag: Option<NonEmpty>,
    system_prompt_flag: Option<NonEmpty>,
    output: Option<Name<OutputFormat>>,
    env: Option<Env>,
    max_output_bytes: Option<Ranged<1, { 1 << 30 }>>,
}

/// The `command` kind: a program run with an argument list, never through a shell.
#[derive(Debug)]
pub struct CommandKind;

impl Kind for CommandKind {
    type Section = CommandSection;
    type Spec = CommandSpec;

    fn resolve(base: Option<CommandSpec>, section: CommandSection) -> Result<CommandSpec, Missing> {
        let CommandSection {
            command,
            args,
            prompt,
            prompt_flag,
            system_prompt_flag,
            output,
            env,
            max_output_bytes,
        } = section;
        let mut spec = match (base, command) {
            (base, Some(Program(command))) => CommandSpec {
                command,
                ..base.unwrap_or_else(|| CommandSpec::new(Vec::new()))
            },
            (Some(base), None) => base,
            (None, None) => {
                return Err(Missing {
                    key: "command",
                    message:
                        "missing; a command provider needs command = [\"program\", \"arg\", ...]"
                            .into(),
                });
            }
        };
        if let Some(Words(args)) = args {
            spec.args = args;
        }
        if let Some(Name(prompt)) = prompt {
            spec.prompt = prompt;
        }
        if let Some(NonEmpty(flag)) = prompt_flag {
            spec.prompt_flag = Some(flag);
        }
        if let Some(NonEmpty(flag)) = system_prompt_flag {
            spec.system_prompt_flag = Some(flag);
        }
        if let Some(Name(output)) = output {
            spec.output = output;
        }
        if let Some(Env(vars)) = env {
            spec.env.extend(vars);
        }
        if let Some(cap) = max_output_bytes {
            spec.max_output_bytes = cap.count();
        }
        Ok(spec)
    }

    fn describe(spec: &CommandSpec) -> String {
        spec.display()
    }

    fn build(id: &str, spec: &CommandSpec) -> Result<Box<dyn Live>, String> {
        Ok(Box::new(CommandProvider::new(id, spec.clone())))
    }
}

/// A fully resolved command provider.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    /// Program and fixed arguments; the program is looked up on `PATH` unless it
    /// contains a `/`. Never run through a shell.
    pub command: Vec<String>,
    /// Extra arguments appended after `command` (lets a config add `--model x` to a
    /// preset without restating its flags).
    pub args: Vec<String>,
    /// Where the prompt goes.
    pub prompt: PromptMode,
    /// With [`PromptMode::Arg`], a flag put before the prompt (`-p` for grok).
    pub prompt_flag: Option<String>,
    /// A flag that takes the system prompt as its value (`--append-system-prompt` for
    /// claude). Without one, the system prompt is prepended to the prompt.
    pub system_prompt_flag: Option<String>,
    /// How stdout is parsed.
    pub output: OutputFormat,
    /// Extra environment for the child (on top of ours and `NO_COLOR=1`).
    pub env: BTreeMap<String, String>,
    /// Cap on stdout; see [`DEFAULT_MAX_OUTPUT_BYTES`].
    pub max_output_bytes: usize,
    /// For presets: what the targeted CLI looks like, so a different program of the
    /// same name is reported unavailable (see [`super::identity`]).
    pub identity: Option<Identity>,
    /// For presets of CLIs whose own retries cannot be turned off (gemini, opencode):
    /// a retryable failure is not retried again by the engine, so retries never stack.
    pub retries_itself: bool,
}

impl CommandSpec {
    /// A spec running `command` with the prompt on stdin, parsed as plain text.
    pub fn new(command: Vec<String>) -> Self {
        Self {
            command,
            args: Vec::new(),
            prompt: PromptMode::Stdin,
            prompt_flag: None,
            system_prompt_flag: None,
            output: OutputFormat::Text,
            env: BTreeMap::new(),
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            identity: None,
            retries_itself: false,
        }
    }

    /// The program (first word of `command`).
    pub fn program(&self) -> &str {
        self.command.first().map(String::as_str).unwrap_or_default()
    }

    /// The command line for people (`ax providers list`); not for execution.
    pub fn display(&self) -> String {
        let mut words: Vec<&str> = self.command.iter().map(String::as_str).collect();
        words.extend(self.args.iter().map(String::as_str));
        if let Some(flag) = &self.prompt_flag {
            words.push(flag);
        }
        let mut line = words.join(" ");
        line.push_str(match self.prompt {
            PromptMode::Stdin => " < prompt",
            PromptMode::Arg => " <prompt>",
        });
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_name_round_trips() {
        for name in OutputFormat::NAMES {
            let format = OutputFormat::from_wire(name).expect("canonical names parse");
            assert_eq!(format.as_str(), *name);
        }
        assert_eq!(
            OutputFormat::from_wire("claude"),
            Some(OutputFormat::ClaudeJson)
        );
        assert_eq!(
            OutputFormat::from_wire("stream-json"),
            Some(OutputFormat::Jsonl)
        );
        assert_eq!(OutputFormat::from_wire("yaml"), None);
    }
}
