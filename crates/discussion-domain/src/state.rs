//! The state of one running discussion: its [`Plan`] (configuration and speakers) and
//! its [`Transcript`] (rounds so far, failed speakers), plus the rule that decides
//! after each round whether the discussion can go on.

use std::collections::HashSet;

use ax_contracts::discussion::{
    DiscussionConfig, DiscussionFailure, DiscussionRound, FailedProvider, FailureCode,
    ProviderResponseRecord,
};
use ax_contracts::error::ErrorCode;
use futures::future::join_all;
use tokio::time::Instant;

use crate::call::{CallFailure, CallOutcome, Caller, StepTracker};
use crate::participants::Speaker;
use crate::prompts::{Brief, Prompt, Quote};

/// What a discussion runs: the configuration and its resolved speakers.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub config: DiscussionConfig,
    pub speakers: Vec<Speaker>,
    names: Vec<String>,
}

impl Plan {
    pub fn new(config: DiscussionConfig, speakers: Vec<Speaker>) -> Self {
        let names = speakers.iter().map(|s| s.id.clone()).collect();
        Self {
            config,
            speakers,
            names,
        }
    }

    pub fn brief(&self) -> Brief<'_> {
        Brief {
            topic: &self.config.topic,
            context: self.config.context.as_deref(),
            participants: &self.names,
        }
    }

    pub fn rounds(&self) -> u32 {
        self.config.effective_rounds()
    }

    /// The first-round prompt: `default`, its words replaced by the configured
    /// replacement if there is one. The answer expected stays the pattern's: the
    /// replacement changes what the speaker is told, not what the engine reads back.
    pub fn opening_prompt(&self, speaker: &Speaker, default: impl FnOnce() -> Prompt) -> Prompt {
        let prompt = default();
        match self.config.provider_prompts.get(&speaker.id) {
            Some(text) => Prompt {
                text: text.clone(),
                expects: prompt.expects,
            },
            None => prompt,
        }
    }
}

/// One call to make: who, and what to ask.
pub(crate) struct Turn {
    pub speaker: Speaker,
    pub prompt: Prompt,
}

/// Run `turns` in parallel and collect every outcome, success or failure, before
/// returning (INV-DISC-103, the `Promise.allSettled` rule): one failing provider never
/// cancels the others, and the caller decides only once all have settled.
pub(crate) async fn all_settled(
    caller: &Caller,
    tracker: &StepTracker,
    turns: Vec<Turn>,
) -> Vec<(Speaker, CallOutcome)> {
    join_all(turns.into_iter().map(|t| async move {
        let outcome = caller.call(&t.speaker, tracker, t.prompt).await;
        (t.speaker, outcome)
    }))
    .await
}

/// The rounds so far and who failed.
#[derive(Debug, Default)]
pub(crate) struct Transcript {
    pub rounds: Vec<DiscussionRound>,
    pub failed: Vec<FailedProvider>,
    failed_ids: HashSet<String>,
    answered: Vec<String>,
    /// The first failure seen in the current round (for `continueOnProviderFailure`).
    round_failure: Option<CallFailure>,
}

/// A round being filled.
pub(crate) struct OpenRound {
    number: u32,
    started: Instant,
    responses: Vec<ProviderResponseRecord>,
}

impl OpenRound {
    /// The successful answers given so far in this round, as quotes.
    pub fn quotes(&self) -> Vec<Quote<'_>> {
        self.responses
            .iter()
            .filter(|r| r.error.is_none())
            .map(quote)
            .collect()
    }

    /// Give `speaker`'s response in this round its parsed vote.
    pub fn set_vote(&mut self, speaker: &str, vote: String, confidence: Option<f64>) {
        if let Some(response) = self.responses.iter_mut().rfind(|r| r.provider == speaker) {
            response.vote = Some(vote);
            response.confidence = confidence;
        }
    }
}

impl Transcript {
    /// A speaker that could not take part at all (e.g. its provider is unavailable).
    pub fn fail_before_start(&mut self, speaker: &str, code: FailureCode, message: String) {
        if self.failed_ids.insert(speaker.to_owned()) {
            self.failed.push(FailedProvider {
                provider: speaker.to_owned(),
                code,
                message,
            });
        }
    }

    pub fn open(&mut self, number: u32) -> OpenRound {
        self.round_failure = None;
        OpenRound {
            number,
            started: Instant::now(),
            responses: Vec::new(),
        }
    }

    /// Record one outcome in `round`; returns the answer text when there is one.
    pub fn record(
        &mut self,
        round: &mut OpenRound,
        speaker: &Speaker,
        outcome: &CallOutcome,
    ) -> Option<String> {
        round
            .responses
            .push(response(speaker, round.number, outcome));
        self.note(speaker, outcome)
    }

