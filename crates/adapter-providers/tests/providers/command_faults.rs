//! Command providers against misbehaving fake CLIs: each fault ends in the right error
//! kind, and no process of the call survives it — on timeout, on a stdout overflow, or
//! when the engine cancels by dropping the `execute` future.

use std::time::Duration;

use ax_discussion_domain::provider::{ProviderErrorKind, ProviderExecutor};

use crate::helpers::{Tag, fixture, is_dead, is_gone, registry, request, summary, wait_until};

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_hanging_provider_times_out_and_its_whole_group_is_killed() {
    let tag = Tag::new();
    let pid_file = tag.path("pids");
    let config = tag.command_table(
        "hang",
        "hang.sh",
        &[("AX_FAKE_PID_FILE", pid_file.to_str().unwrap())],
        "",
    );
    let registry = registry(&config);

    let error = registry
        .execute(request("hang", "Will you answer?", Duration::from_secs(3)))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Timeout, "{error}");
    assert!(!error.retryable);
    let pids = tag.read_pids(&pid_file).await;
    assert_eq!(
        pids.len(),
        2,
        "the script and its grandchild sleep: {pids:?}"
    );
    // The script is our child: it must be killed and reaped.
    assert_eq!(
        wait_until(&pids[..1], is_gone).await,
        Vec::<i32>::new(),
        "leader not reaped"
    );
    // The grandchild was in the same process group: killed (its reaper is init).
    assert_eq!(
        wait_until(&pids[1..], is_dead).await,
        Vec::<i32>::new(),
        "grandchild survived"
    );
    tag.assert_no_process_left().await;
}

/// INV-PROV-KILL-001.
#[tokio::test]
async fn dropping_the_execute_future_kills_the_process_group() {
    let tag = Tag::new();
    let pid_file = tag.path("pids");
    let config = tag.command_table(
        "hang",
        "hang.sh",
        &[("AX_FAKE_PID_FILE", pid_file.to_str().unwrap())],
        "",
    );
    let registry = registry(&config);

    let mut call = Box::pin(registry.execute(request("hang", "Will you answer?", LONG)));
    let pids = tokio::select! {
        outcome = &mut call => panic!("the hanging fake answered: {outcome:?}"),
        pids = tag.read_pids(&pid_file) => pids,
    };
    assert_eq!(pids.len(), 2);
    assert!(
        pids.iter().all(|p| !is_dead(*p)),
        "both processes run while the call is in flight"
    );

    // This is how the discussion engine cancels a call.
    drop(call);

    assert_eq!(
        wait_until(&pids[..1], is_gone).await,
        Vec::<i32>::new(),
        "leader not killed and reaped"
    );
    assert_eq!(
        wait_until(&pids[1..], is_dead).await,
        Vec::<i32>::new(),
        "grandchild survived the drop"
    );
    tag.assert_no_process_left().await;
}

/// INV-PROV-KILL-001 for a grandchild that left the process group (`setsid`): the
/// group kill cannot reach it, the call's marker can — on timeout and on drop.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_grandchild_that_left_the_group_dies_with_the_call() {
    for drop_it in [false, true] {
        let tag = Tag::new();
        let pid_file = tag.path("pids");
        let config = tag.command_table(
            "escaping",
            "escaping-hang.sh",
            &[("AX_FAKE_PID_FILE", pid_file.to_str().unwrap())],
            "",
        );
        let registry = registry(&config);
        let timeout = if drop_it {
            LONG
        } else {
            Duration::from_secs(3)
        };
        let mut call = Box::pin(registry.execute(request("escaping", "Still there?", timeout)));
        let pids = tokio::select! {
            outcome = &mut call => panic!("the hanging fake answered: {outcome:?}"),
            pids = tag.read_pids(&pid_file) => pids,
        };
        assert_eq!(
            pids.len(),
            2,
            "the script and its setsid grandchild: {pids:?}"
        );
        let session = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.to_owned()))
                .and_then(|r| r.split_whitespace().nth(3).map(str::to_owned))
        };
        // The pids are written as soon as the grandchild is forked; it calls setsid
        // a moment later.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while session(pids[0]) == session(pids[1]) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_ne!(
            session(pids[0]),
            session(pids[1]),
            "the grandchild really is in a session of its own"
        );
        if drop_it {
            drop(call);
        } else {
            let error = call.await.unwrap_err();
            assert_eq!(error.kind, ProviderErrorKind::Timeout, "{error}");
        }
        assert_eq!(
            wait_until(&pids[1..], is_dead).await,
            Vec::<i32>::new(),
            "the setsid grandchild survived (drop: {drop_it})"
        );
        tag.assert_no_process_left().await;
    }
}

