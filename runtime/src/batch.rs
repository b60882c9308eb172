//! Batch requests: many calls in one HTTP request. Documented on [`Batch`].

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::call::{Call, CallBuilder, decode_for};
use crate::client::{Prepared, Service};
use crate::error::{ApiError, Error, ErrorKind, Result};
use crate::method::MethodInfo;

/// The default number of calls per HTTP request: 100 (Google's limit for
/// most APIs; some allow 1000, some only 50).
pub const DEFAULT_BATCH_LIMIT: usize = 100;

type Decoder = fn(&'static MethodInfo, &[u8]) -> Result<Box<dyn Any + Send>>;

fn decode_any<T: DeserializeOwned + Send + 'static>(
    method: &'static MethodInfo,
    body: &[u8],
) -> Result<Box<dyn Any + Send>> {
    // Methods without a response ignore whatever body comes back.
    if TypeId::of::<T>() == TypeId::of::<()>() {
        return Ok(Box::new(()));
    }
    decode_for::<T>(method, body).map(|v| Box::new(v) as Box<dyn Any + Send>)
}

struct Item {
    call: Call,
    decode: Decoder,
}

/// Many calls sent as one (or a few) HTTP requests.
///
/// [`Batch::new`] takes the service whose `batch_path` (e.g. `batch` or
/// `batch/tasks/v1`) names the endpoint under its root URL; [`Batch::add`]
/// takes any generated method builder and returns a typed [`BatchHandle`];
/// [`Batch::send`] sends the calls, at most [`Batch::limit`] per HTTP request
/// (default [`DEFAULT_BATCH_LIMIT`]; more are sent in several requests, in
/// order), and returns [`BatchResponses`], from which each handle takes its
/// own typed [`Result`].
///
/// The wire format is Google's: a `POST` of `multipart/mixed` whose parts are
/// `application/http` requests:
///
/// ```text
/// --BOUNDARY
/// Content-Type: application/http
/// Content-Transfer-Encoding: binary
/// Content-ID: <item-1>
///
/// GET /tasks/v1/users/@me/lists/abc?fields=id HTTP/1.1
///
/// --BOUNDARY
/// ...
/// --BOUNDARY--
/// ```
///
/// and the answer is `multipart/mixed` with one `application/http` response
/// per part (`Content-ID: <response-item-1>`), matched back by id. A
/// sub-response with an error status becomes an [`Error`] parsed exactly like
/// the error of a single call ([`crate::ApiError`]).
///
/// Authorization travels on the outer request and applies to every part. When
/// sub-responses are `401`, the credentials are refreshed once and only those
/// parts are sent again. Parts answered with a transient error (`429`,
/// `408`, `5xx`, a `403` rate limit) are sent again in a new batch of just
/// them, with the client's [`RetryPolicy`](crate::RetryPolicy): backoff
/// with jitter, the longest `Retry-After` of those parts, at most
/// `max_attempts` rounds and within `total_timeout`; a part that is not
/// idempotent is sent again only when its answer says the server did not
/// act on it (`429`, `408`). Results stay in the order the calls were
/// added. Per-call retry policies and timeouts do not apply inside a batch;
/// the outer request follows the client's policy, and is retried after the
/// server saw it only when every part is idempotent.
///
/// ```no_run
/// # async fn f(svc: gapi::Service, a: gapi::Call, b: gapi::Call) -> gapi::Result<()> {
/// let mut batch = gapi::Batch::new(&svc);
/// let first = batch.add_call::<serde_json::Value>(a);
/// let second = batch.add_call::<()>(b);
/// let mut responses = batch.send().await?;
/// let value = responses.take(first)?;
/// responses.take(second)?;
/// # Ok(()) }
/// ```
pub struct Batch {
    svc: Service,
    batch_path: Option<String>,
    items: Vec<Item>,
    limit: usize,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("service", &self.svc)
            .field("batch_path", &self.path())
            .field("items", &self.items.len())
            .field("limit", &self.limit)
            .finish()
    }
}

