//! Checking what the server says it stored against what was sent.
//!
//! Every upload (simple, multipart, resumable — resumed or not) computes, as
//! the media streams by, its size, its CRC32C and, when asked
//! ([`Media::with_md5`](super::Media::with_md5)), its MD5. Never by
//! buffering: each byte is hashed once, in order, as it is read (bytes a
//! resumed upload skips are read through the hash too, not seeked over).
//!
//! When the upload completes, the resource the server returns is compared
//! with them, by the top-level members that carry them in Google's APIs:
//!
//! | member | API | compared with |
//! |---|---|---|
//! | `size` | Cloud Storage, Drive v3 | the bytes sent |
//! | `fileSize` | Drive v2 | the bytes sent |
//! | `sizeBytes` | Cloud Support | the bytes sent |
//! | `crc32c` | Cloud Storage (base64, big-endian) | CRC32C |
//! | `md5Hash` | Cloud Storage (base64) | MD5, when computed |
//! | `md5Checksum` | Drive (hex) | MD5, when computed |
//!
//! A Drive upload converted to a Google Workspace file (`mimeType`
//! `application/vnd.google-apps.*`) is not the bytes sent and is not
//! compared. A mismatch is an error of kind [`ErrorKind::Integrity`]
//! instead of `Ok`: the object the server kept is not what was sent.

use base64::Engine as _;
#[cfg(feature = "md5")]
use md5::Digest as _;

/// The running MD5 (the `md5` feature).
#[cfg(feature = "md5")]
type Md5 = md5::Md5;

/// Without the `md5` feature no MD5 is ever computed: there is no value.
#[cfg(not(feature = "md5"))]
#[derive(Clone)]
enum Md5 {}

use crate::error::{Error, ErrorKind, Result};

/// The running digests of the media, from byte 0.
#[derive(Clone)]
pub(crate) struct Digests {
    /// How many bytes went through.
    pub len: u64,
    crc32c: crc_fast::Digest,
    md5: Option<Md5>,
}

impl std::fmt::Debug for Digests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digests")
            .field("len", &self.len)
            .field("crc32c", &format_args!("{:08x}", self.crc32c()))
            .field("md5", &self.md5.is_some())
            .finish()
    }
}

impl Digests {
    pub(crate) fn new(md5: bool) -> Self {
        Digests {
            len: 0,
            crc32c: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi),
            #[cfg(feature = "md5")]
            md5: md5.then(Md5::new),
            #[cfg(not(feature = "md5"))]
            md5: {
                let _ = md5;
                None
            },
        }
    }

    /// Adds the next bytes of the media.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        self.crc32c.update(bytes);
        #[cfg(feature = "md5")]
        if let Some(m) = &mut self.md5 {
            m.update(bytes);
        }
    }

    /// The CRC32C (CRC-32/ISCSI) of the bytes so far.
    fn crc32c(&self) -> u32 {
        // A 32-bit CRC's value is in the low 32 bits.
        self.crc32c.finalize() as u32
    }

    fn crc32c_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.crc32c().to_be_bytes())
    }

    fn md5_bytes(&self) -> Option<Vec<u8>> {
        #[cfg(feature = "md5")]
        return self.md5.clone().map(|m| m.finalize().to_vec());
        #[cfg(not(feature = "md5"))]
        match &self.md5 {
            None => None,
            Some(never) => match *never {},
        }
    }
}

/// A number that the JSON may give as a string (int64) or a number.
fn as_u64(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        v => v.as_u64(),
    }
}

