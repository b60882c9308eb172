//! Media download (`alt=media`), resumed with `Range` after a broken
//! connection. Documented on [`Download`].

use bytes::Bytes;

use crate::call::Call;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::Response;

impl Call {
    /// Downloads the media behind this call (`alt=media`). The body arrives in
    /// chunks and a broken connection is resumed (see [`Download`]).
    pub async fn download(self) -> Result<Download> {
        let id = self.method().id;
        if !self.method().supports_media_download {
            return Err(Error::new(
                ErrorKind::Request,
                format!("{id} does not support media download"),
            ));
        }
        let mut prepared = self.prepare(self.method().path, &[("alt", "media")])?;
        prepared.media = true;
        // A caller asking for a range of their own gets it as is.
        let resumable = !prepared
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("range"));
        match self.service().client().execute(&prepared).await {
            Ok(resp) => Ok(Download::first(resp, resumable.then_some(self), id)),
            Err(e) if is_empty_416(&e) => Ok(Download::empty(id)),
            Err(e) => Err(e),
        }
    }
}

/// A 416 for an empty object: no `Content-Range`, or `bytes */0`.
fn is_empty_416(e: &Error) -> bool {
    e.status() == Some(416)
        && e.api_error()
            .and_then(|a| a.header("content-range"))
            .is_none_or(|v| parse_content_range(v).is_some_and(|(_, t)| t == Some(0)))
}

/// `bytes a-b/T`, `bytes */T` → (Some(a) or None, Some(T) or None for `*`).
fn parse_content_range(v: &str) -> Option<(Option<u64>, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    let start = match range.trim() {
        "*" => None,
        r => Some(r.split_once('-')?.0.trim().parse().ok()?),
    };
    Some((start, total))
}

/// A media download in progress: the body arrives in chunks, and a broken
/// connection is resumed from the last byte received.
///
/// When the body stops early (a reset, a truncated body, a timeout), the
/// download waits per the retry policy and asks again for the rest with
/// `Range: bytes=N-`, N being the bytes already handed out. The answer must
/// be the same media: a `206` whose `Content-Range` starts at N and has the
/// same total, with the same `ETag` and `x-goog-generation` when the first
/// answer had them. A `200` (a server ignoring `Range`) is accepted too: its
/// first N bytes are skipped. A changed media is an error, never a splice.
///
/// An empty object may be answered `416 Range Not Satisfiable` (with
/// `Content-Range: bytes */0`): that is an empty download, not an error.
///
/// Resuming is off when the call set its own `Range` header.
pub struct Download {
    resp: Option<Response>,
    /// The call to ask again with `Range`; `None`: no resuming.
    call: Option<Call>,
    what: &'static str,
    received: u64,
    /// Bytes of the current response to drop (a 200 to a `Range` request).
    skip: u64,
    total: Option<u64>,
    /// The bytes this download should yield: the whole media, or the length
    /// of the range the caller asked for.
    expected: Option<u64>,
    etag: Option<String>,
    generation: Option<String>,
    content_type: Option<String>,
    content_length: Option<u64>,
    failures: u32,
    done: bool,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("method", &self.what)
            .field("content_length", &self.content_length)
            .field("received", &self.received)
            .field("total", &self.total)
            .field("done", &self.done)
            .finish()
    }
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.header(name)
}

impl Download {
    fn first(resp: Response, call: Option<Call>, what: &'static str) -> Self {
        let content_length = resp.content_length();
        let partial = resp.status() == 206;
        let total = match header(&resp, "content-range").and_then(|v| parse_content_range(&v)) {
            Some((_, t)) if partial => t,
            _ => content_length,
        };
        // A 206 to the caller's own `Range` yields that range, not the media.
        let expected = if partial { content_length } else { total };
        Download {
            expected,
            content_type: header(&resp, "content-type"),
            etag: header(&resp, "etag"),
            generation: header(&resp, "x-goog-generation"),
            content_length,
            total,
            resp: Some(resp),
            call,
            what,
            received: 0,
            skip: 0,
            failures: 0,
            done: false,
        }
    }

    fn empty(what: &'static str) -> Self {
        Download {
            resp: None,
            call: None,
            what,
            received: 0,
            skip: 0,
            total: Some(0),
            expected: Some(0),
            etag: None,
            generation: None,
            content_type: None,
            content_length: Some(0),
            failures: 0,
            done: true,
        }
    }

    /// The size of the first response's body, as announced by the server.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The size of the whole media, when known.
    pub fn total_size(&self) -> Option<u64> {
        self.total
    }

