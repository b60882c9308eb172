//! [`SourceReader`]: the media of an upload read front to back, knowing
//! its position, hashing each byte once (see [`verify`](super::verify)).

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncSeekExt as _};

use super::{Source, simple, verify};

/// A [`Source`] being read front to back, that knows its position.
pub(crate) struct SourceReader {
    kind: Source,
    file: Option<tokio::fs::File>,
    pos: u64,
    /// The buffer chunks of files and readers are read into; its allocation
    /// is reused once the previous chunk has been dropped.
    buf: BytesMut,
    /// The digests of bytes `0..digests.len`: every byte is hashed once, in
    /// order, the first time it is read or skipped.
    digests: Option<verify::Digests>,
    /// A read failed part-way: a reader's position is unknown since.
    broken: bool,
}

impl SourceReader {
    pub(crate) fn new(source: Source) -> Self {
        SourceReader {
            kind: source,
            file: None,
            pos: 0,
            buf: BytesMut::new(),
            digests: None,
            broken: false,
        }
    }

    /// After a failed read: a file is opened again at `pos` on the next
    /// read; a one-shot reader cannot be, and fails from now on.
    pub(crate) fn forget_position(&mut self) {
        match self.kind {
            Source::File(_) => self.file = None,
            Source::Reader(_) => self.broken = true,
            Source::Bytes(_) => {}
        }
    }

    /// Computes the digests of the media as it is read (MD5 too with `md5`).
    pub(crate) fn with_digests(mut self, md5: bool) -> Self {
        self.digests = Some(verify::Digests::new(md5));
        self
    }

    /// The digests of the bytes read so far (from byte 0, in order).
    pub(crate) fn digests(&self) -> Option<&verify::Digests> {
        self.digests.as_ref()
    }

    /// How many bytes were read (or skipped) so far.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Makes room for the next `n` bytes read from a file or a reader in
    /// one allocation (the pieces read after it share it).
    pub(crate) fn reserve(&mut self, n: usize) {
        if !matches!(self.kind, Source::Bytes(_)) {
            self.buf.reserve(n);
        }
    }

    /// Whether the source can go back to an earlier position.
    pub(crate) fn can_rewind(&self) -> bool {
        !matches!(self.kind, Source::Reader(_))
    }

    /// Reads up to `max` bytes: fewer only at the end of the source.
    pub(crate) async fn read_up_to(&mut self, max: usize) -> io::Result<Bytes> {
        if self.broken {
            return Err(io::Error::other(format!(
                "an earlier read of the media source failed at byte {}",
                self.pos
            )));
        }
        let out = match &mut self.kind {
            Source::Bytes(b) => {
                let start = (self.pos.min(b.len() as u64)) as usize;
                let end = start.saturating_add(max).min(b.len());
                let out = b.slice(start..end);
                hash_past_frontier(&mut self.digests, self.pos, &out);
                out
            }
            Source::File(path) => {
                if self.file.is_none() {
                    let mut f = tokio::fs::File::open(&*path).await?;
                    if self.pos > 0 {
                        f.seek(io::SeekFrom::Start(self.pos)).await?;
                    }
                    self.file = Some(f);
                }
                let f = self.file.as_mut().expect("opened above");
                read_full(f, &mut self.buf, max, self.pos, &mut self.digests).await?
            }
            Source::Reader(r) => {
                read_full(r, &mut self.buf, max, self.pos, &mut self.digests).await?
            }
        };
        self.pos += out.len() as u64;
        Ok(out)
    }

    /// Moves to `target`: forward by reading and discarding (or seeking),
    /// backward only for bytes and files.
    pub(crate) async fn seek_to(&mut self, target: u64) -> io::Result<()> {
        if target == self.pos {
            return Ok(());
        }
        // Bytes not hashed yet are read through the hash, not seeked over.
        let frontier = self.digests.as_ref().map(|d| d.len);
        if let Some(frontier) = frontier
            && frontier < target
            && self.can_rewind()
        {
            if frontier != self.pos {
                self.seek_plain(frontier).await?;
            }
            while self.pos < target {
                let want = (target - self.pos).min(simple::PIECE as u64) as usize;
                let piece = self.read_up_to(want).await?;
                if piece.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the media source ended at byte {}", self.pos),
                    ));
                }
            }
            return Ok(());
        }
        self.seek_plain(target).await
    }

    /// [`seek_to`](Self::seek_to) without regard to the digests (a reader's
    /// skipped bytes are hashed as they are discarded).
    async fn seek_plain(&mut self, target: u64) -> io::Result<()> {
        if target == self.pos {
            return Ok(());
        }
        match &mut self.kind {
            Source::Bytes(_) => {}
            Source::File(_) => {
                if let Some(f) = &mut self.file {
                    f.seek(io::SeekFrom::Start(target)).await?;
                }
            }
            Source::Reader(r) => {
                if target < self.pos {
                    return Err(io::Error::other(format!(
                        "a reader cannot go back from byte {} to byte {target}",
                        self.pos
                    )));
                }
                while self.pos < target {
                    let want = (target - self.pos).min(simple::PIECE as u64) as usize;
                    let piece =
                        read_full(r, &mut self.buf, want, self.pos, &mut self.digests).await?;
                    if piece.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the media source ended at byte {}", self.pos),
                        ));
                    }
                    self.pos += piece.len() as u64;
                }
            }
        }
        self.pos = target;
        Ok(())
    }
}

