//! [`StorageError`]: what went wrong in a backend, typed.

use std::error::Error as StdError;
use std::time::Duration;

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
    /// holder took it, the connection holding it broke, or an SQLite lock
    /// file was removed): the write was refused so that a stale holder
    /// cannot overwrite newer credentials.
    #[error("the storage lock was lost before this write; the write was refused")]
    LockLost,
    /// The lock of an entry was not obtained in time: another holder kept it
    /// for the whole lock timeout. The [`gapi::Error`] around it is of kind
    /// [`Timeout`](gapi::ErrorKind::Timeout).
    #[error(
        "timed out after {} waiting for the lock of key {key:?}{}",
        millis(*.waited),
        holder_text(.held_for, .holder)
    )]
    LockTimeout {
        /// The entry's key.
        key: String,
        /// How long this caller waited.
        waited: Duration,
        /// How long the current holder has held the lock, when the backend
        /// can tell (the holder records when it took the lock).
        held_for: Option<Duration>,
        /// Who holds it, as far as the backend can tell (a process id, a
        /// database session, the rest of a lease).
        holder: Option<String>,
    },
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

    /// Wraps this error in a [`gapi::Error`] of kind `Storage` (`Timeout` for
    /// [`LockTimeout`](StorageError::LockTimeout)) whose message names the
    /// storage (`describe`) and says what went wrong.
    pub(crate) fn into_gapi(self, describe: &str) -> gapi::Error {
        let kind = match self {
            StorageError::LockTimeout { .. } => gapi::ErrorKind::Timeout,
            _ => gapi::ErrorKind::Storage,
        };
        gapi::Error::new(kind, format!("{describe}: {self}")).with_source(self)
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

/// What a waiter that timed out learned about the lock's holder.
#[derive(Debug, Default)]
pub(crate) struct Holder {
    /// How long it has held the lock.
    pub held_for: Option<Duration>,
    /// Who it is.
    pub who: Option<String>,
}

/// A [`gapi::ErrorKind::Timeout`] error for the lock of `key` not obtained
/// in `waited`, saying what is known of its holder.
pub(crate) fn lock_timeout(
    describe: &str,
    key: &str,
    waited: Duration,
    holder: Holder,
) -> gapi::Error {
    StorageError::LockTimeout {
        key: key.to_owned(),
        waited,
        held_for: holder.held_for,
        holder: holder.who,
    }
    .into_gapi(describe)
}

/// A duration rounded to milliseconds, for messages (`1.234s`).
pub(crate) fn millis(d: Duration) -> String {
    format!("{:?}", Duration::from_millis(d.as_millis() as u64))
}

fn holder_text(held_for: &Option<Duration>, holder: &Option<String>) -> String {
    match (*held_for, holder.as_deref()) {
        (Some(d), Some(h)) => format!("; its holder ({h}) has held it for {}", millis(d)),
        (Some(d), None) => format!("; its holder has held it for {}", millis(d)),
        (None, Some(h)) => format!("; its holder ({h}) did not say since when"),
        (None, None) => String::new(),
    }
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

    #[test]
    fn lock_timeouts_say_key_and_holder() {
        let e = lock_timeout(
            "redis prefix p key \"k\"",
            "k",
            Duration::from_millis(300),
            Holder {
                held_for: Some(Duration::from_micros(1_234_567)),
                who: Some("process 7".into()),
            },
        );
        assert!(e.is_timeout());
        assert_eq!(
            e.to_string(),
            "redis prefix p key \"k\": timed out after 300ms waiting for the lock of key \"k\"; \
             its holder (process 7) has held it for 1.234s"
        );
        let Some(StorageError::LockTimeout { held_for, .. }) = storage_error(&e) else {
            panic!("{e:?}");
        };
        assert_eq!(*held_for, Some(Duration::from_micros(1_234_567)));
        let bare = lock_timeout("x", "k", Duration::from_secs(1), Holder::default());
        assert!(
            bare.to_string()
                .ends_with("waiting for the lock of key \"k\""),
            "{bare}"
        );
    }
}