/// A typed ticket for one call of a [`Batch`]: hand it to
/// [`BatchResponses::take`] for that call's result.
pub struct BatchHandle<T> {
    index: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> BatchHandle<T> {
    /// The position of the call in its batch, from 0.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<T> Clone for BatchHandle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for BatchHandle<T> {}
impl<T> fmt::Debug for BatchHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BatchHandle({})", self.index)
    }
}

impl Batch {
    /// An empty batch for calls of `svc`'s API, sent to its batch endpoint.
    pub fn new(svc: &Service) -> Self {
        Batch {
            svc: svc.clone(),
            batch_path: None,
            items: Vec::new(),
            limit: DEFAULT_BATCH_LIMIT,
        }
    }

    /// The most calls per HTTP request (at least 1; default 100).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// Overrides the batch path of the API description (relative to the
    /// root URL), e.g. for a document without `batchPath`.
    pub fn batch_path(mut self, path: impl Into<String>) -> Self {
        self.batch_path = Some(path.into());
        self
    }

    fn path(&self) -> Option<&str> {
        self.batch_path.as_deref().or(self.svc.info().batch_path)
    }

    /// Adds a call built by a generated method builder; its result will be a
    /// `Result<B::Response>`.
    pub fn add<B>(&mut self, builder: B) -> BatchHandle<B::Response>
    where
        B: CallBuilder,
        B::Response: DeserializeOwned + Send + 'static,
    {
        self.add_call(builder.into_call())
    }

    /// Adds a call whose response decodes as `T` (`()` for none).
    pub fn add_call<T: DeserializeOwned + Send + 'static>(&mut self, call: Call) -> BatchHandle<T> {
        self.items.push(Item {
            call,
            decode: decode_any::<T>,
        });
        BatchHandle {
            index: self.items.len() - 1,
            _t: PhantomData,
        }
    }

    /// How many calls were added.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no call was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sends every call and collects their results, in order.
    ///
    /// Fails only when nothing can be sent (no batch path, no credentials);
    /// a failed HTTP request (transport error, error status, a body that is
    /// not `multipart/mixed`) becomes the error of each call it carried.
    pub async fn send(self) -> Result<BatchResponses> {
        let path = self.path().ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("batch: the {} API has no batch path", self.svc.info().name),
            )
        })?;
        let url = format!(
            "{}/{}",
            self.svc.root_url().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let origin = origin_of(&url).to_owned();
        let client = self.svc.client().clone();
        let credentials = client.credentials().clone();
        let auth = credentials.authorization().await?;

        let n = self.items.len();
        let mut results: Vec<Option<Result<Box<dyn Any + Send>>>> =
            std::iter::repeat_with(|| None).take(n).collect();
        let mut parts: Vec<Option<Part>> = Vec::with_capacity(n);
        for (i, item) in self.items.iter().enumerate() {
            match render_part(i, &item.call, &origin, auth.api_key_param()) {
                Ok(p) => parts.push(Some(p)),
                Err(e) => {
                    results[i] = Some(Err(e));
                    parts.push(None);
                }
            }
        }
        let pending: Vec<usize> = (0..n).filter(|i| parts[*i].is_some()).collect();
        let mut outcomes = round(&client, &url, &pending, &parts, self.limit).await;

        let unauthorized: Vec<usize> = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Ok(r) if r.status == 401))
            .map(|(i, _)| *i)
            .collect();
        if !unauthorized.is_empty() && auth.access_token().is_some() {
            tracing::debug!(
                parts = unauthorized.len(),
                "batch: 401 inside the batch; refreshing credentials once"
            );
            match credentials.refresh_after_unauthorized(&auth).await {
                Ok(true) => {
                    let again = round(&client, &url, &unauthorized, &parts, self.limit).await;
                    for (i, o) in again {
                        if let Some(slot) = outcomes.iter_mut().find(|(j, _)| *j == i) {
                            slot.1 = o;
                        }
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    for (i, o) in outcomes.iter_mut() {
                        if unauthorized.contains(i) {
                            *o = Err(replicate(&e));
                        }
                    }
                }
            }
        }

        retry_parts(&client, &url, &parts, self.limit, &mut outcomes).await;

        let redactor = crate::redact::Redactor::new(auth.secrets());
        for (i, outcome) in outcomes {
            let item = &self.items[i];
            results[i] = Some(match outcome {
                Ok(r) if (200..300).contains(&r.status) => {
                    (item.decode)(item.call.method(), &r.body)
                }
                Ok(r) => Err(Error::api(ApiError::from_response_redacted(
                    r.status, r.headers, &r.body, &redactor,
                ))),
                Err(e) => Err(e),
            });
        }
        Ok(BatchResponses { results })
    }
}

