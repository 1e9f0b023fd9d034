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