/// Hashes the part of `data` (which starts at `start`) past the frontier of
/// `digests` (bytes before it were hashed already).
fn hash_past_frontier(digests: &mut Option<verify::Digests>, start: u64, data: &[u8]) {
    if let Some(d) = digests {
        let end = start + data.len() as u64;
        if start <= d.len && d.len < end {
            d.update(&data[(d.len - start) as usize..]);
        }
    }
}

/// Reads until `max` bytes or the end, into `buf`'s spare capacity (not
/// zero-filled first; the allocation is reclaimed when the previous chunk,
/// split off the same buffer, has been dropped), hashing what each read
/// returns (the bytes from `start`) into `digests` at once, while it is
/// still in the CPU's cache (the reads a resumable upload makes as it
/// sends are 1 MiB at most).
async fn read_full<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut BytesMut,
    max: usize,
    start: u64,
    digests: &mut Option<verify::Digests>,
) -> io::Result<Bytes> {
    buf.clear();
    buf.reserve(max);
    while buf.len() < max {
        let before = buf.len();
        let rest = (max - before) as u64;
        if (&mut *r).take(rest).read_buf(buf).await? == 0 {
            break;
        }
        hash_past_frontier(digests, start + before as u64, &buf[before..]);
    }
    Ok(buf.split().freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Media;

    #[tokio::test]
    async fn reader_reads_chunks_and_skips_forward_only() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut r = SourceReader::new(Source::Reader(Box::new(std::io::Cursor::new(data.clone()))));
        assert!(!r.can_rewind());
        assert_eq!(&r.read_up_to(300).await.unwrap()[..], &data[..300]);
        r.seek_to(500).await.unwrap();
        assert_eq!(&r.read_up_to(600).await.unwrap()[..], &data[500..]);
        assert!(r.read_up_to(10).await.unwrap().is_empty());
        assert!(r.seek_to(10).await.is_err());
        assert_eq!(r.pos(), 1000);
    }

    /// A reader that hands out at most 7 bytes per read.
    struct Trickle(std::io::Cursor<Vec<u8>>);
    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            let mut small = [0u8; 7];
            let want = buf.remaining().min(small.len());
            let n = std::io::Read::read(&mut self.0, &mut small[..want])?;
            buf.put_slice(&small[..n]);
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn chunks_fill_up_from_short_reads_and_reuse_one_buffer() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut r = SourceReader::new(Source::Reader(Box::new(Trickle(std::io::Cursor::new(
            data.clone(),
        )))));
        let first = r.read_up_to(4096).await.unwrap();
        assert_eq!(&first[..], &data[..4096]);
        let first_ptr = first.as_ptr();
        drop(first);
        // the previous chunk is gone: its allocation is read into again
        let second = r.read_up_to(4096).await.unwrap();
        assert_eq!(&second[..], &data[4096..8192]);
        assert_eq!(second.as_ptr(), first_ptr);
        // a chunk still held is not overwritten
        let third = r.read_up_to(4096).await.unwrap();
        assert_eq!(&third[..], &data[8192..]);
        assert_eq!(&second[..], &data[4096..8192]);
        assert!(r.read_up_to(4096).await.unwrap().is_empty());
        assert_eq!(r.pos(), 10_000);
    }

    #[tokio::test]
    async fn bytes_and_files_rewind() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut r = SourceReader::new(Source::Bytes(Bytes::from(data.clone())));
        assert_eq!(&r.read_up_to(60).await.unwrap()[..], &data[..60]);
        r.seek_to(10).await.unwrap();
        assert_eq!(&r.read_up_to(5).await.unwrap()[..], &data[10..15]);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        std::fs::write(&path, &data).unwrap();
        let media = Media::from_file(&path).await.unwrap();
        assert_eq!(media.size(), Some(100));
        assert_eq!(media.mime_type(), "application/octet-stream");
        let (source, _, _) = media.into_parts();
        let mut r = SourceReader::new(source);
        r.seek_to(90).await.unwrap();
        assert_eq!(&r.read_up_to(50).await.unwrap()[..], &data[90..]);
        r.seek_to(3).await.unwrap();
        assert_eq!(&r.read_up_to(2).await.unwrap()[..], &data[3..5]);
    }

    #[tokio::test]
    async fn skipping_past_the_end_of_a_reader_fails() {
        let mut r = SourceReader::new(Source::Reader(Box::new(&b"abc"[..])));
        let e = r.seek_to(10).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
