//! The mock provider's answers: deterministic text in the format the engine expects
//! (the request's [`Expects`], never guessed from the prompt's wording), so offline
//! discussions, tests and benchmarks drive the same parsing paths as real models.
//! Every answer starts with [`SIMULATED_MARKER`].
//!
//! The answers are about the user's topic: the alternatives it names ("PostgreSQL or
//! SQLite?", read as the voting pattern reads them, [`topic_choices`]) or, for a yes/no
//! question, a yes or a no. Each provider id speaks from a stable "perspective"
//! (pragmatist, skeptic, optimist, architect) that picks its own alternative with its
//! own reasons, and each answer follows what the request expects: a vote votes for an
//! offered option, a debate side argues its side, a critique critiques the proposal it
//! was shown, a revision answers its critics by name, a synthesis tallies who picked
//! what. Nothing is random: choices are seeded by the topic and the provider id, so the
//! same discussion always reads the same.

use ax_contracts::discussion::Role;
use ax_discussion_domain::provider::{Expects, TextTurn};
use ax_discussion_domain::response_format::{
    AGREE, AGREEMENTS, CONCLUSION, CONFIDENCE, DISAGREE, DISAGREEMENTS, INSIGHTS, POSITION, REASON,
    VOTE,
};

/// The visible label that starts every mock answer.
pub const SIMULATED_MARKER: &str = "[simulated]";

/// FNV-1a, 64 bit: tiny, stable across platforms and releases (unlike `DefaultHasher`).
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// A voice for a provider id: what it tends to stress. Templates name `{pick}` (the
/// alternative this voice argues for) and `{other}` (the one it weighs against it).
struct Perspective {
    name: &'static str,
    focus: &'static str,
    /// Why `{pick}` over `{other}`: one sentence each, one is chosen per topic.
    why: &'static [&'static str],
    /// The risk this voice sees even in its own choice.
    risk: &'static str,
    /// The closing recommendation (lower case, no final period).
    recommendation: &'static str,
    /// Whether this voice says yes to a yes/no question, and why.
    says_yes: bool,
    yes_no_reason: &'static str,
    /// Its recommendation on a yes/no question (lower case, no final period).
    yes_no_next: &'static str,
    /// Debating a yes/no question: its argument for, and against.
    argue_yes: &'static str,
    argue_no: &'static str,
    /// As a critic: what to keep, the gap it finds and its fix.
    keep: &'static str,
    gap: &'static str,
    fix: &'static str,
}

const PERSPECTIVES: &[Perspective] = &[
    Perspective {
        name: "pragmatist",
        focus: "what can be shipped and maintained",
        why: &[
            "It is the choice a small team can carry out and support today; {other} can wait until a concrete need for it shows up.",
            "It has less to set up and look after than {other}, and running costs usually decide questions like this in the end.",
        ],
        risk: "The risk is outgrowing {pick}; keep it behind one small module so a later move to {other} stays cheap.",
        recommendation: "start with {pick}, measure, and revisit {other} only with real numbers",
        says_yes: true,
        yes_no_reason: "Yes, as a small first step that is easy to undo; waiting costs more than a careful try.",
        yes_no_next: "try it on one small case first and keep the way back open",
        argue_yes: "It can be done in a small, reversible step, and the team learns more from a trial than from more debate.",
        argue_no: "Nobody has counted what it costs to run and maintain, and that cost lands on the same small team.",
        keep: "the choice itself, which is the simplest thing that can work",
        gap: "there is no way to tell after a month whether it worked",
        fix: "add one measurable check and a date to look at it",
    },
    Perspective {
        name: "skeptic",
        focus: "risks and failure modes",
        why: &[
            "It has fewer ways to fail here than {other}: fewer moving parts and fewer settings to get wrong.",
            "{other} may look better on paper, but I would want a benchmark and a failure test before trusting it; {pick} is the safer default until then.",
        ],
        risk: "Even {pick} needs its failure cases tested: a crash mid-write, two processes at once, a full disk.",
        recommendation: "choose {pick} and write down its failure modes before the first release",
        says_yes: false,
        yes_no_reason: "No, not yet: the failure cases are not written down and there is no way back if it goes wrong.",
        yes_no_next: "write down the failure cases and a way back before going ahead",
        argue_yes: "Standing still is a risk too: the known problems of today's setup will not fix themselves.",
        argue_no: "The failure modes are unknown, nothing has been measured, and there is no rollback plan.",
        keep: "the narrow scope of the first step",
        gap: "it says nothing about what happens when something fails halfway",
        fix: "list the failure cases (crash, concurrent use, full disk) and test each one",
    },
    Perspective {
        name: "optimist",
        focus: "opportunities and upside",
        why: &[
            "It leaves the most room to grow, and users feel the benefit early; {other} would cap what we can build next.",
            "It opens more doors than {other}: it makes the next features easier, not just this one.",
        ],
        risk: "The risk is doing {pick} half-way; agree on what success looks like before starting.",
        recommendation: "commit to {pick} with clear success criteria and review it after the first milestone",
        says_yes: true,
        yes_no_reason: "Yes: the upside is real and grows over time, provided success is defined up front.",
        yes_no_next: "go ahead, with success criteria agreed up front",
        argue_yes: "The benefit compounds: each step makes the next one cheaper, and users see results early.",
        argue_no: "The same effort spent elsewhere would pay off sooner; this is not the best opportunity we have.",
        keep: "the ambition: it solves the problem rather than working around it",
        gap: "it does not say what success looks like",
        fix: "state two or three success criteria that a user would notice",
    },
    Perspective {
        name: "architect",
        focus: "boundaries, coupling and long-term structure",
        why: &[
            "It gives the clearer boundary: one owner for the data and its failures, where {other} would couple more of the system to one tool.",
            "It keeps the core independent of the tooling around it, which matters more over the years than anything {other} offers today.",
        ],
        risk: "Whichever is chosen, put it behind a narrow interface so {other} remains an option.",
        recommendation: "define the interface first, implement it with {pick}, and keep {other} as a possible swap",
        says_yes: true,
        yes_no_reason: "Yes, if it sits behind a narrow interface so that the decision can be reversed later.",
        yes_no_next: "go ahead behind a narrow interface, so the decision can be reversed",
        argue_yes: "Done behind a clear interface, it makes the structure simpler, not more tangled.",
        argue_no: "It couples the core to a decision that will be hard to undo once other parts depend on it.",
        keep: "the separation between the decision and the code that uses it",
        gap: "the boundary between the new part and the rest is not defined",
        fix: "write the interface down first and keep the choice behind it",
    },
];

