//! Media upload and download for methods that declare them. Documented on
//! [`Media`], [`ResumableUpload`] and [`Download`].

mod download;
mod multipart;
mod resumable;
mod simple;
mod verify;

use std::io;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncSeekExt as _};

use crate::call::Call;
use crate::error::{Error, ErrorKind, Result};
use crate::method::MediaUploadInfo;

pub use download::Download;
pub use resumable::{
    CHUNK_GRANULARITY, DEFAULT_CHUNK_SIZE, ResumableSession, ResumableUpload, UploadProgress,
};

/// Media larger than this (5 MiB) goes up with the resumable protocol under
/// [`UploadProtocol::Auto`], when the method supports it.
pub const RESUMABLE_THRESHOLD: u64 = 5 * 1024 * 1024;

/// A [`Media`] is the content to upload: bytes in memory
/// ([`Media::from_bytes`]), a file ([`Media::from_file`]) or any
/// [`tokio::io::AsyncRead`] ([`Media::from_reader`]), with its MIME type and,
/// when known, its size. The document's `accept` list and `maxSize` are checked
/// before anything is sent (for a source of unknown size, the upload stops with
/// an error as soon as it grows past `maxSize`).
///
/// Three protocols ([`UploadProtocol`]):
///
/// - **simple** (`uploadType=media`): one request whose body is the media;
///   no metadata.
/// - **multipart** (`uploadType=multipart`): one `multipart/related` request,
///   the call's JSON body (the metadata) then the media.
/// - **resumable** (`uploadType=resumable`): a session is opened with the
///   metadata, then the media goes up in chunks, each acknowledged by the
///   server; after a failure the upload asks the server how much it has and
///   goes on from there. See [`ResumableUpload`].
///
/// [`Call::upload`] picks one ([`UploadProtocol::Auto`]): resumable for media
/// larger than [`RESUMABLE_THRESHOLD`] or of unknown size, when the method has
/// a resumable path; otherwise simple without metadata and multipart with it.
/// [`Call::upload_with`] takes the protocol from the caller and
/// [`Call::upload_resumable`] gives full control over a resumable upload.
///
/// Simple and multipart uploads from bytes are retried like any request. From
/// a file they stream and are still retried (the file is read again). From a
/// reader they stream without buffering, so **they are not retried once the
/// request was sent**: the reader cannot be rewound. Use a resumable upload
/// (or bytes, or a file) when that matters.
pub struct Media {
    source: Source,
    size: Option<u64>,
    mime_type: String,
    md5: bool,
}

/// Where the bytes of a [`Media`] come from.
pub(crate) enum Source {
    /// In memory: can be sent any number of times.
    Bytes(Bytes),
    /// A file: opened (again) for every attempt, can seek.
    File(PathBuf),
    /// A one-shot reader: read once, front to back.
    Reader(Box<dyn AsyncRead + Send + Unpin>),
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Bytes(_) => "bytes",
            Source::File(_) => "file",
            Source::Reader(_) => "reader",
        };
        f.debug_struct("Media")
            .field("source", &source)
            .field("size", &self.size)
            .field("mime_type", &self.mime_type)
            .field("md5", &self.md5)
            .finish()
    }
}

impl Media {
    /// Media from bytes in memory.
    pub fn from_bytes(data: impl Into<Bytes>, mime_type: impl Into<String>) -> Self {
        let data = data.into();
        Media {
            size: Some(data.len() as u64),
            source: Source::Bytes(data),
            mime_type: mime_type.into(),
            md5: false,
        }
    }

    /// Media read from `reader`, front to back, once. `len` is its exact size
    /// when known: a reader that ends early or goes on longer makes the upload
    /// fail rather than send something else. With `None`, the size is found
    /// at the end (resumable uploads) or the body is sent chunked (simple and
    /// multipart uploads).
    ///
    /// A resumable upload holds at most one chunk of it in memory; simple and
    /// multipart uploads stream it and cannot be retried once sent.
    pub fn from_reader(
        reader: impl AsyncRead + Send + Unpin + 'static,
        len: Option<u64>,
        mime_type: impl Into<String>,
    ) -> Self {
        Media {
            source: Source::Reader(Box::new(reader)),
            size: len,
            mime_type: mime_type.into(),
            md5: false,
        }
    }