/// Whether a part's answer is worth sending the part again for: a
/// transient status, and either an idempotent part or an answer saying the
/// server did not act on it.
fn retry_part(outcome: &Result<SubResponse>, part: &Part) -> bool {
    let Ok(r) = outcome else {
        return false;
    };
    if (200..300).contains(&r.status) {
        return false;
    }
    let api = ApiError::from_response(r.status, r.headers.clone(), &r.body);
    crate::error::is_retryable_api_error(&api) && (part.idempotent || r.status < 500)
}

/// Sends the parts answered with transient errors again, in new batches of
/// just them, per the client's retry policy; replaces their outcomes.
async fn retry_parts(
    client: &crate::Client,
    url: &str,
    parts: &[Option<Part>],
    limit: usize,
    outcomes: &mut [(usize, Result<SubResponse>)],
) {
    let policy = client.retry_policy().clone();
    let started = tokio::time::Instant::now();
    let mut attempt = 1;
    loop {
        let again: Vec<usize> = outcomes
            .iter()
            .filter(|(i, o)| parts[*i].as_ref().is_some_and(|p| retry_part(o, p)))
            .map(|(i, _)| *i)
            .collect();
        if again.is_empty() || attempt >= policy.max_attempts {
            return;
        }
        let retry_after = outcomes
            .iter()
            .filter(|(i, _)| again.contains(i))
            .filter_map(|(_, o)| o.as_ref().ok())
            .filter_map(|r| {
                r.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                    .and_then(|(_, v)| crate::error::parse_retry_after(v))
            })
            .max();
        let delay = policy.delay(attempt, retry_after);
        if started.elapsed() + delay > policy.total_timeout {
            return;
        }
        tracing::info!(
            parts = again.len(),
            attempt,
            ?delay,
            "batch: sending the parts with transient errors again"
        );
        client.clock().sleep(delay).await;
        for (i, o) in round(client, url, &again, parts, limit).await {
            if let Some(slot) = outcomes.iter_mut().find(|(j, _)| *j == i) {
                slot.1 = o;
            }
        }
        attempt += 1;
    }
}

/// The results of a sent [`Batch`], one per call, in the order added.
pub struct BatchResponses {
    results: Vec<Option<Result<Box<dyn Any + Send>>>>,
}

impl fmt::Debug for BatchResponses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summary: Vec<&str> = self
            .results
            .iter()
            .map(|r| match r {
                Some(Ok(_)) => "ok",
                Some(Err(_)) => "error",
                None => "taken",
            })
            .collect();
        f.debug_tuple("BatchResponses").field(&summary).finish()
    }
}

impl BatchResponses {
    /// How many calls the batch had.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether the batch had no call.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// Takes the result of the call behind `handle` (once; a second take,
    /// or a handle from another batch, is an error).
    pub fn take<T: 'static>(&mut self, handle: BatchHandle<T>) -> Result<T> {
        let slot = self.results.get_mut(handle.index).and_then(Option::take);
        unbox(handle.index, slot)
    }

    /// Every result, in order, for a batch whose calls all return `T`
    /// (a call of another type, or already taken, gives an error).
    pub fn into_results<T: 'static>(self) -> Vec<Result<T>> {
        self.results
            .into_iter()
            .enumerate()
            .map(|(i, r)| unbox(i, r))
            .collect()
    }
}

fn unbox<T: 'static>(index: usize, slot: Option<Result<Box<dyn Any + Send>>>) -> Result<T> {
    match slot {
        None => Err(Error::new(
            ErrorKind::Request,
            format!("batch: no result for item {index} (already taken, or another batch's handle)"),
        )),
        Some(Err(e)) => Err(e),
        Some(Ok(v)) => v.downcast::<T>().map(|b| *b).map_err(|_| {
            Error::new(
                ErrorKind::Request,
                format!("batch: the result of item {index} has another type"),
            )
        }),
    }
}

