//! [`FileKeyedStorage`]: one [`FileStorage`] per key in a directory, and
//! the encoding of keys as file names.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::KeyedStorage;
use super::file::{DEFAULT_LOCK_TIMEOUT, FileStorage, hex, storage_err};

/// Keys longer than this (once encoded) are stored under a hash.
const MAX_ENCODED_KEY: usize = 180;

/// Encodes a key as a file name: `[a-z0-9_@-]` and non-leading `.` stay,
/// every other byte becomes `%XX` (upper-case letters too, so keys that differ
/// only in case never collide on a case-insensitive file system). Names that
/// would be too long become `~sha256-<hex>` (never produced by the escaping,
/// since `~` is escaped).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, b) in key.bytes().enumerate() {
        let keep = b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || matches!(b, b'_' | b'-' | b'@')
            || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_ENCODED_KEY {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        return format!("~sha256-{}", hex(digest.as_ref()));
    }
    out
}

/// The reverse of [`encode_key`]; `None` for hashed or foreign names.
fn decode_key(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let h = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else if bytes[i] == b'~' {
            return None;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One [`FileStorage`] per key in a directory: the file of key `k` is
/// `<dir>/<encoded k>.json` (see [`FileKeyedStorage::file_name`]), each with
/// its own lock file.
#[derive(Debug, Clone)]
pub struct FileKeyedStorage {
    dir: PathBuf,
    lock_timeout: Duration,
}

impl FileKeyedStorage {
    /// Keys stored under `dir` (created, mode 0700, on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileKeyedStorage {
            dir: dir.into(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// How long each entry's lock waits for another holder.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file name used for `key`: lower-case letters, digits, `_`, `-`, `@`
    /// and non-leading `.` are kept; every other byte is written `%XX`. Names
    /// that would exceed 180 bytes are replaced by `~sha256-<hex of key>`.
    pub fn file_name(key: &str) -> String {
        format!("{}.json", encode_key(key))
    }

    /// The keys that have a stored entry (keys stored under a hash are not
    /// listed).
    pub fn keys(&self) -> crate::Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(storage_err(&self.dir, "could not list", e)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| storage_err(&self.dir, "could not list", e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(stem) = name.strip_suffix(".json")
                && let Some(key) = decode_key(stem)
            {
                keys.push(key);
            }
        }
        keys.sort();
        Ok(keys)
    }
}

impl KeyedStorage for FileKeyedStorage {
    type Entry = FileStorage;

    fn for_key(&self, key: &str) -> FileStorage {
        FileStorage::new(self.dir.join(Self::file_name(key))).with_lock_timeout(self.lock_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::storage::Storage as _;
    use crate::auth::{AccessToken, RefreshToken, UserCredentials};

    fn creds(token: &str) -> UserCredentials {
        UserCredentials::new("cid", None, Some(RefreshToken::new("1//r")))
            .with_access_token(AccessToken::new(token), None)
    }

    #[test]
    fn key_encoding() {
        for key in [
            "alice@example.com",
            "Bob",
            "../etc/passwd",
            ".hidden",
            "",
            "a/b\\c",
            "ünï",
            "~x",
        ] {
            let enc = encode_key(key);
            assert!(
                !enc.contains('/') && !enc.contains('\\') && !enc.starts_with('.'),
                "{enc}"
            );
            assert_eq!(decode_key(&enc).as_deref(), Some(key));
        }
        assert_eq!(encode_key("alice@example.com"), "alice@example.com");
        assert_eq!(encode_key("Bob"), "%42ob");
        assert_ne!(encode_key("Bob"), encode_key("bob"));
        let long = "x".repeat(500);
        let enc = encode_key(&long);
        assert!(enc.starts_with("~sha256-") && enc.len() < 100);
        assert_eq!(decode_key(&enc), None);
    }

    #[tokio::test]
    async fn keyed_storage() {
        let dir = tempfile::tempdir().unwrap();
        let ks = FileKeyedStorage::new(dir.path().join("users"));
        assert!(ks.keys().unwrap().is_empty());
        ks.for_key("alice@example.com")
            .put(&creds("a"))
            .await
            .unwrap();
        ks.for_key("Bob/../x").put(&creds("b")).await.unwrap();
        assert_eq!(
            ks.for_key("alice@example.com").get().await.unwrap(),
            Some(creds("a"))
        );
        assert_eq!(
            ks.for_key("Bob/../x").get().await.unwrap(),
            Some(creds("b"))
        );
        assert!(ks.for_key("carol").get().await.unwrap().is_none());
        assert_eq!(
            ks.keys().unwrap(),
            vec!["Bob/../x".to_owned(), "alice@example.com".to_owned()]
        );
        assert!(dir.path().join("users/alice@example.com.json").exists());
    }
}
