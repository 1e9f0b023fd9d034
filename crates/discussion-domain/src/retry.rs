//! [`RetryPolicy`]: how often and how long to wait before a retryable provider error
//! (rate limit, overload, network) is tried again.
//!
//! Exponential backoff with "equal jitter" (half the delay fixed, half random) keeps
//! retries of several discussions from hitting a provider in lockstep; a
//! server-requested `retry_after` is a floor, never shortened.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bounded retries with exponential backoff and jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// Delay before the first retry, before jitter (default 1 s).
    pub base_delay: Duration,
    /// Longest computed backoff (default 30 s).
    pub max_delay: Duration,
    /// Longest server-requested wait we accept. Why a cap: a provider asking for an
    /// hour would hold the discussion (and its permit budget) hostage; such an answer
    /// is reported as the failure it is instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// How long to wait after failed attempt number `attempt` (1-based), or `None`
    /// when no retry should follow: attempts are used up, or the provider asked for a
    /// longer wait than [`RetryPolicy::max_retry_after`].
    pub fn delay_after(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        jitter: &Jitter,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.max_delay);
        let half = exp / 2;
        let backoff = half + jitter.up_to(half);
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            // Honour the provider's wait and add a little spread on top of it.
            Some(wait) => Some(wait + jitter.up_to(wait / 10)),
            None => Some(backoff),
        }
    }
}

/// A tiny xorshift generator for retry jitter. Not for anything that needs real
/// randomness; seeded from the clock so that processes spread differently.
#[derive(Debug)]
pub struct Jitter {
    state: AtomicU64,
}

impl Default for Jitter {
    fn default() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Self::seeded(nanos)
    }
}

impl Jitter {
    /// A generator with a fixed seed (tests).
    pub fn seeded(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed | 1),
        }
    }

    fn next(&self) -> u64 {
        // Races between threads only make the sequence less predictable, which is fine.
        let mut x = self.state.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.store(x, Ordering::Relaxed);
        x
    }

    /// A random duration in `0..=max`.
    pub fn up_to(&self, max: Duration) -> Duration {
        let nanos = max.as_nanos() as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.next() % (nanos + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_stays_within_bounds_and_stops_after_the_last_attempt() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let jitter = Jitter::seeded(42);
        let first = policy.delay_after(1, None, &jitter).expect("retry 1");
        let second = policy.delay_after(2, None, &jitter).expect("retry 2");
        let third = policy.delay_after(3, None, &jitter).expect("retry 3");
        assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
        assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&second));
        assert!((Duration::from_millis(150)..=Duration::from_millis(300)).contains(&third));
        assert_eq!(policy.delay_after(4, None, &jitter), None);
    }

    #[test]
    fn retry_after_is_a_floor_and_an_excessive_one_is_refused() {
        let policy = RetryPolicy::default();
        let jitter = Jitter::seeded(7);
        let wait = Duration::from_secs(7);
        let got = policy.delay_after(1, Some(wait), &jitter).expect("retry");
        assert!(got >= wait && got <= wait + wait / 10);
        assert_eq!(
            policy.delay_after(1, Some(Duration::from_secs(3600)), &jitter),
            None
        );
    }

    #[test]
    fn jitter_varies() {
        let jitter = Jitter::seeded(1);
        let draws: std::collections::HashSet<_> = (0..20)
            .map(|_| jitter.up_to(Duration::from_secs(1)))
            .collect();
        assert!(draws.len() > 10);
    }
}
