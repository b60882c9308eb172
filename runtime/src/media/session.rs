//! The data of a resumable upload: its serializable [`ResumableSession`],
//! [`UploadProgress`], and the parsing of the protocol's answers.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// A resumable upload session: everything needed to resume the upload,
/// from this process or another. Serializable with serde.
///
/// The session URI alone authorizes uploading to the session: store it like
/// a credential. `Debug` shows it without its query.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResumableSession {
    /// The session URI the server returned in `Location`.
    pub uri: String,
    /// The size of the media, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The MIME type of the media.
    pub mime_type: String,
    /// The method that opened the session, e.g. `drive.files.create`.
    #[serde(default)]
    pub method_id: String,
    /// The method's `maxSize`, enforced for media of unknown size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    /// How many bytes the server had confirmed when this was taken: what
    /// it should hold when the upload is resumed.
    #[serde(default)]
    pub confirmed: u64,
}

impl ResumableSession {
    /// A session opened elsewhere, known by its URI.
    pub fn new(uri: impl Into<String>, mime_type: impl Into<String>, total: Option<u64>) -> Self {
        ResumableSession {
            uri: uri.into(),
            total,
            mime_type: mime_type.into(),
            method_id: String::new(),
            max_size: None,
            confirmed: 0,
        }
    }
}

impl std::fmt::Debug for ResumableSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = match self.uri.split_once('?') {
            Some((base, _)) => format!("{base}?…"),
            None => self.uri.clone(),
        };
        f.debug_struct("ResumableSession")
            .field("uri", &uri)
            .field("total", &self.total)
            .field("mime_type", &self.mime_type)
            .field("method_id", &self.method_id)
            .field("max_size", &self.max_size)
            .field("confirmed", &self.confirmed)
            .finish()
    }
}

/// How far an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UploadProgress {
    /// Bytes the server has confirmed.
    pub bytes_sent: u64,
    /// The size of the media, once known.
    pub total: Option<u64>,
}

impl UploadProgress {
    /// The fraction done in `0.0..=1.0`, when the size is known.
    pub fn fraction(&self) -> Option<f64> {
        match self.total {
            Some(0) => Some(1.0),
            Some(t) => Some(self.bytes_sent as f64 / t as f64),
            None => None,
        }
    }
}

/// Whether a completed upload's resource says how big the stored object is.
pub(super) fn reports_size(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| {
        ["size", "fileSize", "sizeBytes"]
            .iter()
            .any(|k| v.get(k).is_some())
    })
}

/// `bytes=0-N` (or `0-N`) → N.
pub(super) fn parse_range_end(v: &str) -> Option<u64> {
    let v = v.trim();
    let v = v.strip_prefix("bytes=").unwrap_or(v);
    let (start, end) = v.split_once('-')?;
    if start.trim() != "0" {
        return None;
    }
    end.trim().parse().ok()
}

/// Resolves a `Location` against the request URL.
pub(super) fn resolve(base: &str, location: &str) -> Result<String> {
    crate::href::join(base, location).map_err(|e| {
        Error::new(
            ErrorKind::Decode,
            format!("invalid upload session URI {location:?}: {e}"),
        )
    })
}

/// The error for a session the server no longer knows (404/410).
pub(super) fn session_gone(err: Error) -> Error {
    match err.api_error() {
        Some(api) => {
            let mut api = api.clone();
            api.message = format!(
                "the resumable upload session is gone; start a new upload ({})",
                api.message
            );
            Error::api(api)
        }
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_header_parsing() {
        assert_eq!(parse_range_end("bytes=0-262143"), Some(262143));
        assert_eq!(parse_range_end("0-5"), Some(5));
        assert_eq!(parse_range_end("bytes=5-9"), None);
        assert_eq!(parse_range_end("bytes=0-"), None);
    }

    #[test]
    fn location_resolution() {
        assert_eq!(
            resolve("http://h:1/upload/x?uploadType=resumable", "/s?upload_id=1").unwrap(),
            "http://h:1/s?upload_id=1"
        );
        assert_eq!(
            resolve("http://h:1/a", "https://other/s?id=2").unwrap(),
            "https://other/s?id=2"
        );
    }

    #[test]
    fn session_round_trips_and_hides_its_query_in_debug() {
        let mut s =
            ResumableSession::new("https://h/upload?upload_id=SECRET", "text/plain", Some(10));
        s.method_id = "x.insert".into();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"uri":"https://h/upload?upload_id=SECRET","total":10,"mimeType":"text/plain","methodId":"x.insert","confirmed":0}"#
        );
        let back: ResumableSession = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert!(!format!("{s:?}").contains("SECRET"));
    }

    #[test]
    fn progress_fraction() {
        let p = UploadProgress {
            bytes_sent: 5,
            total: Some(10),
        };
        assert_eq!(p.fraction(), Some(0.5));
        assert_eq!(UploadProgress::default().fraction(), None);
    }
}
