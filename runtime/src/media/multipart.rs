//! The multipart protocol (`uploadType=multipart`): one `multipart/related`
//! request, the JSON metadata then the media.
//!
//! ```text
//! --BOUNDARY\r\n
//! Content-Type: application/json; charset=UTF-8\r\n\r\n
//! {metadata}\r\n
//! --BOUNDARY\r\n
//! Content-Type: <media type>\r\n\r\n
//! <media>\r\n
//! --BOUNDARY--\r\n
//! ```
//!
//! Bytes in memory are assembled into one body; files and readers are
//! streamed between the two fixed ends.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::simple::{StreamLimits, StreamReport, execute_upload, stream_body};
use super::{Media, Source};
use crate::call::Call;
use crate::error::{Error, ErrorKind, Result};
use crate::method::MediaUploadInfo;

/// The part of the body before the media.
fn head(metadata: &[u8], mime_type: &str, boundary: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(metadata.len() + 160);
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(metadata);
    out.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Type: {mime_type}\r\n\r\n").as_bytes(),
    );
    out
}

/// The part of the body after the media.
fn tail(boundary: &str) -> Bytes {
    Bytes::from(format!("\r\n--{boundary}--\r\n"))
}

/// The whole body for media in memory.
fn body(metadata: &[u8], data: &[u8], mime_type: &str, boundary: &str) -> Bytes {
    let mut out = head(metadata, mime_type, boundary);
    out.extend_from_slice(data);
    out.extend_from_slice(&tail(boundary));
    out.into()
}

/// A boundary that cannot plausibly occur in the content.
fn new_boundary() -> String {
    format!("gapi_{:032x}", crate::random::u128())
}

/// A multipart upload: the call's body (or `{}`) as metadata, then the media.
pub(super) async fn upload<T: DeserializeOwned + 'static>(
    call: Call,
    info: &'static MediaUploadInfo,
    media: Media,
) -> Result<T> {
    let id = call.method().id;
    let path = info.simple_path.ok_or_else(|| {
        Error::new(
            ErrorKind::Request,
            format!("{id} has no simple upload path"),
        )
    })?;
    let metadata = call
        .body_bytes()?
        .unwrap_or_else(|| Bytes::from_static(b"{}"));
    let mut prepared = call.prepare(path, &[("uploadType", "multipart")])?;
    prepared.media = true;
    let boundary = new_boundary();
    let content_type = format!("multipart/related; boundary={boundary}");
    let md5 = media.wants_md5();
    let (source, size, mime_type) = media.into_parts();
    let report = match source {
        Source::Bytes(data) => {
            let report = StreamReport::of_bytes(&data, md5);
            prepared.body = Some((body(&metadata, &data, &mime_type, &boundary), content_type));
            report
        }
        source => {
            let limits = StreamLimits {
                size,
                max: info.max_size,
                what: id,
                md5,
            };
            let (stream, report) = stream_body(
                source,
                content_type,
                limits,
                head(&metadata, &mime_type, &boundary).into(),
                tail(&boundary),
            );
            prepared.body = None;
            prepared.stream = Some(stream);
            report
        }
    };
    execute_upload(&call, &prepared, &report, size).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_layout() {
        let b = body(br#"{"name":"x"}"#, b"hello", "text/plain", "B");
        assert_eq!(
            &b[..],
            &b"--B\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"x\"}\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n"[..]
        );
    }

    #[test]
    fn streamed_ends_match_the_in_memory_body() {
        let mut joined = head(b"{}", "a/b", "Z");
        joined.extend_from_slice(b"data");
        joined.extend_from_slice(&tail("Z"));
        assert_eq!(joined, body(b"{}", b"data", "a/b", "Z").to_vec());
        assert_ne!(new_boundary(), new_boundary());
    }
}
