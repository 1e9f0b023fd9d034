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

/// What the prompt is about, for answers that read sensibly: the text after a
/// `Topic:` label, else the first non-empty line; at most 120 characters.
pub fn topic_of(prompt: &str) -> String {
    let labelled = prompt.lines().find_map(|line| {
        let trimmed = line.trim().trim_start_matches(['#', '*', ' ']);
        let lower = trimmed.to_ascii_lowercase();
        lower.starts_with("topic:").then(|| {
            trimmed["topic:".len()..]
                .trim()
                .trim_end_matches('*')
                .trim()
                .to_owned()
        })
    });
    let raw = labelled
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

/// The options a voting prompt offers: a numbered list (preferably right after a line
/// mentioning "options"), or an inline `Options: a, b, c`; else Yes/No — the same rule
/// the voting pattern uses to build the prompt.
pub fn vote_options(prompt: &str) -> Vec<String> {
    let lines: Vec<&str> = prompt.lines().collect();
    for line in &lines {
        let lower = line.to_ascii_lowercase();
        if let Some(at) = lower.find("options:") {
            let rest = &line[at + "options:".len()..];
            let inline: Vec<String> = rest
                .split(',')
                .map(|o| o.trim().trim_end_matches('.').trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect();
            if inline.len() >= 2 {
                return inline;
            }
        }
    }
    let start = lines
        .iter()
        .position(|l| l.to_ascii_lowercase().contains("option"))
        .unwrap_or(0);
    let numbered = |from: usize| -> Vec<String> {
        lines[from..]
            .iter()
            .skip_while(|l| numbered_item(l).is_none())
            .map_while(|l| numbered_item(l))
            .collect()
    };
    let mut options = numbered(start);
    if options.len() < 2 {
        options = numbered(0);
    }
    if options.len() >= 2 {
        options
    } else {
        vec!["Yes".to_owned(), "No".to_owned()]
    }
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

fn free(
    provider_id: &str,
    prompt: &str,
    voice: &Perspective,
    topic: &str,
    picks: &mut Picks,
) -> String {
    let lower = prompt.to_ascii_lowercase();
    let stance = if lower.contains("revise") || lower.contains("revision") {
        "Revised answer, taking the critiques into account:"
    } else if lower.contains("critique") || lower.contains("weakness") {
        "Critique of the proposal:"
    } else if lower.contains("previous")
        || lower.contains("other participants")
        || lower.contains("others said")
    {
        "Having read the other answers, I agree with most of them and would add this:"
    } else {
        "My answer:"
    };
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
