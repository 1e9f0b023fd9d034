//! The mock provider's answers: deterministic text in the format the prompt asks for
//! (`requested_format`), so offline discussions, tests and benchmarks drive the same
//! parsing paths as real models. Every answer starts with [`SIMULATED_MARKER`].
//!
//! Determinism comes from an FNV-1a hash of (provider id, system prompt, prompt): the
//! same call always gets the same answer, different providers get different but
//! plausible ones. Each provider id is also given a stable "perspective" (pragmatist,
//! skeptic, ...) so a three-mock demo reads like three different voices.

use ax_discussion_domain::response_format::{
    AGREE, AGREEMENTS, CONCLUSION, CONFIDENCE, DISAGREE, DISAGREEMENTS, INSIGHTS, POSITION, REASON,
    RequestedFormat, VOTE, requested_format,
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

/// A stream of small deterministic choices drawn from one seed (splitmix64 steps).
struct Picks(u64);

impl Picks {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A voice for a provider id: what it tends to stress.
struct Perspective {
    name: &'static str,
    focus: &'static str,
    opening: &'static [&'static str],
    points: &'static [&'static str],
    recommendation: &'static [&'static str],
}

const PERSPECTIVES: &[Perspective] = &[
    Perspective {
        name: "pragmatist",
        focus: "what can be shipped and maintained",
        opening: &[
            "The practical answer is to start small and measure.",
            "Whatever we choose has to survive contact with day-to-day operations.",
        ],
        points: &[
            "Prefer the option the team can operate confidently today.",
            "A reversible first step is worth more than a perfect plan.",
            "Hidden maintenance cost usually decides these questions in the end.",
        ],
        recommendation: &[
            "pick the simplest option that meets the requirement and revisit it with real data",
            "run a time-boxed trial and keep the decision easy to undo",
        ],
    },
    Perspective {
        name: "skeptic",
        focus: "risks and failure modes",
        opening: &[
            "Before agreeing, it is worth asking what could go wrong.",
            "The main risk here is underestimating the failure cases.",
        ],
        points: &[
            "Concurrency and partial failure are where such plans usually break.",
            "Claims of low cost deserve a benchmark before they are trusted.",
            "Every added dependency is a new way to fail.",
        ],
        recommendation: &[
            "write down the failure modes first and test them explicitly",
            "proceed only with a rollback plan and monitoring in place",
        ],
    },
    Perspective {
        name: "optimist",
        focus: "opportunities and upside",
        opening: &[
            "There is a real opportunity here if it is approached deliberately.",
            "This looks promising, with a few conditions.",
        ],
        points: &[
            "The upside compounds if the foundation is done properly.",
            "Users benefit quickly from even a partial improvement.",
            "It also opens the door to simplifying adjacent parts of the system.",
        ],
        recommendation: &[
            "go ahead, with clear success criteria agreed up front",
            "commit to it and schedule a review after the first milestone",
        ],
    },
    Perspective {
        name: "architect",
        focus: "boundaries, coupling and long-term structure",
        opening: &[
            "The structural question matters more than the immediate choice.",
            "It helps to separate the interface from the implementation here.",
        ],
        points: &[
            "Keep the decision behind a narrow interface so it can change later.",
            "Make the invariants explicit and enforce them where the data lives.",
            "Avoid coupling the core logic to any single vendor or tool.",
        ],
        recommendation: &[
            "define the boundary first, then choose the implementation behind it",
            "choose the option with the clearest ownership of data and failure",
        ],
    },
];

/// The perspective a provider id always speaks from.
fn perspective_for(provider_id: &str) -> &'static Perspective {
    // Ids like mock-a, mock-b, mock-c map to different voices in order; other ids by hash.
    let index = match provider_id.strip_prefix("mock-").map(str::as_bytes) {
        Some([letter]) if letter.is_ascii_lowercase() => usize::from(letter - b'a'),
        _ => fnv1a(&[provider_id]) as usize,
    };
    &PERSPECTIVES[index % PERSPECTIVES.len()]
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

/// The mock's answer to `prompt` as `provider_id`.
pub fn answer(provider_id: &str, system_prompt: Option<&str>, prompt: &str) -> String {
    let seed = fnv1a(&[provider_id, system_prompt.unwrap_or(""), prompt]);
    let mut picks = Picks(seed);
    let voice = perspective_for(provider_id);
    let topic = topic_of(prompt);
    match requested_format(prompt) {
        RequestedFormat::Vote => vote(provider_id, prompt, voice, &mut picks),
        RequestedFormat::Position => position(voice, &topic, &mut picks),
        RequestedFormat::Synthesis => synthesis(provider_id, prompt, voice, &topic, &mut picks),
        RequestedFormat::Free => free(provider_id, prompt, voice, &topic, &mut picks),
    }
}

