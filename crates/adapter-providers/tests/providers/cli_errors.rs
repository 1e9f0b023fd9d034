//! How the errors real CLIs print reach the user: the API's message rather than the
//! stderr tail, and one retry policy (never the CLI's and ours stacked).

use std::time::{Duration, Instant};

use ax_discussion_domain::provider::{ProviderErrorKind, ProviderExecutor};

use crate::helpers::{Tag, registry, request};

#[tokio::test]
async fn an_error_printed_on_stdout_is_shown_instead_of_stderr_noise() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("x", "stdout-error.sh", &[], "output = \"claude\""));
    let err = registry
        .execute(request("x", "hi", Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::RateLimit, "{}", err.message);
    assert!(
        err.message.contains("slow down please (FAKE-429)"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("Warning"), "{}", err.message);
    assert!(!err.message.contains(" at "), "{}", err.message);
    assert!(err.retryable);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn an_api_error_after_a_stack_trace_is_found() {
    let tag = Tag::new();
    let registry =
        registry(&tag.command_table("x", "stack-trace-error.sh", &[], "output = \"gemini\""));
    let err = registry
        .execute(request("x", "hi", Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::RateLimit, "{}", err.message);
    assert!(
        err.message.ends_with("Quota exceeded (FAKE-429)."),
        "{}",
        err.message
    );
    assert!(!err.message.contains("chunk.js"), "{}", err.message);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_timeout_while_the_cli_retries_a_rate_limit_is_a_rate_limit_not_retried_again() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("x", "retrying-hang.sh", &[], ""));
    let started = Instant::now();
    let err = registry
        .execute(request("x", "hi", Duration::from_millis(1500)))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(err.kind, ProviderErrorKind::RateLimit, "{}", err.message);
    assert!(!err.retryable, "the CLI spent the whole call retrying");
    assert!(err.message.contains("no answer within"), "{}", err.message);
    assert!(
        err.message.contains("Quota exceeded (FAKE-429)."),
        "{}",
        err.message
    );
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_plain_timeout_stays_a_timeout() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("x", "hang.sh", &[], ""));
    let err = registry
        .execute(request("x", "hi", Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Timeout, "{}", err.message);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_failure_the_cli_already_retried_is_not_retried_again() {
    let tag = Tag::new();
    let retried = registry(&tag.command_table("x", "self-retried.sh", &[], "output = \"codex\""));
    let err = retried
        .execute(request("x", "hi", Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Server, "{}", err.message);
    assert!(!err.retryable);
    assert!(err.message.contains("high demand"), "{}", err.message);
    assert!(!err.message.contains("WARNING"), "{}", err.message);
    // The same failure from a CLI that did not retry is retryable.
    let other = registry(&tag.command_table("y", "stdout-error.sh", &[], "output = \"claude\""));
    let err = other
        .execute(request("y", "hi", Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(err.retryable);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn presets_of_clis_that_always_retry_are_never_retried_again() {
    let tag = Tag::new();
    // The gemini preset (its own retries cannot be turned off) pointed at a fake that
    // fails with a rate limit: reported once, not retried by the engine.
    let config = format!(
        "[providers.gemini]\ncommand = [{:?}]\nenv = {}\n",
        crate::helpers::fixture("rate-limited.sh"),
        tag.env(&[])
    );
    let err = registry(&config)
        .execute(request("gemini", "hi", Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::RateLimit, "{}", err.message);
    assert!(!err.retryable);
    assert_eq!(err.retry_after, None);
    assert!(
        err.message
            .ends_with("(the CLI already retried on its own)"),
        "{}",
        err.message
    );
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_program_that_is_not_the_presets_cli_is_unavailable_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let tag = Tag::new();
    // What `npm install -g @vibe-kit/grok-cli` puts behind a `grok` on PATH.
    let package = tag.path("node_modules/@vibe-kit/grok-cli");
    std::fs::create_dir_all(package.join("bin")).unwrap();
    std::fs::write(
        package.join("package.json"),
        r#"{"name":"@vibe-kit/grok-cli","version":"0.0.34"}"#,
    )
    .unwrap();
    let grok = package.join("bin/grok");
    std::fs::write(&grok, "#!/bin/sh\necho 'should never run'; exit 1\n").unwrap();
    std::fs::set_permissions(&grok, std::fs::Permissions::from_mode(0o755)).unwrap();
    let registry = registry(&format!(
        "[providers.grok]\ncommand = [{:?}]\nenv = {}\n",
        grok.to_str().unwrap(),
        tag.env(&[])
    ));

    assert!(!registry.is_available_now("grok"));
    assert!(!registry.is_available("grok").await);
    let why = registry.unavailable_reason("grok").unwrap();
    assert!(why.contains("@vibe-kit/grok-cli 0.0.34"), "{why}");
    assert!(
        registry.providers().iter().any(|p| p.id == "grok"),
        "listed"
    );
    let err = registry
        .execute(request("grok", "hi", Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::NotFound);
    assert!(
        err.message.contains("@vibe-kit/grok-cli"),
        "{}",
        err.message
    );
    // A missing program has no such reason: `available: no` says it all.
    if !registry.is_available_now("ollama") {
        assert_eq!(registry.unavailable_reason("ollama"), None);
    }
    tag.assert_no_process_left().await;
}
