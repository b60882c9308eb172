//! The chunks of a resumable upload, read from its source. The chunk being
//! sent is kept until the server has confirmed all of it. Reading the
//! source and sending overlap: when the media's size is known, a chunk is
//! read piece by piece as it is sent ([`Chunks::feed`]: each piece goes to
//! the wire while it is still in the CPU's cache); otherwise the whole
//! chunk is read first and the next one is read ahead while it is on the
//! wire. At most two chunks are in memory.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use super::{SourceReader, too_large};
use crate::client::{BodyStream, StreamBody};
use crate::error::{Error, ErrorKind, Result};

/// How much of a chunk read as it is sent is read and sent at a time: a
/// multiple of the chunk granularity, so that the part of a chunk cut short
/// that was read (and is sent again from what the server has) ends on a
/// 256 KiB boundary; 1 MiB, so that a piece is still in the CPU's cache
/// when it is sent and the wake-ups between reader and transport are few
/// (bench/NOTES.md, Media).
const PIECE: usize = 4 * super::resumable::CHUNK_GRANULARITY;

/// The bytes of a chunk, in the pieces they were read in (no copy).
#[derive(Clone, Default)]
pub(super) struct Pieces {
    parts: Vec<Bytes>,
    len: usize,
}

impl Pieces {
    fn one(data: Bytes) -> Self {
        let len = data.len();
        Pieces {
            parts: if len == 0 { Vec::new() } else { vec![data] },
            len,
        }
    }

    fn push(&mut self, data: Bytes) {
        self.len += data.len();
        self.parts.push(data);
    }

    /// How many bytes.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes from `skip` on.
    fn skipping(&self, mut skip: usize) -> Pieces {
        let mut out = Pieces::default();
        for part in &self.parts {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            out.push(part.slice(skip..));
            skip = 0;
        }
        out
    }

    /// A request body of these bytes, as many times as it is sent.
    pub(super) fn body(self, content_type: &str) -> StreamBody {
        let len = self.len as u64;
        StreamBody {
            content_type: content_type.to_owned(),
            len: Some(len),
            replayable: true,
            make: Arc::new(move || {
                let slices = self
                    .parts
                    .clone()
                    .into_iter()
                    .flat_map(crate::exec::slices_of);
                Some(Box::pin(futures_util::stream::iter(slices.map(Ok))) as BodyStream)
            }),
        }
    }
}

/// The request body of a chunk read as it is sent: the pieces
/// [`Chunks::feed`] reads, in order; one attempt only.
pub(super) fn fed_body(
    len: usize,
    content_type: &str,
) -> (mpsc::Sender<std::io::Result<Bytes>>, StreamBody) {
    let (tx, rx) = mpsc::channel(2);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    });
    let slot = Mutex::new(Some(Box::pin(stream) as BodyStream));
    let body = StreamBody {
        content_type: content_type.to_owned(),
        len: Some(len as u64),
        replayable: false,
        make: Arc::new(move || slot.lock().unwrap_or_else(|p| p.into_inner()).take()),
    };
    (tx, body)
}

/// A chunk read from the source: where it starts, its bytes, and how many
/// were asked for (fewer means the source ended).
struct Read {
    offset: u64,
    data: Bytes,
    want: usize,
}

/// The source of a resumable upload, chunk by chunk.
pub(super) struct Chunks {
    reader: SourceReader,
    what: &'static str,
    chunk_size: usize,
    max_size: Option<u64>,
    /// The chunk read but not all confirmed: its offset and bytes.
    pending: Option<(u64, Pieces)>,
    /// The next chunk, read while the pending one was sent.
    ahead: Option<Read>,
}

/// What [`Chunks::at`] found.
pub(super) struct Chunk {
    /// The bytes from the offset asked for (empty: everything was sent).
    pub data: Pieces,
    /// The size of a source of unknown size, when this chunk ended it.
    pub found_total: Option<u64>,
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("{what}: reading the media source failed"),
    )
    .with_source(e)
}

