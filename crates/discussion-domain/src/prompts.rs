//! Every prompt the engine sends. Each one is short, gives the context and the topic,
//! quotes the other participants' answers under their names, and ends with the answer
//! format it needs (the labels of [`crate::response_format`], which the lenient
//! parsers read). Each builder returns a [`Prompt`]: the words for a model and, as
//! data, the answer they ask for ([`Expects`]), decided here beside the words so the
//! two cannot disagree.
//!
//! Prompts that expect free text never contain the format labels: a model shown
//! `VOTE:` would be tempted to vote.

use ax_contracts::discussion::Role;

use crate::provider::{Expects, TextTurn};

use crate::response_format::{
    AGREE, AGREEMENTS, CONCLUSION, CONFIDENCE, DISAGREE, DISAGREEMENTS, INSIGHTS, POSITION, REASON,
    VOTE,
};

/// Longest quoted answer, in characters; longer ones are cut in the middle of the
/// prompt, not in the result. Why: six verbose answers over several rounds would
/// otherwise grow prompts past what command-line providers accept.
const QUOTE_MAX_CHARS: usize = 6000;

/// A prompt and the answer it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// What the provider is sent.
    pub text: String,
    /// What answer the text asks for.
    pub expects: Expects,
}

impl Prompt {
    fn new(text: String, expects: Expects) -> Self {
        Self { text, expects }
    }

    fn text(text: String, turn: TextTurn, role: Option<Role>) -> Self {
        Self::new(text, Expects::Text { turn, role })
    }
}

/// What every prompt of one discussion shares.
#[derive(Debug, Clone)]
pub struct Brief<'a> {
    /// The topic.
    pub topic: &'a str,
    /// Background, if any.
    pub context: Option<&'a str>,
    /// The speakers' display names, in speaking order.
    pub participants: &'a [String],
}

/// One quoted answer.
#[derive(Debug, Clone)]
pub struct Quote<'a> {
    /// Who said it.
    pub speaker: &'a str,
    /// Their role, if any.
    pub role: Option<Role>,
    /// Round number.
    pub round: u32,
    /// What they said.
    pub text: &'a str,
}

fn clip(text: &str) -> String {
    if text.chars().count() <= QUOTE_MAX_CHARS {
        return text.trim().to_owned();
    }
    let head: String = text.chars().take(QUOTE_MAX_CHARS).collect();
    format!("{}\n[... answer shortened ...]", head.trim_end())
}

fn header(brief: &Brief<'_>, intro: &str) -> String {
    let mut p = String::new();
    p.push_str(intro);
    p.push_str("\n\n");
    if let Some(ctx) = brief.context {
        p.push_str("<context>\n");
        p.push_str(ctx.trim());
        p.push_str("\n</context>\n\n");
    }
    p.push_str("<topic>\n");
    p.push_str(brief.topic.trim());
    p.push_str("\n</topic>\n\n");
    p
}

fn intro(brief: &Brief<'_>) -> String {
    format!(
        "You are one of {} participants ({}) in a structured discussion.",
        brief.participants.len(),
        brief.participants.join(", ")
    )
}

fn quotes(p: &mut String, items: &[Quote<'_>]) {
    for q in items {
        p.push_str(&format!(
            "<answer speaker=\"{}\" round=\"{}\"",
            q.speaker, q.round
        ));
        if let Some(role) = q.role {
            p.push_str(&format!(" role=\"{role}\""));
        }
        p.push_str(">\n");
        p.push_str(&clip(q.text));
        p.push_str("\n</answer>\n\n");
    }
}

fn role_line(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Proponent) => "Your role: proponent. Argue for the proposition in the topic.\n",
        Some(Role::Opponent) => {
            "Your role: opponent. Argue against the proposition in the topic.\n"
        }
        Some(Role::Judge) | Some(Role::Moderator) => {
            "Your role: judge. Weigh the arguments impartially.\n"
        }
        Some(Role::Neutral) => "Your role: neutral. Take no side; assess on the merits.\n",
        None => "",
    }
}

/// Round 1 of `synthesis` (and the opening of other patterns): an independent answer.
pub fn first_round(brief: &Brief<'_>, role: Option<Role>) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str(role_line(role));
    p.push_str(
        "Answer the topic independently. Be concrete and concise (at most about 300 words); \
         state your recommendation first, then the reasons and the main risk.",
    );
    Prompt::text(p, TextTurn::Opening, role)
}