    /// Media from a file. The size is read now; the MIME type is guessed from
    /// the extension (`application/octet-stream` when unknown; see
    /// [`Media::with_mime_type`]). The file is opened when the upload reads
    /// it, and again for a retry.
    pub async fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let meta = tokio::fs::metadata(path).await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the media file {}", path.display()),
            )
            .with_source(e)
        })?;
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("the media path {} is not a file", path.display()),
            ));
        }
        Ok(Media {
            source: Source::File(path.to_owned()),
            size: Some(meta.len()),
            mime_type: guess_mime_type(path).to_owned(),
            md5: false,
        })
    }

    /// Replaces the MIME type.
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = mime_type.into();
        self
    }

    /// Also computes the media's MD5 as it is sent, and compares it with
    /// the `md5Hash` (Cloud Storage) or `md5Checksum` (Drive) the server
    /// reports. The size and the CRC32C (which Cloud Storage reports) are
    /// always compared; MD5 costs about a second of CPU per GiB, so it is
    /// asked for.
    pub fn with_md5(mut self, md5: bool) -> Self {
        self.md5 = md5;
        self
    }

    /// The size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The MIME type.
    pub fn mime_type(&self) -> &str {
        &self.mime_type
    }

    pub(crate) fn into_parts(self) -> (Source, Option<u64>, String) {
        (self.source, self.size, self.mime_type)
    }

    /// Whether the MD5 is to be computed.
    pub(crate) fn wants_md5(&self) -> bool {
        self.md5
    }
}

/// How [`Call::upload_with`] sends media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UploadProtocol {
    /// Resumable above [`RESUMABLE_THRESHOLD`] or for media of unknown size,
    /// when the method has a resumable path; otherwise simple without
    /// metadata, multipart with it.
    #[default]
    Auto,
    /// `uploadType=media`: the media alone (an error if the call has a body).
    Simple,
    /// `uploadType=multipart`: the call's body as metadata (`{}` without one)
    /// and the media in one request.
    Multipart,
    /// `uploadType=resumable`: a session, then chunks (see [`ResumableUpload`]).
    Resumable,
}

/// A guess of the MIME type from a file's extension.
fn guess_mime_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "md" => "text/markdown",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "ico" => "image/vnd.microsoft.icon",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

/// Whether `mime` matches an `accept` pattern such as `image/*` or `*/*`.
pub(crate) fn mime_matches(pattern: &str, mime: &str) -> bool {
    let mime = mime.split(';').next().unwrap_or("").trim();
    let pattern = pattern.trim();
    if pattern == "*/*" || pattern.eq_ignore_ascii_case(mime) {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(major) => mime
            .split_once('/')
            .is_some_and(|(m, _)| m.eq_ignore_ascii_case(major)),
        None => false,
    }
}

/// The error for media grown past the method's `maxSize`.
pub(crate) fn too_large(what: &str, size: u64, max: u64) -> Error {
    Error::new(
        ErrorKind::Request,
        format!("{what}: media of {size} bytes exceeds the maximum of {max} bytes"),
    )
}

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
}

impl SourceReader {
    pub(crate) fn new(source: Source) -> Self {
        SourceReader {
            kind: source,
            file: None,
            pos: 0,
            buf: BytesMut::new(),
            digests: None,
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

    /// Hashes the part of `data` (which starts at `start`) past the frontier.
    fn hash(&mut self, start: u64, data: &[u8]) {
        if let Some(d) = &mut self.digests {
            let end = start + data.len() as u64;
            if start <= d.len && d.len < end {
                d.update(&data[(d.len - start) as usize..]);
            }
        }
    }

    /// How many bytes were read (or skipped) so far.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Whether the source can go back to an earlier position.
    pub(crate) fn can_rewind(&self) -> bool {
        !matches!(self.kind, Source::Reader(_))
    }

    /// Reads up to `max` bytes: fewer only at the end of the source.
    pub(crate) async fn read_up_to(&mut self, max: usize) -> io::Result<Bytes> {
        let out = match &mut self.kind {
            Source::Bytes(b) => {
                let start = (self.pos.min(b.len() as u64)) as usize;
                let end = start.saturating_add(max).min(b.len());
                b.slice(start..end)
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
                read_full(f, &mut self.buf, max).await?
            }
            Source::Reader(r) => read_full(r, &mut self.buf, max).await?,
        };
        self.hash(self.pos, &out);
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
                    let piece = read_full(r, &mut self.buf, want).await?;
                    if piece.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the media source ended at byte {}", self.pos),
                        ));
                    }
                    if let Some(d) = &mut self.digests {
                        d.update(&piece);
                    }
                    self.pos += piece.len() as u64;
                }
            }
        }
        self.pos = target;
        Ok(())
    }
}

