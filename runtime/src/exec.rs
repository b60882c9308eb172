//! One call, from a [`Prepared`] request to its answer: the one retry loop
//! and the one time budget of every request the runtime sends.
//!
//! Each attempt asks the credentials for an [`Authorization`], sends the
//! request while a watchdog bounds it ([`timeouts`](crate::timeouts)),
//! and — for calls whose body is read here — reads the whole body *inside*
//! the attempt, so a body that breaks off is retried by the same loop and
//! under the same budget as a failed connect. Between attempts: one refresh
//! and resend after a 401, backoff per the [`RetryPolicy`], and nothing
//! after the call's deadline. Non-idempotent calls are retried only when the
//! server cannot have acted on them.
//!
//! Error bodies are read within the same bounds and redacted of every secret
//! the request carried before they become an [`Error`].

use bytes::Bytes;
use tokio::time::Instant;

use crate::auth::Authorization;
use crate::client::{Client, Prepared};
use crate::error::{ApiError, Error, ErrorKind, Result};
use crate::redact::Redactor;
use crate::retry::RetryPolicy;
use crate::timeouts::{Bounds, Progress, ProgressStream, wait_for_headers, within_deadline};
use crate::transport::{self, Response};

/// A successful response read whole: headers and body.
pub(crate) struct Received {
    #[cfg_attr(
        not(any(feature = "media", feature = "batch")),
        expect(dead_code, reason = "read by media and batch")
    )]
    pub headers: http::header::HeaderMap,
    pub body: Bytes,
}

impl Received {
    /// A header's value as text.
    #[cfg(any(feature = "media", feature = "batch"))]
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a successful attempt hands back.
enum Done {
    /// Headers only: the body is the caller's to read. Boxed: a response is
    /// large beside the whole answer, and only downloads take this arm.
    Streaming(Box<Response>),
    /// The whole answer.
    Whole(Received),
}

/// A failed attempt: the error, whether the request went out, and the
/// authorization it carried.
struct Failed {
    error: Error,
    sent: bool,
    auth: Option<Authorization>,
}

impl Failed {
    fn before_sending(error: Error) -> Self {
        Failed {
            error,
            sent: false,
            auth: None,
        }
    }
}

impl Client {
    /// Sends a request and reads its whole answer, with retries.
    pub(crate) async fn execute_full(&self, req: &Prepared) -> Result<Received> {
        // Boxed: the attempt's state (the connection's futures, timers, the
        // response being read) is kilobytes, and a caller's future that held
        // it inline would copy it on every move.
        Box::pin(async move {
            match self.run(req, true).await? {
                Done::Whole(r) => Ok(r),
                Done::Streaming(mut r) => {
                    let headers = r.take_headers();
                    Ok(Received {
                        headers,
                        body: r.bytes().await?,
                    })
                }
            }
        })
        .await
    }

    /// Sends a request and reads its whole body, with retries.
    pub(crate) async fn execute_read(&self, req: &Prepared) -> Result<Bytes> {
        Ok(self.execute_full(req).await?.body)
    }

    /// Sends a request with retries and returns the successful response with
    /// its body unread (media downloads). The body is bounded by the idle
    /// timeout, and by the deadline only when the call set one itself.
    #[cfg(feature = "media")]
    pub(crate) async fn execute(&self, req: &Prepared) -> Result<Response> {
        match Box::pin(self.run(req, false)).await? {
            Done::Streaming(r) => Ok(*r),
            Done::Whole(_) => Err(Error::new(
                ErrorKind::Request,
                format!("{}: internal: a streamed answer was read whole", req.what),
            )),
        }
    }

    /// The time bounds of the call `req`, starting now.
    fn bounds_for(&self, req: &Prepared, policy: &RetryPolicy) -> Bounds {
        let t = self.timeouts();
        // Media may take longer than any fixed total: it is bounded by the
        // idle timeout unless the call asked for a deadline of its own.
        let total = match (req.timeouts.total, req.media) {
            (Some(total), _) => Some(total),
            (None, true) => None,
            (None, false) => Some(policy.total_timeout),
        };
        Bounds {
            response: req.timeouts.response.unwrap_or(t.response),
            idle: req.timeouts.idle.unwrap_or(t.idle),
            deadline: total.map(|d| Instant::now() + d),
            total,
        }
    }

