//! The simple protocol (`uploadType=media`), and the streamed request bodies
//! simple and multipart uploads share.
//!
//! Bytes in memory are sent as they are. Files and readers are streamed in
//! pieces of [`PIECE`] bytes, with `Content-Length` when the size is known
//! and chunked transfer encoding otherwise. A file is opened again for every
//! attempt, so it can be retried; a reader can be sent once.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt as _};
use serde::de::DeserializeOwned;

use super::verify::{Digests, check_stored};
use super::{Media, Source, SourceReader, too_large};
use crate::call::{Call, decode_for};
use crate::client::{BodyStream, Prepared, StreamBody};
use crate::error::{Error, ErrorKind, Result};
use crate::method::MediaUploadInfo;

/// How much of a streamed source is read at a time.
pub(super) const PIECE: usize = 64 * 1024;

/// What the media stream of an upload reports to the caller: why it
/// stopped early (instead of the transport's "body error"), and the
/// digests of the media once it was read to its end.
#[derive(Default, Clone)]
pub(super) struct StreamReport(Arc<Mutex<Report>>);

#[derive(Default)]
struct Report {
    failure: Option<(ErrorKind, String)>,
    digests: Option<Digests>,
}

impl StreamReport {
    /// The report of media in memory: its digests, computed now.
    pub(super) fn of_bytes(data: &[u8], md5: bool) -> Self {
        let mut d = Digests::new(md5);
        d.update(data);
        let r = StreamReport::default();
        r.lock().digests = Some(d);
        r
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Report> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_failure(&self, kind: ErrorKind, message: String) {
        self.lock().failure.get_or_insert((kind, message));
    }

    fn set_digests(&self, digests: Option<&Digests>) {
        self.lock().digests = digests.cloned();
    }

    /// The recorded failure as an error, if any.
    pub(super) fn take_failure(&self) -> Option<Error> {
        self.lock()
            .failure
            .take()
            .map(|(kind, message)| Error::new(kind, message))
    }

    /// The digests of the whole media, once it was sent to its end.
    pub(super) fn digests(&self) -> Option<Digests> {
        self.lock().digests.clone()
    }
}

/// What a streamed body needs to know about its media.
#[derive(Clone, Copy)]
pub(super) struct StreamLimits {
    /// The declared size: exactly this much is read.
    pub size: Option<u64>,
    /// The method's `maxSize`, enforced while reading a source of unknown size.
    pub max: Option<u64>,
    /// For messages.
    pub what: &'static str,
    /// Whether to compute the MD5 too.
    pub md5: bool,
}

/// The media as a stream of pieces, with `prefix` before and `suffix` after.
fn piece_stream(
    reader: SourceReader,
    limits: StreamLimits,
    report: StreamReport,
    prefix: Bytes,
    suffix: Bytes,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let what = limits.what;
    let body = stream::unfold(Some(reader), move |state| {
        let failure = report.clone();
        async move {
            let mut reader = state?;
            let want = match limits.size {
                Some(size) => (size - reader.pos()).min(PIECE as u64) as usize,
                None => PIECE,
            };
            if want == 0 {
                failure.set_digests(reader.digests());
                return None;
            }
            match reader.read_up_to(want).await {
                Ok(piece) if piece.is_empty() => {
                    let Some(size) = limits.size else {
                        failure.set_digests(reader.digests());
                        return None;
                    };
                    let message = format!(
                        "{what}: the media source ended after {} bytes; its declared size is {size}",
                        reader.pos()
                    );
                    failure.set_failure(ErrorKind::Io, message.clone());
                    Some((Err(std::io::Error::other(message)), None))
                }
                Ok(piece) => {
                    if let Some(max) = limits.max
                        && reader.pos() > max
                    {
                        let e = too_large(what, reader.pos(), max);
                        failure.set_failure(ErrorKind::Request, e.to_string());
                        return Some((Err(std::io::Error::other(e.to_string())), None));
                    }
                    Some((Ok(piece), Some(reader)))
                }
                Err(e) => {
                    failure.set_failure(
                        ErrorKind::Io,
                        format!("{what}: reading the media source failed: {e}"),
                    );
                    Some((Err(e), None))
                }
            }
        }
    });
    let ends = |b: Bytes| stream::iter((!b.is_empty()).then_some(Ok(b)));
    ends(prefix).chain(body).chain(ends(suffix))
}

/// A streamed request body for a file or a reader (bytes are not streamed).
pub(super) fn stream_body(
    source: Source,
    content_type: String,
    limits: StreamLimits,
    prefix: Bytes,
    suffix: Bytes,
) -> (StreamBody, StreamReport) {
    let failure = StreamReport::default();
    let len = limits
        .size
        .map(|n| n + prefix.len() as u64 + suffix.len() as u64);
    let make_body = {
        let failure = failure.clone();
        move |source: Source| -> BodyStream {
            Box::pin(piece_stream(
                SourceReader::new(source).with_digests(limits.md5),
                limits,
                failure.clone(),
                prefix.clone(),
                suffix.clone(),
            ))
        }
    };
    let (replayable, make): (bool, Arc<dyn Fn() -> Option<BodyStream> + Send + Sync>) = match source
    {
        // Read once: the second attempt finds the slot empty.
        Source::Reader(r) => {
            let slot = Mutex::new(Some(r));
            (
                false,
                Arc::new(move || {
                    let r = slot.lock().unwrap_or_else(|p| p.into_inner()).take()?;
                    Some(make_body(Source::Reader(r)))
                }),
            )
        }
        // Reopened for every attempt.
        Source::File(path) => (
            true,
            Arc::new(move || Some(make_body(Source::File(path.clone())))),
        ),
        Source::Bytes(data) => (
            true,
            Arc::new(move || Some(make_body(Source::Bytes(data.clone())))),
        ),
    };
    (
        StreamBody {
            content_type,
            len,
            replayable,
            make,
        },
        failure,
    )
}

/// Sends a prepared upload; a failure the body stream recorded wins over the
/// transport error it caused. The resource the server returns is checked
/// against the size and digests of the media sent.
pub(super) async fn execute_upload<T: DeserializeOwned + 'static>(
    call: &Call,
    prepared: &Prepared,
    report: &StreamReport,
    size: Option<u64>,
) -> Result<T> {
    let result = call.service().client().execute_read(prepared).await;
    let body = match result {
        Ok(body) => body,
        Err(e) => return Err(report.take_failure().unwrap_or(e)),
    };
    let digests = report.digests();
    if let Some(sent) = digests.as_ref().map(|d| d.len).or(size) {
        check_stored(call.method().id, &body, sent, digests.as_ref())?;
    }
    decode_for(call.method(), &body)
}