/// Reads until `max` bytes or the end, into `buf`'s spare capacity (not
/// zero-filled first; the allocation is reclaimed when the previous chunk,
/// split off the same buffer, has been dropped).
async fn read_full<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut BytesMut,
    max: usize,
) -> io::Result<Bytes> {
    buf.clear();
    buf.reserve(max);
    while buf.len() < max {
        let rest = (max - buf.len()) as u64;
        if (&mut *r).take(rest).read_buf(buf).await? == 0 {
            break;
        }
    }
    Ok(buf.split().freeze())
}

impl Call {
    /// The method's media upload description, or an error naming the method.
    fn media_info(&self) -> Result<&'static MediaUploadInfo> {
        let id = self.method().id;
        self.method().media_upload.ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("{id} does not accept media uploads"),
            )
        })
    }

    /// Checks the media's type and (known) size against the document.
    pub(crate) fn check_media(
        &self,
        mime_type: &str,
        size: Option<u64>,
    ) -> Result<&'static MediaUploadInfo> {
        let id = self.method().id;
        let info = self.media_info()?;
        if !info.accept.is_empty() && !info.accept.iter().any(|p| mime_matches(p, mime_type)) {
            return Err(Error::new(
                ErrorKind::Request,
                format!(
                    "{id}: media type {mime_type:?} is not accepted (accepted: {})",
                    info.accept.join(", ")
                ),
            ));
        }
        if let (Some(max), Some(size)) = (info.max_size, size)
            && size > max
        {
            return Err(too_large(id, size, max));
        }
        Ok(info)
    }

    /// Whether the call carries metadata for the media: a body other than an
    /// empty object (generated builders always set the body, `{}` when the
    /// caller gave none).
    pub(crate) fn has_metadata(&self) -> Result<bool> {
        Ok(match self.body_bytes()? {
            None => false,
            Some(b) => &b[..] != b"{}",
        })
    }

    /// Uploads `media` (with the call's body as metadata, if any) and decodes
    /// the response, choosing the protocol by size ([`UploadProtocol::Auto`]).
    pub async fn upload<T: DeserializeOwned + 'static>(self, media: Media) -> Result<T> {
        self.upload_with(media, UploadProtocol::Auto).await
    }

    /// Uploads `media` with the given protocol and decodes the response.
    pub async fn upload_with<T: DeserializeOwned + 'static>(
        self,
        media: Media,
        protocol: UploadProtocol,
    ) -> Result<T> {
        let info = self.check_media(media.mime_type(), media.size())?;
        let protocol = match protocol {
            UploadProtocol::Auto => {
                let big = media.size().is_none_or(|n| n > RESUMABLE_THRESHOLD);
                if big && info.resumable_path.is_some() {
                    UploadProtocol::Resumable
                } else if self.has_metadata()? {
                    UploadProtocol::Multipart
                } else {
                    UploadProtocol::Simple
                }
            }
            p => p,
        };
        match protocol {
            UploadProtocol::Resumable => self.upload_resumable(media).send().await,
            UploadProtocol::Multipart => multipart::upload(self, info, media).await,
            _ => simple::upload(self, info, media).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_patterns() {
        assert!(mime_matches("*/*", "application/pdf"));
        assert!(mime_matches("image/*", "image/png"));
        assert!(mime_matches("image/*", "IMAGE/png; q=1"));
        assert!(!mime_matches("image/*", "text/plain"));
        assert!(mime_matches("text/csv", "text/csv"));
        assert!(!mime_matches("text/csv", "text/plain"));
    }

    #[test]
    fn mime_guess_by_extension() {
        assert_eq!(guess_mime_type(Path::new("a/b.PNG")), "image/png");
        assert_eq!(guess_mime_type(Path::new("x.tar.gz")), "application/gzip");
        assert_eq!(
            guess_mime_type(Path::new("noext")),
            "application/octet-stream"
        );
    }

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