/// An equivalent error for each call a failed request carried.
fn replicate(e: &Error) -> Error {
    match e.api_error() {
        Some(api) => Error::api(api.clone()),
        None => Error::new(e.kind(), e.to_string()),
    }
}

/// One rendered part of a batch request.
#[derive(Debug)]
struct Part {
    bytes: Bytes,
    idempotent: bool,
}

/// `scheme://authority` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(j) => &url[..after_scheme + j],
        None => url,
    }
}

/// The `application/http` part for one call.
fn render_part(index: usize, call: &Call, origin: &str, api_key: Option<&str>) -> Result<Part> {
    let id = call.method().id;
    let mut prepared: Prepared = call.prepare(call.method().path, &[])?;
    if let Some(key) = api_key {
        crate::url::append_query(&mut prepared.url, [("key", key)]);
    }
    let target = prepared.url.strip_prefix(origin).ok_or_else(|| {
        Error::new(
            ErrorKind::Request,
            format!(
                "batch: {id} goes to {}, not to the batch's host {origin}",
                origin_of(&prepared.url)
            ),
        )
    })?;
    let target = if target.is_empty() { "/" } else { target };
    let mut head = format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <item-{}>\r\n\r\n{} {target} HTTP/1.1\r\n",
        index + 1,
        prepared.method
    );
    for (k, v) in &prepared.headers {
        if [k, v].iter().any(|s| s.contains(['\r', '\n'])) {
            return Err(Error::new(
                ErrorKind::Request,
                format!("batch: {id}: a header contains a line break"),
            ));
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut out = head.into_bytes();
    match &prepared.body {
        Some((body, content_type)) => {
            out.extend_from_slice(
                format!(
                    "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(body);
        }
        None => out.extend_from_slice(b"\r\n"),
    }
    Ok(Part {
        bytes: out.into(),
        idempotent: prepared.idempotent,
    })
}

/// One sub-response of a batch.
#[derive(Debug)]
struct SubResponse {
    content_id: Option<String>,
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// Sends the parts at `indices`, `limit` per request, in order; returns one
/// outcome per index.
async fn round(
    client: &crate::Client,
    url: &str,
    indices: &[usize],
    parts: &[Option<Part>],
    limit: usize,
) -> Vec<(usize, Result<SubResponse>)> {
    let mut out = Vec::with_capacity(indices.len());
    for group in indices.chunks(limit) {
        match send_group(client, url, group, parts).await {
            Ok(responses) => {
                let by_position = responses.iter().all(|r| r.content_id.is_none());
                let mut responses: Vec<Option<SubResponse>> =
                    responses.into_iter().map(Some).collect();
                for (pos, &i) in group.iter().enumerate() {
                    let wanted = format!("response-item-{}", i + 1);
                    let slot = if by_position {
                        // Without ids, by position.
                        responses.get_mut(pos)
                    } else {
                        responses.iter_mut().find(|r| {
                            r.as_ref()
                                .is_some_and(|r| r.content_id.as_deref() == Some(wanted.as_str()))
                        })
                    };
                    let outcome = slot.and_then(Option::take).ok_or_else(|| {
                        Error::new(
                            ErrorKind::Decode,
                            format!("batch: the response has no part for item-{}", i + 1),
                        )
                    });
                    out.push((i, outcome));
                }
            }
            Err(e) => out.extend(group.iter().map(|&i| (i, Err(replicate(&e))))),
        }
    }
    out
}

/// One HTTP request carrying the parts at `group`.
async fn send_group(
    client: &crate::Client,
    url: &str,
    group: &[usize],
    parts: &[Option<Part>],
) -> Result<Vec<SubResponse>> {
    let boundary = format!("batch_{:032x}", crate::random::u128());
    let mut body = Vec::new();
    let mut idempotent = true;
    for part in group.iter().filter_map(|&i| parts[i].as_ref()) {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
        idempotent &= part.idempotent;
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let prepared = Prepared {
        method: http::Method::POST,
        url: url.to_owned(),
        headers: Vec::new(),
        body: Some((body.into(), format!("multipart/mixed; boundary={boundary}"))),
        idempotent,
        timeouts: Default::default(),
        retry: None,
        what: "batch",
        stream: None,
        media: false,
    };
    let resp = client.execute_full(&prepared).await?;
    let content_type = resp.header("content-type").unwrap_or("").to_owned();
    let bytes = resp.body;
    let boundary = boundary_of(&content_type).ok_or_else(|| {
        Error::new(
            ErrorKind::Decode,
            format!("batch: the response is not multipart/mixed (Content-Type {content_type:?})"),
        )
    })?;
    parse_response(&bytes, &boundary)
}

/// The `boundary` parameter of a `multipart/*` content type.
fn boundary_of(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits a multipart body into its parts' raw bytes.
fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>> {
    let malformed = |why: &str| {
        Error::new(
            ErrorKind::Decode,
            format!("batch: malformed multipart response: {why}"),
        )
    };
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    // The first delimiter starts the body or a line.
    let mut pos = if body.starts_with(delim) {
        0
    } else {
        find(body, &[b"\n", delim].concat(), 0)
            .map(|p| p + 1)
            .ok_or_else(|| malformed("no boundary"))?
    };
    let mut parts = Vec::new();
    loop {
        let after = pos + delim.len();
        if body[after..].starts_with(b"--") {
            return Ok(parts);
        }
        let start = find(body, b"\n", after)
            .map(|p| p + 1)
            .ok_or_else(|| malformed("truncated after a boundary"))?;
        let next = find(body, &[b"\n", delim].concat(), start)
            .ok_or_else(|| malformed("no closing boundary"))?;
        let mut end = next;
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
        parts.push(&body[start.min(end)..end]);
        pos = next + 1;
    }
}

/// Splits headers from what follows the first blank line.
fn split_head(bytes: &[u8]) -> (Vec<String>, &[u8]) {
    let crlf = find(bytes, b"\r\n\r\n", 0).map(|p| (p, p + 4));
    let lf = find(bytes, b"\n\n", 0).map(|p| (p, p + 2));
    let (head_end, body_start) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => (bytes.len(), bytes.len()),
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let lines = head
        .lines()
        .map(|l| l.trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    (lines, &bytes[body_start..])
}

fn header_map(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}

/// Parses a `multipart/mixed` batch response.
fn parse_response(body: &[u8], boundary: &str) -> Result<Vec<SubResponse>> {
    let mut out = Vec::new();
    for part in split_multipart(body, boundary)? {
        let (part_head, http) = split_head(part);
        let part_headers = header_map(&part_head);
        let content_id = part_headers
            .iter()
            .find(|(k, _)| k == "content-id")
            .map(|(_, v)| v.replace(['<', '>'], ""));
        let (lines, rest) = split_head(http);
        let status_line = lines.first().ok_or_else(|| {
            Error::new(
                ErrorKind::Decode,
                "batch: a part of the response has no status line",
            )
        })?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Decode,
                    format!("batch: bad status line {status_line:?} in a part of the response"),
                )
            })?;
        let headers = header_map(&lines[1..]);
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .filter(|n| *n <= rest.len())
            .unwrap_or(rest.len());
        out.push(SubResponse {
            content_id,
            status,
            headers,
            body: Bytes::copy_from_slice(&rest[..len]),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::{HttpMethod, MethodInfo, ServiceInfo};

    static SVC: ServiceInfo = ServiceInfo {
        name: "x",
        version: "v1",
        revision: "1",
        title: "X",
        root_url: "https://x.googleapis.com/",
        service_path: "x/v1/",
        batch_path: Some("batch/x/v1"),
    };
    static INSERT: MethodInfo = MethodInfo {
        id: "x.things.insert",
        http_method: HttpMethod::Post,
        path: "things/{parent}",
        ..MethodInfo::DEFAULT
    };

    fn call() -> Call {
        let client = crate::Client::new(crate::Credentials::anonymous()).unwrap();
        let mut c = Call::new(&crate::Service::new(client, &SVC), &INSERT);
        c.path_param("parent", "p q");
        c.query("fields", "id");
        c.header("x-extra", "1");
        c.body(&serde_json::json!({"a": 1}));
        c
    }

    #[test]
    fn part_has_request_line_headers_and_body() {
        let p = render_part(2, &call(), "https://x.googleapis.com", None).unwrap();
        assert_eq!(
            std::str::from_utf8(&p.bytes).unwrap(),
            "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <item-3>\r\n\r\n\
             POST /x/v1/things/p%20q?fields=id HTTP/1.1\r\nx-extra: 1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        );
        assert!(!p.idempotent);
        let e = render_part(0, &call(), "https://other.example", None).unwrap_err();
        assert!(e.to_string().contains("not to the batch's host"), "{e}");
        let p = render_part(0, &call(), "https://x.googleapis.com", Some("k")).unwrap();
        assert!(
            std::str::from_utf8(&p.bytes)
                .unwrap()
                .contains("?fields=id&key=k HTTP/1.1")
        );
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(
            boundary_of("multipart/mixed; boundary=batch_abc").as_deref(),
            Some("batch_abc")
        );
        assert_eq!(
            boundary_of("Multipart/Mixed; charset=x; Boundary=\"q r\"").as_deref(),
            Some("q r")
        );
        assert_eq!(boundary_of("application/json"), None);
        assert_eq!(boundary_of("multipart/mixed"), None);
    }

    #[test]
    fn parses_google_style_response() {
        let body = "--batch_X\r\nContent-Type: application/http\r\nContent-ID: <response-item-2>\r\n\r\n\
HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n\
{\"error\":{\"code\":404,\"message\":\"nope\",\"errors\":[{\"reason\":\"notFound\"}]}}\r\n\
--batch_X\r\nContent-Type: application/http\r\nContent-ID: <response-item-1>\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"id\":1}\n\r\n\
--batch_X\r\nContent-Type: application/http\r\nContent-ID: <response-item-3>\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n\r\n\
--batch_X--\r\n";
        let parts = parse_response(body.as_bytes(), "batch_X").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].content_id.as_deref(), Some("response-item-2"));
        assert_eq!(parts[0].status, 404);
        let err = Error::api(ApiError::from_response(
            parts[0].status,
            parts[0].headers.clone(),
            &parts[0].body,
        ));
        assert_eq!(err.reason(), Some("notFound"));
        assert_eq!(parts[1].status, 200);
        assert_eq!(&parts[1].body[..], b"{\"id\":1}\n");
        assert_eq!(parts[2].status, 204);
        assert!(parts[2].body.is_empty());
    }

    #[test]
    fn lf_only_and_preamble_are_tolerated() {
        let body = "preamble\n--b\nContent-ID: response-item-1\n\nHTTP/1.1 200 OK\n\n{}\n--b--";
        let parts = parse_response(body.as_bytes(), "b").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].content_id.as_deref(), Some("response-item-1"));
        assert_eq!(&parts[0].body[..], b"{}");
        assert!(parse_response(b"--b\r\nno end", "b").is_err());
        assert!(parse_response(b"nothing", "b").is_err());
    }

    #[test]
    fn unit_responses_ignore_the_body_and_typed_ones_decode() {
        let unit = decode_any::<()>(&INSERT, b"{\"kind\":\"whatever\"}").unwrap();
        assert!(unit.downcast::<()>().is_ok());
        let v = decode_any::<serde_json::Value>(&INSERT, b"{\"a\":1}").unwrap();
        assert_eq!(
            *v.downcast::<serde_json::Value>().unwrap(),
            serde_json::json!({"a":1})
        );
        let mut r = BatchResponses {
            results: vec![Some(Ok(Box::new(5u32))), None],
        };
        let h = BatchHandle::<String> {
            index: 0,
            _t: PhantomData,
        };
        assert!(r.take(h).unwrap_err().to_string().contains("another type"));
        assert!(r.take(h).unwrap_err().to_string().contains("already taken"));
    }

    #[test]
    fn origin() {
        assert_eq!(origin_of("http://127.0.0.1:9/a/b?c"), "http://127.0.0.1:9");
        assert_eq!(origin_of("https://h"), "https://h");
    }
}
