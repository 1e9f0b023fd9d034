//! Human durations (`90s`, `10m`, `200ms`, `1h30m`) for the config file, the CLI's
//! `--timeout` flags (clap's value parser) and messages. A tiny parser is enough: the
//! config only needs whole numbers with a unit, and pulling in a crate for that would
//! cost more than these lines.

use std::time::Duration;

/// Parses `<number><unit>` groups, e.g. `90s`, `10m`, `200ms`, `1h30m`.
///
/// Units: `ms`, `s`, `m`, `h`. A unit is required, because a bare `90` could mean
/// seconds or milliseconds and guessing wrong silently is worse than an error.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; expected e.g. \"90s\", \"10m\" or \"200ms\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "\"{text}\" is not a duration; expected e.g. \"90s\", \"10m\" or \"200ms\""
            ));
        }
        let (number, after) = rest.split_at(digits);
        let value: u64 = number
            .parse()
            .map_err(|_| format!("\"{text}\": the number {number} is too large"))?;
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        let part = match unit {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.saturating_mul(60)),
            "h" => Duration::from_secs(value.saturating_mul(3600)),
            "" => {
                return Err(format!(
                    "\"{text}\" has no unit; write e.g. \"{value}s\" or \"{value}ms\""
                ));
            }
            other => {
                return Err(format!(
                    "\"{text}\": unknown unit \"{other}\" (use ms, s, m or h)"
                ));
            }
        };
        total = total.saturating_add(part);
        rest = after;
    }
    Ok(total)
}

/// How a duration is worded everywhere (`5s`, `1m30s`, `250ms`); defined beside the
/// provider port so the engine and every adapter word limits alike.
pub use ax_discussion_domain::provider::format_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit_and_combinations() {
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 1m30s "), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn rejects_missing_or_unknown_units_and_junk() {
        assert!(parse_duration("90").unwrap_err().contains("no unit"));
        assert!(parse_duration("5d").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("1.5s").is_err());
    }

    #[test]
    fn formats_round_trip_the_common_values() {
        for text in ["200ms", "90s", "10m", "1h30m", "2h"] {
            let parsed = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(parsed)).unwrap(), parsed);
        }
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_millis(2500)), "2.5s");
    }
}
