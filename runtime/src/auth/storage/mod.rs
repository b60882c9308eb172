//! Where [`UserCredentials`] live between runs, and the lock that keeps
//! several processes from refreshing the same grant at once.
//!
//! The contract is oauth2client's: [`Storage::lock`] takes the store's lock and
//! returns a [`StorageGuard`] whose `get` / `put` / `delete` run under it;
//! [`Storage::get`], [`Storage::put`] and [`Storage::delete`] are the one-shot
//! conveniences. Before refreshing, [`UserTokenSource`](super::UserTokenSource)
//! re-reads the store under its lock and adopts a token another process
//! already refreshed, then writes its own result back before unlocking; so N
//! processes sharing a [`FileStorage`] make one refresh between them.
//!
//! - [`FileStorage`]: one JSON file, mode 0600, atomic replace, a
//!   cross-process lock file, symlinks refused.
//! - [`MemoryStorage`]: in-process only (tests, short-lived tools).
//! - [`KeyedStorage`]: one entry per user key, like oauth2client's
//!   `StorageByKeyName`: [`FileKeyedStorage`] (a directory with one file per
//!   key) and [`MemoryKeyedStorage`].

use std::sync::Arc;

use super::UserCredentials;
use crate::clock::BoxFuture;

mod file;
mod file_keyed;
mod memory;

pub use file::{DEFAULT_LOCK_TIMEOUT, FileStorage};
pub use file_keyed::FileKeyedStorage;
pub use memory::{MemoryKeyedStorage, MemoryStorage};

/// A store of one user's [`UserCredentials`], with a lock.
///
/// Implement [`Storage::lock`] (and [`StorageGuard`]) for your own backend (a
/// database row, a keyring entry); the other methods have defaults.
pub trait Storage: Send + Sync + 'static {
    /// Takes the store's lock (waiting, up to the store's timeout; a timeout
    /// is an error of kind [`ErrorKind::Timeout`](crate::ErrorKind::Timeout)).
    /// The lock is held until the guard is dropped.
    fn lock(&self) -> BoxFuture<'_, crate::Result<Box<dyn StorageGuard + '_>>>;

    /// A short description for logs and errors (e.g. the file path; never a
    /// secret).
    fn describe(&self) -> String;

    /// Reads the stored credentials under the lock.
    fn get(&self) -> BoxFuture<'_, crate::Result<Option<UserCredentials>>> {
        Box::pin(async move {
            let mut guard = self.lock().await?;
            let out = guard.get().await;
            finish(guard, out).await
        })
    }

    /// Replaces the stored credentials under the lock.
    fn put<'a>(&'a self, credentials: &'a UserCredentials) -> BoxFuture<'a, crate::Result<()>> {
        Box::pin(async move {
            let mut guard = self.lock().await?;
            let out = guard.put(credentials).await;
            finish(guard, out).await
        })
    }

    /// Deletes the stored credentials under the lock (absent is not an error).
    fn delete(&self) -> BoxFuture<'_, crate::Result<()>> {
        Box::pin(async move {
            let mut guard = self.lock().await?;
            let out = guard.delete().await;
            finish(guard, out).await
        })
    }
}

/// Releases `guard` and returns `out` — or the release's error, when `out`
/// succeeded and the release did not.
pub(crate) async fn finish<T>(
    guard: Box<dyn StorageGuard + '_>,
    out: crate::Result<T>,
) -> crate::Result<T> {
    let released = guard.release().await;
    match (out, released) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) | (Err(e), _) => Err(e),
    }
}

/// A held storage lock: the `locked_get` / `locked_put` / `locked_delete` of
/// oauth2client.
///
/// Give the lock back with [`release`](StorageGuard::release) when the work
/// under it is done: a backend whose unlock is a network round trip (a
/// Redis lease) does it there, before the caller goes on — a process that
/// exits right after `put` leaves no lock behind. Dropping a guard without
/// releasing it (a panic, a cancelled future) still releases it as well as
/// the backend can without waiting: at once for OS file locks and database
/// sessions, at the end of its lease for Redis.
pub trait StorageGuard: Send {
    /// Reads the stored credentials; `None` when nothing is stored.
    fn get(&mut self) -> BoxFuture<'_, crate::Result<Option<UserCredentials>>>;
    /// Replaces the stored credentials.
    fn put<'a>(&'a mut self, credentials: &'a UserCredentials) -> BoxFuture<'a, crate::Result<()>>;
    /// Deletes the stored credentials (absent is not an error).
    fn delete(&mut self) -> BoxFuture<'_, crate::Result<()>>;
    /// Releases the lock and waits until it is released. The default drops
    /// the guard (right for locks that dropping releases at once).
    fn release<'a>(self: Box<Self>) -> BoxFuture<'a, crate::Result<()>>
    where
        Self: 'a,
    {
        drop(self);
        Box::pin(async { Ok(()) })
    }
}

impl<S: Storage + ?Sized> Storage for Arc<S> {
    fn lock(&self) -> BoxFuture<'_, crate::Result<Box<dyn StorageGuard + '_>>> {
        (**self).lock()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<S: Storage + ?Sized> Storage for Box<S> {
    fn lock(&self) -> BoxFuture<'_, crate::Result<Box<dyn StorageGuard + '_>>> {
        (**self).lock()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A family of stores, one per user key (a user id, an email address, a
/// session id), like oauth2client's `StorageByKeyName`.
pub trait KeyedStorage: Send + Sync + 'static {
    /// The store of one key.
    type Entry: Storage + Clone;

    /// The store of `key`. Any string is a valid key.
    fn for_key(&self, key: &str) -> Self::Entry;
}