/// The index of the perspective a provider id always speaks from.
fn perspective_index(provider_id: &str) -> usize {
    // Ids like mock-a, mock-b, mock-c map to different voices in order; other ids by hash.
    let index = match provider_id.strip_prefix("mock-").map(str::as_bytes) {
        Some([letter]) if letter.is_ascii_lowercase() => usize::from(letter - b'a'),
        _ => fnv1a(&[provider_id]) as usize,
    };
    index % PERSPECTIVES.len()
}

/// The perspective a provider id always speaks from.
fn perspective_for(provider_id: &str) -> &'static Perspective {
    &PERSPECTIVES[perspective_index(provider_id)]
}

/// `template` with each `{name}` replaced once, left to right (values are never
/// re-scanned, so an option that itself contains `{other}` stays as written).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, v)| (close, *v))
        }) {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Sentence case for a template that starts with `{pick}` or `{other}`.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() && first.to_uppercase().count() == 1 => {
            first.to_uppercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}

/// What a discussion is choosing between, as one provider sees it.
struct Stance {
    /// The alternatives the topic names, or Yes/No.
    options: Vec<String>,
    /// True for a yes/no question.
    yes_no: bool,
    /// This provider's pick, an index into `options`.
    pick: usize,
    /// The alternative it weighs its pick against.
    other: usize,
    /// Per (provider, topic): which `why` sentence, which confidence.
    seed: u64,
}

impl Stance {
    /// `provider_id`'s stance on `options` (from the topic or the vote prompt).
    fn new(provider_id: &str, topic: &str, options: Vec<String>) -> Self {
        let n = options.len().max(1);
        let yes_no = options.len() == 2
            && options[0].eq_ignore_ascii_case("yes")
            && options[1].eq_ignore_ascii_case("no");
        let voice = perspective_index(provider_id);
        // The topic's favourite (shared by every provider) so that a demo usually shows a
        // majority; the skeptic (and, with three or more options, the architect) differ.
        let favourite = (fnv1a(&[topic]) % n as u64) as usize;
        let pick = if yes_no {
            usize::from(!PERSPECTIVES[voice].says_yes)
        } else {
            match voice {
                1 => (favourite + 1) % n,
                3 if n >= 3 => (favourite + 2) % n,
                3 => (favourite + 1) % n,
                _ => favourite,
            }
        };
        let other = if pick == favourite {
            (favourite + 1) % n
        } else {
            favourite
        };
        Self {
            options,
            yes_no,
            pick,
            other,
            seed: fnv1a(&[provider_id, topic]),
        }
    }

    fn option(&self, index: usize) -> &str {
        self.options.get(index).map_or("it", String::as_str)
    }

    fn picked(&self) -> &str {
        self.option(self.pick)
    }

    /// `template` filled with this stance's pick and other, or `pick`/`other` given.
    fn say(&self, template: &str, pick: usize, other: usize) -> String {
        capitalised(&fill(
            template,
            &[("pick", self.option(pick)), ("other", self.option(other))],
        ))
    }

    /// Why this voice picks `pick` over `other`, in one sentence.
    fn why(&self, voice: &Perspective, pick: usize, other: usize) -> String {
        let template = voice.why[(self.seed % voice.why.len() as u64) as usize];
        self.say(template, pick, other)
    }

    fn confidence(&self) -> f64 {
        0.6 + ((self.seed >> 8) % 31) as f64 / 100.0
    }
}

/// An answer quoted in a prompt: `<answer speaker="…" round="…" role="…">text</answer>`.
struct Quoted<'a> {
    speaker: &'a str,
    role: Option<&'a str>,
    text: &'a str,
}

