//! Talking to the token and revocation endpoints: form POSTs, response parsing
//! (JSON or urlencoded), error classification and retries with backoff.

use std::time::Duration;

use serde_json::{Map, Value};

use super::secret::{AccessToken, IdToken, RefreshToken};
use crate::clock::SharedClock;
use crate::redact::Redactor;
use crate::{ApiError, Error, ErrorKind};

/// How token-endpoint requests are made.
#[derive(Clone, Debug)]
pub(crate) struct RequestConfig {
    /// Timeout of one HTTP attempt.
    pub timeout: Duration,
    /// Attempts in total for transient failures (at least 1).
    pub max_attempts: u32,
    /// First backoff delay; doubles each time.
    pub initial_backoff: Duration,
}

impl Default for RequestConfig {
    fn default() -> Self {
        RequestConfig {
            timeout: Duration::from_secs(30),
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
        }
    }
}

/// A successful token response.
pub(crate) struct TokenResponse {
    pub access_token: AccessToken,
    pub expires_in: Option<Duration>,
    pub refresh_token: Option<RefreshToken>,
    pub scope: Option<Vec<String>>,
    pub id_token: Option<IdToken>,
}

/// A failed token request: the error and whether trying again may help.
pub(crate) struct Failure {
    pub error: Box<Error>,
    pub transient: bool,
}

impl Failure {
    fn new(error: Error, transient: bool) -> Self {
        Failure {
            error: Box::new(error),
            transient,
        }
    }

    /// The OAuth 2.0 error code when the server sent one.
    pub fn code(&self) -> Option<&str> {
        self.error.auth_error().and_then(|a| a.code.as_deref())
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        *f.error
    }
}

/// Replaces every secret in server-provided text with `[redacted]`, in any
/// of the encodings a server may echo it in (see [`Redactor`]).
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    Redactor::new(secrets.iter().copied())
        .redact(text)
        .into_owned()
}

/// POSTs a urlencoded form and returns status, headers and body.
async fn post_form(
    uri: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
    timeout: Duration,
    what: &str,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), Failure> {
    let url = crate::href::absolute(uri).map_err(|e| {
        Failure::new(
            Error::new(
                ErrorKind::Request,
                format!("{what}: invalid URI `{uri}`: {e}"),
            ),
            false,
        )
    })?;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let client = crate::transport::shared().map_err(|error| Failure::new(error, false))?;
    let transport_failure = |e: crate::transport::HttpError| {
        let error = crate::transport::map_err(e, &format!("{what} at {uri}"));
        let transient = matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout);
        Failure::new(error, transient)
    };
    let mut req = client
        .post(url)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json");
    for (k, v) in headers {
        let mut value = http::header::HeaderValue::from_str(v).map_err(|_| {
            Failure::new(
                Error::new(
                    ErrorKind::Request,
                    format!("{what}: header {k} is not valid"),
                ),
                false,
            )
        })?;
        value.set_sensitive(true);
        req = req.header(*k, value);
    }
    let resp = req
        .body(body)
        .timeout(timeout)
        .send()
        .await
        .map_err(transport_failure)?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = resp.bytes().await.map_err(transport_failure)?.to_vec();
    Ok((status, headers, body))
}

/// Parses a body as a JSON object or, failing that, as a urlencoded form
/// (some servers answer `application/x-www-form-urlencoded`).
fn parse_fields(body: &[u8]) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
        return Some(m);
    }
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains('=') || text.trim_start().starts_with(['{', '<']) {
        return None;
    }
    let m: Map<String, Value> = form_urlencoded::parse(text.trim().as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Some(m)
}