#[tokio::test]
async fn a_crash_is_unknown_and_carries_stderr() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("crashy", "crash.sh", &[], ""));

    let error = registry
        .execute(request("crashy", "hello", LONG))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Unknown, "{error}");
    assert!(!error.retryable);
    assert!(
        error.message.contains("exited with status 3"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("simulated segmentation fault"),
        "{}",
        error.message
    );
    assert_eq!(error.provider_id, "crashy");
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn garbage_is_invalid_output_for_json_and_for_text() {
    let tag = Tag::new();
    let config = format!(
        "{}{}",
        tag.command_table("junk-json", "garbage.sh", &[], "output = \"claude-json\""),
        tag.command_table("junk-text", "garbage.sh", &[], "output = \"text\"")
    );
    let registry = registry(&config);

    for id in ["junk-json", "junk-text"] {
        let error = registry
            .execute(request(id, "hello", LONG))
            .await
            .unwrap_err();
        assert_eq!(
            error.kind,
            ProviderErrorKind::InvalidOutput,
            "{id}: {error}"
        );
        assert!(!error.retryable);
    }
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_hundred_megabytes_of_output_is_invalid_output_and_stops_the_process() {
    let tag = Tag::new();
    let pid_file = tag.path("pids");
    let config = tag.command_table(
        "huge",
        "huge.sh",
        &[("AX_FAKE_PID_FILE", pid_file.to_str().unwrap())],
        "",
    );
    let registry = registry(&config);

    let error = registry
        .execute(request("huge", "hello", LONG))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::InvalidOutput, "{error}");
    assert!(
        error.message.contains("4 MiB"),
        "names the limit: {}",
        error.message
    );
    let pids = tag.read_pids(&pid_file).await;
    assert_eq!(wait_until(&pids, is_gone).await, Vec::<i32>::new());
    // `head` and `tr` of the pipeline carry the tag too.
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_smaller_output_cap_is_honoured() {
    let tag = Tag::new();
    let registry =
        registry(&tag.command_table("capped", "ollama.sh", &[], "max_output_bytes = 10"));

    let error = registry
        .execute(request("capped", "a prompt longer than ten bytes", LONG))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::InvalidOutput);
    assert!(error.message.contains("10 B"), "{}", error.message);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_rate_limit_is_retryable_and_carries_retry_after() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("limited", "rate-limited.sh", &[], ""));

    let error = registry
        .execute(request("limited", "hello", LONG))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::RateLimit, "{error}");
    assert!(error.retryable);
    assert_eq!(error.retry_after, Some(Duration::from_secs(2)));
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_rate_limited_provider_answers_once_it_recovers() {
    let tag = Tag::new();
    let counter = tag.path("count");
    let config = tag.command_table(
        "flaky",
        "rate-limited.sh",
        &[
            ("AX_FAKE_COUNTER_FILE", counter.to_str().unwrap()),
            ("AX_FAKE_FAIL_TIMES", "1"),
        ],
        "",
    );
    let registry = registry(&config);
    let prompt = "Retry me please";

    let first = registry
        .execute(request("flaky", prompt, LONG))
        .await
        .unwrap_err();
    let second = registry
        .execute(request("flaky", prompt, LONG))
        .await
        .unwrap();

    assert_eq!(first.kind, ProviderErrorKind::RateLimit);
    assert_eq!(
        second.content,
        format!("recovered after 2 attempts: {}", summary(prompt))
    );
    assert!(!second.simulated);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn an_auth_failure_is_auth_and_not_retryable() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("locked", "auth-failure.sh", &[], ""));

    let error = registry
        .execute(request("locked", "hello", LONG))
        .await
        .unwrap_err();

    assert_eq!(error.kind, ProviderErrorKind::Auth, "{error}");
    assert!(!error.retryable);
    assert_eq!(error.retry_after, None);
    assert!(error.message.contains("not logged in"), "{}", error.message);
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_missing_program_is_not_found_and_unavailable() {
    let registry = registry(
        "[providers.ghost]\nkind = \"command\"\ncommand = [\"ax-test-no-such-provider-cli\", \"--print\"]\n\
         [providers.ghost-path]\nkind = \"command\"\ncommand = [\"/nonexistent/dir/cli\"]\n",
    );

    for id in ["ghost", "ghost-path"] {
        let error = registry
            .execute(request(id, "hello", LONG))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::NotFound, "{id}: {error}");
        assert!(!registry.is_available(id).await);
    }
}

