//! The one error type of the runtime, with predicates.
//!
//! [`Error`] is opaque: callers ask it questions (`is_timeout()`, `status()`,
//! `api_error()`, ...) instead of matching on variants, so new failure kinds can
//! be added without breaking anybody. No reqwest or hyper type appears here.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// The result type of every fallible runtime operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in broad classes. Marked non-exhaustive: match with a
/// wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with a non-success HTTP status (see [`Error::api_error`]).
    Api,
    /// The request could not be sent or the response could not be read
    /// (connect, reset, TLS, DNS).
    Transport,
    /// A deadline passed: the per-attempt timeout or the total retry budget.
    Timeout,
    /// Authorization failed: no token could be obtained, the grant was revoked
    /// (`invalid_grant`), the user denied consent, or the flow failed.
    Auth,
    /// A response body did not have the expected shape.
    Decode,
    /// A request could not be built (bad URL, bad template, body that does not
    /// serialize, media larger than allowed, ...).
    Request,
    /// Reading or writing stored credentials failed.
    Storage,
    /// A local I/O operation (reading a media source, a file) failed.
    Io,
    /// The server redirected in a loop, too many times, or from `https` to
    /// `http`. Never retried.
    Redirect,
    /// The server's record of what it stored (an uploaded object's size or
    /// checksum) does not match what was sent.
    Integrity,
}

/// An error returned by the Google API as parsed from its JSON error body.
///
/// Google's shape is `{"error": {"code", "message", "status", "errors": [{"reason",
/// "domain", "message"}], "details": [...]}}`; every part may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code of the response.
    pub http_status: u16,
    /// `error.code`, when present (normally equal to the HTTP status).
    pub code: Option<i64>,
    /// `error.message`: a human readable explanation.
    pub message: String,
    /// `error.status`: the canonical status name, e.g. `NOT_FOUND`.
    pub status: Option<String>,
    /// `error.errors[]`: the legacy per-error reasons (`notFound`, `rateLimitExceeded`, ...).
    pub errors: Vec<ErrorReason>,
    /// `error.details[]`, kept as JSON.
    pub details: Vec<serde_json::Value>,
    /// The response headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The raw response body (truncated to 64 KiB).
    pub body: String,
}

/// One entry of `error.errors[]` in Google's error format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ErrorReason {
    /// Machine-readable reason, e.g. `rateLimitExceeded`.
    #[serde(default)]
    pub reason: String,
    /// The domain of the reason, e.g. `usageLimits`.
    #[serde(default)]
    pub domain: String,
    /// Human readable message.
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Full {
        #[serde(default)]
        code: Option<i64>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        status: Option<String>,
        #[serde(default)]
        errors: Vec<ErrorReason>,
        #[serde(default)]
        details: Vec<serde_json::Value>,
    },
    /// OAuth-style `{"error": "invalid_grant"}` bodies.
    Plain(String),
}

const MAX_BODY_KEPT: usize = 64 * 1024;

impl ApiError {
    /// [`ApiError::from_response`] of a body and headers from which every
    /// secret of the request (in any encoding) was removed first.
    pub(crate) fn from_response_redacted(
        http_status: u16,
        headers: Vec<(String, String)>,
        body: &[u8],
        redactor: &crate::redact::Redactor,
    ) -> Self {
        if redactor.is_empty() {
            return ApiError::from_response(http_status, headers, body);
        }
        let headers = headers
            .into_iter()
            .map(|(k, v)| {
                let v = redactor.redact(&v).into_owned();
                (k, v)
            })
            .collect();
        let body = redactor.redact_bytes(body);
        let mut err = ApiError::from_response(http_status, headers, body.as_bytes());
        // The parsed strings are one JSON layer nearer the secret: again.
        let again = |s: &mut String| {
            if let std::borrow::Cow::Owned(r) = redactor.redact(s) {
                *s = r;
            }
        };
        again(&mut err.message);
        if let Some(st) = &mut err.status {
            again(st);
        }
        for e in &mut err.errors {
            again(&mut e.reason);
            again(&mut e.domain);
            again(&mut e.message);
        }
        for d in &mut err.details {
            redact_json(d, &again);
        }
        err
    }

