//! The bounded response every read of a body goes through.

use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use tokio::time::Instant;

use super::{HttpResponse, map_err};
use crate::error::{Error, ErrorKind};

/// A response whose body is read within bounds: each chunk within the idle
/// timeout, all of it before the deadline (when there is one).
pub(crate) struct Response {
    inner: HttpResponse,
    idle: Duration,
    deadline: Option<Instant>,
    /// The total the deadline came from, for messages.
    total: Option<Duration>,
    what: &'static str,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.inner.status().as_u16())
            .field("what", &self.what)
            .finish()
    }
}

impl Response {
    pub(crate) fn new(
        inner: HttpResponse,
        idle: Duration,
        deadline: Option<Instant>,
        total: Option<Duration>,
        what: &'static str,
    ) -> Self {
        Response {
            inner,
            idle,
            deadline,
            total,
            what,
        }
    }

    /// The HTTP status code.
    pub(crate) fn status(&self) -> u16 {
        self.inner.status().as_u16()
    }

    /// The response headers.
    pub(crate) fn headers(&self) -> &http::HeaderMap {
        self.inner.headers()
    }

    /// The response headers, taken out (what stays is empty): for a body
    /// read whole, whose headers are kept beside it.
    pub(crate) fn take_headers(&mut self) -> http::HeaderMap {
        std::mem::take(self.inner.headers_mut())
    }

    /// A header's value as text.
    #[cfg(feature = "media")]
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.inner
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The announced body length.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// Drops the deadline: the rest of the body is bounded by the idle
    /// timeout only (media streamed to the caller).
    pub(crate) fn without_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// The next piece of the body; `None` at its end. A pause longer than
    /// the idle timeout, or the deadline passing, is a timeout error.
    pub(crate) fn chunk(&mut self) -> impl Future<Output = crate::Result<Option<Bytes>>> + '_ {
        let idle_limit = Instant::now() + self.idle;
        let (limit, by_deadline) = match self.deadline {
            Some(d) if d <= idle_limit => (d, true),
            _ => (idle_limit, false),
        };
        let (what, idle, total) = (self.what, self.idle, self.total);
        crate::timeouts::ready_or_within(self.inner.chunk(), limit).map(move |out| match out {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(map_err(e, what)),
            Err(_) if by_deadline => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{what}: the call did not finish within its deadline of {:?} (reading the response body)",
                    total.unwrap_or_default()
                ),
            )),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!("{what}: the response body stalled: no data for {idle:?}"),
            )),
        })
    }

    /// The whole body.
    ///
    /// Not an `async fn`: one would hold the response twice (its argument
    /// and the local it is moved to); the block uses the captured one.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn holds its argument twice"
    )]
    pub(crate) fn bytes(mut self) -> impl Future<Output = crate::Result<Bytes>> {
        async move {
            let Some(first) = self.chunk().await? else {
                return Ok(Bytes::new());
            };
            let Some(second) = self.chunk().await? else {
                return Ok(first);
            };
            let hint = self.content_length().unwrap_or(0).min(64 << 20) as usize;
            let mut out = Vec::with_capacity(hint.max(first.len() + second.len()));
            out.extend_from_slice(&first);
            out.extend_from_slice(&second);
            while let Some(c) = self.chunk().await? {
                out.extend_from_slice(&c);
            }
            Ok(out.into())
        }
    }
}