#[tokio::test]
async fn a_slow_provider_answers_within_its_timeout() {
    let tag = Tag::new();
    let registry = registry(&tag.command_table("slow", "slow.sh", &[("AX_FAKE_SLEEP", "1")], ""));
    let prompt = "Take your time";

    let answer = registry
        .execute(request("slow", prompt, LONG))
        .await
        .unwrap();

    assert_eq!(answer.content, format!("slow answer: {}", summary(prompt)));
    assert!(
        answer.duration >= Duration::from_secs(1),
        "measured {:?}",
        answer.duration
    );
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn prompts_are_never_interpreted_by_a_shell() {
    let tag = Tag::new();
    let marker = tag.path("pwned");
    let prompt = format!(
        "$(touch {0}) `touch {0}`; touch {0} | cat && echo",
        marker.display()
    );
    // grok takes the prompt as an argument: the place where a shell would bite.
    let config = format!(
        "[providers.grok]\ncommand = [{:?}]\nenv = {}\n",
        fixture("grok.sh"),
        tag.env(&[])
    );
    let registry = registry(&config);

    let answer = registry
        .execute(request("grok", &prompt, LONG))
        .await
        .unwrap();

    assert_eq!(answer.content, format!("grok heard: {}", summary(&prompt)));
    assert!(!marker.exists(), "the prompt was run as a command");
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn a_large_prompt_is_streamed_through_stdin() {
    let tag = Tag::new();
    let registry = registry(&format!(
        "[providers.claude]\ncommand = [{:?}]\nenv = {}\n",
        fixture("claude.sh"),
        tag.env(&[])
    ));
    // Far more than a pipe buffer: writing must run alongside reading.
    let prompt = format!("First line of a long prompt\n{}", "word ".repeat(400_000));

    let answer = registry
        .execute(request("claude", &prompt, LONG))
        .await
        .unwrap();

    assert_eq!(
        answer.content,
        format!("claude heard: {}", summary(&prompt))
    );
    assert_eq!(answer.input_tokens, Some(400_006 + 2));
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn system_prompts_go_to_the_flag_or_before_the_prompt() {
    let tag = Tag::new();
    let config = format!(
        "[providers.claude]\ncommand = [{:?}]\nenv = {}\n{}",
        fixture("claude.sh"),
        tag.env(&[]),
        tag.command_table("plain", "ollama.sh", &[], "")
    );
    let registry = registry(&config);
    let mut with_system = request("claude", "What now?", LONG);
    with_system.system_prompt = Some("Be brief.".into());

    let claude = registry.execute(with_system.clone()).await.unwrap();
    with_system.provider_id = "plain".into();
    let plain = registry.execute(with_system).await.unwrap();

    assert_eq!(
        claude.content,
        "claude heard: What now? (2 words) [system: Be brief.]"
    );
    // Without a flag the system prompt comes first in the text the program reads.
    assert!(
        plain
            .content
            .starts_with("ollama heard: Be brief. (4 words)"),
        "{}",
        plain.content
    );
    tag.assert_no_process_left().await;
}

#[tokio::test]
async fn every_provider_process_gets_no_color() {
    let tag = Tag::new();
    let registry = registry(&format!(
        "[providers.ollama]\ncommand = [{:?}]\nenv = {}\n",
        fixture("ollama.sh"),
        tag.env(&[])
    ));

    let answer = registry
        .execute(request("ollama", "colours?", LONG))
        .await
        .unwrap();

    assert!(answer.content.ends_with("NO_COLOR=1"), "{}", answer.content);
    tag.assert_no_process_left().await;
}