/// Later rounds of `synthesis`: react to the others' previous answers.
pub fn synthesis_followup(
    brief: &Brief<'_>,
    role: Option<Role>,
    own: Option<&str>,
    others: &[Quote<'_>],
) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str(role_line(role));
    if let Some(own) = own {
        p.push_str("Your previous answer:\n");
        quotes(
            &mut p,
            &[Quote {
                speaker: "you",
                role: None,
                round: others.first().map_or(0, |q| q.round),
                text: own,
            }],
        );
    }
    p.push_str("The other participants answered:\n\n");
    quotes(&mut p, others);
    p.push_str(
        "Respond to them by name: where you agree, where you disagree and why, and what \
         everyone missed. Then give your updated answer in a few sentences. Be concise.",
    );
    Prompt::text(p, TextTurn::FollowUp, role)
}

/// A `round-robin` turn: the topic plus everything said so far.
pub fn round_robin_turn(
    brief: &Brief<'_>,
    role: Option<Role>,
    round: u32,
    said: &[Quote<'_>],
) -> Prompt {
    let mut p = header(
        brief,
        &format!(
            "{} Participants speak in turn; this is round {round}.",
            intro(brief)
        ),
    );
    p.push_str(role_line(role));
    let turn = if said.is_empty() {
        TextTurn::Opening
    } else {
        TextTurn::FollowUp
    };
    if said.is_empty() {
        p.push_str("You speak first. Give your answer concisely (at most about 300 words).");
    } else {
        p.push_str("What has been said so far, in order:\n\n");
        quotes(&mut p, said);
        p.push_str(
            "Build on the discussion: add what is missing, correct what is wrong (say whose \
             point you are correcting), and give your current answer. Do not repeat points \
             already made. Be concise.",
        );
    }
    Prompt::text(p, turn, role)
}

/// A `debate` turn: an opening, an answer or a rebuttal for one side.
pub fn debate_turn(brief: &Brief<'_>, role: Role, round: u32, said: &[Quote<'_>]) -> Prompt {
    let mut p = header(
        brief,
        &format!("You are taking part in a formal debate; this is round {round}."),
    );
    p.push_str(role_line(Some(role)));
    if said.is_empty() {
        p.push_str(
            "Give your opening argument: your strongest three points with evidence or \
             concrete examples. At most about 300 words.",
        );
    } else {
        p.push_str("The debate so far:\n\n");
        quotes(&mut p, said);
        p.push_str(
            "Rebut the other side's latest arguments point by point (name whom you answer), \
             then restate why your side should win. Do not concede silently: if a point of \
             theirs is right, say so and explain why your conclusion still holds. At most \
             about 300 words.",
        );
    }
    Prompt::text(p, TextTurn::Argument, Some(role))
}

/// `critique`: the proposer's first proposal.
pub fn critique_proposal(brief: &Brief<'_>, role: Option<Role>) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str(role_line(role));
    p.push_str(
        "You are the proposer. Write a concrete proposal that answers the topic: the \
         approach, its key steps and its trade-offs. The others will critique it and you \
         will revise it. At most about 400 words.",
    );
    Prompt::text(p, TextTurn::Proposal, role)
}

/// `critique`: a reviewer critiques the current proposal.
pub fn critique_review(
    brief: &Brief<'_>,
    role: Option<Role>,
    proposer: &str,
    proposal: &str,
    version: u32,
) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str(role_line(role));
    p.push_str(&format!("{proposer} proposed (version {version}):\n\n"));
    quotes(
        &mut p,
        &[Quote {
            speaker: proposer,
            role: None,
            round: version,
            text: proposal,
        }],
    );
    p.push_str(
        "Critique this proposal: its most important flaws, risks or gaps, each with a \
         concrete fix. Say what is good and should be kept. Order points by importance; \
         at most about 250 words.",
    );
    Prompt::text(p, TextTurn::Critique, role)
}

/// `critique`: the proposer revises after the critiques.
pub fn critique_revision(
    brief: &Brief<'_>,
    role: Option<Role>,
    proposal: &str,
    critiques: &[Quote<'_>],
) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str(role_line(role));
    p.push_str("Your current proposal:\n\n");
    quotes(
        &mut p,
        &[Quote {
            speaker: "you",
            role: None,
            round: critiques.first().map_or(1, |q| q.round),
            text: proposal,
        }],
    );
    p.push_str("The critiques:\n\n");
    quotes(&mut p, critiques);
    p.push_str(
        "Revise your proposal. Address each critique by name: adopt it, or explain in one \
         sentence why not. Then give the complete revised proposal.",
    );
    Prompt::text(p, TextTurn::Revision, role)
}

