//! Helpers shared by the backends.

#![allow(dead_code)] // each helper is used by some combination of features

use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::StorageError;

/// The default table name (SQLite, PostgreSQL).
pub const DEFAULT_TABLE: &str = "gapi_credentials";

/// Checks a table name: one or two (schema-qualified, `schema.table`) SQL
/// identifiers of ASCII letters, digits and `_`, not starting with a digit,
/// 63 bytes at most each. Returns it quoted for SQL.
pub(crate) fn quoted_table(name: &str, allow_schema: bool) -> Result<String, StorageError> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > if allow_schema { 2 } else { 1 } {
        return Err(StorageError::Config(format!(
            "table name `{name}` has too many `.`-separated parts"
        )));
    }
    let mut quoted = Vec::new();
    for p in parts {
        let ok = !p.is_empty()
            && p.len() <= 63
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !p.as_bytes()[0].is_ascii_digit();
        if !ok {
            return Err(StorageError::Config(format!(
                "table name `{name}` is not a plain SQL identifier (ASCII letters, digits and `_`, not starting with a digit, at most 63 bytes)"
            )));
        }
        quoted.push(format!("\"{p}\""));
    }
    Ok(quoted.join("."))
}

/// A 64-bit lock id for `key` in `namespace` (a PostgreSQL advisory lock
/// key): the first 8 bytes of SHA-256. Two keys that collide only share a
/// lock, which is harmless.
pub(crate) fn lock_id(namespace: &str, key: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(b"gapi-storage lock\0");
    h.update(namespace.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs blocking work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> gapi::Result<T> + Send + 'static,
) -> gapi::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        gapi::Error::new(gapi::ErrorKind::Storage, "a storage task failed").with_source(e)
    })?
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        assert_eq!(
            quoted_table("gapi_credentials", false).unwrap(),
            "\"gapi_credentials\""
        );
        assert_eq!(
            quoted_table("app.creds_1", true).unwrap(),
            "\"app\".\"creds_1\""
        );
        for bad in [
            "",
            "1abc",
            "a-b",
            "a;drop",
            "a\"b",
            "a.b.c",
            &"x".repeat(64),
        ] {
            assert!(quoted_table(bad, true).is_err(), "{bad}");
        }
        assert!(quoted_table("a.b", false).is_err());
    }

    #[test]
    fn lock_ids_differ() {
        assert_ne!(lock_id("t", "a"), lock_id("t", "b"));
        assert_ne!(lock_id("t", "a"), lock_id("u", "a"));
        assert_eq!(lock_id("t", "a"), lock_id("t", "a"));
        assert_ne!(lock_id("t", "ab"), lock_id("ta", "b"));
    }
}
