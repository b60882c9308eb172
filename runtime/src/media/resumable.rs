//! The resumable protocol (`uploadType=resumable`). Documented on
//! [`ResumableUpload`].

use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::chunks::Chunks;
pub use super::session::{ResumableSession, UploadProgress};
use super::session::{parse_range_end, reports_size, resolve, session_gone};
use super::verify::check_stored;
use super::{Media, SourceReader};
use crate::call::{Call, decode};
use crate::client::{Client, Prepared};
use crate::error::{Error, ErrorKind, Result};
use crate::retry::RetryPolicy;
use crate::timeouts::CallTimeouts;

/// Chunk sizes are multiples of this: 256 KiB.
pub const CHUNK_GRANULARITY: usize = 256 * 1024;

/// The default chunk size: 8 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// The name used in messages for an upload resumed from a saved session.
const RESUMED: &str = "resumable upload";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Complete,
    Gone,
}

/// A resumable upload (`uploadType=resumable`): built by
/// [`Call::upload_resumable`] or [`ResumableUpload::resume_from`], driven by
/// [`send`](Self::send) or chunk by chunk with [`next_chunk`](Self::next_chunk).
///
/// 1. **Initiation**: the method's HTTP method to its resumable path with
///    `uploadType=resumable`, the call's JSON body as metadata,
///    `X-Upload-Content-Type` and (when known) `X-Upload-Content-Length`. The
///    server answers with the session URI in `Location`.
/// 2. **Chunks**: `PUT <session URI>` with `Content-Range: bytes a-b/total`
///    (`a-b/*` while the size is unknown). Every chunk but the last is a
///    multiple of 256 KiB ([`CHUNK_GRANULARITY`]). The server answers `308`
///    with `Range: bytes=0-N` (it has N+1 bytes; no `Range`: none), and the
///    next chunk starts at N+1, even inside the chunk just sent. The last
///    chunk is answered `200`/`201` with the resource. A source whose size is
///    found only at its end, on a chunk boundary, is closed with an empty
///    `PUT` and `Content-Range: bytes */total`.
/// 3. **Recovery**: after a failure (a 5xx, a reset connection, a timeout)
///    the upload waits per the retry policy, asks where the server is with an
///    empty `PUT` and `Content-Range: bytes */total` (or `bytes */*`), and
///    goes on from there. A 404 or 410 means the session is gone: the upload
///    must start over.
///
/// `X-GUploader-No-308: yes` is sent so that Google answers an incomplete
/// upload with `200` and `X-Http-Status-Code-Override: 308` rather than a
/// real 308 (which HTTP clients may take for a redirect); real 308s are
/// understood too.
///
/// When the media's size is known, each chunk is read from the source as it
/// is sent (in 1 MiB pieces) and kept until the server has confirmed all of
/// it: one chunk in memory. A source that produces nothing for the idle
/// timeout stalls the chunk's request like a stalled server would. Media of
/// unknown size are read a chunk at a time, the next chunk while the
/// current one is on the wire: two chunks at most.
///
/// The [`ResumableSession`] is plain data (serde): saved somewhere, it lets
/// another process resume with [`ResumableUpload::resume_from`].
///
/// Failures are retried with the client's [`RetryPolicy`] (or the call's, or
/// [`ResumableUpload::retry_policy`]), counted per chunk. When `send` or
/// `next_chunk` returns an error, the upload is still usable: call it again to
/// resume, or keep [`session`](Self::session) to resume later.
///
/// ```no_run
/// # async fn f(call: gapi::Call, media: gapi::Media) -> gapi::Result<()> {
/// let mut upload = call.upload_resumable(media).chunk_size(16 << 20);
/// let session = upload.start().await?.clone();
/// // ... save `session` (serde) to resume after a crash ...
/// let file: serde_json::Value = upload.send().await?;
/// # Ok(()) }
/// ```
pub struct ResumableUpload {
    client: Client,
    /// The call that opens the session; taken once it is open.
    call: Option<Call>,
    what: &'static str,
    /// The source, chunk by chunk (the pending chunk and the next, read
    /// ahead while the pending one is sent).
    chunks: Chunks,
    /// The size declared by the media or the resumed session.
    declared: Option<u64>,
    mime_type: String,
    max_size: Option<u64>,
    session: Option<ResumableSession>,
    /// Bytes the server has confirmed.
    confirmed: u64,
    /// How far the furthest chunk ever sent reaches (for a resumed upload:
    /// at least what the server had confirmed before): a server that says
    /// "complete" before the last byte was even sent is wrong.
    attempted_end: u64,
    /// Resumed from a saved session: earlier bytes were sent by someone else.
    resumed: bool,
    /// Ask the server where it is before sending more.
    needs_query: bool,
    state: State,
    retry: Option<RetryPolicy>,
    timeouts: CallTimeouts,
    progress: watch::Sender<UploadProgress>,
    on_progress: Option<Box<dyn FnMut(UploadProgress) + Send>>,
}