/// A simple upload: the media alone, `uploadType=media`.
pub(super) async fn upload<T: DeserializeOwned + 'static>(
    call: Call,
    info: &'static MediaUploadInfo,
    media: Media,
) -> Result<T> {
    let id = call.method().id;
    if call.has_metadata()? {
        return Err(Error::new(
            ErrorKind::Request,
            format!(
                "{id}: a simple upload cannot carry metadata; use the multipart or resumable protocol"
            ),
        ));
    }
    let path = info.simple_path.ok_or_else(|| {
        Error::new(
            ErrorKind::Request,
            format!("{id} has no simple upload path"),
        )
    })?;
    let mut prepared = call.prepare(path, &[("uploadType", "media")])?;
    prepared.media = true;
    let md5 = media.wants_md5();
    let (source, size, mime_type) = media.into_parts();
    let report = match source {
        Source::Bytes(data) => {
            let report = StreamReport::of_bytes(&data, md5);
            prepared.body = Some((data, mime_type));
            report
        }
        source => {
            let limits = StreamLimits {
                size,
                max: info.max_size,
                what: id,
                md5,
            };
            let (body, report) = stream_body(source, mime_type, limits, Bytes::new(), Bytes::new());
            prepared.body = None;
            prepared.stream = Some(body);
            report
        }
    };
    execute_upload(&call, &prepared, &report, size).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt as _;

    fn limits(size: Option<u64>, max: Option<u64>) -> StreamLimits {
        StreamLimits {
            size,
            max,
            what: "t.upload",
            md5: false,
        }
    }

    async fn collect(
        data: &'static [u8],
        l: StreamLimits,
    ) -> (std::io::Result<Vec<u8>>, StreamReport) {
        let failure = StreamReport::default();
        let s = piece_stream(
            SourceReader::new(Source::Reader(Box::new(data))).with_digests(false),
            l,
            failure.clone(),
            Bytes::from_static(b"<"),
            Bytes::from_static(b">"),
        );
        let out = s
            .try_fold(Vec::new(), |mut acc, b| async move {
                acc.extend_from_slice(&b);
                Ok(acc)
            })
            .await;
        (out, failure)
    }

    #[tokio::test]
    async fn stream_wraps_media_with_prefix_and_suffix() {
        let (out, f) = collect(b"hello", limits(Some(5), None)).await;
        assert_eq!(out.unwrap(), b"<hello>");
        assert!(f.take_failure().is_none());
        assert_eq!(f.digests().unwrap().len, 5, "the media, not the ends");
        let (out, _) = collect(b"hello world", limits(Some(5), None)).await;
        assert_eq!(
            out.unwrap(),
            b"<hello>",
            "exactly the declared size is read"
        );
    }

    #[tokio::test]
    async fn short_source_and_max_size_are_reported() {
        let (out, f) = collect(b"abc", limits(Some(5), None)).await;
        assert!(out.is_err());
        let e = f.take_failure().unwrap();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.to_string().contains("declared size is 5"), "{e}");

        let (out, f) = collect(b"abcdef", limits(None, Some(4))).await;
        assert!(out.is_err());
        let e = f.take_failure().unwrap();
        assert_eq!(e.kind(), ErrorKind::Request);
        assert!(e.to_string().contains("exceeds the maximum of 4"), "{e}");
    }
}
