//! Request bodies: bytes in memory (sent as one frame, and sent again as is
//! after a redirect that keeps the body) or a stream of pieces (media).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Frame, SizeHint};

use super::error::BoxError;

/// A streamed body's pieces.
type Pieces = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A request body.
pub(crate) enum Body {
    /// Bytes in memory; `None` once sent.
    Full(Option<Bytes>),
    /// Pieces as a stream yields them; cannot be sent twice.
    Stream(Pieces),
}

impl Body {
    /// No body.
    pub(crate) fn empty() -> Self {
        Body::Full(None)
    }

    /// A body made of `stream`'s pieces.
    pub(crate) fn wrap_stream(
        stream: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    ) -> Self {
        Body::Stream(Box::pin(stream))
    }

    /// The same body again, when it is in memory.
    pub(crate) fn try_clone(&self) -> Option<Body> {
        match self {
            Body::Full(b) => Some(Body::Full(b.clone())),
            Body::Stream(_) => None,
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Full((!b.is_empty()).then_some(b))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(s) => match s.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(piece))) => Poll::Ready(Some(Ok(Frame::data(piece)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}