impl std::fmt::Debug for ResumableUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumableUpload")
            .field("what", &self.what)
            .field("session", &self.session)
            .field("confirmed", &self.confirmed)
            .field("total", &self.total())
            .field("chunk_size", &self.chunks.chunk_size())
            .field("state", &self.state)
            .finish()
    }
}

impl Call {
    /// A resumable upload of `media` with the call's body as metadata.
    /// Nothing is sent until [`ResumableUpload::start`],
    /// [`next_chunk`](ResumableUpload::next_chunk) or
    /// [`send`](ResumableUpload::send).
    pub fn upload_resumable(self, media: Media) -> ResumableUpload {
        let md5 = media.wants_md5();
        let (source, size, mime_type) = media.into_parts();
        let what = self.method().id;
        let max_size = self.method().media_upload.and_then(|m| m.max_size);
        ResumableUpload::new(
            self.service().client().clone(),
            Some(self),
            what,
            SourceReader::new(source).with_digests(md5),
            size,
            mime_type,
            max_size,
            None,
        )
    }
}

impl ResumableUpload {
    #[allow(clippy::too_many_arguments)]
    fn new(
        client: Client,
        call: Option<Call>,
        what: &'static str,
        reader: SourceReader,
        declared: Option<u64>,
        mime_type: String,
        max_size: Option<u64>,
        session: Option<ResumableSession>,
    ) -> Self {
        let resumed = session.is_some();
        ResumableUpload {
            client,
            call,
            what,
            chunks: Chunks::new(reader, what, DEFAULT_CHUNK_SIZE, max_size),
            declared,
            mime_type,
            max_size,
            session,
            confirmed: 0,
            attempted_end: 0,
            resumed,
            needs_query: resumed,
            state: State::Running,
            retry: None,
            timeouts: CallTimeouts::default(),
            progress: watch::Sender::new(UploadProgress {
                bytes_sent: 0,
                total: declared,
            }),
            on_progress: None,
        }
    }

    /// Resumes an upload from a saved session, in this process or another.
    /// `media` is the same content **from its beginning**: the bytes the
    /// server already has are skipped (files seek, readers are read and
    /// discarded). The first step asks the server how much it has.
    ///
    /// Fails when the media's size contradicts the session's.
    pub fn resume_from(client: &Client, session: ResumableSession, media: Media) -> Result<Self> {
        let md5 = media.wants_md5();
        let (source, size, _mime) = media.into_parts();
        if let (Some(a), Some(b)) = (size, session.total)
            && a != b
        {
            return Err(Error::new(
                ErrorKind::Request,
                format!("{RESUMED}: the media has {a} bytes but the session expects {b}"),
            ));
        }
        let declared = size.or(session.total);
        let mime_type = session.mime_type.clone();
        let max_size = session.max_size;
        let mut upload = ResumableUpload::new(
            client.clone(),
            None,
            RESUMED,
            SourceReader::new(source).with_digests(md5),
            declared,
            mime_type,
            max_size,
            Some(session),
        );
        // The earlier process sent at least what the server confirmed.
        upload.attempted_end = upload.session.as_ref().map_or(0, |s| s.confirmed);
        upload.confirmed = upload.attempted_end;
        Ok(upload)
    }

