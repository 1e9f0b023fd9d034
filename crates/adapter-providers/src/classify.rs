//! Reading a failure's class out of the words a provider used. CLIs report rate limits,
//! expired logins and overloads only as prose on stderr (or in an error event), so the
//! same small vocabulary serves the command providers and the error bodies of HTTP
//! servers. The engine retries only what is classified as retryable, so a wrong
//! "rate limit" costs a few retries and a wrong "unknown" costs none: when in doubt
//! the classifier says unknown.

use std::time::Duration;

use ax_discussion_domain::provider::ProviderErrorKind;

/// Longest delay we accept from a provider's "retry after" hint; beyond it the hint is
/// clamped, so a "try again in 3 days" usage limit cannot park a discussion for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

const RATE_LIMIT_WORDS: &[&str] = &[
    "rate limit",
    "rate-limit",
    "ratelimit",
    "rate_limit",
    "too many requests",
    "quota exceeded",
    "exceeded your current quota",
    "resource_exhausted",
    "resource exhausted",
    "usage limit",
];

const AUTH_WORDS: &[&str] = &[
    "unauthorized",
    "unauthenticated",
    "forbidden",
    "not logged in",
    "please log in",
    "please login",
    "log in again",
    "/login",
    "authentication",
    "invalid api key",
    "invalid x-api-key",
    "api key not valid",
    "missing api key",
    "no api key",
    "api_key",
    "credentials",
    "oauth token",
];

const SERVER_WORDS: &[&str] = &[
    "overloaded",
    "internal server error",
    "service unavailable",
    "bad gateway",
    "gateway timeout",
    "server error",
    // codex's wording for a 5xx answer (0.171: "We're currently experiencing high
    // demand, which may cause temporary errors.").
    "experiencing high demand",
    // OpenAI's 500 body: "The server had an error while processing your request."
    "server had an error",
];

const NETWORK_WORDS: &[&str] = &[
    "econnrefused",
    "econnreset",
    "enotfound",
    "etimedout",
    "connection refused",
    "connection reset",
    "could not resolve",
    "network error",
    "network is unreachable",
    "fetch failed",
];

/// The class a failure message belongs to, or `None` when nothing in it is telling
/// (INV-PROV-ERR-001 for the failures that are only prose).
pub fn classify_message(text: &str) -> Option<ProviderErrorKind> {
    let lower = text.to_lowercase();
    let has_any = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has_status_code(&lower, "429") || has_any(RATE_LIMIT_WORDS) {
        Some(ProviderErrorKind::RateLimit)
    } else if has_status_code(&lower, "401")
        || has_status_code(&lower, "403")
        || has_any(AUTH_WORDS)
    {
        Some(ProviderErrorKind::Auth)
    } else if ["500", "502", "503", "504", "529"]
        .iter()
        .any(|code| has_status_code(&lower, code))
        || has_any(SERVER_WORDS)
    {
        Some(ProviderErrorKind::Server)
    } else if has_any(NETWORK_WORDS) {
        Some(ProviderErrorKind::Network)
    } else {
        None
    }
}

/// Whether `code` appears as a number of its own (`HTTP 429`, `status=429`), not as
/// part of a longer one (`14290 tokens`).
fn has_status_code(text: &str, code: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(code).any(|(start, _)| {
        let end = start + code.len();
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_digit();
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_digit();
        before_ok && after_ok
    })
}

/// Phrases after which providers put their suggested delay.
const RETRY_HINTS: &[&str] = &[
    "retry after",
    "retry-after",
    "retry_after",
    "retryafter",
    "retrydelay",
    "retry_delay",
    "retry in",
    "try again in",
    "try again after",
    "resets in",
    "reset in",
];

/// A delay suggested in prose or JSON: `retry after 2s`, `Retry-After: 30`,
/// `"retryDelay": "43s"`, `try again in 1.5 minutes`. A number without a unit is
/// seconds (that is what HTTP's `Retry-After` means). Clamped to [`MAX_RETRY_AFTER`].
pub fn retry_after_hint(text: &str) -> Option<Duration> {
    let lower = text.to_lowercase();
    RETRY_HINTS.iter().find_map(|hint| {
        lower
            .match_indices(hint)
            .find_map(|(at, _)| parse_delay_after(&lower[at + hint.len()..]))
    })
}