/// Every answer the prompt quotes, in order.
fn quoted(prompt: &str) -> Vec<Quoted<'_>> {
    let mut out = Vec::new();
    let mut rest = prompt;
    while let Some(at) = rest.find("<answer speaker=\"") {
        let after = &rest[at + "<answer speaker=\"".len()..];
        let Some(close) = after.find('>') else { break };
        let attributes = &after[..close];
        let speaker = attributes.split('"').next().unwrap_or("");
        let role = attributes
            .split_once("role=\"")
            .and_then(|(_, r)| r.split('"').next());
        let body = &after[close + 1..];
        let end = body.find("</answer>").unwrap_or(body.len());
        out.push(Quoted {
            speaker,
            role,
            text: body[..end].trim(),
        });
        rest = &body[end..];
    }
    out
}

/// The latest quoted answer of each speaker (other than `you` / `draft`), in order of
/// first appearance.
fn latest_answers<'a>(quotes: &[Quoted<'a>]) -> Vec<(&'a str, Option<&'a str>, &'a str)> {
    let mut out: Vec<(&str, Option<&str>, &str)> = Vec::new();
    for q in quotes {
        if matches!(q.speaker, "you" | "draft") || q.speaker.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(s, _, _)| *s == q.speaker) {
            Some(entry) => *entry = (q.speaker, q.role.or(entry.1), q.text),
            None => out.push((q.speaker, q.role, q.text)),
        }
    }
    out
}

/// How a critique states a preference other than the proposal's.
const STILL_WEIGH: &str = "I would still weigh ";

/// Which option an answer settles on: the first one it names after the simulated
/// header line (matched as written first, then ignoring case), or after a critic's
/// "I would still weigh" when there is one.
fn pick_in(text: &str, options: &[String]) -> Option<usize> {
    let body = match text.strip_prefix(SIMULATED_MARKER) {
        Some(rest) => rest.split_once('\n').map_or("", |(_, b)| b),
        None => text,
    };
    let body = body
        .split_once(STILL_WEIGH)
        .map_or(body, |(_, after)| after);
    let first_at = |haystack: &str, needle: &str| -> Option<usize> {
        if needle.is_empty() {
            return None;
        }
        haystack.match_indices(needle).map(|(i, _)| i).find(|&i| {
            let before = haystack[..i].chars().next_back();
            let after = haystack[i + needle.len()..].chars().next();
            before.is_none_or(|c| !c.is_alphanumeric())
                && after.is_none_or(|c| !c.is_alphanumeric())
        })
    };
    let earliest = |haystack: &str, lower: bool| -> Option<usize> {
        options
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let found = if lower {
                    first_at(haystack, &o.to_lowercase())
                } else {
                    first_at(haystack, o)
                };
                found.map(|at| (at, std::cmp::Reverse(o.len()), i))
            })
            .min()
            .map(|(_, _, i)| i)
    };
    earliest(body, false).or_else(|| earliest(&body.to_lowercase(), true))
}

