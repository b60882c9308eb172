//! Media upload and download for methods that declare them. Documented on
//! [`Media`], [`ResumableUpload`] and [`Download`].

mod chunks;
mod download;
mod multipart;
mod resumable;
mod session;
mod simple;
mod source;
mod verify;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::io::AsyncRead;

use crate::call::Call;
use crate::error::{Error, ErrorKind, Result};
use crate::method::MediaUploadInfo;

pub use download::Download;
pub use resumable::{
    CHUNK_GRANULARITY, DEFAULT_CHUNK_SIZE, ResumableSession, ResumableUpload, UploadProgress,
};
pub(crate) use source::SourceReader;

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
    /// asked for. Needs the `md5` feature (off by default).
    #[cfg(feature = "md5")]
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
}
