//! What to do about a provider that did not answer, for stderr: which provider, why,
//! and the next step — install it, sign in, set the API key variable, start the
//! server, allow more time — or, when the user named providers that are not here,
//! that omitting `--providers` runs the ones available (the simulated mock providers
//! on a machine without any AI CLI).

use std::path::Path;

use ax_adapter_providers::command::executable::find_executable;
use ax_adapter_providers::{ProviderRegistry, ProviderSpec};
use ax_contracts::discussion::{DiscussionResult, FailedProvider, FailureCode};
use ax_contracts::error::ErrorCode;
use ax_contracts::provider::ProviderErrorKind as Kind;

use crate::error::CliError;
use crate::text::escape_controls as esc;

/// What a run found about the providers a discussion would use by default.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// The provider ids a discussion without `--providers` uses.
    pub providers: Vec<String>,
    /// Whether they are the simulated mock providers.
    pub simulated: bool,
}

/// The stderr report of a discussion that ran and failed: the reason, one line per
/// provider that did not answer with its next step, and a hint. `named_by` is the flag
/// the user named the speakers with (`--providers`, `--participants`), if any.
pub fn failure(
    result: &DiscussionResult,
    registry: &ProviderRegistry,
    config_file: &Path,
    named_by: Option<&str>,
    defaults: &Defaults,
) -> CliError {
    let (code, message) = match &result.error {
        Some(error) => (error.code, esc(&error.message)),
        None => (
            ErrorCode::InternalError,
            "it reached no conclusion".to_owned(),
        ),
    };
    let mut err = CliError::new(code, format!("the discussion failed: {message}"));
    err.lines = result
        .failed_providers
        .iter()
        .flat_map(|f| next_step(f, registry, config_file).lines("  "))
        .collect();
    let missing: Vec<String> = result
        .failed_providers
        .iter()
        .filter(|f| f.code == Kind::NotFound.into())
        .map(|f| esc(&f.provider))
        .collect();
    let hint = match named_by {
        Some(flag) if !missing.is_empty() && !defaults.providers.is_empty() => format!(
            "leave {} out of {flag}, or omit {flag} to run the providers available here ({}{})",
            missing.join(", "),
            defaults.providers.join(", "),
            if defaults.simulated {
                ": simulated answers, offline"
            } else {
                ""
            }
        ),
        _ => "`ax providers list` shows which providers are installed; `ax providers check` asks each one"
            .to_owned(),
    };
    err.hint(hint)
}

/// `note:` lines for providers that did not answer in a discussion that still
/// succeeded, when there is something to do about it (install, sign in, configure).
pub fn notes(
    result: &DiscussionResult,
    registry: &ProviderRegistry,
    config_file: &Path,
) -> Vec<String> {
    result
        .failed_providers
        .iter()
        .filter(|f| matches!(f.code, FailureCode::Provider(Kind::NotFound | Kind::Auth)))
        .flat_map(|f| {
            let advice = next_step(f, registry, config_file);
            let mut lines = vec![format!(
                "note: {} did not answer: {}",
                esc(&f.provider),
                advice.what
            )];
            lines.extend(advice.steps.iter().map(|s| format!("  → {s}")));
            lines
        })
        .collect()
}

/// What happened to one provider, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// `claude: `claude` is not installed (not on PATH)`.
    pub what: String,
    /// The next steps, one per line.
    pub steps: Vec<String>,
}

impl Advice {
    fn new(what: String, steps: Vec<String>) -> Self {
        Self { what, steps }
    }

    /// The advice as lines under `indent`: what happened, then `→ step` lines.
    pub fn lines(&self, indent: &str) -> Vec<String> {
        let mut lines = vec![format!("{indent}{}", self.what)];
        lines.extend(self.steps.iter().map(|s| format!("{indent}  → {s}")));
        lines
    }
}

