//! The mock provider: deterministic, labelled simulated, answering in the format the
//! request expects, and failing in each configured way.

use std::time::Duration;

use ax_adapter_providers::mock::answers::SIMULATED_MARKER;
use ax_discussion_domain::provider::{
    Expects, ProviderErrorKind, ProviderExecutor, ProviderRequest,
};
use ax_discussion_domain::response_format::{
    AGREE, AGREEMENTS, CONCLUSION, CONFIDENCE, DISAGREE, DISAGREEMENTS, INSIGHTS, POSITION, REASON,
    VOTE,
};

use crate::helpers::{registry, request};

const TIMEOUT: Duration = Duration::from_secs(10);

fn zero_latency_mocks() -> String {
    ["mock-a", "mock-b", "mock-c", "mock-d"]
        .iter()
        .map(|id| format!("[providers.{id}]\nkind = \"mock\"\nlatency = \"0ms\"\n"))
        .collect()
}

/// A request for `provider` with `prompt`, expecting `expects`.
fn expecting(provider: &str, prompt: &str, expects: Expects) -> ProviderRequest {
    ProviderRequest {
        expects,
        ..request(provider, prompt, TIMEOUT)
    }
}

/// The value after `label` on its line.
fn field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(str::trim)
}

#[tokio::test]
async fn answers_are_deterministic_labelled_and_differ_between_providers() {
    let registry = registry(&zero_latency_mocks());
    let prompt = "Topic: Should our team adopt Rust for the new service?";

    let mut answers = Vec::new();
    for id in ["mock-a", "mock-b", "mock-c", "mock-d"] {
        let first = registry
            .execute(request(id, prompt, TIMEOUT))
            .await
            .unwrap();
        let again = registry
            .execute(request(id, prompt, TIMEOUT))
            .await
            .unwrap();
        assert_eq!(first.content, again.content, "{id} is deterministic");
        assert!(first.simulated, "{id}");
        assert!(
            first.content.starts_with(SIMULATED_MARKER),
            "{}",
            first.content
        );
        assert!(
            first
                .content
                .contains("Should our team adopt Rust for the new service?"),
            "mentions the topic: {}",
            first.content
        );
        assert!(first.input_tokens.is_some() && first.output_tokens.is_some());
        answers.push(first.content);
    }
    for (i, a) in answers.iter().enumerate() {
        for b in &answers[i + 1..] {
            assert_ne!(a, b, "different providers give different answers");
        }
    }
    let other_prompt = registry
        .execute(request("mock-a", "Topic: Tabs or spaces?", TIMEOUT))
        .await
        .unwrap();
    assert_ne!(other_prompt.content, answers[0]);
}

