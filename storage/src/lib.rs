//! # gapi-storage
//!
//! Keyed storage of users' OAuth 2.0 credentials for [`gapi`], in a database
//! that several processes and machines share: [SQLite](SqliteKeyedStorage)
//! (feature `sqlite`, the default), [PostgreSQL](PostgresKeyedStorage)
//! (feature `postgres`) and [Redis](RedisKeyedStorage) (feature `redis`), with
//! optional [encryption at rest](Encryption) (feature `encryption`).
//!
//! Each backend implements [`gapi::auth::KeyedStorage`]: `for_key(user)` gives
//! the [`gapi::auth::Storage`] of one user, with the contract of the runtime's
//! `FileStorage`: [`Storage::lock`](gapi::auth::Storage::lock) takes a lock that
//! excludes every other process and machine using the same database, and the
//! [`StorageGuard`](gapi::auth::StorageGuard)'s `get` / `put` / `delete` run
//! under it. A [`UserTokenSource`](gapi::auth::UserTokenSource) built on such
//! an entry re-reads the stored credentials under the lock before refreshing
//! and adopts a token another process already refreshed, so any number of
//! workers sharing one user's grant make one refresh between them, and a
//! refresh token rotated by one of them is never overwritten by a stale copy.
//! Credentials the authorization server rejected are stored marked invalid.
//!
//! Every entry has a lock of its own: holders of different keys never wait
//! for each other. The runtime calls
//! [`StorageGuard::release`](gapi::auth::StorageGuard::release) when the work
//! under a lock ends (a refresh written back, a `get` or `put` done), and
//! every backend unlocks there, waiting for the database, before that call
//! returns: a process that exits right after storing credentials leaves no
//! lock behind. Dropping a guard unreleased (a panic, a cancelled future) is
//! the fallback in the last column.
//!
//! | backend | the lock | released | when the holder dies (or a guard is dropped unreleased) |
//! |---|---|---|---|
//! | SQLite | an OS file lock (`flock`) on `<database>.locks/<hash of table and key>.lock`, polled up to the lock timeout; each `get` / `put` is one short transaction, durable when it returns | unlocked by `release` | at once: the OS drops the file lock |
//! | PostgreSQL | `pg_advisory_lock` on a 64-bit hash of table and key, on a connection the guard keeps (waiting up to `lock_timeout`); writes are durable at once | `pg_advisory_unlock`, awaited | at once: the server ends the session and its locks |
//! | Redis | a lease `SET lock token:time NX PX ttl` (5 s), extended every third of it while held; every write is checked against the lease and a fencing number in one script | compare-and-`DEL`, awaited | when the lease expires (at most 5 s, below the 30 s lock timeout) |
//!
//! A caller that times out waiting for a lock gets a
//! [`StorageError::LockTimeout`] naming the key and, where the backend can
//! tell, who holds the lock and for how long: the process id and the time
//! it wrote into the lock file (SQLite), the backend pid and the time in
//! its `application_name` (PostgreSQL), the time of the lease and when it
//! ends (Redis).
//!
//! Tables (and the Redis key layout) are created on first use; creating them
//! again is harmless, also from several processes at once.
//!
//! Beside the credentials, each backend keeps **single-use values**
//! ([`HasSingleUse::single_use`], a [`SingleUseStore`]): short-lived,
//! expiring entries taken at most once by an atomic `DELETE … RETURNING` or
//! `GETDEL`. gapi-axum keeps its authorizations in progress there, so that a
//! sign-in begun on one server process can complete on another.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn run() -> gapi::Result<()> {
//! use gapi::auth::{KeyedStorage, UserTokenSource};
//! use gapi_storage::SqliteKeyedStorage;
//!
//! let users = SqliteKeyedStorage::builder("/var/lib/my-app/credentials.sqlite").build()?;
//! if let Some(builder) = UserTokenSource::from_storage(users.for_key("alice@example.com")).await? {
//!     let client = gapi::Client::new(builder.build().credentials())?;
//!     # let _ = client;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Errors are [`gapi::Error`]s of kind [`Storage`](gapi::ErrorKind::Storage)
//! (or [`Timeout`](gapi::ErrorKind::Timeout) when the lock could not be taken
//! in time) whose source is a typed [`StorageError`]; [`storage_error`] finds
//! it. A value that cannot be decrypted is such an error, never a panic.

#![warn(missing_docs)]
// Without a backend only the error and encryption types are left.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "redis")),
    allow(dead_code)
)]

mod codec;
mod error;
mod single_use;
mod util;

#[cfg(feature = "encryption")]
mod encryption;
#[cfg(feature = "sqlite")]
mod key_lock;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis_backend;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::{StorageError, storage_error};
pub use single_use::{HasSingleUse, SingleUseStore};
pub use util::DEFAULT_TABLE;

#[cfg(feature = "encryption")]
pub use encryption::{Encryption, EncryptionKey};
#[cfg(feature = "postgres")]
pub use postgres::{
    PostgresKeyedStorage, PostgresKeyedStorageBuilder, PostgresSingleUse, PostgresStorage,
};
#[cfg(feature = "redis")]
pub use redis_backend::{
    DEFAULT_LOCK_TTL, DEFAULT_PREFIX, RedisKeyedStorage, RedisKeyedStorageBuilder, RedisSingleUse,
    RedisStorage,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteKeyedStorage, SqliteKeyedStorageBuilder, SqliteSingleUse, SqliteStorage};

/// The default time to wait for another holder of a lock (the same as the
/// runtime's `FileStorage`).
pub const DEFAULT_LOCK_TIMEOUT: std::time::Duration = gapi::auth::DEFAULT_LOCK_TIMEOUT;
