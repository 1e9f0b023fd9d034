//! The synthesizer (and moderator): who writes the conclusion, and how.
//!
//! Who: the configured `synthesizer`; for `moderator` next the speakers with a judge or
//! moderator role; then the standing speakers in a stable preference order (the
//! engine's `synthesizer_preference`, then speaking order). When a candidate's call
//! fails the next one is tried, so one failing provider does not lose the discussion's
//! conclusion.

use ax_contracts::discussion::{DiscussionFailure, Dissent, Role};
use ax_contracts::error::ErrorCode;

use crate::agreement::lexical_agreement;
use crate::call::{Caller, StepTracker};
use crate::parse::{self, SynthesisSections};
use crate::participants::Speaker;
use crate::progress::Step;
use crate::prompts;
use crate::state::{Plan, Transcript};

/// The `provider` of a dissent whose owner the synthesis did not name.
pub(crate) const UNATTRIBUTED: &str = "unattributed";

/// A written conclusion.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub by: String,
    pub sections: SynthesisSections,
    pub dissent: Vec<Dissent>,
}

/// Synthesizer candidates, best first, without duplicates.
pub(crate) fn candidates(
    caller: &Caller,
    plan: &Plan,
    transcript: &Transcript,
    moderator: bool,
) -> Vec<Speaker> {
    let mut out: Vec<Speaker> = Vec::new();
    let mut push = |s: Speaker| {
        if !out.iter().any(|o| o.id == s.id) {
            out.push(s);
        }
    };
    if let Some(name) = &plan.config.consensus.synthesizer {
        match plan.speakers.iter().find(|s| &s.id == name) {
            Some(s) if !transcript.has_failed(s) => push(s.clone()),
            Some(_) => {}
            None => push(Speaker::provider(name.clone())),
        }
    }
    let active = transcript.active(plan);
    if moderator {
        for s in active
            .iter()
            .filter(|s| matches!(s.role, Some(Role::Judge | Role::Moderator)))
        {
            push((*s).clone());
        }
    }
    for preferred in &caller.tree.synthesizer_preference {
        for s in active
            .iter()
            .filter(|s| &s.provider == preferred && !s.is_agent)
        {
            push((*s).clone());
        }
    }
    for s in active {
        push(s.clone());
    }
    out
}

/// Write the conclusion from the speakers' latest answers (and any points settled in
/// sub-discussions). `moderator` asks for a judgement of the arguments over the whole
/// transcript instead of a synthesis of final answers.
pub(crate) async fn write(
    caller: &Caller,
    plan: &Plan,
    transcript: &mut Transcript,
    settled: &[(String, String)],
    moderator: bool,
) -> Result<Written, DiscussionFailure> {
    let brief = plan.brief();
    let prompt = if moderator {
        prompts::moderate(&brief, &transcript.quotes(), settled)
    } else {
        prompts::synthesize(
            &brief,
            &transcript.latest_answers(plan),
            plan.config.consensus.include_dissent,
            settled,
        )
    };
    let mut last_error = String::from("no provider was left to write it");
    for speaker in candidates(caller, plan, transcript, moderator) {
        if caller.cancel.is_cancelled() {
            return Err(caller.stop_reason());
        }
        let tracker = StepTracker::new(Step::Synthesis, 1);
        let outcome = caller.call(&speaker, &tracker, prompt.clone()).await;
        // A synthesizer that is not a speaker is reported, but it does not count as a
        // failed participant.
        let is_speaker = plan.speakers.iter().any(|s| s.id == speaker.id);
        let text = match &outcome.result {
            Ok(answer) if is_speaker => transcript
                .note(&speaker, &outcome)
                .or(Some(answer.content.clone())),
            Ok(answer) => Some(answer.content.clone()),
            Err(f) => {
                last_error = format!("{}: {}", speaker.id, f.describe());
                if is_speaker {
                    transcript.note(&speaker, &outcome);
                }
                None
            }
        };
        if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
            let sections = parse::synthesis(&text);
            let dissent = sections
                .disagreements
                .iter()
                .map(|(who, what)| {
                    let (provider, position) = attribute(plan, who, what);
                    Dissent { provider, position }
                })
                .collect();
            return Ok(Written {
                by: speaker.id.clone(),
                sections,
                dissent,
            });
        }
    }
    Err(DiscussionFailure::new(
        if moderator {
            ErrorCode::DiscussionConsensusFailed
        } else {
            ErrorCode::DiscussionSynthesisFailed
        },
        format!("no conclusion could be written ({last_error})"),
    ))
}

/// Which speaker a disagreement line belongs to, and its position: the speaker named
/// before the colon (by id or display name), else the one speaker the line mentions,
/// else [`UNATTRIBUTED`]. Names match whole words only ("alphabet" is not `alpha`). A
/// name that is no participant is never stored as one: the line is unattributed and
/// keeps the name in its text, so nothing the synthesizer wrote is lost.
fn attribute(plan: &Plan, who: &str, what: &str) -> (String, String) {
    let who_l = who.trim().to_lowercase();
    let named = plan.speakers.iter().find(|s| {
        let id = s.id.to_lowercase();
        who_l == id || who_l == s.display_name.to_lowercase() || mentions(&who_l, &id)
    });
    if let Some(s) = named {
        return (s.id.clone(), what.to_owned());
    }
    if !who_l.is_empty() {
        return (UNATTRIBUTED.to_owned(), format!("{}: {what}", who.trim()));
    }
    let what_l = what.to_lowercase();
    match plan
        .speakers
        .iter()
        .filter(|s| mentions(&what_l, &s.id.to_lowercase()))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [one] => (one.id.clone(), what.to_owned()),
        _ => (UNATTRIBUTED.to_owned(), what.to_owned()),
    }
}

/// Whether lower-case `text` holds `id` as a whole word: ids are made of letters,
/// digits, `.`, `_` and `-`, so a word is a run of those (sentence punctuation after it
/// does not count).
fn mentions(text: &str, id: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .any(|word| word == id || word.trim_end_matches(['.', '-', '_']) == id)
}

/// Lexical agreement of the standing speakers' latest answers (see [`crate::agreement`]).
pub(crate) fn last_round_agreement(transcript: &Transcript, plan: &Plan) -> Option<f64> {
    let latest = transcript.latest_answers(plan);
    let texts: Vec<&str> = latest.iter().map(|q| q.text).collect();
    lexical_agreement(&texts)
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn names_match_whole_words_only() {
        assert!(mentions("alpha wants postgres", "alpha"));
        assert!(mentions("as mock-a said.", "mock-a"));
        assert!(mentions("(claude) disagrees", "claude"));
        assert!(!mentions("alphabet soup", "alpha"));
        assert!(!mentions("mock-ab", "mock-a"));
        assert!(!mentions("", "a"));
    }
}
