//! Media upload and download for methods that declare them.
//!
//! Upload: [`Call::upload`] sends a [`Media`] with the simple protocol
//! (`uploadType=media`) when the call has no metadata body, and the multipart
//! protocol (`uploadType=multipart`, `multipart/related`: JSON metadata then
//! the media) when it has one. The document's `accept` list and `maxSize` are
//! checked before anything is sent.
//!
//! Download: [`Call::download`] adds `alt=media` and returns a [`Download`]
//! whose body is read in chunks as it arrives.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::call::{Call, decode};
use crate::error::{Error, ErrorKind, Result};

/// Media to upload: bytes and their MIME type.
#[derive(Clone)]
pub struct Media {
    data: Bytes,
    mime_type: String,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("len", &self.data.len())
            .field("mime_type", &self.mime_type)
            .finish()
    }
}

impl Media {
    /// Media from bytes in memory.
    pub fn from_bytes(data: impl Into<Bytes>, mime_type: impl Into<String>) -> Self {
        Media {
            data: data.into(),
            mime_type: mime_type.into(),
        }
    }

    /// The size in bytes.
    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// Whether the media is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The MIME type.
    pub fn mime_type(&self) -> &str {
        &self.mime_type
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

fn multipart_body(metadata: &[u8], media: &Media, boundary: &str) -> Bytes {
    let mut out = Vec::with_capacity(metadata.len() + media.data.len() + 256);
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(metadata);
    out.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: {}\r\n\r\n",
            media.mime_type
        )
        .as_bytes(),
    );
    out.extend_from_slice(&media.data);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out.into()
}

impl Call {
    fn check_media(&self, media: &Media) -> Result<&'static crate::method::MediaUploadInfo> {
        let id = self.method().id;
        let info = self.method().media_upload.ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("{id} does not accept media uploads"),
            )
        })?;
        if !info.accept.is_empty()
            && !info
                .accept
                .iter()
                .any(|p| mime_matches(p, &media.mime_type))
        {
            return Err(Error::new(
                ErrorKind::Request,
                format!(
                    "{id}: media type {:?} is not accepted (accepted: {})",
                    media.mime_type,
                    info.accept.join(", ")
                ),
            ));
        }
        if let Some(max) = info.max_size
            && media.len() > max
        {
            return Err(Error::new(
                ErrorKind::Request,
                format!(
                    "{id}: media of {} bytes exceeds the maximum of {max} bytes",
                    media.len()
                ),
            ));
        }
        Ok(info)
    }

    /// Uploads `media` (with the call's body as metadata, if any) and decodes
    /// the response.
    pub async fn upload<T: DeserializeOwned>(self, media: Media) -> Result<T> {
        let info = self.check_media(&media)?;
        let id = self.method().id;
        let path = info.simple_path.ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("{id} has no simple upload path"),
            )
        })?;
        let metadata = self.body_bytes()?;
        let mut prepared = match &metadata {
            None => self.prepare(path, &[("uploadType", "media")])?,
            Some(_) => self.prepare(path, &[("uploadType", "multipart")])?,
        };
        prepared.body = Some(match metadata {
            None => (media.data.clone(), media.mime_type.clone()),
            Some(meta) => {
                let boundary = format!("gapi_{:032x}", rand::random::<u128>());
                (
                    multipart_body(&meta, &media, &boundary),
                    format!("multipart/related; boundary={boundary}"),
                )
            }
        });
        let resp = self.service().client().execute(&prepared).await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| crate::transport::map_err(e, id))?;
        decode(id, &body)
    }

    /// Downloads the media behind this call (`alt=media`).
    pub async fn download(self) -> Result<Download> {
        let id = self.method().id;
        if !self.method().supports_media_download {
            return Err(Error::new(
                ErrorKind::Request,
                format!("{id} does not support media download"),
            ));
        }
        let prepared = self.prepare(self.method().path, &[("alt", "media")])?;
        let resp = self.service().client().execute(&prepared).await?;
        Ok(Download { resp, what: id })
    }
}

/// A media download in progress: the body arrives in chunks.
pub struct Download {
    resp: reqwest::Response,
    what: &'static str,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("method", &self.what)
            .field("content_length", &self.content_length())
            .finish()
    }
}

impl Download {
    /// The size announced by the server, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.resp.content_length()
    }

    /// The `Content-Type` of the media.
    pub fn content_type(&self) -> Option<&str> {
        self.resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The next chunk of the body, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        self.resp
            .chunk()
            .await
            .map_err(|e| crate::transport::map_err(e, self.what))
    }

    /// Reads the whole body into memory.
    pub async fn bytes(self) -> Result<Bytes> {
        let what = self.what;
        self.resp
            .bytes()
            .await
            .map_err(|e| crate::transport::map_err(e, what))
    }

    /// Copies the body to an async writer, chunk by chunk; returns the byte count.
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
            Error::new(ErrorKind::Io, "flushing the download failed").with_source(e)
        })?;
        Ok(n)
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
    fn multipart_layout() {
        let m = Media::from_bytes(&b"hello"[..], "text/plain");
        let b = multipart_body(br#"{"name":"x"}"#, &m, "B");
        assert_eq!(
            &b[..],
            &b"--B\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"x\"}\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n"[..]
        );
    }
}