/// How a free-text answer opens, from what the prompt asks for. The phrases are the
/// engine's (proposal, critique, revision, debate turns, follow-up rounds); anything
/// else is a first answer.
fn stance_for(prompt: &str) -> &'static str {
    let lower = prompt.to_ascii_lowercase();
    let has = |phrase: &str| lower.contains(phrase);
    if has("revise your proposal") {
        "Revised proposal, taking each critique into account:"
    } else if has("critique this proposal") {
        "Critique of the proposal (a reasonable start, with gaps):"
    } else if has("you are the proposer") {
        "My proposal:"
    } else if has("your role: proponent") {
        "Arguing for the proposition:"
    } else if has("your role: opponent") {
        "Arguing against the proposition:"
    } else if has("the other participants answered")
        || has("what has been said so far")
        || has("previous answer")
    {
        "Having read the other answers, I agree with most of them and would add this:"
    } else {
        "My answer:"
    }
}

fn free(
    provider_id: &str,
    prompt: &str,
    voice: &Perspective,
    topic: &str,
    picks: &mut Picks,
) -> String {
    let stance = stance_for(prompt);
    let first = picks.below(voice.points.len());
    let second = (first + 1 + picks.below(voice.points.len() - 1)) % voice.points.len();
    format!(
        "{SIMULATED_MARKER} {provider_id} (a simulated {name} focused on {focus}) on \"{topic}\".\n\
         {stance} {opening} {p1} {p2}\n\
         Recommendation: {rec}.",
        name = voice.name,
        focus = voice.focus,
        opening = picks.pick(voice.opening),
        p1 = voice.points[first],
        p2 = voice.points[second],
        rec = picks.pick(voice.recommendation),
    )
}

fn vote(provider_id: &str, prompt: &str, voice: &Perspective, picks: &mut Picks) -> String {
    let options = vote_options(prompt);
    // Most voters share the prompt's "favourite" option so a demo usually shows a
    // majority; some dissent, chosen per provider.
    let favourite = (fnv1a(&[prompt]) % options.len() as u64) as usize;
    let choice = if picks.below(3) < 2 {
        favourite
    } else {
        picks.below(options.len())
    };
    let confidence = 0.55 + (picks.below(41) as f64) / 100.0;
    format!(
        "{SIMULATED_MARKER} {provider_id} votes as a simulated {name}.\n\
         {VOTE} {option}\n\
         {CONFIDENCE} {confidence:.2}\n\
         {REASON} From the {name}'s angle ({focus}), \"{option}\" looks like the better choice.",
        name = voice.name,
        focus = voice.focus,
        option = options[choice],
    )
}

fn position(voice: &Perspective, topic: &str, picks: &mut Picks) -> String {
    let agrees = picks.below(5) != 0;
    let (value, reason) = if agrees {
        (
            AGREE,
            format!(
                "The conclusion on \"{topic}\" matches the {} view: {}",
                voice.name,
                picks.pick(voice.points)
            ),
        )
    } else {
        (
            DISAGREE,
            format!("The conclusion on \"{topic}\" underplays {}.", voice.focus),
        )
    };
    format!("{SIMULATED_MARKER}\n{POSITION} {value}\n{REASON} {reason}")
}

fn synthesis(
    provider_id: &str,
    prompt: &str,
    voice: &Perspective,
    topic: &str,
    picks: &mut Picks,
) -> String {
    let others = participants_in(prompt, provider_id);
    let disagreement = match others.get(picks.below(others.len().max(1))) {
        Some(other) => format!(
            "- {other}: puts more weight on {} than the others do.",
            perspective_for(other).focus
        ),
        None => "- (none): the simulated answers differ in emphasis, not in substance.".to_owned(),
    };
    format!(
        "{SIMULATED_MARKER} Synthesis by {provider_id} of the discussion on \"{topic}\".\n\
         {AGREEMENTS}\n\
         - Start with a small, reversible step and measure its effect.\n\
         - Make the failure cases explicit and test them.\n\
         {DISAGREEMENTS}\n\
         {disagreement}\n\
         {INSIGHTS}\n\
         - {insight}\n\
         {CONCLUSION}\n\
         On \"{topic}\", the participants broadly agree: {rec}. (This synthesis is simulated; no model was consulted.)",
        insight = picks.pick(voice.points),
        rec = picks.pick(voice.recommendation),
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
            stance_for("You are the proposer. The others will critique it and you will revise it."),
            "My proposal:"
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
    fn mock_ids_get_distinct_voices() {
        let names: Vec<_> = ["mock-a", "mock-b", "mock-c"]
            .iter()
            .map(|id| perspective_for(id).name)
            .collect();
        assert_eq!(names, ["pragmatist", "skeptic", "optimist"]);
    }
}