    /// Parses an API error from a response status, headers and body. Bodies
    /// that are not Google's JSON error shape keep the raw text as the message.
    pub fn from_response(http_status: u16, headers: Vec<(String, String)>, body: &[u8]) -> Self {
        let mut err = ApiError {
            http_status,
            headers,
            body: truncate_lossy(body, MAX_BODY_KEPT),
            ..Default::default()
        };
        match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(ErrorEnvelope {
                error:
                    ErrorBody::Full {
                        code,
                        message,
                        status,
                        errors,
                        details,
                    },
            }) => {
                err.code = code;
                err.message = message.unwrap_or_default();
                err.status = status;
                err.errors = errors;
                err.details = details;
            }
            Ok(ErrorEnvelope {
                error: ErrorBody::Plain(s),
            }) => {
                err.message = s;
            }
            Err(_) => {
                err.message = truncate_lossy(body, 512);
            }
        }
        if err.message.is_empty() {
            err.message = format!("HTTP {http_status}");
        }
        err
    }

    /// The first `errors[].reason`, if any.
    pub fn reason(&self) -> Option<&str> {
        self.errors
            .iter()
            .map(|e| e.reason.as_str())
            .find(|r| !r.is_empty())
    }

    /// True when any `errors[].reason` equals `reason`.
    pub fn has_reason(&self, reason: &str) -> bool {
        self.errors.iter().any(|e| e.reason == reason)
    }

    /// The value of a response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.http_status)?;
        if let Some(status) = &self.status {
            write!(f, " {status}")?;
        }
        if let Some(reason) = self.reason() {
            write!(f, " ({reason})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Applies `f` to every string (keys included) of a JSON value.
fn redact_json(v: &mut serde_json::Value, f: &impl Fn(&mut String)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| redact_json(v, f)),
        serde_json::Value::Object(o) => {
            let entries = std::mem::take(o);
            for (mut k, mut v) in entries {
                f(&mut k);
                redact_json(&mut v, f);
                o.insert(k, v);
            }
        }
        _ => {}
    }
}

fn truncate_lossy(body: &[u8], max: usize) -> String {
    let cut = &body[..body.len().min(max)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if body.len() > max {
        s.push('…');
    }
    s
}

/// Details of an authorization failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthError {
    /// The OAuth 2.0 error code when the server sent one (`invalid_grant`,
    /// `access_denied`, `invalid_client`, ...).
    pub code: Option<String>,
    /// A description safe to show: never contains a token or secret.
    pub description: String,
}

/// The runtime's error: a kind, a message that says where, and the details
/// that apply.
///
/// # Retrying
///
/// The runtime already retries what is safe to retry, per the
/// [`RetryPolicy`](crate::RetryPolicy). When a caller wants to try again
/// later, the predicate to ask is [`is_retryable`](Error::is_retryable):
/// the cause may go away ([`is_transient`](Error::is_transient)) *and*
/// sending the same call again cannot apply it twice — it is idempotent, or
/// the server cannot have acted on it
/// ([`may_have_been_applied`](Error::may_have_been_applied) is false). A
/// `POST` answered `500` is transient but not retryable: the server may
/// have created the resource before it failed.
///
/// `Display` shows this error's own message once; the underlying cause, if
/// any, is reached through [`source`](std::error::Error::source).
pub struct Error {
    kind: ErrorKind,
    message: String,
    api: Option<Box<ApiError>>,
    auth: Option<AuthError>,
    retry_after: Option<Duration>,
    /// Whether the request may have reached the server and been acted on;
    /// `None`: decided by the kind and status.
    applied: Option<bool>,
    /// Whether sending the same request again is harmless (idempotent and
    /// with a body that can be sent again).
    repeatable: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a message. The message must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            api: None,
            auth: None,
            retry_after: None,
            applied: None,
            repeatable: true,
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// An API error (non-success HTTP status).
    pub fn api(err: ApiError) -> Self {
        let message = err.to_string();
        let retry_after = err.header("retry-after").and_then(parse_retry_after);
        Error {
            kind: ErrorKind::Api,
            message,
            api: Some(Box::new(err)),
            auth: None,
            retry_after,
            applied: None,
            repeatable: true,
            source: None,
        }
    }