/// What a voter is shown before voting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteBasis {
    /// Nothing: the first voting round.
    Fresh,
    /// The previous round's votes (later voting rounds).
    EarlierVotes,
    /// The discussion's final answers (the `voting` method after another pattern).
    Discussion,
}

/// A vote on `options`, after seeing `earlier` answers as `basis` says.
pub fn vote(
    brief: &Brief<'_>,
    role: Option<Role>,
    options: &[String],
    basis: VoteBasis,
    earlier: &[Quote<'_>],
) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str(role_line(role));
    p.push_str("Vote for one of these options:\n");
    for (i, o) in options.iter().enumerate() {
        p.push_str(&format!("{}. {o}\n", i + 1));
    }
    p.push('\n');
    match basis {
        VoteBasis::Fresh => {}
        VoteBasis::EarlierVotes => p.push_str(
            "The participants' previous votes (you may keep or change yours; change only \
             for a reason you can state):\n\n",
        ),
        VoteBasis::Discussion => {
            p.push_str("The participants' final answers in the discussion:\n\n")
        }
    }
    quotes(&mut p, earlier);
    p.push_str(&format!(
        "Reply in exactly this format, with nothing else:\n{VOTE} <the option's number or text>\n{CONFIDENCE} <a number from 0.0 to 1.0>\n{REASON} <one or two sentences>"
    ));
    let after_votes = basis == VoteBasis::EarlierVotes;
    Prompt::new(p, Expects::Vote { after_votes })
}