    /// Note an outcome that is not part of a round (consensus calls): failures are
    /// reported, answers count as participation.
    pub fn note(&mut self, speaker: &Speaker, outcome: &CallOutcome) -> Option<String> {
        match &outcome.result {
            Ok(answer) => {
                if !self.answered.contains(&speaker.id) {
                    self.answered.push(speaker.id.clone());
                }
                Some(answer.content.clone())
            }
            Err(failure) => {
                if self.round_failure.is_none() {
                    self.round_failure = Some(failure.clone());
                }
                if self.failed_ids.insert(speaker.id.clone()) {
                    self.failed.push(FailedProvider {
                        provider: speaker.id.clone(),
                        code: failure.code(),
                        message: failure.message(),
                    });
                }
                None
            }
        }
    }

    pub fn close(&mut self, round: OpenRound) {
        self.rounds.push(DiscussionRound {
            round_number: round.number,
            duration_ms: millis(round.started.elapsed()),
            responses: round.responses,
        });
    }

    pub fn has_failed(&self, speaker: &Speaker) -> bool {
        self.failed_ids.contains(&speaker.id)
    }

    /// Speakers that have not failed, in speaking order.
    pub fn active<'p>(&self, plan: &'p Plan) -> Vec<&'p Speaker> {
        plan.speakers
            .iter()
            .filter(|s| !self.has_failed(s))
            .collect()
    }

    /// Speakers that answered at least once, in the order they first did.
    pub fn participating(&self) -> Vec<String> {
        self.answered.clone()
    }

    /// The successful answers of round `number` (1-based), in speaking order.
    pub fn answers_of(&self, number: u32) -> Vec<&ProviderResponseRecord> {
        self.rounds
            .iter()
            .filter(|r| r.round_number == number)
            .flat_map(|r| r.responses.iter())
            .filter(|r| r.error.is_none())
            .collect()
    }

    /// Every successful answer so far, in order, as quotes.
    pub fn quotes(&self) -> Vec<Quote<'_>> {
        self.rounds
            .iter()
            .flat_map(|r| r.responses.iter())
            .filter(|r| r.error.is_none())
            .map(quote)
            .collect()
    }

    /// Each active speaker's latest successful answer, in speaking order.
    pub fn latest_answers<'t>(&'t self, plan: &Plan) -> Vec<Quote<'t>> {
        plan.speakers
            .iter()
            .filter(|s| !self.has_failed(s))
            .filter_map(|s| {
                self.rounds
                    .iter()
                    .rev()
                    .flat_map(|r| r.responses.iter())
                    .find(|r| r.provider == s.id && r.error.is_none())
                    .map(quote)
            })
            .collect()
    }

    /// May the discussion go on after the round just closed? Fails it when it was
    /// cancelled, when a provider failed and `continueOnProviderFailure` is off, or when
    /// fewer than `minProviders` speakers are still standing.
    pub fn check(&self, plan: &Plan, caller: &Caller) -> Result<(), DiscussionFailure> {
        if caller.cancel.is_cancelled() {
            return Err(caller.stop_reason());
        }
        let active = self.active(plan).len();
        if let Some(failure) = &self.round_failure
            && !plan.config.continue_on_provider_failure
        {
            let code = if failure.is_timeout() {
                ErrorCode::DiscussionProviderTimeout
            } else if active == 0 {
                ErrorCode::DiscussionAllProvidersFailed
            } else {
                ErrorCode::DiscussionInsufficientProviders
            };
            return Err(DiscussionFailure::new(
                code,
                format!(
                    "a provider failed ({}) and continueOnProviderFailure is off",
                    failure.describe()
                ),
            ));
        }
        self.check_min_providers(plan)
    }

    /// Fails when fewer than `minProviders` speakers are still standing.
    pub fn check_min_providers(&self, plan: &Plan) -> Result<(), DiscussionFailure> {
        let active = self.active(plan).len();
        let min = plan.config.min_providers as usize;
        if active == 0 {
            Err(DiscussionFailure::new(
                ErrorCode::DiscussionAllProvidersFailed,
                "every provider failed",
            ))
        } else if active < min {
            Err(DiscussionFailure::new(
                ErrorCode::DiscussionInsufficientProviders,
                format!("only {active} provider(s) still answering; minProviders is {min}"),
            ))
        } else {
            Ok(())
        }
    }
}

fn quote(r: &ProviderResponseRecord) -> Quote<'_> {
    Quote {
        speaker: &r.provider,
        role: r.role,
        round: r.round,
        text: &r.content,
    }
}

fn response(speaker: &Speaker, round: u32, outcome: &CallOutcome) -> ProviderResponseRecord {
    let (content, tokens, simulated, error) = match &outcome.result {
        Ok(a) => (a.content.clone(), a.tokens, a.simulated, None),
        Err(f) => (String::new(), None, false, Some(f.describe())),
    };
    ProviderResponseRecord {
        provider: speaker.id.clone(),
        round,
        role: speaker.role,
        content,
        confidence: None,
        vote: None,
        duration_ms: millis(outcome.duration),
        token_count: tokens,
        error,
        via_provider: speaker.is_agent.then(|| speaker.provider.clone()),
        simulated,
    }
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