/// Compares the resource in `body` with what was sent: `sent` bytes in
/// all, and the digests of all of them when `digests` covers every byte.
pub(crate) fn check_stored(
    what: &str,
    body: &[u8],
    sent: u64,
    digests: Option<&Digests>,
) -> Result<()> {
    let Ok(serde_json::Value::Object(resource)) = serde_json::from_slice(body) else {
        return Ok(());
    };
    let converted = resource
        .get("mimeType")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.starts_with("application/vnd.google-apps."));
    if converted {
        return Ok(());
    }
    let mismatch = |detail: String| {
        Error::new(
            ErrorKind::Integrity,
            format!("{what}: the server did not store what was sent: {detail}"),
        )
    };
    for member in ["size", "fileSize", "sizeBytes"] {
        if let Some(stored) = resource.get(member).and_then(as_u64)
            && stored != sent
        {
            return Err(mismatch(format!(
                "it reports `{member}` {stored} bytes, {sent} were sent"
            )));
        }
    }
    let Some(d) = digests.filter(|d| d.len == sent) else {
        return Ok(());
    };
    if let Some(stored) = resource.get("crc32c").and_then(|v| v.as_str()) {
        let ours = d.crc32c_base64();
        if stored != ours {
            return Err(mismatch(format!(
                "its `crc32c` is {stored}, the media's is {ours}"
            )));
        }
    }
    if let Some(md5) = d.md5_bytes() {
        if let Some(stored) = resource.get("md5Hash").and_then(|v| v.as_str()) {
            let ours = base64::engine::general_purpose::STANDARD.encode(&md5);
            if stored != ours {
                return Err(mismatch(format!(
                    "its `md5Hash` is {stored}, the media's is {ours}"
                )));
            }
        }
        if let Some(stored) = resource.get("md5Checksum").and_then(|v| v.as_str()) {
            let ours: String = md5.iter().map(|b| format!("{b:02x}")).collect();
            if !stored.eq_ignore_ascii_case(&ours) {
                return Err(mismatch(format!(
                    "its `md5Checksum` is {stored}, the media's is {ours}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(data: &[u8], md5: bool) -> Digests {
        let mut d = Digests::new(md5);
        for piece in data.chunks(7) {
            d.update(piece);
        }
        d
    }

    #[test]
    fn crc32c_of_rfc_3720_vectors_in_pieces() {
        // RFC 3720 B.4, hashed 7 bytes at a time.
        let incrementing: Vec<u8> = (0..32).collect();
        assert_eq!(digests(&[0u8; 32], false).crc32c(), 0x8a91_36aa);
        assert_eq!(digests(&[0xffu8; 32], false).crc32c(), 0x62a8_ab43);
        assert_eq!(digests(&incrementing, false).crc32c(), 0x46dd_794e);
        assert_eq!(digests(b"", false).crc32c(), 0);
    }

    #[test]
    #[cfg(feature = "md5")]
    fn known_digests() {
        // RFC 3720 B.4: 32 bytes of zeros → CRC32C 0x8a9136aa
        let d = digests(&[0u8; 32], true);
        assert_eq!(d.crc32c(), 0x8a91_36aa);
        // MD5("") and the GCS forms
        let e = digests(b"", true);
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(e.md5_bytes().unwrap()),
            "1B2M2Y8AsgTpgAmY7PhCfg=="
        );
        assert_eq!(e.crc32c_base64(), "AAAAAA==");
    }

    #[test]
    #[cfg(feature = "md5")]
    fn matching_and_mismatching_resources() {
        let data = b"hello, world";
        let d = digests(data, true);
        let md5 = d.md5_bytes().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&md5);
        let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
        let good = serde_json::json!({
            "size": "12", "crc32c": d.crc32c_base64(), "md5Hash": b64,
        });
        check_stored("x", good.to_string().as_bytes(), 12, Some(&d)).unwrap();
        let drive = serde_json::json!({ "size": 12, "md5Checksum": hex.to_uppercase() });
        check_stored("x", drive.to_string().as_bytes(), 12, Some(&d)).unwrap();

        let short = serde_json::json!({ "size": "5" });
        let e = check_stored("x", short.to_string().as_bytes(), 12, Some(&d)).unwrap_err();
        assert!(e.is_integrity(), "{e}");
        assert!(
            e.to_string().contains("`size` 5 bytes, 12 were sent"),
            "{e}"
        );
        let e = check_stored("x", short.to_string().as_bytes(), 12, None).unwrap_err();
        assert!(e.is_integrity());

        let bad_crc = serde_json::json!({ "size": "12", "crc32c": "AAAAAA==" });
        let e = check_stored("x", bad_crc.to_string().as_bytes(), 12, Some(&d)).unwrap_err();
        assert!(e.to_string().contains("crc32c"), "{e}");
        let bad_md5 = serde_json::json!({ "md5Checksum": "00" });
        assert!(check_stored("x", bad_md5.to_string().as_bytes(), 12, Some(&d)).is_err());
        // MD5 not computed: its members are not compared
        let no_md5 = digests(data, false);
        check_stored("x", bad_md5.to_string().as_bytes(), 12, Some(&no_md5)).unwrap();
        // digests of part of the media are not compared (size still is)
        let partial = digests(&data[..5], true);
        check_stored("x", bad_crc.to_string().as_bytes(), 12, Some(&partial)).unwrap();
    }

    #[test]
    fn converted_files_and_other_bodies_are_not_compared() {
        let converted =
            serde_json::json!({ "size": "1", "mimeType": "application/vnd.google-apps.document" });
        check_stored("x", converted.to_string().as_bytes(), 12, None).unwrap();
        check_stored("x", b"not json", 12, None).unwrap();
        check_stored("x", b"[1,2]", 12, None).unwrap();
        check_stored("x", br#"{"id": "no size"}"#, 12, None).unwrap();
    }
}