/// What happened to `failed` and the next step: install the CLI, sign in, set the API
/// key variable, start the server, allow more time.
pub fn next_step(
    failed: &FailedProvider,
    registry: &ProviderRegistry,
    config_file: &Path,
) -> Advice {
    let id = esc(&failed.provider);
    let said = esc(&failed.message);
    let config = config_file.display();
    let Some(definition) = registry.definition(&failed.provider) else {
        return Advice::new(format!("{id} ({}): {said}", failed.code), Vec::new());
    };
    let kind = match failed.code {
        FailureCode::Provider(kind) => Some(kind),
        FailureCode::Discussion(_) => None,
    };
    match (&definition.spec, kind) {
        (ProviderSpec::Command(spec), Some(Kind::NotFound)) => {
            let program = spec.program();
            if find_executable(program).is_none() {
                let mut steps = match spec.identity.as_ref() {
                    Some(identity) if !identity.npm_packages.is_empty() => vec![
                        format!(
                            "install {}: npm install -g {}",
                            identity.target, identity.npm_packages[0]
                        ),
                        format!("then {}", sign_in(program)),
                    ],
                    _ => vec![format!("install `{program}` and put it on PATH")],
                };
                steps.push(format!(
                    "or, if it is installed elsewhere, set `command` under [providers.{id}] in {config}"
                ));
                Advice::new(
                    format!("{id}: `{program}` is not installed (not on PATH)"),
                    steps,
                )
            } else if let Some(why) = registry.unavailable_reason(&failed.provider) {
                Advice::new(format!("{id}: {}", esc(&why)), vec![install_target(spec)])
            } else {
                Advice::new(
                    format!("{id}: {said}"),
                    vec![format!("check it with `ax providers check {id}`")],
                )
            }
        }
        (ProviderSpec::Command(spec), Some(Kind::Auth)) => Advice::new(
            format!("{id} is not signed in: {said}"),
            vec![sign_in(spec.program())],
        ),
        (ProviderSpec::OpenAi(spec), Some(Kind::NotFound | Kind::Auth | Kind::Network)) => {
            let key_missing = spec
                .api_key_env
                .as_ref()
                .filter(|var| std::env::var(var.as_str()).map_or(true, |v| v.trim().is_empty()));
            match key_missing {
                Some(var) => Advice::new(
                    format!("{id}: the API key variable {var} is not set"),
                    vec![
                        format!("export {var}=… (the key for {})", esc(&spec.base_url)),
                        format!("or change `api_key_env` under [providers.{id}] in {config}"),
                    ],
                ),
                None if kind == Some(Kind::Auth) => Advice::new(
                    format!("{id}: {said}"),
                    vec![format!(
                        "check the key in {}",
                        spec.api_key_env
                            .as_deref()
                            .unwrap_or("the server's settings")
                    )],
                ),
                None => Advice::new(
                    format!("{id}: {said}"),
                    vec![format!(
                        "is the server at {} running? `ax providers check {id}` tries it",
                        esc(&spec.base_url)
                    )],
                ),
            }
        }
        (_, Some(Kind::Timeout)) => Advice::new(
            format!("{id} timed out: {said}"),
            vec!["allow more time with --timeout, e.g. --timeout 10m".to_owned()],
        ),
        (_, Some(Kind::RateLimit)) => Advice::new(
            format!("{id} is rate-limited: {said}"),
            vec!["wait a while, or leave it out of --providers".to_owned()],
        ),
        _ => Advice::new(format!("{id} ({}): {said}", failed.code), Vec::new()),
    }
}

fn install_target(spec: &ax_adapter_providers::command::spec::CommandSpec) -> String {
    match spec.identity.as_ref() {
        Some(identity) if !identity.npm_packages.is_empty() => format!(
            "install {}: npm install -g {}",
            identity.target, identity.npm_packages[0]
        ),
        Some(identity) => format!("install {} and put it first on PATH", identity.target),
        None => format!("check `{}` with `ax providers check`", spec.program()),
    }
}

/// How a CLI is signed in, for the ones the presets know.
fn sign_in(program: &str) -> String {
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program);
    match name {
        "claude" => "run `claude` once to sign in (or set ANTHROPIC_API_KEY)".to_owned(),
        "gemini" => "run `gemini` once to sign in (or set GEMINI_API_KEY)".to_owned(),
        "codex" => "run `codex login` (or set OPENAI_API_KEY)".to_owned(),
        "opencode" => "run `opencode auth login`".to_owned(),
        other => format!("run `{other}` once to sign in"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(provider: &str, code: Kind) -> FailedProvider {
        FailedProvider {
            provider: provider.into(),
            code: code.into(),
            message: "not available (not installed, not logged in or not reachable)".into(),
        }
    }

    #[test]
    fn a_missing_cli_is_named_with_how_to_install_it() {
        let registry = ax_adapter_providers::ProvidersFile::from_str(
            "[providers.claude]\ncommand = [\"/nonexistent/ax-test/claude\"]\n\
             [providers.remote]\nkind = \"openai\"\nbase_url = \"https://example.invalid/v1\"\nmodel = \"m\"\napi_key_env = \"AX_TEST_UNSET_KEY_VARIABLE\"\n",
            "config.toml",
        )
        .ok()
        .and_then(|file| ProviderRegistry::from_config(&file).ok())
        .expect("registry");
        let config = Path::new("/home/u/.automatosx/config.toml");
        let text = |f: FailedProvider| next_step(&f, &registry, config).lines("").join("\n");
        let claude = text(failed("claude", Kind::NotFound));
        assert!(
            claude.starts_with("claude: `/nonexistent/ax-test/claude` is not installed"),
            "{claude}"
        );
        assert!(
            claude.contains("npm install -g @anthropic-ai/claude-code"),
            "{claude}"
        );
        assert!(claude.contains("sign in"), "{claude}");
        let remote = text(failed("remote", Kind::NotFound));
        assert!(
            remote.contains("AX_TEST_UNSET_KEY_VARIABLE is not set"),
            "{remote}"
        );
        let timeout = text(failed("claude", Kind::Timeout));
        assert!(timeout.contains("--timeout"), "{timeout}");
        let nobody = text(failed("ghost\x1b[2J", Kind::Unknown));
        assert!(!nobody.contains('\x1b'), "{nobody}");
    }
}
