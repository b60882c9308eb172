//! [`StorageError`]: what went wrong in a backend, typed.

use std::error::Error as StdError;

/// A failure of a storage backend. It reaches callers as the source of a
/// [`gapi::Error`] of kind [`Storage`](gapi::ErrorKind::Storage); use
/// [`storage_error`] to get it back.
///
/// No variant's message contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The stored value is encrypted but this storage has no encryption key
    /// (or was built without the `encryption` feature).
    #[error("the stored credentials are encrypted, but no encryption key is configured")]
    EncryptedWithoutKey,
    /// The stored value was encrypted with a key this storage does not have
    /// (add it with `Encryption::with_previous_key` when rotating keys).
    #[error("the stored credentials are encrypted with an unknown key (key id {key_id})")]
    UnknownKey {
        /// The key id recorded with the value (not secret: a truncated hash).
        key_id: String,
    },
    /// Decryption failed: the key is wrong, the value was altered, or it was
    /// copied from another key's entry.
    #[error(
        "could not decrypt the stored credentials: wrong key, altered data, or a value copied from another entry"
    )]
    Decrypt,
    /// The stored value is not encrypted but this storage requires
    /// encryption (see `Encryption::allow_plaintext` to migrate old rows).
    #[error("the stored credentials are not encrypted, and this storage requires encryption")]
    Plaintext,
    /// The stored value is not in a format this crate reads.
    #[error("the stored credentials are malformed: {0}")]
    Malformed(String),
    /// The decrypted value is not valid credentials JSON.
    #[error("the stored value is not valid credentials")]
    Corrupt(#[source] gapi::Error),
    /// The lock was lost before a write (a Redis lease expired and another
    /// holder took it, or the connection holding it broke): the write was
    /// refused so that a stale holder cannot overwrite newer credentials.
    #[error("the storage lock was lost before this write; the write was refused")]
    LockLost,
    /// A setting is invalid (a table name, a prefix, a URL).
    #[error("invalid storage configuration: {0}")]
    Config(String),
    /// The database reported an error.
    #[error("{backend}: {message}")]
    Backend {
        /// `sqlite`, `postgres` or `redis`.
        backend: &'static str,
        /// What was being done, and the database's message.
        message: String,
        /// The driver's error.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    },
}

impl StorageError {
    /// A backend error with the driver's error as its source.
    pub(crate) fn backend(
        backend: &'static str,
        what: &str,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        StorageError::Backend {
            backend,
            message: format!("{what}: {source}"),
            source: Some(Box::new(source)),
        }
    }

    /// Whether this is one of the decryption failures.
    pub fn is_decryption_error(&self) -> bool {
        matches!(
            self,
            StorageError::EncryptedWithoutKey
                | StorageError::UnknownKey { .. }
                | StorageError::Decrypt
                | StorageError::Plaintext
                | StorageError::Malformed(_)
        )
    }

    /// Wraps this error in a [`gapi::Error`] of kind `Storage` whose message
    /// names the storage (`describe`).
    pub(crate) fn into_gapi(self, describe: &str) -> gapi::Error {
        gapi::Error::new(gapi::ErrorKind::Storage, describe.to_owned()).with_source(self)
    }
}

/// The [`StorageError`] behind a [`gapi::Error`] returned by a storage of this
/// crate, if there is one (anywhere in its chain of sources).
///
/// ```
/// # fn check(e: &gapi::Error) {
/// if let Some(gapi_storage::StorageError::Decrypt) = gapi_storage::storage_error(e) {
///     eprintln!("wrong encryption key?");
/// }
/// # }
/// ```
pub fn storage_error(err: &gapi::Error) -> Option<&StorageError> {
    let mut cur: Option<&(dyn StdError + 'static)> = StdError::source(err);
    while let Some(e) = cur {
        if let Some(s) = e.downcast_ref::<StorageError>() {
            return Some(s);
        }
        cur = e.source();
    }
    None
}

/// A [`gapi::ErrorKind::Timeout`] error for a lock not obtained in time.
pub(crate) fn lock_timeout(describe: &str, waited: std::time::Duration) -> gapi::Error {
    gapi::Error::new(
        gapi::ErrorKind::Timeout,
        format!("timed out after {waited:?} waiting for the lock of {describe}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_through_the_gapi_error() {
        let e = StorageError::Decrypt.into_gapi("sqlite x");
        assert_eq!(e.kind(), gapi::ErrorKind::Storage);
        assert!(matches!(storage_error(&e), Some(StorageError::Decrypt)));
        assert!(
            e.to_string().starts_with("sqlite x: could not decrypt"),
            "{e}"
        );
        let plain = gapi::Error::new(gapi::ErrorKind::Storage, "other");
        assert!(storage_error(&plain).is_none());
    }
}