    /// The loop: attempts, the refresh after a 401, backoff, the deadline.
    async fn run(&self, req: &Prepared, whole: bool) -> Result<Done> {
        let policy = req.retry.as_ref().unwrap_or(self.retry_policy());
        let bounds = self.bounds_for(req, policy);
        let repeatable = req.idempotent && req.replayable();
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            // Every wait inside the attempt is capped at the deadline, so no
            // timer of its own wraps it (one timer less per call).
            let outcome = self.attempt(req, &bounds, whole).await;
            let Failed { error, sent, auth } = match outcome {
                Ok(done) => return Ok(done),
                Err(f) => f,
            };
            // A body that cannot be sent again still gets its credentials
            // refreshed: the caller (a resumable upload) sends it again.
            if error.status() == Some(401)
                && !refreshed
                && let Some(auth) = &auth
                && auth.access_token().is_some()
            {
                refreshed = true;
                tracing::debug!(what = req.what, "401: refreshing credentials once");
                let refresh = self.credentials().refresh_after_unauthorized(auth);
                if within_deadline(refresh, &bounds, req.what).await? && req.replayable() {
                    attempt -= 1;
                    continue;
                }
            }
            let error = error.with_request_facts((!sent).then_some(false), repeatable);
            let may_retry = error.is_transient()
                && req.replayable()
                && (req.idempotent || !error.may_have_been_applied());
            if !may_retry || attempt >= policy.max_attempts || error.is_redirect() {
                return Err(error);
            }
            let delay = policy.delay(attempt, error.retry_after());
            if bounds.deadline.is_some_and(|d| Instant::now() + delay > d) {
                return Err(error);
            }
            tracing::info!(what = req.what, attempt, ?delay, error = %error, "retrying");
            self.clock().sleep(delay).await;
        }
    }

    /// One attempt: authorize, send under the watchdog, and read the answer
    /// (all of it when `whole`; an error body always).
    async fn attempt(
        &self,
        req: &Prepared,
        bounds: &Bounds,
        whole: bool,
    ) -> std::result::Result<Done, Failed> {
        // Ready at once for a token in hand: its timer is never armed.
        let auth = within_deadline(self.credentials().authorization(), bounds, req.what)
            .await
            .map_err(Failed::before_sending)?;
        let mut rb = match auth.api_key_param() {
            None => self.http().request(req.method.clone(), req.url.as_str()),
            Some(key) => {
                let mut url = req.url.clone();
                crate::url::append_query(&mut url, [("key", key)]);
                self.http().request(req.method.clone(), url)
            }
        };
        rb = auth.apply(rb);
        rb = rb.header(API_CLIENT, self.api_client_header().clone());
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let progress;
        if let Some((body, content_type)) = &req.body {
            rb = rb.header(http::header::CONTENT_TYPE, content_type.as_str());
            if body.len() > WATCHED_BODY {
                // Large bodies (media chunks) go in slices, so that a server
                // that stops reading is caught by the idle bound.
                progress = Progress::new(false);
                let slices = ProgressStream::new(slices(body.clone()), progress.clone());
                rb = rb
                    .header(http::header::CONTENT_LENGTH, body.len())
                    .body(crate::transport::Body::wrap_stream(slices));
            } else {
                progress = Progress::new(true);
                rb = rb.body(body.clone());
            }
        } else if let Some(stream) = &req.stream {
            let Some(body) = (stream.make)() else {
                return Err(Failed::before_sending(Error::new(
                    ErrorKind::Request,
                    format!(
                        "{}: the media stream was already sent and cannot be sent again",
                        req.what
                    ),
                )));
            };
            progress = Progress::new(false);
            let body = ProgressStream::new(body, progress.clone());
            rb = rb
                .header(http::header::CONTENT_TYPE, stream.content_type.as_str())
                .body(crate::transport::Body::wrap_stream(body));
            if let Some(len) = stream.len {
                rb = rb.header(http::header::CONTENT_LENGTH, len);
            }
        } else {
            progress = Progress::new(true);
            if matches!(
                req.method,
                http::Method::POST | http::Method::PUT | http::Method::PATCH
            ) {
                rb = rb.header(http::header::CONTENT_LENGTH, "0");
            }
        }
        tracing::debug!(method = %req.method, what = req.what, "sending request");
        let sent = |error: Error| Failed {
            error,
            sent: true,
            auth: Some(auth.clone()),
        };
        // In a block: the request's future (a kilobyte) is gone before the
        // body is read, so the two never take room side by side.
        let resp = {
            let send = std::pin::pin!(rb.send());
            match wait_for_headers(send, &progress, bounds, req.what).await {
                Err(timeout) => return Err(sent(timeout)),
                Ok(Err(e)) => {
                    let connect = e.is_connect();
                    let error = transport::map_err(e, req.what);
                    return Err(Failed {
                        error,
                        sent: !connect,
                        auth: Some(auth.clone()),
                    });
                }
                Ok(Ok(resp)) => {
                    Response::new(resp, bounds.idle, bounds.deadline, bounds.total, req.what)
                }
            }
        };
        // The response is moved into the future that reads its body; the
        // block ends its own place in this future's state first.
        let (headers, read) = {
            let mut resp = resp;
            if !(200..300).contains(&resp.status()) {
                // Boxed: the error path is rare and its state large.
                let redactor = Redactor::new(auth.secrets());
                return Err(sent(Box::pin(read_api_error(resp, &redactor)).await));
            }
            if !whole {
                let resp = if req.timeouts.total.is_none() {
                    resp.without_deadline()
                } else {
                    resp
                };
                return Ok(Done::Streaming(Box::new(resp)));
            }
            (resp.take_headers(), resp.bytes())
        };
        match read.await {
            Ok(body) => Ok(Done::Whole(Received { headers, body })),
            Err(e) => Err(sent(e)),
        }
    }
}