/// The synthesizer's prompt: agreements, disagreements, insights and a conclusion.
pub fn synthesize(
    brief: &Brief<'_>,
    answers: &[Quote<'_>],
    include_dissent: bool,
    settled: &[(String, String)],
) -> Prompt {
    let mut p = header(
        brief,
        &format!(
            "You are the synthesizer of a discussion between {}.",
            brief.participants.join(", ")
        ),
    );
    p.push_str("Their final answers:\n\n");
    quotes(&mut p, answers);
    settled_points(&mut p, settled);
    p.push_str("Write the synthesis in exactly these sections:\n\n");
    p.push_str(&format!(
        "{AGREEMENTS}\n- <a point all or most participants share>\n"
    ));
    if include_dissent {
        p.push_str(&format!(
            "{DISAGREEMENTS}\n- <participant name>: <their position where it differs>\n"
        ));
    }
    p.push_str(&format!(
        "{INSIGHTS}\n- <a valuable point only one participant made>\n{CONCLUSION}\n<the best answer to the topic, taking all of the above into account>\n\n"
    ));
    p.push_str("Write \"- none\" under a section with nothing to list. Be faithful to what was said; do not invent positions.");
    Prompt::new(p, Expects::Synthesis { judging: false })
}

/// The moderator's (a debate's judge's) prompt: judge the arguments, then conclude in
/// the synthesis sections.
pub fn moderate(
    brief: &Brief<'_>,
    transcript: &[Quote<'_>],
    settled: &[(String, String)],
) -> Prompt {
    let mut p = header(
        brief,
        "You are the moderator and judge of a discussion. Judge the arguments on their merits, \
         not on who made more of them.",
    );
    p.push_str("The full transcript:\n\n");
    quotes(&mut p, transcript);
    settled_points(&mut p, settled);
    p.push_str(&format!(
        "Decide which arguments hold. Answer in exactly these sections:\n\n{AGREEMENTS}\n- <a point both sides accept>\n{DISAGREEMENTS}\n- <participant name>: <a position of theirs that you ruled against, and why>\n{INSIGHTS}\n- <a decisive argument>\n{CONCLUSION}\n<your verdict: which side prevails and the resulting answer to the topic>\n\nWrite \"- none\" under a section with nothing to list."
    ));
    Prompt::new(p, Expects::Synthesis { judging: true })
}

/// Ask a participant to accept or reject a drafted conclusion (unanimous / majority).
pub fn poll(brief: &Brief<'_>, conclusion: &str) -> Prompt {
    let mut p = header(brief, &intro(brief));
    p.push_str("After the discussion, this conclusion was drafted:\n\n");
    quotes(
        &mut p,
        &[Quote {
            speaker: "draft",
            role: None,
            round: 0,
            text: conclusion,
        }],
    );
    p.push_str(&format!(
        "Do you accept it as the group's answer? Agree if you can live with it even if you \
         would word it differently; disagree only over substance.\n\nReply in exactly this \
         format, with nothing else:\n{POSITION} {AGREE} or {DISAGREE}\n{REASON} <one or two sentences; when you disagree, what you hold instead>"
    ));
    Prompt::new(p, Expects::Position)
}

fn settled_points(p: &mut String, settled: &[(String, String)]) {
    if settled.is_empty() {
        return;
    }
    p.push_str("Disputed points were settled in follow-up discussions:\n\n");
    for (point, conclusion) in settled {
        p.push_str(&format!(
            "<settled point=\"{}\">\n{}\n</settled>\n\n",
            point.replace('"', "'"),
            clip(conclusion)
        ));
    }
    p.push_str("Use these settlements where they apply.\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief() -> (String, Vec<String>) {
        (
            "Which database?".into(),
            vec!["claude".into(), "gemini".into()],
        )
    }

    /// The format labels a prompt's words ask a model for.
    fn labels(text: &str) -> Vec<&'static str> {
        [
            VOTE,
            CONFIDENCE,
            POSITION,
            AGREEMENTS,
            DISAGREEMENTS,
            INSIGHTS,
            CONCLUSION,
        ]
        .into_iter()
        .filter(|l| text.contains(l))
        .collect()
    }

    /// Each builder says, as data, the answer its words ask for; the words of a
    /// free-text prompt name no format label, the others name theirs.
    #[test]
    fn each_prompt_expects_exactly_what_its_words_ask_for() {
        let (topic, names) = brief();
        let b = Brief {
            topic: &topic,
            context: Some("We ship a CLI."),
            participants: &names,
        };
        let q = [Quote {
            speaker: "gemini",
            role: None,
            round: 1,
            text: "SQLite.",
        }];
        let text = |turn, role| Expects::Text { turn, role };
        let yes_no = ["Yes".to_owned(), "No".to_owned()];
        let cases = [
            (first_round(&b, None), text(TextTurn::Opening, None)),
            (
                first_round(&b, Some(Role::Proponent)),
                text(TextTurn::Opening, Some(Role::Proponent)),
            ),
            (
                synthesis_followup(&b, None, Some("Postgres."), &q),
                text(TextTurn::FollowUp, None),
            ),
            (
                round_robin_turn(&b, None, 1, &[]),
                text(TextTurn::Opening, None),
            ),
            (
                round_robin_turn(&b, None, 2, &q),
                text(TextTurn::FollowUp, None),
            ),
            (
                debate_turn(&b, Role::Opponent, 2, &q),
                text(TextTurn::Argument, Some(Role::Opponent)),
            ),
            (critique_proposal(&b, None), text(TextTurn::Proposal, None)),
            (
                critique_review(&b, None, "claude", "SQLite", 1),
                text(TextTurn::Critique, None),
            ),
            (
                critique_revision(&b, None, "SQLite", &q),
                text(TextTurn::Revision, None),
            ),
            (
                vote(&b, None, &yes_no, VoteBasis::EarlierVotes, &q),
                Expects::Vote { after_votes: true },
            ),
            (
                vote(&b, None, &yes_no, VoteBasis::Fresh, &[]),
                Expects::Vote { after_votes: false },
            ),
            (
                vote(&b, None, &yes_no, VoteBasis::Discussion, &q),
                Expects::Vote { after_votes: false },
            ),
            (poll(&b, "Use SQLite."), Expects::Position),
            (
                synthesize(&b, &q, true, &[]),
                Expects::Synthesis { judging: false },
            ),
            (moderate(&b, &q, &[]), Expects::Synthesis { judging: true }),
        ];
        for (prompt, expects) in cases {
            assert_eq!(prompt.expects, expects, "{}", prompt.text);
            let asked = labels(&prompt.text);
            match expects {
                Expects::Text { .. } => assert!(asked.is_empty(), "{asked:?}"),
                Expects::Vote { .. } => assert_eq!(asked, [VOTE, CONFIDENCE]),
                Expects::Position => assert_eq!(asked, [POSITION]),
                Expects::Synthesis { .. } => {
                    assert_eq!(asked, [AGREEMENTS, DISAGREEMENTS, INSIGHTS, CONCLUSION]);
                }
            }
        }
    }

    #[test]
    fn prompts_carry_context_topic_and_named_quotes() {
        let (topic, names) = brief();
        let b = Brief {
            topic: &topic,
            context: Some("We ship a CLI."),
            participants: &names,
        };
        let p = synthesis_followup(
            &b,
            None,
            None,
            &[Quote {
                speaker: "gemini",
                role: None,
                round: 1,
                text: "SQLite, because it is embedded.",
            }],
        );
        let p = p.text;
        assert!(p.contains("We ship a CLI."));
        assert!(p.contains("Which database?"));
        assert!(
            p.contains("<answer speaker=\"gemini\" round=\"1\">\nSQLite, because it is embedded.")
        );
    }
}
