//! The chunks of a resumable upload, read from its source: the chunk being
//! sent (kept until the server has confirmed all of it) and, while it is on
//! the wire, the next one read ahead — so that reading the source and
//! sending to the server overlap. At most two chunks are in memory.

use bytes::Bytes;

use super::{SourceReader, too_large};
use crate::error::{Error, ErrorKind, Result};

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
    pending: Option<(u64, Bytes)>,
    /// The next chunk, read while the pending one was sent.
    ahead: Option<Read>,
}

/// What [`Chunks::at`] found.
pub(super) struct Chunk {
    /// The bytes from the offset asked for (empty: everything was sent).
    pub data: Bytes,
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
        let found = |data: Bytes| Chunk {
            data,
            found_total: None,
        };
        if let Some((start, data)) = &self.pending {
            let end = start + data.len() as u64;
            if offset >= *start && offset < end {
                return Ok(found(data.slice((offset - start) as usize..)));
            }
        }
        self.pending = None;
        if total.is_some_and(|t| offset >= t) {
            self.ahead = None;
            return Ok(found(Bytes::new()));
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
        self.pending = Some((offset, data.clone()));
        Ok(Chunk { data, found_total })
    }
}
