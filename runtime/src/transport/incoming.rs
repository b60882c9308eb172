//! A response as the transport hands it over: status, headers and a body
//! read piece by piece — gunzipped as it streams in when the server sent it
//! gzip-encoded — within the request's own time limit, if it had one.

use std::future::Future;
use std::io::Write as _;

use futures_util::FutureExt as _;
use futures_util::future::Either;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt as _;
use tokio::time::Instant;

use super::error::{HttpError, Kind};

/// A response, its body unread.
pub(crate) struct HttpResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: hyper::body::Incoming,
    /// Boxed: the decoder's state is half the response's size, and the
    /// response is moved several times on its way to the caller.
    gunzip: Option<Box<Gunzip>>,
    /// The request's time limit, which covers the body too.
    deadline: Option<Instant>,
    done: bool,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status.as_u16())
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// `resp` as received; a gzip-encoded body is decoded (and the headers
    /// that describe the encoded form go) unless there is no body to decode.
    pub(crate) fn new(
        resp: http::Response<hyper::body::Incoming>,
        head_request: bool,
        deadline: Option<Instant>,
    ) -> Self {
        let (parts, body) = resp.into_parts();
        let mut headers = parts.headers;
        let status = parts.status;
        let bodiless =
            head_request || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
        let gzip = !bodiless
            && headers
                .get(http::header::CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        if gzip {
            headers.remove(http::header::CONTENT_ENCODING);
            headers.remove(http::header::CONTENT_LENGTH);
        }
        HttpResponse {
            status,
            headers,
            body,
            gunzip: gzip.then(Box::default),
            deadline,
            done: false,
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub(crate) fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The length of the body as it will be read: `Content-Length` when
    /// the body is not gzip-decoded.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.headers
            .get(http::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// The next piece of the (decoded) body; `None` at its end.
    pub(crate) fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, HttpError>> + '_ {
        // One future whichever the branch (see `RequestBuilder::send`).
        match self.deadline {
            None => Either::Left(self.next_piece()),
            Some(d) => Either::Right(crate::timeouts::ready_or_within(self.next_piece(), d).map(
                |out| out.unwrap_or_else(|_| Err(HttpError::because(Kind::Timeout, "timed out"))),
            )),
        }
    }

    /// The whole (decoded) body. Not an `async fn`, which would hold the
    /// response twice (its argument and the local it is moved to).
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn holds its argument twice"
    )]
    pub(crate) fn bytes(mut self) -> impl Future<Output = Result<Bytes, HttpError>> {
        async move {
            let Some(first) = self.chunk().await? else {
                return Ok(Bytes::new());
            };
            let Some(second) = self.chunk().await? else {
                return Ok(first);
            };
            let mut out = Vec::with_capacity(first.len() + second.len());
            out.extend_from_slice(&first);
            out.extend_from_slice(&second);
            while let Some(piece) = self.chunk().await? {
                out.extend_from_slice(&piece);
            }
            Ok(out.into())
        }
    }

    /// The whole (decoded) body as text, invalid UTF-8 replaced.
    #[cfg(feature = "external-account")]
    pub(crate) async fn text(self) -> Result<String, HttpError> {
        let body = self.bytes().await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn next_piece(&mut self) -> Result<Option<Bytes>, HttpError> {
        while !self.done {
            let Some(frame) = self.body.frame().await else {
                self.done = true;
                return match self.gunzip.as_mut() {
                    Some(g) => g.finish().map(|rest| (!rest.is_empty()).then_some(rest)),
                    None => Ok(None),
                };
            };
            let frame = frame.map_err(|e| HttpError::new(Kind::Body, e))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            match self.gunzip.as_mut() {
                None if data.is_empty() => continue,
                None => return Ok(Some(data)),
                Some(g) => {
                    let out = g.feed(&data)?;
                    if !out.is_empty() {
                        return Ok(Some(out));
                    }
                }
            }
        }
        Ok(None)
    }
}

/// A gzip decoder fed as the body arrives.
#[derive(Default)]
struct Gunzip {
    decoder: Option<flate2::write::GzDecoder<Vec<u8>>>,
}

impl Gunzip {
    /// Decodes `data`; what it completes comes back.
    fn feed(&mut self, data: &[u8]) -> Result<Bytes, HttpError> {
        let d = self
            .decoder
            .get_or_insert_with(|| flate2::write::GzDecoder::new(Vec::new()));
        d.write_all(data).map_err(corrupt)?;
        Ok(std::mem::take(d.get_mut()).into())
    }

    /// The end of the body: the rest, once the gzip trailer checks out. An
    /// empty body (no gzip at all) is an empty body.
    fn finish(&mut self) -> Result<Bytes, HttpError> {
        let Some(mut d) = self.decoder.take() else {
            return Ok(Bytes::new());
        };
        d.try_finish().map_err(corrupt)?;
        let rest = std::mem::take(d.get_mut());
        // A stream that stopped inside the gzip data never wrote its trailer.
        d.finish().map_err(corrupt)?;
        Ok(rest.into())
    }
}

fn corrupt(e: std::io::Error) -> HttpError {
    HttpError::new(Kind::Decode, e)
}