impl Chunks {
    pub(super) fn new(
        reader: SourceReader,
        what: &'static str,
        chunk_size: usize,
        max_size: Option<u64>,
    ) -> Self {
        Chunks {
            reader,
            what,
            chunk_size,
            max_size,
            pending: None,
            ahead: None,
        }
    }

    pub(super) fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    pub(super) fn set_chunk_size(&mut self, bytes: usize) {
        self.chunk_size = bytes;
    }

    pub(super) fn digests(&self) -> Option<&super::verify::Digests> {
        self.reader.digests()
    }

    /// Forgets the chunks held (the upload is over).
    pub(super) fn clear(&mut self) {
        self.pending = None;
        self.ahead = None;
    }

    /// How many bytes the next chunk after `end` would ask for.
    fn want_after(&self, end: u64, total: Option<u64>) -> usize {
        match total {
            Some(t) => (t.saturating_sub(end)).min(self.chunk_size as u64) as usize,
            None => self.chunk_size,
        }
    }

    /// Reads the chunk that follows the pending one, if there is one to
    /// read; run while the pending chunk is being sent. A failure is not
    /// reported here: the chunk is read again, and fails, when it is due.
    pub(super) async fn read_ahead(&mut self, total: Option<u64>) {
        let Some((start, data)) = &self.pending else {
            return;
        };
        let end = start + data.len() as u64;
        let want = self.want_after(end, total);
        if want == 0 || self.ahead.is_some() || self.reader.pos() != end {
            return;
        }
        match self.reader.read_up_to(want).await {
            Ok(data) => {
                self.ahead = Some(Read {
                    offset: end,
                    data,
                    want,
                })
            }
            Err(e) => {
                tracing::debug!(what = self.what, error = %e, "reading ahead failed; reading again when due");
                self.reader.forget_position();
            }
        }
    }

    /// The bytes to send from `offset`: what remains of the pending chunk,
    /// the chunk read ahead, or a new chunk read from the source (after
    /// skipping or rewinding to `offset`). Empty when everything is sent
    /// and the size is known (`total`).
    pub(super) async fn at(&mut self, offset: u64, total: Option<u64>) -> Result<Chunk> {
        let found = |data: Pieces| Chunk {
            data,
            found_total: None,
        };
        if let Some((start, data)) = &self.pending {
            let end = start + data.len() as u64;
            if offset >= *start && offset < end {
                return Ok(found(data.skipping((offset - start) as usize)));
            }
        }
        self.pending = None;
        if total.is_some_and(|t| offset >= t) {
            self.ahead = None;
            return Ok(found(Pieces::default()));
        }
        let read = match self.ahead.take() {
            Some(r) if r.offset == offset => r,
            _ => self.read_at(offset, total).await?,
        };
        self.check(read, total).await
    }

    /// Reads a chunk at `offset` from the source.
    async fn read_at(&mut self, offset: u64, total: Option<u64>) -> Result<Read> {
        if self.reader.pos() != offset {
            if offset < self.reader.pos() && !self.reader.can_rewind() {
                return Err(Error::new(
                    ErrorKind::Request,
                    format!(
                        "{}: cannot resume: the server has {offset} bytes but the reader is past byte {}, and a reader cannot go back",
                        self.what,
                        self.reader.pos()
                    ),
                ));
            }
            self.reader
                .seek_to(offset)
                .await
                .map_err(|e| io_err(self.what, e))?;
        }
        let want = self.want_after(offset, total);
        let data = self
            .reader
            .read_up_to(want)
            .await
            .map_err(|e| io_err(self.what, e))?;
        Ok(Read { offset, data, want })
    }