#[tokio::test]
async fn a_vote_names_an_offered_option_with_confidence_and_reason() {
    let registry = registry(&zero_latency_mocks());
    let prompt = format!(
        "Topic: Which language for the CLI?\nOptions:\n1. Rust\n2. Go\n3. Python\n\
         Answer with:\n{VOTE} <option>\n{CONFIDENCE} <0.0-1.0>\n{REASON} <why>"
    );
    let expects = Expects::Vote { after_votes: false };

    for id in ["mock-a", "mock-b", "mock-c", "mock-d"] {
        let answer = registry
            .execute(expecting(id, &prompt, expects))
            .await
            .unwrap();
        let vote = field(&answer.content, VOTE)
            .unwrap_or_else(|| panic!("{id}: no vote in {}", answer.content));
        assert!(
            ["Rust", "Go", "Python"].contains(&vote),
            "{id} voted {vote:?}"
        );
        let confidence: f64 = field(&answer.content, CONFIDENCE).unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{confidence}");
        assert!(!field(&answer.content, REASON).unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_agreement_poll_gets_a_position() {
    let registry = registry(&zero_latency_mocks());
    let prompt = format!(
        "Topic: Ship on Friday?\nDraft conclusion: yes.\nReply with {POSITION} {AGREE} or {DISAGREE}, then {REASON}"
    );
    for id in ["mock-a", "mock-b", "mock-c", "mock-d"] {
        let answer = registry
            .execute(expecting(id, &prompt, Expects::Position))
            .await
            .unwrap();
        let position =
            field(&answer.content, POSITION).unwrap_or_else(|| panic!("{}", answer.content));
        assert!([AGREE, DISAGREE].contains(&position), "{position}");
        assert!(field(&answer.content, REASON).is_some());
    }
}

#[tokio::test]
async fn a_synthesis_has_every_section_in_order() {
    let registry = registry(&zero_latency_mocks());
    let prompt = format!(
        "Topic: Monorepo or many repos?\nAnswers:\n[mock-b]: monorepo\n[mock-c]: many repos\n\
         Write {AGREEMENTS}, {DISAGREEMENTS} (- provider: position), {INSIGHTS} and {CONCLUSION}"
    );
    let answer = registry
        .execute(expecting(
            "mock-a",
            &prompt,
            Expects::Synthesis { judging: false },
        ))
        .await
        .unwrap();

    let text = &answer.content;
    let positions: Vec<usize> = [AGREEMENTS, DISAGREEMENTS, INSIGHTS, CONCLUSION]
        .iter()
        .map(|label| {
            text.lines()
                .position(|l| l.trim() == *label)
                .unwrap_or_else(|| panic!("{label} missing in\n{text}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections in order: {positions:?}"
    );
    let dissent = &text.lines().nth(positions[1] + 1).unwrap();
    assert!(
        dissent.starts_with("- mock-b:") || dissent.starts_with("- mock-c:"),
        "names a participant: {dissent}"
    );
    assert!(text.contains("Monorepo or many repos?"));
}

#[tokio::test]
async fn failure_modes() {
    let registry = registry(
        "[providers.broken]\nkind = \"mock\"\nmode = \"fail\"\nfail_kind = \"server\"\nretry_after = \"3s\"\n\
         [providers.stuck]\nkind = \"mock\"\nmode = \"hang\"\n\
         [providers.sleepy]\nkind = \"mock\"\nmode = \"slow\"\nlatency = \"5m\"\n\
         [providers.junk]\nkind = \"mock\"\nmode = \"garbage\"\n",
    );
    let short = Duration::from_millis(200);

    let broken = registry
        .execute(request("broken", "hi", TIMEOUT))
        .await
        .unwrap_err();
    assert_eq!(
        (broken.kind, broken.retryable, broken.retry_after),
        (
            ProviderErrorKind::Server,
            true,
            Some(Duration::from_secs(3))
        )
    );

    let stuck = registry
        .execute(request("stuck", "hi", short))
        .await
        .unwrap_err();
    assert_eq!(stuck.kind, ProviderErrorKind::Timeout);

    let sleepy = registry
        .execute(request("sleepy", "hi", short))
        .await
        .unwrap_err();
    assert_eq!(sleepy.kind, ProviderErrorKind::Timeout);

    let vote_prompt = format!("Topic: x\nOptions: a, b\n{VOTE} {CONFIDENCE}");
    let junk = registry
        .execute(request("junk", &vote_prompt, TIMEOUT))
        .await
        .unwrap();
    assert!(junk.simulated && junk.content.starts_with(SIMULATED_MARKER));
    assert!(
        !junk.content.contains(VOTE),
        "garbage has none of the requested format: {}",
        junk.content
    );
}

#[tokio::test]
async fn fail_first_simulates_a_rate_limit_that_clears() {
    let registry =
        registry("[providers.recovering]\nkind = \"mock\"\nfail_first = 2\nretry_after = \"1s\"\n");

    for call in 1..=2 {
        let error = registry
            .execute(request("recovering", "hi", TIMEOUT))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::RateLimit, "call {call}");
        assert!(error.retryable);
        assert_eq!(error.retry_after, Some(Duration::from_secs(1)));
    }
    let answer = registry
        .execute(request("recovering", "hi", TIMEOUT))
        .await
        .unwrap();
    assert!(answer.simulated);
}

#[tokio::test]
async fn latency_is_applied_before_answering() {
    let registry = registry("[providers.paced]\nkind = \"mock\"\nlatency = \"300ms\"\n");

    let answer = registry
        .execute(request("paced", "hi", TIMEOUT))
        .await
        .unwrap();

    assert!(
        answer.duration >= Duration::from_millis(300),
        "{:?}",
        answer.duration
    );
}

/// Issue 8: the offline demo is about the user's topic. On the engine's own prompts for
/// "PostgreSQL or SQLite?", each simulated voice names the topic's alternatives, the
/// voices pick differently with different reasons, and each answer does what its turn
/// asks (a vote for an offered option, a debate side for its side, a critique of the
/// proposal it was shown, a revision naming its critics).
#[test]
fn simulated_answers_engage_with_the_topics_alternatives_and_follow_the_pattern() {
    use ax_adapter_providers::mock::answers;
    use ax_contracts::discussion::Role;
    use ax_discussion_domain::parse;
    use ax_discussion_domain::prompts::{self, Brief, Quote, VoteBasis};

    let topic = "Should we use PostgreSQL or SQLite for a CLI tool's registry?";
    let names: Vec<String> = ["mock-a", "mock-b", "mock-c"].map(String::from).to_vec();
    let brief = Brief {
        topic,
        context: None,
        participants: &names,
    };
    let answer = |id: &str, _: Option<&str>, prompt: &prompts::Prompt| {
        answers::answer(id, None, &prompt.text, prompt.expects)
    };
    let options = parse::options(topic);
    assert_eq!(options, ["PostgreSQL", "SQLite"]);
    let ids = ["mock-a", "mock-b", "mock-c"];

    // First answers: every one names both alternatives, leads with its pick, and the
    // picks and reasons differ.
    let first: Vec<String> = ids
        .iter()
        .map(|id| answer(id, None, &prompts::first_round(&brief, None)))
        .collect();
    let lead = |text: &str| -> String {
        let body = text.lines().nth(1).unwrap_or_default();
        let at = |o: &str| body.find(o).unwrap_or(usize::MAX);
        if at("PostgreSQL") < at("SQLite") {
            "PostgreSQL".into()
        } else {
            "SQLite".into()
        }
    };
    for text in &first {
        assert!(text.starts_with(SIMULATED_MARKER), "{text}");
        assert!(
            text.contains("PostgreSQL") && text.contains("SQLite"),
            "names the alternatives: {text}"
        );
    }
    let picks: Vec<String> = first.iter().map(|t| lead(t)).collect();
    assert_ne!(
        picks[0], picks[1],
        "mock-a and mock-b pick differently: {first:#?}"
    );
    let bodies: Vec<&str> = first.iter().map(|t| t.lines().nth(1).unwrap()).collect();
    assert!(
        bodies[0] != bodies[1] && bodies[1] != bodies[2] && bodies[0] != bodies[2],
        "{bodies:#?}"
    );
    assert_eq!(
        answer("mock-a", None, &prompts::first_round(&brief, None)),
        first[0],
        "deterministic"
    );

    // Votes: an offered option each, not Yes/No, with a reason about the alternatives.
    let votes: Vec<String> = ids
        .iter()
        .map(|id| {
            let text = answer(
                id,
                None,
                &prompts::vote(&brief, None, &options, VoteBasis::Fresh, &[]),
            );
            let vote = parse::vote(&text, &options).unwrap_or_else(|| panic!("{text}"));
            assert!(vote.confidence.is_some(), "{text}");
            assert!(
                vote.reason.contains("PostgreSQL") || vote.reason.contains("SQLite"),
                "{text}"
            );
            options[vote.option].clone()
        })
        .collect();
    assert_eq!(votes, picks, "a voice votes as it argues");

    // A debate: each side argues its own alternative.
    let pro = answer(
        "mock-a",
        None,
        &prompts::debate_turn(&brief, Role::Proponent, 1, &[]),
    );
    assert!(
        pro.contains("Arguing for the proposition: PostgreSQL over SQLite"),
        "{pro}"
    );
    let said = [Quote {
        speaker: "mock-a",
        role: Some(Role::Proponent),
        round: 1,
        text: &pro,
    }];
    let con = answer(
        "mock-b",
        None,
        &prompts::debate_turn(&brief, Role::Opponent, 2, &said),
    );
    assert!(
        con.contains("Arguing against the proposition: SQLite over PostgreSQL"),
        "{con}"
    );
    assert!(con.contains("Answering mock-a"), "rebuts by name: {con}");

    // A critique critiques the proposal it was shown; the revision names its critics.
    let proposal = answer("mock-a", None, &prompts::critique_proposal(&brief, None));
    assert!(
        proposal.contains(&format!("My proposal: use {}", picks[0])),
        "{proposal}"
    );
    let critique = answer(
        "mock-b",
        None,
        &prompts::critique_review(&brief, None, "mock-a", &proposal, 1),
    );
    assert!(
        critique.contains(&format!("Critique of mock-a's proposal ({})", picks[0])),
        "{critique}"
    );
    let critiques = [Quote {
        speaker: "mock-b",
        role: None,
        round: 1,
        text: &critique,
    }];
    let revision = answer(
        "mock-a",
        None,
        &prompts::critique_revision(&brief, None, &proposal, &critiques),
    );
    assert!(revision.contains("Adopted from mock-b"), "{revision}");

    // The synthesis tallies who picked what and names the dissenter.
    let quotes: Vec<Quote<'_>> = ids
        .iter()
        .zip(&first)
        .map(|(id, text)| Quote {
            speaker: id,
            role: None,
            round: 1,
            text,
        })
        .collect();
    let synthesis = answer(
        "mock-a",
        None,
        &prompts::synthesize(&brief, &quotes, true, &[]),
    );
    let sections = parse::synthesis(&synthesis);
    assert!(
        sections
            .disagreements
            .iter()
            .any(|(who, what)| who == "mock-b" && what.contains(&picks[1])),
        "{synthesis}"
    );
    assert!(sections.conclusion.contains("simulated"), "{synthesis}");

    // A yes/no question gets yes and no, for different reasons.
    let ship = Brief {
        topic: "Should we ship on Friday?",
        context: None,
        participants: &names,
    };
    let yes_no: Vec<String> = ids
        .iter()
        .map(|id| answer(id, None, &prompts::first_round(&ship, None)))
        .collect();
    assert!(yes_no[0].contains("My answer: Yes"), "{}", yes_no[0]);
    assert!(yes_no[1].contains("My answer: No"), "{}", yes_no[1]);
}