/// The header that names the client library (as every Google client sends it).
const API_CLIENT: http::header::HeaderName =
    http::header::HeaderName::from_static("x-goog-api-client");

/// In-memory bodies larger than this are sent in watched slices.
const WATCHED_BODY: usize = 256 * 1024;

/// The size of those slices.
const SLICE: usize = 64 * 1024;

/// `body` as a stream of [`SLICE`]-byte pieces (no copy).
fn slices(body: Bytes) -> crate::client::BodyStream {
    Box::pin(futures_util::stream::iter(slices_of(body).map(Ok)))
}

/// `body` in [`SLICE`]-byte pieces (no copy): how a large body is handed to
/// the transport, so that a server that stops reading is caught by the
/// idle bound within one piece.
pub(crate) fn slices_of(body: Bytes) -> impl Iterator<Item = Bytes> {
    (0..body.len().div_ceil(SLICE)).map(move |i| {
        let end = ((i + 1) * SLICE).min(body.len());
        body.slice(i * SLICE..end)
    })
}

/// Reads an error response fully (within its bounds) and parses Google's
/// error JSON, with every secret of the request redacted.
pub(crate) async fn read_api_error(resp: Response, redactor: &Redactor) -> Error {
    let status = resp.status();
    let headers = header_pairs(resp.headers());
    match resp.bytes().await {
        Ok(body) => Error::api(ApiError::from_response_redacted(
            status, headers, &body, redactor,
        )),
        Err(e) => Error::new(
            e.kind(),
            format!("HTTP {status}: could not read the error body: {e}"),
        ),
    }
}

/// Response headers as (lower-case name, value) pairs, without cookies.
pub(crate) fn header_pairs(h: &http::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| *k != http::header::SET_COOKIE)
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod future_size {
    /// What `execute_full` boxes once per call (the attempt's state, read
    /// body included): moved into the box whole, so every byte is copied
    /// per call. 5 KB before the request's future was dropped ahead of the
    /// body read and the body readers held their response once.
    #[test]
    fn the_boxed_attempt_stays_small() {
        let mut call = crate::call::tests::call();
        call.path_param("name", "n");
        let prepared = call.prepare("things/{+name}", &[]).unwrap();
        let run = call.service().client().run(&prepared, true);
        let size = std::mem::size_of_val(&run);
        assert!(size <= 2560, "the attempt's state is {size} bytes");
    }
}