    /// Bytes handed out so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// The `Content-Type` of the media.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The media's `ETag`, when the server sent one.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The next chunk of the body, or `None` at the end. A broken connection
    /// is resumed transparently, per the retry policy.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let Some(resp) = self.resp.as_mut() else {
                self.done = true;
                return Ok(None);
            };
            let err = match resp.chunk().await {
                Ok(Some(mut chunk)) => {
                    if self.skip > 0 {
                        let n = self.skip.min(chunk.len() as u64) as usize;
                        self.skip -= n as u64;
                        chunk = chunk.slice(n..);
                        if chunk.is_empty() {
                            continue;
                        }
                    }
                    self.received += chunk.len() as u64;
                    self.failures = 0;
                    return Ok(Some(chunk));
                }
                Ok(None) => match self.expected {
                    Some(t) if self.received < t => Error::new(
                        ErrorKind::Transport,
                        format!(
                            "{}: the body ended after {} of {t} bytes",
                            self.what, self.received
                        ),
                    ),
                    _ => {
                        self.done = true;
                        self.resp = None;
                        return Ok(None);
                    }
                },
                Err(e) => e,
            };
            self.resp = None;
            self.resume_after(err).await?;
        }
    }

    /// Asks again for the rest after `err`, or returns `err`.
    async fn resume_after(&mut self, err: Error) -> Result<()> {
        let Some(call) = &self.call else {
            return Err(err);
        };
        if !err.is_transient() {
            return Err(err);
        }
        let client = call.service().client().clone();
        let mut prepared = call.prepare(call.method().path, &[("alt", "media")])?;
        prepared.media = true;
        let policy = prepared
            .retry
            .clone()
            .unwrap_or_else(|| client.retry_policy().clone());
        self.failures += 1;
        if self.failures >= policy.max_attempts {
            return Err(err);
        }
        let delay = policy.delay(self.failures, None);
        tracing::info!(what = self.what, received = self.received, ?delay, error = %err, "download: resuming");
        client.clock().sleep(delay).await;
        prepared
            .headers
            .push(("Range".into(), format!("bytes={}-", self.received)));
        match client.execute(&prepared).await {
            Ok(resp) => self.accept_resumed(resp),
            Err(e) if e.status() == Some(416) => {
                let total = e
                    .api_error()
                    .and_then(|a| a.header("content-range"))
                    .and_then(parse_content_range)
                    .and_then(|(_, t)| t)
                    .or(self.total);
                if total == Some(self.received) {
                    self.total = total;
                    self.expected = total;
                    self.done = true;
                    Ok(())
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Checks that a response to a `Range` request continues the same media.
    fn accept_resumed(&mut self, resp: Response) -> Result<()> {
        let changed = |what: &str, before: &Option<String>, now: Option<String>| {
            matches!((before, &now), (Some(a), Some(b)) if a != b).then(|| {
                Error::new(
                    ErrorKind::Decode,
                    format!(
                        "{}: the media changed during the download ({what} {:?} → {:?}); start over",
                        self.what,
                        before.as_deref().unwrap_or(""),
                        now.as_deref().unwrap_or("")
                    ),
                )
            })
        };
        if let Some(e) = changed("ETag", &self.etag, header(&resp, "etag")) {
            return Err(e);
        }
        if let Some(e) = changed(
            "generation",
            &self.generation,
            header(&resp, "x-goog-generation"),
        ) {
            return Err(e);
        }
        let mismatch = |detail: String| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "{}: the resumed download does not continue the media: {detail}",
                    self.what
                ),
            )
        };
        if resp.status() == 206 {
            let range = header(&resp, "content-range").unwrap_or_default();
            let (start, total) = parse_content_range(&range)
                .ok_or_else(|| mismatch(format!("Content-Range {range:?}")))?;
            if start != Some(self.received) {
                return Err(mismatch(format!(
                    "Content-Range {range:?} does not start at byte {}",
                    self.received
                )));
            }
            match (self.total, total) {
                (Some(a), Some(b)) if a != b => {
                    return Err(mismatch(format!("the size changed from {a} to {b}")));
                }
                (None, t) => {
                    self.total = t;
                    self.expected = t;
                }
                _ => {}
            }
            self.skip = 0;
        } else {
            if let (Some(a), Some(b)) = (self.total, resp.content_length())
                && a != b
            {
                return Err(mismatch(format!("the size changed from {a} to {b}")));
            }
            self.skip = self.received;
        }
        self.resp = Some(resp);
        Ok(())
    }

    /// Reads the whole body into memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let mut out = Vec::with_capacity(self.total.unwrap_or(0).min(64 << 20) as usize);
        while let Some(chunk) = self.chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out.into())
    }

    /// Copies the body to an async writer, chunk by chunk, resuming a broken
    /// connection; returns the byte count.
    pub async fn write_to<W: tokio::io::AsyncWrite + Unpin>(mut self, w: &mut W) -> Result<u64> {
        use tokio::io::AsyncWriteExt as _;
        let mut n = 0u64;
        while let Some(chunk) = self.chunk().await? {
            w.write_all(&chunk).await.map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("{}: writing the download failed", self.what),
                )
                .with_source(e)
            })?;
            n += chunk.len() as u64;
        }
        w.flush().await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("{}: flushing the download failed", self.what),
            )
            .with_source(e)
        })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("bytes 10-99/100"),
            Some((Some(10), Some(100)))
        );
        assert_eq!(parse_content_range("bytes */0"), Some((None, Some(0))));
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((Some(0), None)));
        assert_eq!(parse_content_range("items 0-9/10"), None);
        assert_eq!(parse_content_range("bytes x-9/10"), None);
    }

    #[test]
    fn empty_object_416_is_recognised() {
        let e = |hdrs: Vec<(String, String)>| Error::api(ApiError::from_response(416, hdrs, b""));
        assert!(is_empty_416(&e(vec![])));
        assert!(is_empty_416(&e(vec![(
            "content-range".into(),
            "bytes */0".into()
        )])));
        assert!(!is_empty_416(&e(vec![(
            "content-range".into(),
            "bytes */7".into()
        )])));
        assert!(!is_empty_416(&Error::api(ApiError::from_response(
            404,
            vec![],
            b""
        ))));
    }
}
