//! Each preset's parser against a fake program printing that CLI's real output format.
//! Only `command` is overridden, so the preset's prompt mode, flags-by-position and
//! parser are the ones under test.

use std::time::Duration;

use ax_discussion_domain::provider::ProviderExecutor;

use crate::helpers::{Tag, fixture, registry, request, summary};

/// `[providers.<id>] command = [<fake>]`, tagged.
fn preset_pointing_at_fake(tag: &Tag, id: &str) -> String {
    format!(
        "[providers.{id}]\ncommand = [{:?}]\nenv = {}\n",
        fixture(&format!("{id}.sh")),
        tag.env(&[])
    )
}

#[tokio::test]
async fn every_preset_parses_its_cli_output_format() {
    let tag = Tag::new();
    let ids = ["claude", "gemini", "codex", "grok", "opencode", "ollama"];
    let config: String = ids
        .iter()
        .map(|id| preset_pointing_at_fake(&tag, id))
        .collect();
    let registry = registry(&config);
    let prompt = "Which database should we use, and why?\nConsider scale.";
    let words = prompt.split_whitespace().count() as u64;
    let heard = summary(prompt);

    let mut answers = Vec::new();
    for id in ids {
        assert!(registry.is_available(id).await, "{id} fake is executable");
        let answer = registry
            .execute(request(id, prompt, Duration::from_secs(60)))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(!answer.simulated, "{id}");
        answers.push((id, answer));
    }

    let expected = [
        // (content, input tokens, output tokens)
        (
            "claude",
            format!("claude heard: {heard}"),
            Some(words + 2),
            Some(7),
        ),
        (
            "gemini",
            format!("gemini heard: {heard}"),
            Some(words),
            Some(5),
        ),
        (
            "codex",
            format!("codex heard: {heard}"),
            Some(words),
            Some(6),
        ),
        ("grok", format!("grok heard: {heard}"), None, None),
        // The preset's env (edit/bash denied) survives overriding `command`.
        (
            "opencode",
            format!("opencode heard: {heard} (edits denied)"),
            Some(3 + words),
            Some(5),
        ),
        (
            "ollama",
            format!("ollama heard: {heard}\nNO_COLOR=1"),
            None,
            None,
        ),
    ];
    for ((id, answer), (expected_id, content, input, output)) in answers.iter().zip(expected) {
        assert_eq!(*id, expected_id);
        assert_eq!(answer.content, content, "{id}");
        assert_eq!(
            (answer.input_tokens, answer.output_tokens),
            (input, output),
            "{id} tokens"
        );
    }
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_preset_parser_can_be_named_for_any_command() {
    let tag = Tag::new();
    // A wrapper around claude configured as a new provider that parses like claude.
    let registry = registry(&tag.command_table("wrapped", "claude.sh", &[], "output = \"claude\""));

    let answer = registry
        .execute(request("wrapped", "hi there", Duration::from_secs(60)))
        .await
        .unwrap();

    assert_eq!(answer.content, "claude heard: hi there (2 words)");
    tag.assert_no_process_left().await;
}