    /// The checks of a chunk read: a source shorter or longer than its
    /// declared size, the end of a source of unknown size, `maxSize`.
    async fn check(&mut self, read: Read, total: Option<u64>) -> Result<Chunk> {
        let Read { offset, data, want } = read;
        let end = offset + data.len() as u64;
        let mut found_total = None;
        if data.len() < want {
            if let Some(t) = total {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "{}: the media source ended after {end} bytes; its declared size is {t}",
                        self.what
                    ),
                ));
            }
            // The end of a source of unknown size: now the size is known.
            found_total = Some(end);
        } else if total == Some(end) && self.reader.pos() == end {
            let more = self
                .reader
                .read_up_to(1)
                .await
                .map_err(|e| io_err(self.what, e))?;
            if !more.is_empty() {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "{}: the media source is longer than its declared size {end}",
                        self.what
                    ),
                ));
            }
        }
        if let Some(max) = self.max_size
            && end > max
        {
            return Err(too_large(self.what, end, max));
        }
        let data = Pieces::one(data);
        self.pending = Some((offset, data.clone()));
        Ok(Chunk { data, found_total })
    }

    /// How long the chunk at `offset` of media of `total` bytes is when it
    /// is to be read as it is sent ([`feed`](Self::feed)): nothing of it is
    /// held and the source is at `offset`. `None`: use [`at`](Self::at).
    pub(super) fn fresh(&self, offset: u64, total: u64) -> Option<usize> {
        let held = |start: u64, len: usize| offset >= start && offset < start + len as u64;
        if self
            .pending
            .as_ref()
            .is_some_and(|(s, d)| held(*s, d.len()))
            || self.ahead.as_ref().is_some_and(|r| r.offset == offset)
            || self.reader.pos() != offset
        {
            return None;
        }
        let want = self.want_after(offset, Some(total));
        // Past `maxSize`: `at` says so before anything is sent.
        let over = self.max_size.is_some_and(|m| offset + want as u64 > m);
        (want > 0 && !over).then_some(want)
    }

    /// Reads the `want` bytes at `offset` (see [`fresh`](Self::fresh)) piece
    /// by piece, handing each to `tx` (the request body) and keeping it as
    /// the pending chunk. Stops early, keeping what it read, when the body
    /// is gone or `stop` is notified (the request is over). A source that
    /// ends early, or goes on past its declared size `total`, fails before
    /// its last byte is sent, and the body ends with an error.
    pub(super) async fn feed(
        &mut self,
        offset: u64,
        want: usize,
        total: u64,
        tx: mpsc::Sender<std::io::Result<Bytes>>,
        stop: &Notify,
    ) -> Result<()> {
        // The chunk before this one is confirmed: dropped first, its
        // allocation is reused (a new one costs page faults every chunk).
        self.pending = None;
        self.ahead = None;
        self.reader.reserve(want);
        let read = &mut self.pending.insert((offset, Pieces::default())).1;
        let failed = |e: Error| {
            let body_error = std::io::Error::other(e.to_string());
            (e, body_error)
        };
        let outcome = loop {
            if read.len() == want {
                break Ok(());
            }
            let piece = match self.reader.read_up_to((want - read.len()).min(PIECE)).await {
                Ok(p) => p,
                Err(e) => {
                    self.reader.forget_position();
                    break Err(failed(io_err(self.what, e)));
                }
            };
            let end = offset + (read.len() + piece.len()) as u64;
            if piece.is_empty() {
                break Err(failed(Error::new(
                    ErrorKind::Io,
                    format!(
                        "{}: the media source ended after {end} bytes; its declared size is {total}",
                        self.what
                    ),
                )));
            }
            if end == total {
                match self.reader.read_up_to(1).await {
                    Ok(more) if more.is_empty() => {}
                    Ok(_) => {
                        break Err(failed(Error::new(
                            ErrorKind::Io,
                            format!(
                                "{}: the media source is longer than its declared size {total}",
                                self.what
                            ),
                        )));
                    }
                    Err(e) => break Err(failed(io_err(self.what, e))),
                }
            }
            read.push(piece.clone());
            tokio::select! {
                sent = tx.send(Ok(piece)) => if sent.is_err() { break Ok(()) },
                () = stop.notified() => break Ok(()),
            }
        };
        match outcome {
            Ok(()) => Ok(()),
            Err((e, body_error)) => {
                // Ends the body with an error (the request is not completed
                // with bytes the source does not have), unless it is gone.
                tokio::select! {
                    _ = tx.send(Err(body_error)) => {}
                    () = stop.notified() => {}
                }
                Err(e)
            }
        }
    }
}