    /// An authorization error with an optional OAuth 2.0 error code.
    pub fn auth(code: Option<&str>, description: impl Into<String>) -> Self {
        let description = description.into();
        let message = match code {
            Some(c) => format!("authorization failed: {c}: {description}"),
            None => format!("authorization failed: {description}"),
        };
        Error {
            kind: ErrorKind::Auth,
            message,
            api: None,
            auth: Some(AuthError {
                code: code.map(str::to_owned),
                description,
            }),
            retry_after: None,
            applied: None,
            repeatable: true,
            source: None,
        }
    }

    /// A response body that did not decode, with the JSON path and an excerpt.
    pub fn decode(what: &str, err: &serde_json::Error, body: &[u8]) -> Self {
        Error::decode_at(what, err, body, None)
    }

    /// [`Error::decode`], naming the JSON path of the value that failed.
    pub(crate) fn decode_at(
        what: &str,
        err: &serde_json::Error,
        body: &[u8],
        path: Option<&str>,
    ) -> Self {
        let excerpt = excerpt_around(body, err.line(), err.column());
        let at = path
            .map(|p| format!(" [at JSON path {p}]"))
            .unwrap_or_default();
        Error::new(
            ErrorKind::Decode,
            format!(
                "could not decode {what}: {err} (at line {}, column {}); body excerpt: {excerpt}{at}",
                err.line(),
                err.column()
            ),
        )
    }

    /// Records what the executor knows of the request that failed: whether
    /// it may have reached the server, and whether it may be repeated.
    pub(crate) fn with_request_facts(mut self, applied: Option<bool>, repeatable: bool) -> Self {
        if applied.is_some() {
            self.applied = applied;
        }
        self.repeatable = repeatable;
        self
    }

    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The API error when the server answered with a non-success status.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.api.as_deref()
    }

    /// The authorization failure details, for [`ErrorKind::Auth`].
    pub fn auth_error(&self) -> Option<&AuthError> {
        self.auth.as_ref()
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.api.as_ref().map(|a| a.http_status)
    }

    /// The first `errors[].reason` of an API error.
    pub fn reason(&self) -> Option<&str> {
        self.api.as_ref().and_then(|a| a.reason())
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// A deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// The request could not be sent or the response not read.
    pub fn is_transport(&self) -> bool {
        self.kind == ErrorKind::Transport
    }

    /// Authorization failed (see [`Error::needs_reauthorization`]).
    pub fn is_auth(&self) -> bool {
        self.kind == ErrorKind::Auth
    }

    /// The user must consent again: the refresh token was revoked or expired
    /// (`invalid_grant`), the stored credentials were marked invalid, or the
    /// access token expired and there is no refresh token to get another.
    pub fn needs_reauthorization(&self) -> bool {
        self.auth
            .as_ref()
            .and_then(|a| a.code.as_deref())
            .is_some_and(|c| c == "invalid_grant" || c == REAUTHORIZE)
    }

    /// The server redirected in a loop, too many times, or to plain `http`.
    pub fn is_redirect(&self) -> bool {
        self.kind == ErrorKind::Redirect
    }

    /// An upload completed, but what the server reports it stored (size,
    /// CRC32C, MD5) is not what was sent.
    pub fn is_integrity(&self) -> bool {
        self.kind == ErrorKind::Integrity
    }

    /// Whether the request may have reached the server and been acted on:
    /// false when it was never sent (a failed connect), or when the server
    /// answered that it did not act (a 4xx such as 400, 404 or 429); true
    /// when the connection broke or timed out after the request was sent,
    /// and for 5xx answers (the server may have acted before failing).
    pub fn may_have_been_applied(&self) -> bool {
        if let Some(applied) = self.applied {
            return applied;
        }
        match self.kind {
            ErrorKind::Api => self.status().is_some_and(|s| s >= 500),
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Integrity => true,
            _ => false,
        }
    }

    /// Whether it is worth sending the same call again and safe to do so:
    /// [`is_transient`](Error::is_transient), and either the call is
    /// idempotent or the server cannot have acted on it. **This is the
    /// predicate to retry on.**
    pub fn is_retryable(&self) -> bool {
        self.is_transient() && (self.repeatable || !self.may_have_been_applied())
    }

    /// A response body did not decode.
    pub fn is_decode(&self) -> bool {
        self.kind == ErrorKind::Decode
    }

    /// HTTP 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The cause may go away: transport failures, timeouts, 408, 429, 5xx
    /// gateways, and 403 rate limits. This does not say whether repeating
    /// the call is safe: retry on [`is_retryable`](Error::is_retryable).
    pub fn is_transient(&self) -> bool {
        match self.kind {
            ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Api => self.api.as_deref().is_some_and(is_retryable_api_error),
            _ => false,
        }
    }
}