/// "a", "a and b", "a, b and c".
fn names(list: &[&str]) -> String {
    match list {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the prompt is about, for answers that read sensibly: the first line inside
/// the engine's `<topic>` block, else the text after a `Topic:` label, else the first
/// non-empty line; at most 120 characters.
pub fn topic_of(prompt: &str) -> String {
    let tagged = prompt.split_once("<topic>").and_then(|(_, rest)| {
        let inside = rest.split("</topic>").next().unwrap_or(rest);
        inside
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    });
    let labelled = || {
        prompt.lines().find_map(|line| {
            let trimmed = line.trim().trim_start_matches(['#', '*', ' ']);
            let lower = trimmed.to_ascii_lowercase();
            lower.starts_with("topic:").then(|| {
                trimmed["topic:".len()..]
                    .trim()
                    .trim_end_matches('*')
                    .trim()
                    .to_owned()
            })
        })
    };
    let raw = tagged
        .or_else(labelled)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            prompt
                .lines()
                .map(|l| l.trim().trim_start_matches(['#', '*', ' ']).trim())
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "the question".to_owned());
    shorten(&raw, 120)
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max_chars - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// The options a voting prompt offers: the numbered list introduced by a line
/// mentioning "options" (the engine's "Vote for one of these options:"), else the last
/// numbered list, else an inline `Options: a, b, c`; else Yes/No — the same sources
/// the voting pattern draws its options from.
pub fn vote_options(prompt: &str) -> Vec<String> {
    // Runs of consecutive numbered lines, with the line just before each run.
    let mut runs: Vec<(Option<&str>, Vec<String>)> = Vec::new();
    let mut previous: Option<&str> = None;
    let mut in_run = false;
    for line in prompt.lines() {
        match numbered_item(line) {
            Some(item) if in_run => {
                if let Some((_, items)) = runs.last_mut() {
                    items.push(item);
                }
            }
            Some(item) => {
                runs.push((previous, vec![item]));
                in_run = true;
            }
            None => {
                in_run = false;
                if !line.trim().is_empty() {
                    previous = Some(line);
                }
            }
        }
    }
    runs.retain(|(_, items)| items.len() >= 2);
    let introduced = runs
        .iter()
        .rev()
        .find(|(intro, _)| intro.is_some_and(|l| l.to_ascii_lowercase().contains("option")));
    if let Some((_, items)) = introduced.or(runs.last()) {
        return items.clone();
    }
    for line in prompt.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(at) = lower.find("options:") {
            let inline: Vec<String> = line[at + "options:".len()..]
                .replace(" or ", ",")
                .split([',', '|', ';'])
                .map(|o| o.trim().trim_end_matches(['.', '?']).trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect();
            if inline.len() >= 2 {
                return inline;
            }
        }
    }
    vec!["Yes".to_owned(), "No".to_owned()]
}

/// `1. Rust` / `2) Go` → the item text.
fn numbered_item(line: &str) -> Option<String> {
    let trimmed = line.trim();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let rest = trimmed[digits..].strip_prefix(['.', ')'])?;
    let item = rest.trim().trim_matches('*').trim();
    (!item.is_empty()).then(|| item.to_owned())
}

/// Provider-looking labels in a synthesis prompt (`[claude]`, `### mock-b`,
/// `**gemini**:`, `mock-c:` at a line start), in order of appearance, without
/// `own_id`. Used to name someone in DISAGREEMENTS, as the format expects.
fn participants_in(prompt: &str, own_id: &str) -> Vec<String> {
    let is_id = |s: &str| {
        !s.is_empty()
            && s.len() <= 40
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && s.chars().any(|c| c.is_ascii_alphabetic())
    };
    let mut found: Vec<String> = Vec::new();
    // The engine quotes answers as <answer speaker="name" round="N">.
    for (_, rest) in prompt
        .match_indices("speaker=\"")
        .map(|(at, m)| (at, &prompt[at + m.len()..]))
    {
        if let Some(name) = rest.split('"').next()
            && is_id(name)
            && !matches!(name, "you" | "draft")
            && name != own_id
            && !found.iter().any(|f| f == name)
        {
            found.push(name.to_owned());
        }
    }
    if !found.is_empty() {
        return found;
    }
    for line in prompt.lines() {
        let heading = line.trim_start().starts_with('#');
        let t = line.trim().trim_start_matches(['#', '-', ' ']);
        let candidate = if heading {
            Some(t)
        } else if let Some(rest) = t.strip_prefix('[') {
            rest.split(']').next()
        } else if let Some(rest) = t.strip_prefix("**") {
            rest.split("**").next()
        } else {
            t.split(':').next().filter(|_| t.contains(':'))
        };
        let Some(candidate) = candidate.map(str::trim) else {
            continue;
        };
        // Provider ids are lowercase; labels such as "Answers:" or "VOTE:" are not.
        let lowercase = !candidate.chars().any(|c| c.is_ascii_uppercase());
        let common_word = matches!(
            candidate,
            "answer"
                | "answers"
                | "response"
                | "responses"
                | "note"
                | "summary"
                | "question"
                | "context"
                | "topic"
                | "options"
                | "round"
                | "task"
        );
        if is_id(candidate)
            && lowercase
            && !common_word
            && candidate != own_id
            && !found.iter().any(|f| f == candidate)
        {
            found.push(candidate.to_owned());
        }
    }
    found
}

/// The whole topic: the text inside the engine's `<topic>` block, else [`topic_of`].
fn full_topic(prompt: &str) -> String {
    prompt
        .split_once("<topic>")
        .map(|(_, rest)| {
            rest.split("</topic>")
                .next()
                .unwrap_or(rest)
                .trim()
                .to_owned()
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| topic_of(prompt))
}

/// The alternatives a topic names, read exactly as the voting pattern reads them.
pub fn topic_choices(topic: &str) -> Option<Vec<String>> {
    ax_discussion_domain::parse::topic_choices(topic)
}

/// The mock's answer to `prompt` as `provider_id`, in the shape `expects` says. An
/// agent's system prompt does not change it: the voice comes from the provider id.
/// The prompt is read only for what the answer is about (the topic, the options, the
/// quoted answers), never for which kind of answer to give.
pub fn answer(
    provider_id: &str,
    _system_prompt: Option<&str>,
    prompt: &str,
    expects: Expects,
) -> String {
    let voice = perspective_for(provider_id);
    let topic = topic_of(prompt);
    let whole = full_topic(prompt);
    let options = || topic_choices(&whole).unwrap_or_else(|| vec!["Yes".into(), "No".into()]);
    match expects {
        Expects::Vote { after_votes } => {
            let stance = Stance::new(provider_id, &whole, vote_options(prompt));
            vote(provider_id, after_votes, voice, &stance)
        }
        Expects::Position => position(prompt, voice, &Stance::new(provider_id, &whole, options())),
        Expects::Synthesis { judging } => synthesis(
            provider_id,
            prompt,
            judging,
            voice,
            &topic,
            &Stance::new(provider_id, &whole, options()),
        ),
        Expects::Text { turn, role } => free(
            provider_id,
            prompt,
            Turn::of(turn, role),
            voice,
            &topic,
            &Stance::new(provider_id, &whole, options()),
        ),
    }
}

/// How a free-text answer is shaped: the pattern's turn, with a debate side taken by
/// a proponent or an opponent wherever they are not proposing or critiquing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    First,
    FollowUp,
    Proposal,
    Critique,
    Revision,
    Debate { proponent: bool },
}

impl Turn {
    fn of(turn: TextTurn, role: Option<Role>) -> Self {
        match (turn, role) {
            (TextTurn::Revision, _) => Self::Revision,
            (TextTurn::Critique, _) => Self::Critique,
            (TextTurn::Proposal, _) => Self::Proposal,
            (_, Some(Role::Proponent)) => Self::Debate { proponent: true },
            (_, Some(Role::Opponent)) => Self::Debate { proponent: false },
            (TextTurn::FollowUp, _) => Self::FollowUp,
            // A neutral speaker's debate turn reads as its own answer.
            (TextTurn::Opening | TextTurn::Argument, _) => Self::First,
        }
    }
}

/// How a free-text answer opens, from its turn.
fn stance_for(turn: Turn) -> &'static str {
    match turn {
        Turn::Revision => "Revised proposal, taking each critique into account:",
        Turn::Critique => "Critique of the proposal:",
        Turn::Proposal => "My proposal:",
        Turn::Debate { proponent: true } => "Arguing for the proposition:",
        Turn::Debate { proponent: false } => "Arguing against the proposition:",
        Turn::FollowUp => "Having read the other answers:",
        Turn::First => "My answer:",
    }
}

fn free(
    provider_id: &str,
    prompt: &str,
    turn: Turn,
    voice: &Perspective,
    topic: &str,
    stance: &Stance,
) -> String {
    let header = format!(
        "{SIMULATED_MARKER} {provider_id} (a simulated {name} focused on {focus}) on \"{topic}\".",
        name = voice.name,
        focus = voice.focus,
    );
    let opening = stance_for(turn);
    let (pick, other) = (stance.pick, stance.other);
    let quotes = quoted(prompt);
    let others: Vec<(&str, Option<&str>, &str)> = latest_answers(&quotes)
        .into_iter()
        .filter(|(s, _, _)| *s != provider_id)
        .collect();
    let recommendation = if stance.yes_no {
        format!("Recommendation: {}.", voice.yes_no_next)
    } else {
        let values = [
            ("pick", stance.option(pick)),
            ("other", stance.option(other)),
        ];
        format!("Recommendation: {}.", fill(voice.recommendation, &values))
    };
    let body = match turn {
        Turn::First => {
            if stance.yes_no {
                format!("{opening} {}", voice.yes_no_reason)
            } else {
                format!(
                    "{opening} {}. {} {}",
                    stance.picked(),
                    stance.why(voice, pick, other),
                    stance.say(voice.risk, pick, other)
                )
            }
        }
        Turn::FollowUp => {
            let mut with: Vec<&str> = Vec::new();
            // Who prefers what else, grouped by the alternative they prefer.
            let mut against: Vec<(usize, Vec<&str>)> = Vec::new();
            for (speaker, _, text) in &others {
                match pick_in(text, &stance.options) {
                    Some(p) if p == pick => with.push(speaker),
                    Some(p) => match against.iter_mut().find(|(o, _)| *o == p) {
                        Some((_, who)) => who.push(speaker),
                        None => against.push((p, vec![speaker])),
                    },
                    None => {}
                }
            }
            let mut text = format!("{opening} I stay with {}.", stance.picked());
            if !with.is_empty() {
                let verb = if with.len() == 1 { "sees" } else { "see" };
                text.push_str(&format!(" {} {verb} it the same way.", names(&with)));
            }
            for (theirs, who) in against.iter().take(2) {
                let verb = if who.len() == 1 { "prefers" } else { "prefer" };
                let focus: Vec<&str> = who.iter().map(|s| perspective_for(s).focus).collect();
                let mut focus_unique: Vec<&str> = Vec::new();
                for f in focus {
                    if !focus_unique.contains(&f) {
                        focus_unique.push(f);
                    }
                }
                let reason = if stance.yes_no {
                    lower_first(voice.yes_no_reason)
                } else {
                    lower_first(&stance.why(voice, pick, *theirs))
                };
                let points = if focus_unique.len() == 1 {
                    format!("the point about {} is", focus_unique[0])
                } else {
                    format!("the points about {} are", focus_unique.join(" and about "))
                };
                text.push_str(&format!(
                    " {} {verb} {}, and {points} fair, but {} still fits better: {reason}",
                    names(who),
                    stance.option(*theirs),
                    stance.picked(),
                ));
            }
            if with.is_empty() && against.is_empty() {
                text.push_str(&format!(" {}", stance.say(voice.risk, pick, other)));
            }
            text
        }
        Turn::Proposal => {
            if stance.yes_no {
                format!(
                    "{opening} {} 1) Agree on what success means. 2) Try it in one small, reversible step. 3) Review the result and decide whether to continue.",
                    voice.yes_no_reason
                )
            } else {
                format!(
                    "{opening} use {p}. {} Steps: 1) set {p} up behind one small interface; 2) test the failure cases that matter; 3) review after a month, with {o} as the fallback. Trade-off: we give up what {o} would offer.",
                    stance.why(voice, pick, other),
                    p = stance.picked(),
                    o = stance.option(other),
                )
            }
        }
        Turn::Critique => {
            let (proposer, proposal) = quotes
                .iter()
                .find(|q| q.speaker != provider_id && q.speaker != "you")
                .map_or(("the proposer", ""), |q| (q.speaker, q.text));
            let proposed = pick_in(proposal, &stance.options);
            let about = proposed.map_or(String::new(), |p| format!(" ({})", stance.option(p)));
            let mut text = format!(
                "Critique of {proposer}'s proposal{about}. Keep {}. Gap: {}. Fix: {}.",
                voice.keep, voice.gap, voice.fix
            );
            if let Some(p) = proposed
                && p != pick
                && !stance.yes_no
            {
                text.push_str(&format!(
                    " {STILL_WEIGH}{}: {}",
                    stance.picked(),
                    lower_first(&stance.why(voice, pick, p))
                ));
            }
            text
        }
        Turn::Revision => {
            let critics: Vec<&str> = others.iter().map(|(s, _, _)| *s).collect();
            let mut text = if stance.yes_no {
                format!("{opening} the answer stays {}.", stance.picked())
            } else {
                format!("{opening} still {}.", stance.picked())
            };
            for critic in &critics {
                text.push_str(&format!(
                    " Adopted from {critic}: {}.",
                    perspective_for(critic).fix
                ));
            }
            if critics.is_empty() {
                text.push_str(&format!(" {}", stance.say(voice.risk, pick, other)));
            }
            text
        }
        Turn::Debate { proponent } => {
            // An X-or-Y topic: the proponent argues for the first alternative, the
            // opponent for the second; a yes/no topic: for and against.
            let (side, against) = if proponent { (0, 1) } else { (1, 0) };
            let argument = if stance.yes_no {
                format!(
                    "{}. {}",
                    if proponent { "Yes" } else { "No" },
                    if proponent {
                        voice.argue_yes
                    } else {
                        voice.argue_no
                    }
                )
            } else {
                format!(
                    "{} over {}. {}",
                    stance.option(side),
                    stance.option(against),
                    stance.why(voice, side, against)
                )
            };
            match others.last() {
                Some((speaker, _, _)) => format!(
                    "{opening} {argument} Answering {speaker}: {}, but that does not outweigh the point above.",
                    lower_first(&concession(perspective_for(speaker)))
                ),
                None => format!("{opening} {argument}"),
            }
        }
    };
    let recommendation = match turn {
        Turn::Debate { .. } | Turn::Critique => String::new(),
        _ => format!("\n{recommendation}"),
    };
    format!("{header}\n{body}{recommendation}")
}

/// What a debater grants the other side's voice.
fn concession(other: &Perspective) -> String {
    format!("the point about {} is fair", other.focus)
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first)
            if first.is_uppercase() && chars.clone().next().is_some_and(char::is_lowercase) =>
        {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}

fn vote(provider_id: &str, after_votes: bool, voice: &Perspective, stance: &Stance) -> String {
    let reason = if stance.yes_no {
        voice.yes_no_reason.to_owned()
    } else {
        stance.why(voice, stance.pick, stance.other)
    };
    let kept = if after_votes {
        "I keep my vote after reading the others. "
    } else {
        ""
    };
    format!(
        "{SIMULATED_MARKER} {provider_id} votes as a simulated {name} (focused on {focus}).\n\
         {VOTE} {option}\n\
         {CONFIDENCE} {confidence:.2}\n\
         {REASON} {kept}{reason}",
        name = voice.name,
        focus = voice.focus,
        option = stance.picked(),
        confidence = stance.confidence(),
    )
}

fn position(prompt: &str, voice: &Perspective, stance: &Stance) -> String {
    let draft = quoted(prompt)
        .into_iter()
        .find(|q| q.speaker == "draft")
        .map_or(prompt, |q| q.text);
    let drafted = pick_in(draft, &stance.options);
    let (value, reason) = match drafted {
        Some(d) if d != stance.pick && !voice.says_yes => (
            DISAGREE,
            format!(
                "I still hold {}: {}",
                stance.picked(),
                lower_first(&if stance.yes_no {
                    voice.yes_no_reason.to_owned()
                } else {
                    stance.why(voice, stance.pick, d)
                })
            ),
        ),
        Some(d) if d != stance.pick => (
            AGREE,
            format!(
                "I preferred {}, but {} is a choice I can live with.",
                stance.picked(),
                stance.option(d)
            ),
        ),
        _ => (
            AGREE,
            format!(
                "The draft matches the {} view: {}",
                voice.name,
                lower_first(&stance.say(voice.risk, stance.pick, stance.other))
            ),
        ),
    };
    format!("{SIMULATED_MARKER}\n{POSITION} {value}\n{REASON} {reason}")
}

fn synthesis(
    provider_id: &str,
    prompt: &str,
    judging: bool,
    voice: &Perspective,
    topic: &str,
    stance: &Stance,
) -> String {
    let quotes = quoted(prompt);
    let answers = latest_answers(&quotes);
    // Who picked what.
    let picks: Vec<(&str, Option<&str>, Option<usize>)> = answers
        .iter()
        .map(|(s, role, text)| (*s, *role, pick_in(text, &stance.options)))
        .collect();
    let mut counts = vec![0usize; stance.options.len()];
    for (_, _, p) in &picks {
        if let Some(p) = p {
            counts[*p] += 1;
        }
    }
    let top = counts.iter().copied().max().unwrap_or(0);
    // A debate's verdict goes to a side: the one whose alternative the judge prefers.
    let winner = if judging {
        let side = picks
            .iter()
            .filter(|(_, role, _)| matches!(role, Some("proponent") | Some("opponent")))
            .find(|(_, _, p)| *p == Some(stance.pick))
            .or_else(|| picks.iter().find(|(_, role, _)| *role == Some("proponent")));
        side.and_then(|(_, _, p)| *p).unwrap_or(stance.pick)
    } else if top == 0 || counts.get(stance.pick) == Some(&top) {
        stance.pick
    } else {
        counts.iter().position(|c| *c == top).unwrap_or(stance.pick)
    };
    let winner_name = stance.option(winner);
    let backers: Vec<&str> = picks
        .iter()
        .filter(|(_, _, p)| *p == Some(winner))
        .map(|(s, _, _)| *s)
        .collect();
    let dissenters: Vec<(&str, usize)> = picks
        .iter()
        .filter_map(|(s, _, p)| p.filter(|p| *p != winner).map(|p| (*s, p)))
        .collect();
    let runner_up = dissenters.first().map_or(stance.other, |(_, p)| *p);
    let mut agreements = Vec::new();
    if !backers.is_empty() {
        agreements.push(if stance.yes_no {
            format!("- {winner_name} ({}).", names(&backers))
        } else {
            format!(
                "- {} is the better answer ({}).",
                capitalised(winner_name),
                names(&backers)
            )
        });
    }
    agreements.push(if stance.yes_no {
        "- Whatever the answer, start small and keep a way back.".to_owned()
    } else {
        "- Whatever is chosen should sit behind a small interface, with its failure cases tested."
            .to_owned()
    });
    let mut disagreements: Vec<String> = dissenters
        .iter()
        .map(|(s, p)| {
            format!(
                "- {s}: {} {}, putting more weight on {}.",
                if stance.yes_no { "answers" } else { "prefers" },
                stance.option(*p),
                perspective_for(s).focus
            )
        })
        .collect();
    if disagreements.is_empty() {
        let others = if answers.is_empty() {
            participants_in(prompt, provider_id)
        } else {
            answers
                .iter()
                .map(|(s, _, _)| (*s).to_owned())
                .filter(|s| s != provider_id)
                .collect()
        };
        let pickable = others.len().max(1) as u64;
        disagreements.push(match others.get((stance.seed % pickable) as usize) {
            Some(other) => format!(
                "- {other}: puts more weight on {} than the others do.",
                perspective_for(other).focus
            ),
            None => {
                "- (none): the simulated answers differ in emphasis, not in substance.".to_owned()
            }
        });
    }
    let insight_voice = dissenters
        .first()
        .map_or(voice, |(s, _)| perspective_for(s));
    let insight_who = dissenters.first().map_or(provider_id, |(s, _)| *s);
    let insight = if stance.yes_no {
        format!("- {insight_who}: {}", insight_voice.yes_no_reason)
    } else {
        let risk = stance.say(insight_voice.risk, winner, runner_up);
        format!("- {insight_who}: {risk}")
    };
    let verdict = if judging {
        let side = picks
            .iter()
            .find(|(_, role, p)| role.is_some() && *p == Some(winner))
            .map(|(s, role, _)| format!("The {} ({s}) prevails: ", role.unwrap_or("side")))
            .unwrap_or_default();
        format!("{side}{winner_name}.")
    } else if stance.yes_no {
        format!("{winner_name}, as most participants answered.")
    } else {
        format!(
            "{}, as most participants recommended.",
            capitalised(winner_name)
        )
    };
    let rest = if stance.yes_no {
        "Start with a small step and agree up front how to tell whether it worked.".to_owned()
    } else {
        format!(
            "Revisit {} if the needs change; keep the switch cheap.",
            stance.option(runner_up)
        )
    };
    format!(
        "{SIMULATED_MARKER} Synthesis by {provider_id} of the discussion on \"{topic}\".\n\
         {AGREEMENTS}\n\
         {agreements}\n\
         {DISAGREEMENTS}\n\
         {disagreements}\n\
         {INSIGHTS}\n\
         {insight}\n\
         {CONCLUSION}\n\
         {verdict} {rest} (This synthesis is simulated; no model was consulted.)",
        agreements = agreements.join("\n"),
        disagreements = disagreements.join("\n"),
    )
}

/// Unstructured junk (for the `garbage` failure mode): valid UTF-8, labelled, but none
/// of the requested format's fields.
pub fn garbage(provider_id: &str, prompt: &str) -> String {
    let seed = fnv1a(&[provider_id, prompt]);
    format!("{SIMULATED_MARKER} ~~{seed:016x}~~ {{{{ ]] null ¿¿ \u{fffd}\u{fffd} <eot> <eot>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_numbered_lists_inline_lists_or_yes_no() {
        assert_eq!(
            vote_options("Which?\nOptions:\n1. Rust\n2) Go\n3. Zig\n\nVOTE: ... CONFIDENCE: ..."),
            ["Rust", "Go", "Zig"]
        );
        assert_eq!(
            vote_options("Pick one. Options: red, green, blue"),
            ["red", "green", "blue"]
        );
        assert_eq!(vote_options("Should we ship on Friday?"), ["Yes", "No"]);
    }

    #[test]
    fn the_engines_prompt_shapes_are_understood() {
        let vote = "You are one of 3 participants (mock-a, mock-b, mock-c) in a structured discussion.\n\n\
                    <context>\nSteps:\n1. build\n2. ship\n</context>\n\n<topic>\nWhich runtime?\n</topic>\n\n\
                    Vote for one of these options:\n1. tokio\n2. smol\n\nReply in exactly this format";
        assert_eq!(vote_options(vote), ["tokio", "smol"]);
        assert_eq!(topic_of(vote), "Which runtime?");
        let synthesis = "<topic>\nX?\n</topic>\n<answer speaker=\"mock-b\" round=\"2\">\nyes\n</answer>\n\
                         <answer speaker=\"you\" round=\"2\">\nno\n</answer>\n<answer speaker=\"mock-a\" round=\"2\">\nno\n</answer>";
        assert_eq!(participants_in(synthesis, "mock-a"), ["mock-b"]);
        assert_eq!(
            stance_for(Turn::of(TextTurn::Proposal, Some(Role::Proponent))),
            "My proposal:"
        );
        assert_eq!(
            stance_for(Turn::of(TextTurn::Argument, Some(Role::Opponent))),
            "Arguing against the proposition:"
        );
        assert_eq!(
            stance_for(Turn::of(TextTurn::Argument, Some(Role::Neutral))),
            "My answer:"
        );
    }

    #[test]
    fn topic_prefers_a_topic_label() {
        assert_eq!(
            topic_of("You are in a discussion.\nTopic: Tabs or spaces?\nAnswer briefly."),
            "Tabs or spaces?"
        );
        assert_eq!(topic_of("\n\n## Tabs or spaces?\nmore"), "Tabs or spaces?");
    }

    #[test]
    fn participants_are_read_from_labels() {
        let prompt = "Answers so far:\n[mock-a]: yes\n### mock-b\nno\n**claude**: maybe\nAGREEMENTS: CONCLUSION:";
        assert_eq!(participants_in(prompt, "mock-a"), ["mock-b", "claude"]);
    }

    #[test]
    fn templates_quotes_and_picks_are_read_safely() {
        assert_eq!(
            fill(
                "{pick} over {other}, {unknown}",
                &[("pick", "{other}"), ("other", "Go")]
            ),
            "{other} over Go, {unknown}"
        );
        let options = vec!["Go".to_owned(), "Rust".to_owned()];
        // As written first: "go" in prose is not the option Go.
        assert_eq!(
            pick_in("I would go with it: Rust, not Go.", &options),
            Some(1)
        );
        assert_eq!(pick_in("Better: rust.", &options), Some(1));
        assert_eq!(
            pick_in(
                "[simulated] x on \"Go or Rust?\".\nMy answer: Rust.",
                &options
            ),
            Some(1)
        );
        assert_eq!(
            pick_in(
                "Critique of the proposal (Go). I would still weigh Rust: …",
                &options
            ),
            Some(1)
        );
        let prompt = "<answer speaker=\"mock-b\" round=\"1\" role=\"opponent\">\nNo.\n</answer>\n<answer speaker=\"broken";
        let q = quoted(prompt);
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].speaker, q[0].role, q[0].text),
            ("mock-b", Some("opponent"), "No.")
        );
        assert_eq!(names(&["a", "b", "c"]), "a, b and c");
        assert_eq!(capitalised("ßtraße"), "ßtraße");
        assert_eq!(lower_first("SQLite is"), "SQLite is");
    }

    #[test]
    fn mock_ids_get_distinct_voices() {
        let names: Vec<_> = ["mock-a", "mock-b", "mock-c"]
            .iter()
            .map(|id| perspective_for(id).name)
            .collect();
        assert_eq!(names, ["pragmatist", "skeptic", "optimist"]);
    }
}
