//! Injected errors: one-off (or n-times) error responses queued by a test, answered
//! instead of the real thing to the next matching request.

use serde::{Deserialize, Serialize};

use crate::errors::{ApiError, OAuthError, default_message, default_reason};

/// An error to answer the next matching request(s) with. Build one with
/// [`InjectedError::new`] and the setters, or post it as JSON to
/// `POST /__standin/inject-error` (`{"status": 503, "path": "/tasks/v1/", "retry_after": 1}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedError {
    /// The HTTP status to answer with.
    pub status: u16,
    /// A path prefix the request must match (compared with the percent-decoded path;
    /// a missing leading `/` is added). `None` matches every path except the stand-in's
    /// own `/__standin/` hooks.
    #[serde(default)]
    pub path: Option<String>,
    /// The HTTP method the request must have (any case); `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// The error `reason` (API errors) or `error` code (OAuth endpoints); defaults to the
    /// usual one for the status (`backendError`, `rateLimitExceeded`, ...).
    #[serde(default)]
    pub reason: Option<String>,
    /// The error `domain`; default `global`.
    #[serde(default)]
    pub domain: Option<String>,
    /// The error message; defaults to the status's reason phrase.
    #[serde(default)]
    pub message: Option<String>,
    /// Seconds to put in a `Retry-After` header.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// How many matching requests get this error; default 1.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl InjectedError {
    /// An error with this status for the next request to any path.
    pub fn new(status: u16) -> Self {
        InjectedError {
            status,
            path: None,
            method: None,
            reason: None,
            domain: None,
            message: None,
            retry_after: None,
            times: 1,
        }
    }

    /// `503 Service Unavailable` (reason `backendError`) with `Retry-After`.
    pub fn unavailable(retry_after_secs: u64) -> Self {
        InjectedError::new(503).retry_after(retry_after_secs)
    }

    /// `429 Too Many Requests` (reason `rateLimitExceeded`, status `RESOURCE_EXHAUSTED`).
    pub fn too_many_requests() -> Self {
        InjectedError::new(429)
    }

    /// `403` with reason `rateLimitExceeded` in domain `usageLimits`, the way Google
    /// signals a per-user rate limit.
    pub fn rate_limit_exceeded() -> Self {
        InjectedError::new(403)
            .reason("rateLimitExceeded")
            .domain("usageLimits")
            .message("Rate Limit Exceeded")
    }

    /// Only requests whose path starts with `prefix`.
    pub fn path(mut self, prefix: impl Into<String>) -> Self {
        self.path = Some(prefix.into());
        self
    }

    /// Only requests with this HTTP method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Sets the reason (or OAuth error code).
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the domain.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds a `Retry-After: secs` header.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Answers this many matching requests (at least one).
    pub fn times(mut self, times: u32) -> Self {
        self.times = times.max(1);
        self
    }

    /// Whether a request with this method and decoded path matches.
    fn matches(&self, method: &str, decoded_path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        match &self.path {
            None => true,
            Some(prefix) if prefix.starts_with('/') => decoded_path.starts_with(prefix.as_str()),
            Some(prefix) => decoded_path
                .strip_prefix('/')
                .is_some_and(|p| p.starts_with(prefix.as_str())),
        }
    }

    /// The error in the API format.
    pub(crate) fn to_api_error(&self) -> ApiError {
        let reason = self
            .reason
            .clone()
            .unwrap_or_else(|| default_reason(self.status).to_string());
        let message = self
            .message
            .clone()
            .unwrap_or_else(|| default_message(self.status));
        let mut e = ApiError::new(self.status, &reason, message);
        if let Some(domain) = &self.domain {
            e = e.domain(domain.clone());
        }
        if let Some(secs) = self.retry_after {
            e = e.header(axum::http::header::RETRY_AFTER, secs.to_string());
        }
        e
    }

    /// The error in the OAuth format, for the OAuth endpoints.
    pub(crate) fn to_oauth_error(&self) -> OAuthError {
        let code = self.reason.clone().unwrap_or_else(|| {
            match self.status {
                429 => "rate_limit_exceeded",
                s if s >= 500 => "internal_failure",
                _ => "invalid_request",
            }
            .to_string()
        });
        let message = self
            .message
            .clone()
            .unwrap_or_else(|| default_message(self.status));
        OAuthError::new(self.status, &code, message)
    }
}

/// The queue of injected errors, first added first used.
#[derive(Debug, Default)]
pub(crate) struct InjectionQueue {
    queue: Vec<InjectedError>,
}

impl InjectionQueue {
    /// Queues an error.
    pub fn push(&mut self, error: InjectedError) {
        self.queue.push(error);
    }

    /// Takes one use of the first queued error that matches, if any.
    pub fn take(&mut self, method: &str, decoded_path: &str) -> Option<InjectedError> {
        let index = self
            .queue
            .iter()
            .position(|e| e.matches(method, decoded_path))?;
        let entry = &mut self.queue[index];
        let out = entry.clone();
        if entry.times <= 1 {
            self.queue.remove(index);
        } else {
            entry.times -= 1;
        }
        Some(out)
    }

    /// Drops every queued error.
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_by_path_and_method() {
        let e = InjectedError::new(503).path("tasks/v1/users").method("get");
        assert!(e.matches("GET", "/tasks/v1/users/@me/lists"));
        assert!(!e.matches("POST", "/tasks/v1/users/@me/lists"));
        assert!(!e.matches("GET", "/tasks/v1/lists/x/tasks"));
        assert!(InjectedError::new(500).matches("DELETE", "/anything"));
    }

    #[test]
    fn queue_counts_down() {
        let mut q = InjectionQueue::default();
        q.push(InjectedError::new(503).times(2).path("/a"));
        q.push(InjectedError::new(429));
        assert_eq!(q.take("GET", "/a").unwrap().status, 503);
        assert_eq!(q.take("GET", "/b").unwrap().status, 429);
        assert_eq!(q.take("GET", "/a").unwrap().status, 503);
        assert!(q.take("GET", "/a").is_none());
        assert!(q.queue.is_empty());
    }

    #[test]
    fn renders_google_errors() {
        let e = InjectedError::unavailable(2).to_api_error();
        assert_eq!(e.code, 503);
        assert_eq!(e.reason, "backendError");
        assert_eq!(e.body()["error"]["status"], "UNAVAILABLE");
        assert_eq!(e.header_values()[0].1, "2");
        let e = InjectedError::rate_limit_exceeded().to_api_error();
        assert_eq!(e.body()["error"]["errors"][0]["domain"], "usageLimits");
        assert_eq!(
            e.body()["error"]["errors"][0]["reason"],
            "rateLimitExceeded"
        );
        let e = InjectedError::too_many_requests().to_api_error();
        assert_eq!(e.body()["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(
            InjectedError::new(500).to_oauth_error().error,
            "internal_failure"
        );
    }

    #[test]
    fn deserializes_with_defaults() {
        let e: InjectedError = serde_json::from_str(r#"{"status": 503}"#).unwrap();
        assert_eq!(e, InjectedError::new(503));
    }
}
