//! The registry as the engine sees it: dispatch by id, the provider list, availability,
//! and the default participants the engine picks from them (real providers, or the
//! simulated fallback).

use std::sync::Arc;
use std::time::Duration;

use ax_adapter_providers::ProviderRegistry;
use ax_discussion_domain::provider::{ProviderErrorKind, ProviderExecutor};
use ax_discussion_domain::{DefaultSelection, DiscussionEngine, ProviderLimiter};

use crate::helpers::{Tag, fixture, registry, request};

/// Hides every command preset so the result does not depend on what is installed.
const NO_COMMAND_PRESETS: &str = "[providers.claude]\nenabled = false\n[providers.gemini]\nenabled = false\n\
    [providers.codex]\nenabled = false\n[providers.grok]\nenabled = false\n\
    [providers.opencode]\nenabled = false\n[providers.ollama]\nenabled = false\n";

#[tokio::test]
async fn an_unknown_provider_is_not_found() {
    let registry = ProviderRegistry::builtin();

    let error = registry
        .execute(request("nobody", "hi", Duration::from_secs(5)))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::NotFound);
    assert_eq!(error.provider_id, "nobody");
    assert!(!error.retryable);
    assert!(
        error.message.contains("mock-a"),
        "lists the known providers: {}",
        error.message
    );
    assert!(!registry.is_available("nobody").await);
}

#[test]
fn the_builtin_list_is_stable_and_marks_simulated_providers() {
    let providers = ProviderRegistry::builtin().providers();
    let listed: Vec<(&str, &str, bool)> = providers
        .iter()
        .map(|p| (p.id.as_str(), p.kind.as_str(), p.simulated))
        .collect();
    assert_eq!(
        listed,
        [
            ("claude", "command", false),
            ("gemini", "command", false),
            ("codex", "command", false),
            ("grok", "command", false),
            ("opencode", "command", false),
            ("ollama", "command", false),
            ("mock-a", "mock", true),
            ("mock-b", "mock", true),
            ("mock-c", "mock", true),
        ]
    );
    let claude = &providers[0];
    assert!(
        claude
            .description
            .starts_with("claude --print --output-format json"),
        "{}",
        claude.description
    );
    assert!(
        providers[6].description.contains("simulated"),
        "{}",
        providers[6].description
    );
}

#[tokio::test]
async fn availability_follows_the_program_on_path() {
    let registry = registry(&format!(
        "[providers.present]\nkind = \"command\"\ncommand = [{:?}]\n\
         [providers.absent]\nkind = \"command\"\ncommand = [\"ax-test-no-such-provider-cli\"]\n",
        fixture("ollama.sh")
    ));

    assert!(registry.is_available("present").await);
    assert!(!registry.is_available("absent").await);
    assert!(
        registry.is_available("mock-a").await,
        "mocks are always available"
    );
}

/// The providers a discussion would use by default: the engine's one rule, applied to
/// what this registry reports.
async fn defaults(registry: &Arc<ProviderRegistry>) -> DefaultSelection {
    DiscussionEngine::new(registry.clone(), ProviderLimiter::new(5))
        .default_providers()
        .await
}

#[tokio::test]
async fn without_real_providers_the_defaults_are_the_simulated_mocks() {
    let registry = Arc::new(registry(&format!(
        "{NO_COMMAND_PRESETS}[providers.absent]\nkind = \"command\"\ncommand = [\"ax-test-no-such-provider-cli\"]\n"
    )));

    let defaults = defaults(&registry).await;

    assert_eq!(defaults.providers, ["mock-a", "mock-b", "mock-c"]);
    assert!(defaults.simulated);
    assert!(defaults.reason.contains("absent"), "{}", defaults.reason);
}

#[tokio::test]
async fn one_real_provider_is_not_enough_for_a_discussion() {
    let registry = Arc::new(registry(&format!(
        "{NO_COMMAND_PRESETS}[providers.present]\nkind = \"command\"\ncommand = [{:?}]\n",
        fixture("ollama.sh")
    )));

    let defaults = defaults(&registry).await;

    assert!(defaults.simulated);
    assert!(
        defaults.reason.contains("only one real provider (present)"),
        "{}",
        defaults.reason
    );
}

#[tokio::test]
async fn with_two_real_providers_the_defaults_are_real() {
    let tag = Tag::new();
    let config = format!(
        "{NO_COMMAND_PRESETS}{}{}",
        tag.command_table("first", "ollama.sh", &[], ""),
        tag.command_table("second", "claude.sh", &[], "output = \"claude-json\"")
    );
    let registry = Arc::new(registry(&config));

    let defaults = defaults(&registry).await;

    assert_eq!(defaults.providers, ["first", "second"]);
    assert!(!defaults.simulated);
    for id in &defaults.providers {
        let answer = registry
            .execute(request(id, "Ready?", Duration::from_secs(60)))
            .await
            .unwrap();
        assert!(!answer.simulated, "{id}");
    }
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn disabling_the_mock_presets_leaves_configured_mocks_as_fallback() {
    let registry = Arc::new(registry(&format!(
        "{NO_COMMAND_PRESETS}[providers.mock-a]\nenabled = false\n[providers.mock-b]\nenabled = false\n\
         [providers.sim1]\nkind = \"mock\"\n[providers.sim2]\nkind = \"mock\"\n"
    )));

    let defaults = defaults(&registry).await;

    assert!(defaults.simulated);
    assert_eq!(defaults.providers, ["sim1", "sim2", "mock-c"]);
}
