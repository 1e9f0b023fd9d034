//! The skeleton every pattern's rounds share, so that a pattern file holds only what
//! differs (who speaks, in which order, what each is asked, what an answer means):
//! open the round on the transcript with its progress counter and its `round` span,
//! ask (one speaker, or many in parallel), record every outcome, close the round,
//! decide whether the discussion may go on ([`Transcript::check`]) and, for the
//! patterns that allow it, whether the answers already agree enough to stop early.

use ax_contracts::discussion::{DiscussionFailure, EarlyExit};
use tracing::Instrument;
use tracing::field::Empty;

use crate::agreement::lexical_agreement;
use crate::call::{Caller, StepTracker};
use crate::participants::Speaker;
use crate::progress::Step;
use crate::prompts::{Prompt, Quote};
use crate::state::{OpenRound, Plan, Transcript, Turn, all_settled};

/// One open round of a discussion. Every call made through it counts against the
/// round's one progress total and runs inside the round's span; every outcome is
/// recorded in the round, in the order the pattern asked.
pub(crate) struct Round<'r> {
    number: u32,
    caller: &'r Caller,
    plan: &'r Plan,
    transcript: &'r mut Transcript,
    open: OpenRound,
    tracker: StepTracker,
    span: tracing::Span,
}

impl<'r> Round<'r> {
    /// Open round `number`, whose progress lines count `calls` calls. Open it before
    /// the calls, so that the round's duration covers them.
    pub fn open(
        caller: &'r Caller,
        plan: &'r Plan,
        transcript: &'r mut Transcript,
        number: u32,
        calls: usize,
    ) -> Self {
        let span = tracing::info_span!(
            "round",
            round = number,
            calls,
            answered = Empty,
            failed = Empty,
            outcome = Empty,
            duration_ms = Empty,
        );
        Self {
            number,
            caller,
            plan,
            open: transcript.open(number),
            transcript,
            tracker: StepTracker::new(Step::Round(number), calls),
            span,
        }
    }

    /// The transcript as it stands (earlier rounds; this one is added on close).
    pub fn transcript(&self) -> &Transcript {
        self.transcript
    }

    /// Speakers that have not failed (in this round or before), in speaking order.
    pub fn active(&self) -> Vec<&'r Speaker> {
        self.transcript.active(self.plan)
    }

    /// The successful answers given so far in this round, as quotes.
    pub fn quotes(&self) -> Vec<Quote<'_>> {
        self.open.quotes()
    }

    /// Ask `speaker` alone and record the outcome; returns the answer, if any.
    pub async fn ask(&mut self, speaker: &Speaker, prompt: Prompt) -> Option<String> {
        let outcome = self
            .caller
            .call(speaker, &self.tracker, prompt)
            .instrument(self.span.clone())
            .await;
        self.transcript.record(&mut self.open, speaker, &outcome)
    }

    /// Ask every turn in parallel, wait until all have settled (INV-DISC-103), then
    /// record every outcome in turn order. Returns the speakers that answered, with
    /// their answers, in the same order.
    pub async fn ask_all(&mut self, turns: Vec<Turn>) -> Vec<(Speaker, String)> {
        let outcomes = all_settled(self.caller, &self.tracker, turns)
            .instrument(self.span.clone())
            .await;
        let mut answers = Vec::with_capacity(outcomes.len());
        for (speaker, outcome) in outcomes {
            if let Some(text) = self.transcript.record(&mut self.open, &speaker, &outcome) {
                answers.push((speaker, text));
            }
        }
        answers
    }

    /// Give `speaker`'s response in this round its parsed vote.
    pub fn set_vote(&mut self, speaker: &Speaker, vote: String, confidence: Option<f64>) {
        self.open.set_vote(&speaker.id, vote, confidence);
    }

    /// Close the round and decide whether the discussion may go on.
    pub fn close(self) -> Result<(), DiscussionFailure> {
        self.finish().1
    }

    /// [`Round::close`], then the round early exit: after this round (not the last,
    /// and at least `minRounds`), stop when the agreement of the answers reaches the
    /// threshold. `agreement` measures it — the lexical measure of
    /// [`crate::agreement`] for text answers ([`text_agreement`]), the modal share for
    /// votes — and is called only when an early exit is possible, because measuring
    /// costs more than the rest of the engine's work for a call.
    pub fn close_or_exit_early(
        self,
        agreement: impl FnOnce(&Transcript) -> Option<f64>,
    ) -> Result<Option<EarlyExit>, DiscussionFailure> {
        let plan = self.plan;
        let number = self.number;
        let (transcript, checked, span) = self.finish();
        checked?;
        let cfg = &plan.config.round_early_exit;
        if !cfg.enabled || number < cfg.min_rounds || number >= plan.rounds() {
            return Ok(None);
        }
        let Some(score) = agreement(transcript) else {
            return Ok(None);
        };
        if score < cfg.agreement_threshold {
            return Ok(None);
        }
        span.record("outcome", "early_exit");
        Ok(Some(EarlyExit {
            after_round: number,
            agreement_score: score,
            reason: format!(
                "answers agreed ({score:.2} ≥ {:.2}) after round {number} of {}",
                cfg.agreement_threshold,
                plan.rounds()
            ),
        }))
    }

    /// Close the round on the transcript, check it, and record the round's span.
    fn finish(self) -> (&'r Transcript, Result<(), DiscussionFailure>, tracing::Span) {
        let Self {
            caller,
            plan,
            transcript,
            open,
            span,
            ..
        } = self;
        transcript.close(open);
        let checked = transcript.check(plan, caller);
        if !span.is_disabled()
            && let Some(round) = transcript.rounds.last()
        {
            let failed = round.responses.iter().filter(|r| r.error.is_some()).count();
            span.record("answered", round.responses.len() - failed);
            span.record("failed", failed);
            span.record("duration_ms", round.duration_ms);
            match &checked {
                Ok(()) => span.record("outcome", "ok"),
                Err(f) => span.record("outcome", f.code.as_str()),
            };
        }
        (transcript, checked, span)
    }
}

/// The lexical agreement of the successful answers of round `number`.
pub(crate) fn text_agreement(transcript: &Transcript, number: u32) -> Option<f64> {
    let answers: Vec<&str> = transcript
        .answers_of(number)
        .iter()
        .map(|r| r.content.as_str())
        .collect();
    lexical_agreement(&answers)
}
