//! The answer formats the discussion prompts ask for, shared by the prompts (which
//! request them), the parsers (which read real model output leniently), and the mock
//! provider (which answers in them so offline discussions exercise the same paths).
//! Which format a call expects travels beside the prompt as data
//! ([`crate::provider::Expects`]); nothing reads it back out of the prompt's words.
//!
//! Each format is a few `LABEL: value` lines. Parsers accept any case, surrounding
//! markdown (`**VOTE:**`), and extra prose before or after.

/// Voting answers: `VOTE: <option text or number>`.
pub const VOTE: &str = "VOTE:";
/// Voting answers: `CONFIDENCE: <0.0–1.0>`.
pub const CONFIDENCE: &str = "CONFIDENCE:";
/// Voting and agreement-poll answers: `REASON: <one or two sentences>`.
pub const REASON: &str = "REASON:";
/// Agreement-poll answers (unanimous / majority consensus): `POSITION: AGREE` or
/// `POSITION: DISAGREE`.
pub const POSITION: &str = "POSITION:";
/// The agreeing value of [`POSITION`].
pub const AGREE: &str = "AGREE";
/// The dissenting value of [`POSITION`].
pub const DISAGREE: &str = "DISAGREE";
/// Synthesis answers: a heading followed by `- ` bullet lines of shared points.
pub const AGREEMENTS: &str = "AGREEMENTS:";
/// Synthesis answers: a heading followed by `- <provider>: <position>` bullet lines.
pub const DISAGREEMENTS: &str = "DISAGREEMENTS:";
/// Synthesis answers: a heading followed by `- ` bullet lines of unique insights.
pub const INSIGHTS: &str = "INSIGHTS:";
/// Synthesis answers: a heading followed by the final answer text.
pub const CONCLUSION: &str = "CONCLUSION:";