fn str_field(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn secs_field(m: &Map<String, Value>, k: &str) -> Option<u64> {
    match m.get(k)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// OAuth 2.0 error codes that mean "try again later".
fn transient_code(code: &str) -> bool {
    matches!(
        code,
        "temporarily_unavailable" | "server_error" | "internal_failure"
    )
}

fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Classifies a token-endpoint response.
fn classify(
    status: u16,
    headers: Vec<(String, String)>,
    body: &[u8],
    uri: &str,
    what: &str,
    secrets: &[&str],
) -> Result<Map<String, Value>, Failure> {
    let fields = parse_fields(body);
    if (200..300).contains(&status) {
        if let Some(m) = fields {
            if m.contains_key("error") && !m.contains_key("access_token") {
                // Some servers answer 200 with an error; fall through below.
                return Err(oauth_failure(status, &m, uri, what, secrets));
            }
            return Ok(m);
        }
        return Err(Failure::new(
            Error::new(
                ErrorKind::Decode,
                format!("{what}: the response of {uri} (HTTP {status}) is neither JSON nor a form"),
            ),
            false,
        ));
    }
    if let Some(m) = &fields
        && matches!(m.get("error"), Some(Value::String(_)))
    {
        return Err(oauth_failure(status, m, uri, what, secrets));
    }
    // Not an OAuth error body: a gateway, a proxy, Google's JSON error shape.
    let redactor = Redactor::new(secrets.iter().copied());
    let mut api = ApiError::from_response_redacted(status, headers, body, &redactor);
    api.message = format!("{what} at {uri}: {}", api.message);
    Err(Failure::new(Error::api(api), transient_status(status)))
}

fn oauth_failure(
    status: u16,
    m: &Map<String, Value>,
    uri: &str,
    what: &str,
    secrets: &[&str],
) -> Failure {
    let code = str_field(m, "error").unwrap_or_else(|| "unknown_error".to_owned());
    let description = str_field(m, "error_description")
        .map(|d| format!(": {}", scrub(&d, secrets)))
        .unwrap_or_default();
    let scrubbed_code = scrub(&code, secrets);
    let transient = transient_code(&code) || transient_status(status);
    Failure::new(
        Error::auth(
            Some(&scrubbed_code),
            format!("{what} at {uri} failed (HTTP {status}){description}"),
        ),
        transient,
    )
}

/// One POST of a form to an OAuth endpoint; the answer's fields on success.
pub(crate) async fn json_request_once(
    uri: &str,
    form: &[(&str, &str)],
    config: &RequestConfig,
    what: &str,
    secrets: &[&str],
) -> Result<Map<String, Value>, Failure> {
    let (status, headers, body) = post_form(uri, form, &[], config.timeout, what).await?;
    classify(status, headers, &body, uri, what, secrets)
}

/// [`json_request_once`] with extra request headers (e.g. a client's
/// `Authorization: Basic`, which is a secret: never logged).
#[cfg(feature = "external-account")]
pub(crate) async fn json_request_with_headers(
    uri: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
    config: &RequestConfig,
    what: &str,
    secrets: &[&str],
) -> Result<Map<String, Value>, Failure> {
    let (status, resp_headers, body) = post_form(uri, form, headers, config.timeout, what).await?;
    classify(status, resp_headers, &body, uri, what, secrets)
}

/// A string member of a JSON object (empty counts as absent).
#[cfg(feature = "external-account")]
pub(crate) fn string_member(m: &Map<String, Value>, k: &str) -> Option<String> {
    str_field(m, k)
}

/// A duration in seconds (a number or a numeric string).
#[cfg(feature = "external-account")]
pub(crate) fn seconds_member(m: &Map<String, Value>, k: &str) -> Option<Duration> {
    secs_field(m, k).map(Duration::from_secs)
}

/// One POST to the token endpoint, classified. No retries.
pub(crate) async fn token_request_once(
    uri: &str,
    form: &[(&str, &str)],
    config: &RequestConfig,
    what: &str,
    secrets: &[&str],
) -> Result<TokenResponse, Failure> {
    let m = json_request_once(uri, form, config, what, secrets).await?;
    let Some(access_token) = str_field(&m, "access_token") else {
        return Err(Failure::new(
            Error::new(
                ErrorKind::Decode,
                format!("{what}: the response of {uri} has no `access_token`"),
            ),
            false,
        ));
    };
    let expires_in = secs_field(&m, "expires_in")
        .or_else(|| secs_field(&m, "expires"))
        .map(Duration::from_secs);
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        expires_in,
        refresh_token: str_field(&m, "refresh_token").map(RefreshToken::new),
        scope: str_field(&m, "scope").map(|s| s.split_whitespace().map(str::to_owned).collect()),
        id_token: str_field(&m, "id_token").map(IdToken::new),
    })
}