/// The OAuth-style code of an auth error that only a new consent can mend,
/// other than `invalid_grant`: an expired access token without a refresh
/// token.
pub(crate) const REAUTHORIZE: &str = "reauthorization_required";

/// Whether an API error is worth retrying by status and reason.
pub(crate) fn is_retryable_api_error(e: &ApiError) -> bool {
    match e.http_status {
        408 | 429 | 500 | 502 | 503 | 504 => true,
        403 => e.has_reason("rateLimitExceeded") || e.has_reason("userRateLimitExceeded"),
        _ => false,
    }
}

/// Parses `Retry-After` as delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn excerpt_around(body: &[u8], line: usize, column: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return truncate_lossy(body, 120);
    };
    let chars: Vec<char> = l.chars().collect();
    let col = column.min(chars.len());
    let start = col.saturating_sub(60);
    let end = (col + 60).min(chars.len());
    let mut s: String = chars[start..end].iter().collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if end < chars.len() {
        s.push('…');
    }
    s
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(api) = &self.api {
            d.field("status", &api.http_status);
            if let Some(r) = api.reason() {
                d.field("reason", &r);
            }
        }
        if let Some(src) = &self.source {
            d.field("source", &src.to_string());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The error and its causes, `: `-separated (for tests and messages).
#[cfg(test)]
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_google_error_json() {
        let body = br#"{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"message":"Rate Limit Exceeded","domain":"usageLimits","reason":"rateLimitExceeded"}],"status":"PERMISSION_DENIED"}}"#;
        let e = ApiError::from_response(403, vec![], body);
        assert_eq!(e.code, Some(403));
        assert_eq!(e.reason(), Some("rateLimitExceeded"));
        assert_eq!(e.errors[0].domain, "usageLimits");
        assert_eq!(e.status.as_deref(), Some("PERMISSION_DENIED"));
        let err = Error::api(e);
        assert!(err.is_transient());
        assert_eq!(err.status(), Some(403));
        assert!(err.to_string().contains("rateLimitExceeded"));
    }

    #[test]
    fn forbidden_without_rate_reason_is_not_transient() {
        let body = br#"{"error":{"code":403,"message":"nope","errors":[{"reason":"forbidden"}]}}"#;
        assert!(!Error::api(ApiError::from_response(403, vec![], body)).is_transient());
    }

    #[test]
    fn non_json_body_kept_as_message() {
        let e = ApiError::from_response(502, vec![], b"<html>Bad Gateway</html>");
        assert_eq!(e.message, "<html>Bad Gateway</html>");
        assert!(Error::api(e).is_transient());
    }

    #[test]
    fn plain_oauth_error_shape() {
        let e = ApiError::from_response(400, vec![], br#"{"error":"invalid_grant"}"#);
        assert_eq!(e.message, "invalid_grant");
    }

    #[test]
    fn retry_after_seconds_and_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        let e = ApiError::from_response(429, vec![("retry-after".into(), "3".into())], b"{}");
        assert_eq!(Error::api(e).retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn decode_error_has_excerpt() {
        let body = br#"{"a": 1, "b": "x"}"#;
        let err =
            serde_json::from_slice::<std::collections::HashMap<String, u8>>(body).unwrap_err();
        let e = Error::decode("TaskList", &err, body);
        assert!(e.is_decode());
        assert!(e.to_string().contains("\"b\""), "{e}");
    }
}
