//! The answer formats the discussion prompts ask for, shared by the prompts (which
//! request them), the parsers (which read real model output leniently), and the mock
//! provider (which answers in them so offline discussions exercise the same paths).
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

/// The kind of answer a prompt asks for, recognised from the prompt text. The mock
/// provider uses it to answer in the right format; real models read the instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedFormat {
    /// A vote with confidence and reason.
    Vote,
    /// AGREE/DISAGREE with a reason.
    Position,
    /// A structured synthesis.
    Synthesis,
    /// Free text.
    Free,
}

/// Which format a prompt requests. Prompts built by this crate name exactly one.
pub fn requested_format(prompt: &str) -> RequestedFormat {
    if prompt.contains(VOTE) && prompt.contains(CONFIDENCE) {
        RequestedFormat::Vote
    } else if prompt.contains(POSITION) {
        RequestedFormat::Position
    } else if prompt.contains(AGREEMENTS) && prompt.contains(CONCLUSION) {
        RequestedFormat::Synthesis
    } else {
        RequestedFormat::Free
    }
}