    /// The chunk size: rounded up to a multiple of 256 KiB
    /// ([`CHUNK_GRANULARITY`]); default 8 MiB. It is also the most of the
    /// source held in memory.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        let units = bytes.div_ceil(CHUNK_GRANULARITY).max(1);
        self.chunks.set_chunk_size(units * CHUNK_GRANULARITY);
        self
    }

    /// The retry policy for this upload (default: the call's, else the
    /// client's). Attempts are counted per chunk.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A deadline for each request of the upload (default: the call's, else
    /// none: each chunk is bounded by the client's idle and response
    /// timeouts, so a stalled transfer fails while a slow one goes on).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.total = Some(timeout);
        self
    }

    /// Calls `f` after every chunk the server confirms, and at the end.
    pub fn on_progress(mut self, f: impl FnMut(UploadProgress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// A watch of the progress, updated like [`on_progress`](Self::on_progress).
    pub fn progress(&self) -> watch::Receiver<UploadProgress> {
        self.progress.subscribe()
    }

    /// The session, once opened (or the one resumed from). Its `total` is
    /// filled in when the size of a source of unknown size is found.
    pub fn session(&self) -> Option<&ResumableSession> {
        self.session.as_ref()
    }

    /// Bytes the server has confirmed so far.
    pub fn bytes_sent(&self) -> u64 {
        self.confirmed
    }

    /// The chunk size in use.
    pub fn current_chunk_size(&self) -> usize {
        self.chunks.chunk_size()
    }

    /// Whether the upload finished.
    pub fn is_complete(&self) -> bool {
        self.state == State::Complete
    }

    /// Opens the session (once; checking the media against the method
    /// first) and returns it, e.g. to save it before sending any media.
    pub async fn start(&mut self) -> Result<&ResumableSession> {
        if self.session.is_none() {
            self.initiate().await?;
        }
        self.session
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::Request, "no upload session"))
    }

    /// Sends the whole media and decodes the resource the server returns.
    pub async fn send<T: DeserializeOwned>(&mut self) -> Result<T> {
        loop {
            if let Some(done) = self.next_chunk().await? {
                return Ok(done);
            }
        }
    }

    /// One step: opens the session if needed, then sends one chunk (after
    /// asking the server where it is, when resuming). `Ok(None)` while the
    /// upload goes on; `Ok(Some(resource))` when it is complete.
    pub async fn next_chunk<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        match self.state {
            State::Running => {}
            State::Complete => {
                return Err(Error::new(
                    ErrorKind::Request,
                    format!("{}: the upload is already complete", self.what),
                ));
            }
            State::Gone => {
                return Err(Error::new(
                    ErrorKind::Request,
                    format!(
                        "{}: the upload session is gone; start a new upload",
                        self.what
                    ),
                ));
            }
        }
        if self.session.is_none() {
            self.initiate().await?;
        }
        let policy = self
            .retry
            .clone()
            .unwrap_or_else(|| self.client.retry_policy().clone());
        let started = tokio::time::Instant::now();
        let mut failures = 0u32;
        loop {
            let step = if self.needs_query {
                match self.query_status().await {
                    Ok(None) => continue,
                    other => other,
                }
            } else {
                self.put_chunk().await
            };
            let err = match step {
                Ok(Some(body)) => {
                    let total = self.total().unwrap_or(self.confirmed);
                    let digests = self.chunks.digests();
                    if let Err(e) = check_stored(self.what, &body, total, digests) {
                        // The server committed something else: this session
                        // is over, the upload must start again.
                        self.state = State::Gone;
                        return Err(e);
                    }
                    self.finish();
                    return decode(self.what, &body).map(Some);
                }
                Ok(None) => return Ok(None),
                Err(e) => e,
            };
            if matches!(err.status(), Some(404 | 410)) {
                self.state = State::Gone;
                return Err(session_gone(err));
            }
            if matches!(
                err.kind(),
                ErrorKind::Api | ErrorKind::Transport | ErrorKind::Timeout
            ) {
                // The server may have some of what was sent: ask first.
                self.needs_query = true;
            }
            failures += 1;
            if !err.is_transient() || failures >= policy.max_attempts {
                return Err(err);
            }
            let delay = policy.delay(failures, err.retry_after());
            if started.elapsed() + delay > policy.total_timeout {
                return Err(err);
            }
            tracing::info!(what = self.what, failures, ?delay, error = %err, "resumable upload: retrying");
            self.client.clock().sleep(delay).await;
        }
    }

    /// The size of the media, once known.
    fn total(&self) -> Option<u64> {
        self.declared
            .or_else(|| self.session.as_ref().and_then(|s| s.total))
    }

    fn notify(&mut self) {
        let p = UploadProgress {
            bytes_sent: self.confirmed,
            total: self.total(),
        };
        self.progress.send_replace(p);
        if let Some(f) = &mut self.on_progress {
            f(p);
        }
    }

    fn finish(&mut self) {
        self.state = State::Complete;
        self.chunks.clear();
        if let Some(t) = self.total() {
            self.confirmed = t;
        }
        self.notify();
    }

    /// The initiation request: opens the session.
    async fn initiate(&mut self) -> Result<()> {
        let call = self.call.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("{}: no session to resume", self.what),
            )
        })?;
        let id = call.method().id;
        let info = call.check_media(&self.mime_type, self.declared)?;
        // Like the Python and Go clients, open the session on the simple
        // upload path with `uploadType=resumable` (the `/resumable/upload/...`
        // path of the document is only a fallback): it is what Google
        // documents and what emulators implement.
        if info.resumable_path.is_none() {
            return Err(Error::new(
                ErrorKind::Request,
                format!("{id} does not support resumable uploads"),
            ));
        }
        let path = info.simple_path.or(info.resumable_path).ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("{id} has no resumable upload path"),
            )
        })?;
        let mut prepared = call.prepare(path, &[("uploadType", "resumable")])?;
        // Opening a second session by retrying is harmless: the first is
        // never used.
        prepared.idempotent = true;
        prepared
            .headers
            .push(("X-Upload-Content-Type".into(), self.mime_type.clone()));
        if let Some(n) = self.declared {
            prepared
                .headers
                .push(("X-Upload-Content-Length".into(), n.to_string()));
        }
        if self.retry.is_none() {
            self.retry = prepared.retry.clone();
        } else {
            prepared.retry = self.retry.clone();
        }
        let call_timeouts = prepared.timeouts;
        let own = &mut self.timeouts;
        own.total = own.total.or(call_timeouts.total);
        own.response = own.response.or(call_timeouts.response);
        own.idle = own.idle.or(call_timeouts.idle);
        prepared.timeouts = *own;
        let resp = self.client.execute_full(&prepared).await?;
        let location = resp.header("location").map(str::to_owned);
        let location = location.ok_or_else(|| {
            Error::new(
                ErrorKind::Decode,
                format!("{id}: the server did not return an upload session URI (Location)"),
            )
        })?;
        let uri = resolve(&prepared.url, &location)?;
        self.session = Some(ResumableSession {
            uri,
            total: self.declared,
            mime_type: self.mime_type.clone(),
            method_id: id.to_owned(),
            max_size: self.max_size,
            confirmed: 0,
        });
        Ok(())
    }

    /// A request to the session URI.
    fn session_request(
        &self,
        body: Option<crate::client::StreamBody>,
        content_range: String,
    ) -> Result<Prepared> {
        let uri = self
            .session
            .as_ref()
            .map(|s| s.uri.clone())
            .ok_or_else(|| Error::new(ErrorKind::Request, "no upload session"))?;
        Ok(Prepared {
            method: http::Method::PUT,
            url: uri,
            headers: vec![
                ("Content-Range".into(), content_range),
                ("X-GUploader-No-308".into(), "yes".into()),
            ],
            body: None,
            idempotent: true,
            timeouts: self.timeouts,
            // Failures are handled here: status query, then resume.
            retry: Some(RetryPolicy::none()),
            what: self.what,
            stream: body,
            media: true,
        })
    }

    /// Asks the server how much it has. `Ok(None)`: `confirmed` is updated;
    /// `Ok(Some(body))`: the upload is complete.
    async fn query_status(&mut self) -> Result<Option<Bytes>> {
        let total = self
            .total()
            .map_or_else(|| "*".to_owned(), |t| t.to_string());
        let req = self.session_request(None, format!("bytes */{total}"))?;
        let before = self.confirmed;
        let out = self.exchange(&req, None).await?;
        if out.is_none() {
            self.needs_query = false;
            if self.confirmed < before {
                tracing::warn!(
                    what = self.what,
                    confirmed_before = before,
                    server_has = self.confirmed,
                    "the server holds less than it had confirmed; sending again from what it has"
                );
            }
        } else if let Some(t) = self.total()
            && self.attempted_end < t
            // A resumed upload's earlier process may have sent the rest:
            // when the server says what it stored, the size check decides.
            && !(self.resumed && out.as_deref().is_some_and(reports_size))
        {
            // Seen with fake-gcs-server, which takes a status query for the
            // final empty chunk and commits a truncated object.
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "{}: the server reports the upload complete, but only {} of {t} bytes were ever sent (it does not implement the status query)",
                    self.what, self.attempted_end
                ),
            ));
        }
        Ok(out)
    }

    /// Sends the next chunk from `confirmed`: read from the source as it
    /// is sent when the size is known and nothing of it is held.
    async fn put_chunk(&mut self) -> Result<Option<Bytes>> {
        let offset = self.confirmed;
        if let Some(total) = self.total()
            && let Some(want) = self.chunks.fresh(offset, total)
        {
            return self.put_fresh_chunk(offset, want, total).await;
        }
        self.put_held_chunk().await
    }

    /// Sends the chunk from `confirmed` from what is held of it, or read
    /// whole, reading the chunk after it meanwhile.
    async fn put_held_chunk(&mut self) -> Result<Option<Bytes>> {
        let offset = self.confirmed;
        let chunk = self.chunks.at(offset, self.total()).await?;
        if let Some(t) = chunk.found_total {
            // The end of a source of unknown size: now the size is known.
            if let Some(s) = &mut self.session {
                s.total = Some(t);
            }
            self.declared = Some(t);
        }
        let data = chunk.data;
        let total = self.total();
        let end = offset + data.len() as u64;
        let range = if data.is_empty() {
            let t = total.ok_or_else(|| {
                Error::new(ErrorKind::Request, "internal: empty chunk of unknown total")
            })?;
            format!("bytes */{t}")
        } else {
            let t = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
            format!("bytes {offset}-{}/{t}", end - 1)
        };
        self.attempted_end = self.attempted_end.max(end);
        let body = (!data.is_empty()).then(|| data.body(&self.mime_type));
        let req = self.session_request(body, range)?;
        let (answer, ()) = tokio::join!(
            self.client.execute_full(&req),
            self.chunks.read_ahead(total)
        );
        self.take_answer(answer, &req, Some(end))
    }

    /// Sends the `want` bytes at `offset` of media of size `total` as they
    /// are read from the source ([`Chunks::feed`]). A failure of the source
    /// is the error, not the request it cut short.
    async fn put_fresh_chunk(
        &mut self,
        offset: u64,
        want: usize,
        total: u64,
    ) -> Result<Option<Bytes>> {
        let end = offset + want as u64;
        let range = format!("bytes {offset}-{}/{total}", end - 1);
        let (tx, body) = super::chunks::fed_body(want, &self.mime_type);
        let req = self.session_request(Some(body), range)?;
        self.attempted_end = self.attempted_end.max(end);
        let stop = tokio::sync::Notify::new();
        let send = async {
            let answer = self.client.execute_full(&req).await;
            // The body is not read any more: the feed stops waiting for it.
            stop.notify_one();
            answer
        };
        let (answer, fed) = tokio::join!(send, self.chunks.feed(offset, want, total, tx, &stop));
        fed?;
        if matches!(&answer, Err(e) if e.status() == Some(401)) {
            // The credentials were refreshed, but this body cannot be sent
            // again: what was read of the chunk is (nothing was stored).
            return self.put_held_chunk().await;
        }
        self.take_answer(answer, &req, Some(end))
    }

    /// Sends a session request and reads the answer: `Ok(None)` for an
    /// incomplete upload (308, real or as `X-Http-Status-Code-Override`),
    /// `Ok(Some(body))` when complete. `sent_end` is how far the data sent
    /// reaches, to reject a server claiming more.
    async fn exchange(&mut self, req: &Prepared, sent_end: Option<u64>) -> Result<Option<Bytes>> {
        let answer = self.client.execute_full(req).await;
        self.take_answer(answer, req, sent_end)
    }

    /// The answer to a session request (see [`exchange`](Self::exchange)).
    fn take_answer(
        &mut self,
        answer: Result<crate::exec::Received>,
        req: &Prepared,
        sent_end: Option<u64>,
    ) -> Result<Option<Bytes>> {
        let headers = match answer {
            Ok(resp) => {
                let overridden = resp.header("x-http-status-code-override") == Some("308");
                if !overridden {
                    return Ok(Some(resp.body));
                }
                crate::exec::header_pairs(&resp.headers)
            }
            Err(e) if e.status() == Some(308) => {
                e.api_error().map(|a| a.headers.clone()).unwrap_or_default()
            }
            Err(e) => return Err(e),
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let confirmed = match header("range") {
            None => 0,
            Some(r) => parse_range_end(r).map(|n| n + 1).ok_or_else(|| {
                Error::new(
                    ErrorKind::Decode,
                    format!("{}: unexpected Range header {r:?} in a 308", self.what),
                )
            })?,
        };
        // A chunk's answer cannot go past the chunk; a status query's cannot
        // go past the size.
        if let Some(limit) = sent_end.or(self.total())
            && confirmed > limit
        {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "{}: the server reports {confirmed} bytes received, more than the {limit} sent",
                    self.what
                ),
            ));
        }
        if let Some(location) = header("location") {
            let uri = resolve(&req.url, location)?;
            if let Some(s) = &mut self.session {
                s.uri = uri;
            }
        }
        self.confirmed = confirmed;
        if let Some(s) = &mut self.session {
            s.confirmed = confirmed;
        }
        self.notify();
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_rounds_up_to_256_kib() {
        let client = Client::new(crate::Credentials::anonymous()).unwrap();
        let session = ResumableSession::new("http://h/s", "a/b", None);
        let media = || Media::from_bytes(&b""[..], "a/b");
        let up = |n| {
            ResumableUpload::resume_from(&client, session.clone(), media())
                .unwrap()
                .chunk_size(n)
                .current_chunk_size()
        };
        assert_eq!(up(1), CHUNK_GRANULARITY);
        assert_eq!(up(0), CHUNK_GRANULARITY);
        assert_eq!(up(CHUNK_GRANULARITY + 1), 2 * CHUNK_GRANULARITY);
        assert_eq!(up(8 << 20), 8 << 20);
    }

    #[test]
    fn resuming_with_a_different_size_fails() {
        let client = Client::new(crate::Credentials::anonymous()).unwrap();
        let session = ResumableSession::new("http://h/s", "a/b", Some(3));
        let e =
            ResumableUpload::resume_from(&client, session, Media::from_bytes(&b"ab"[..], "a/b"))
                .unwrap_err();
        assert!(e.to_string().contains("expects 3"), "{e}");
    }

    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let client = Client::new(crate::Credentials::anonymous()).unwrap();
        let session = ResumableSession::new("http://h/s", "a/b", None);
        let mut up = ResumableUpload::resume_from(
            &client,
            session,
            Media::from_reader(&b"x"[..], None, "a/b"),
        )
        .unwrap();
        assert_send(&up.next_chunk::<serde_json::Value>());
    }
}