/// Calls `attempt` until it succeeds, fails permanently, or `max_attempts`
/// is reached; waits with exponential backoff (and jitter, and the server's
/// `Retry-After` when longer) on the injected clock between attempts.
pub(crate) async fn with_retries<T, F, Fut>(
    clock: &SharedClock,
    config: &RequestConfig,
    what: &str,
    mut attempt: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut delay = config.initial_backoff;
    let mut n = 1;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(f) if f.transient && n < config.max_attempts.max(1) => {
                let jitter = delay.mul_f64(crate::random::unit() * 0.25);
                let mut wait = delay + jitter;
                if let Some(ra) = f.error.retry_after() {
                    wait = wait.max(ra.min(Duration::from_secs(60)));
                }
                tracing::warn!(
                    attempt = n,
                    error = %f.error,
                    "{what} failed transiently; retrying in {:?}",
                    wait
                );
                clock.sleep(wait).await;
                delay *= 2;
                n += 1;
            }
            Err(f) => return Err(f),
        }
    }
}

/// POSTs `token=<token>` to the revocation endpoint (RFC 7009). A token the
/// server already considers invalid counts as revoked.
///
/// The client authenticates as RFC 7009 asks of confidential clients
/// (`client_id`, and `client_secret` when there is one); Google's endpoint
/// needs only the token and ignores the rest.
pub(crate) async fn revoke(
    uri: &str,
    token: &str,
    client_id: &str,
    client_secret: Option<&str>,
    config: &RequestConfig,
    clock: &SharedClock,
) -> crate::Result<()> {
    let what = "revoking the token";
    let mut form = vec![("token", token), ("client_id", client_id)];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret));
    }
    let secrets: Vec<&str> = std::iter::once(token).chain(client_secret).collect();
    with_retries(clock, config, what, || async {
        let (status, headers, body) = post_form(uri, &form, &[], config.timeout, what).await?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        match classify(status, headers, &body, uri, what, &secrets) {
            Err(f) if f.code() == Some("invalid_token") => Ok(()),
            Err(f) => Err(f),
            Ok(_) => Ok(()),
        }
    })
    .await
    .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_and_form_bodies() {
        let m = parse_fields(br#"{"access_token":"a","expires_in":3599}"#).unwrap();
        assert_eq!(str_field(&m, "access_token").as_deref(), Some("a"));
        assert_eq!(secs_field(&m, "expires_in"), Some(3599));
        let m = parse_fields(b"access_token=a%2Fb&expires=60").unwrap();
        assert_eq!(str_field(&m, "access_token").as_deref(), Some("a/b"));
        assert_eq!(secs_field(&m, "expires"), Some(60));
        assert!(parse_fields(b"<html>oops</html>").is_none());
    }

    #[test]
    fn classifies_errors() {
        let f = classify(
            400,
            vec![],
            br#"{"error":"invalid_grant","error_description":"Bad 1//rt"}"#,
            "u",
            "refresh",
            &["1//rt"],
        )
        .unwrap_err();
        assert!(!f.transient);
        assert!(f.error.needs_reauthorization());
        assert!(!f.error.to_string().contains("1//rt"), "{}", f.error);
        let f = classify(503, vec![], b"<html>down</html>", "u", "refresh", &[]).unwrap_err();
        assert!(f.transient);
        assert!(f.error.is_transient());
        assert_eq!(f.error.status(), Some(503));
        let f = classify(
            400,
            vec![],
            br#"{"error":"temporarily_unavailable"}"#,
            "u",
            "refresh",
            &[],
        )
        .unwrap_err();
        assert!(f.transient);
        let f = classify(200, vec![], br#"{"error":"slow_down"}"#, "u", "poll", &[]).unwrap_err();
        assert_eq!(f.code(), Some("slow_down"));
    }

    #[test]
    fn scrub_replaces_secrets() {
        assert_eq!(scrub("a secret b", &["secret"]), "a [redacted] b");
    }
}