/// Parses the delay that follows a hint: skips separators (`: " =`), reads a number
/// (decimals allowed) and an optional unit word.
fn parse_delay_after(rest: &str) -> Option<Duration> {
    let rest = rest.trim_start_matches([' ', ':', '"', '\'', '=', '\t']);
    let number_len = rest
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
        .count();
    if number_len == 0 {
        return None;
    }
    let value: f64 = rest[..number_len].parse().ok()?;
    let unit: String = rest[number_len..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let seconds = match unit.as_str() {
        "ms" | "msec" | "millisecond" | "milliseconds" => value / 1000.0,
        "m" | "min" | "mins" | "minute" | "minutes" => value * 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => value * 3600.0,
        "d" | "day" | "days" => value * 86_400.0,
        _ => value,
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        seconds.min(MAX_RETRY_AFTER.as_secs_f64()),
    ))
}

/// At most `max_chars` characters of `text`, whitespace collapsed, with an ellipsis when
/// cut: error messages carry an excerpt, never a whole log.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max_chars {
        collapsed
    } else {
        let cut: String = collapsed.chars().take(max_chars).collect();
        format!("{cut}…")
    }
}

/// The last `max_chars` characters of `text` (where CLIs print the actual error), with
/// whitespace collapsed and a leading ellipsis when cut.
pub fn tail_excerpt(text: &str, max_chars: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = collapsed.chars().count();
    if count <= max_chars {
        collapsed
    } else {
        let tail: String = collapsed.chars().skip(count - max_chars).collect();
        format!("…{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_are_recognised_in_prose_and_codes() {
        for text in [
            "Error: 429 Too Many Requests",
            "rate limit reached for requests",
            "RESOURCE_EXHAUSTED: quota",
            "You've hit your usage limit",
        ] {
            assert_eq!(
                classify_message(text),
                Some(ProviderErrorKind::RateLimit),
                "{text}"
            );
        }
    }

    #[test]
    fn status_codes_must_stand_alone() {
        assert_eq!(classify_message("used 14290 tokens"), None);
        assert_eq!(
            classify_message("HTTP 503"),
            Some(ProviderErrorKind::Server)
        );
    }

    #[test]
    fn auth_server_network_and_unknown() {
        assert_eq!(
            classify_message("Not logged in. Please run /login"),
            Some(ProviderErrorKind::Auth)
        );
        assert_eq!(
            classify_message("status 401"),
            Some(ProviderErrorKind::Auth)
        );
        assert_eq!(
            classify_message("API is overloaded"),
            Some(ProviderErrorKind::Server)
        );
        assert_eq!(
            classify_message("connect ECONNREFUSED 127.0.0.1"),
            Some(ProviderErrorKind::Network)
        );
        assert_eq!(classify_message("segmentation fault"), None);
        // codex reports a 500 only in its own words.
        assert_eq!(
            classify_message(
                "We\u{2019}re currently experiencing high demand, which may cause temporary errors."
            ),
            Some(ProviderErrorKind::Server)
        );
        assert_eq!(
            classify_message("The server had an error while processing your request."),
            Some(ProviderErrorKind::Server)
        );
        assert_eq!(
            classify_message("exceeded retry limit, last status: 429 Too Many Requests"),
            Some(ProviderErrorKind::RateLimit)
        );
    }

    #[test]
    fn retry_hints_in_their_usual_spellings() {
        assert_eq!(
            retry_after_hint("rate limit, retry after 2s"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after_hint("Retry-After: 30"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after_hint(r#"{"retryDelay": "43s"}"#),
            Some(Duration::from_secs(43))
        );
        assert_eq!(
            retry_after_hint("try again in 1.5 minutes"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after_hint("retry in 250ms"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after_hint("try again in 3 days"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after_hint("please retry later"), None);
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("a  b\n c", 10), "a b c");
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(tail_excerpt("abcdef", 3), "…def");
    }
}
