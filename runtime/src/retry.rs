//! Retries: exponential backoff with full jitter, bounded attempts and total
//! time, honouring `Retry-After`.

use std::time::Duration;

/// When and how to retry a failed attempt.
///
/// Retried: transport failures (connect, reset), per-attempt timeouts, HTTP
/// 408/429/500/502/503/504, and 403 with reason `rateLimitExceeded` or
/// `userRateLimitExceeded`. Methods that are not idempotent (POST, PATCH) are
/// retried only when the server cannot have acted on the request: a failed
/// connect, a 408 or a 429 (see [`Error::is_retryable`](crate::Error::is_retryable)).
/// Redirect loops are never retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The most attempts in all, including the first (1 disables retries).
    pub max_attempts: u32,
    /// The first backoff ceiling.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The ceiling grows by this factor per attempt.
    pub multiplier: f64,
    /// The call's deadline: every attempt, the backoff between them and the
    /// response body end within this much time of the start, or the call
    /// fails with a timeout — also in the middle of an attempt. Media
    /// transfers are bounded by the idle timeout instead (see
    /// [`Timeouts`](crate::Timeouts)), unless the call sets its own deadline.
    pub total_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(32),
            multiplier: 2.0,
            total_timeout: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        }
    }

    /// The ceiling of the backoff before attempt `attempt + 1` (attempt counts
    /// from 1).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = self
            .multiplier
            .powi(attempt.saturating_sub(1).min(62) as i32);
        let secs = self.initial_backoff.as_secs_f64() * exp;
        Duration::from_secs_f64(secs.min(self.max_backoff.as_secs_f64()))
    }

    /// The delay before the next attempt: full jitter in `[0, ceiling]`, or the
    /// server's `Retry-After` when it is longer.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        let jittered = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            let nanos = crate::random::up_to(ceiling.as_nanos().min(u64::MAX as u128) as u64);
            Duration::from_nanos(nanos)
        };
        match retry_after {
            Some(ra) if ra > jittered => ra,
            _ => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_and_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(1), Duration::from_millis(500));
        assert_eq!(p.ceiling(2), Duration::from_secs(1));
        assert_eq!(p.ceiling(3), Duration::from_secs(2));
        assert_eq!(p.ceiling(30), Duration::from_secs(32));
    }

    #[test]
    fn jitter_within_ceiling_and_retry_after_wins() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            assert!(p.delay(3, None) <= Duration::from_secs(2));
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(9))),
            Duration::from_secs(9)
        );
    }
}
