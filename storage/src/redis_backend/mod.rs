//! [`RedisKeyedStorage`]: one hash per key in Redis, locked with a fenced
//! lease.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use gapi::auth::{KeyedStorage, Storage, StorageGuard};
use gapi::clock::BoxFuture;
use rand::Rng as _;
use redis::aio::ConnectionManager;

use crate::codec::Codec;
use crate::error::lock_timeout;
use crate::util::random_hex;
use crate::{DEFAULT_LOCK_TIMEOUT, StorageError};

mod lease;
mod single_use;

pub use single_use::RedisSingleUse;

use lease::{ACQUIRE, EXTEND, RELEASE, RedisGuard, WRITE, extend_while_held, holder};

const BACKEND: &str = "redis";

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "gapi";
/// The default lifetime of a lock lease (5 s); a holder extends it every
/// third of it while it holds the lock, and releases it when its work ends.
///
/// The lease only matters when a holder dies or hangs without releasing: it
/// is how long the lock outlives it. It is well below the default lock
/// timeout ([`DEFAULT_LOCK_TIMEOUT`], 30 s), so that the waiters behind a
/// dead holder get the lock when its lease ends rather than timing out.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(5);

/// Builds a [`RedisKeyedStorage`]; made by [`RedisKeyedStorage::builder`].
#[derive(Debug)]
pub struct RedisKeyedStorageBuilder {
    url: String,
    prefix: String,
    lock_timeout: Duration,
    lock_ttl: Duration,
    codec: Codec,
}

impl RedisKeyedStorageBuilder {
    /// The prefix of every key (default [`DEFAULT_PREFIX`]); no `{`, `}` or
    /// whitespace.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long [`Storage::lock`] waits for another holder; default
    /// [`DEFAULT_LOCK_TIMEOUT`].
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The lifetime of a lease (default [`DEFAULT_LOCK_TTL`], at least
    /// 300 ms): how long a lock outlives a holder that died or hangs (a
    /// holder that lives extends it every third of it, and releases it when
    /// done). Keep it below the lock timeout, so that waiters outlast a dead
    /// holder's lease.
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl.max(Duration::from_millis(300));
        self
    }

    /// Encrypts the stored credentials (feature `encryption`).
    #[cfg(feature = "encryption")]
    pub fn encryption(mut self, encryption: crate::Encryption) -> Self {
        self.codec = Codec::encrypted(encryption);
        self
    }

    /// Checks the settings. No connection is made until the first use.
    pub fn build(self) -> gapi::Result<RedisKeyedStorage> {
        let ctx = "redis storage";
        if self.prefix.is_empty()
            || self
                .prefix
                .chars()
                .any(|c| c == '{' || c == '}' || c.is_whitespace() || c.is_control())
        {
            return Err(StorageError::Config(format!(
                "the key prefix `{}` must be non-empty, without braces or whitespace",
                self.prefix
            ))
            .into_gapi(ctx));
        }
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            StorageError::Config(format!("not a valid Redis URL: {e}")).into_gapi(ctx)
        })?;
        Ok(RedisKeyedStorage {
            shared: Arc::new(Shared {
                client,
                conn: tokio::sync::OnceCell::new(),
                prefix: self.prefix,
                lock_timeout: self.lock_timeout,
                lock_ttl: self.lock_ttl,
                codec: self.codec,
                acquire: redis::Script::new(ACQUIRE),
                extend: redis::Script::new(EXTEND),
                release: redis::Script::new(RELEASE),
                write: redis::Script::new(WRITE),
            }),
        })
    }
}

/// Credentials of many users in Redis.
///
/// Key layout for the entry `k` (with `{…}` a cluster hash tag, so the three
/// keys of an entry live on one shard): `<prefix>:{<k>}:data`, a hash with
/// `credentials` and `fence`; `<prefix>:{<k>}:lock`, the lease; and
/// `<prefix>:{<k>}:fence`, a counter. Bytes of `k` that are braces, `%`,
/// whitespace or control characters are written `%XX`.
///
/// - The lock is a lease: `SET lock <random token>:<time> NX PX <ttl>`,
///   retried with backoff up to the lock timeout, where `<time>` is the
///   server's `TIME` (ms) when it was taken. Taking it also increments the
///   entry's fencing counter (in one script), so every holder has a number
///   larger than all before it. A waiter that times out says how long the
///   holder has held it (from that time) and when its lease ends.
/// - While a guard lives, a task extends the lease every third of its TTL
///   with a compare-and-`PEXPIRE`.
///   [`release`](gapi::auth::StorageGuard::release) (which the runtime calls
///   when the work under the lock ends, before the call that used it
///   returns) stops that task and deletes the lease with a compare-and-`DEL`,
///   waiting for Redis's answer: a process that exits right after `put` or
///   a refresh leaves no lock behind. A guard dropped unreleased (a
///   cancelled future, a panic) releases in a spawned task, which may never
///   run if the runtime is shutting down; then, as when a holder dies, the
///   lock ends with its lease ([`DEFAULT_LOCK_TTL`], 5 s, below the 30 s
///   default lock timeout).
/// - Every `put` and `delete` is one script that checks that the lease is
///   still this holder's and that no holder with a larger fencing number has
///   written: a holder that stalled past its lease cannot overwrite newer
///   credentials ([`StorageError::LockLost`]).
/// - Nothing here expires the credentials themselves; Redis must persist
///   (RDB or AOF) if they are to survive a restart of the server.
///
/// Clones share one multiplexed, reconnecting connection.
#[derive(Clone)]
pub struct RedisKeyedStorage {
    shared: Arc<Shared>,
}

struct Shared {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    prefix: String,
    lock_timeout: Duration,
    lock_ttl: Duration,
    codec: Codec,
    acquire: redis::Script,
    extend: redis::Script,
    release: redis::Script,
    write: redis::Script,
}

impl RedisKeyedStorage {
    /// A builder for the Redis server at `url` (`redis://host:port/db`).
    pub fn builder(url: impl Into<String>) -> RedisKeyedStorageBuilder {
        RedisKeyedStorageBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            lock_ttl: DEFAULT_LOCK_TTL,
            codec: Codec::default(),
        }
    }

    /// A storage at `url` with the defaults.
    pub fn open(url: impl Into<String>) -> gapi::Result<Self> {
        Self::builder(url).build()
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// Connects (otherwise done on first use).
    pub async fn connect(&self) -> gapi::Result<()> {
        self.shared.conn().await.map(drop)
    }

    /// The Redis keys of the entry `key`: `(data, lock, fence)`.
    pub fn redis_keys(&self, key: &str) -> (String, String, String) {
        let k = self.shared.keys(key);
        (k.data, k.lock, k.fence)
    }

    /// Deletes every key under the prefix (for tests and uninstalling).
    pub async fn delete_all(&self) -> gapi::Result<()> {
        let mut conn = self.shared.conn().await?;
        let pattern = format!("{}:*", glob_escape(&self.shared.prefix));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.shared.err("could not scan", e))?;
            if !keys.is_empty() {
                redis::cmd("DEL")
                    .arg(&keys)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| self.shared.err("could not delete", e))?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

impl fmt::Debug for RedisKeyedStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisKeyedStorage")
            .field("server", &self.shared.client.get_connection_info().addr())
            .field("prefix", &self.shared.prefix)
            .field("lock_timeout", &self.shared.lock_timeout)
            .field("lock_ttl", &self.shared.lock_ttl)
            .field("encrypted", &self.shared.codec.is_encrypted())
            .finish()
    }
}

impl KeyedStorage for RedisKeyedStorage {
    type Entry = RedisStorage;

    fn for_key(&self, key: &str) -> RedisStorage {
        RedisStorage {
            keys: Arc::new(self.shared.keys(key)),
            shared: self.shared.clone(),
            key: key.to_owned(),
        }
    }
}

struct Keys {
    data: String,
    lock: String,
    fence: String,
}

fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes what would break the hash tag or the layout. Only ASCII bytes are
/// replaced (by ASCII), so the result is valid UTF-8.
fn escape_key(key: &str) -> String {
    let mut out = Vec::with_capacity(key.len());
    for b in key.bytes() {
        if matches!(b, b'{' | b'}' | b'%') || b.is_ascii_whitespace() || b.is_ascii_control() {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| crate::util::hex(key.as_bytes()))
}

impl Shared {
    fn keys(&self, key: &str) -> Keys {
        let base = format!("{}:{{{}}}", self.prefix, escape_key(key));
        Keys {
            data: format!("{base}:data"),
            lock: format!("{base}:lock"),
            fence: format!("{base}:fence"),
        }
    }

    fn describe(&self, key: &str) -> String {
        format!("redis prefix {} key {key:?}", self.prefix)
    }

    fn err(&self, what: &str, e: redis::RedisError) -> gapi::Error {
        StorageError::backend(BACKEND, what, e).into_gapi(&format!("redis prefix {}", self.prefix))
    }

    async fn conn(&self) -> gapi::Result<ConnectionManager> {
        self.conn
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    Duration::from_secs(10),
                    ConnectionManager::new(self.client.clone()),
                )
                .await
                .map_err(|_| {
                    gapi::Error::new(gapi::ErrorKind::Timeout, "timed out connecting to redis")
                })?
                .map_err(|e| self.err("could not connect", e))
            })
            .await
            .cloned()
    }
}

/// The credentials of one key in a [`RedisKeyedStorage`].
#[derive(Clone)]
pub struct RedisStorage {
    shared: Arc<Shared>,
    keys: Arc<Keys>,
    key: String,
}

impl RedisStorage {
    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for RedisStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shared.describe(&self.key))
    }
}

impl Storage for RedisStorage {
    fn lock(&self) -> BoxFuture<'_, gapi::Result<Box<dyn StorageGuard + '_>>> {
        Box::pin(async move {
            let shared = &self.shared;
            let mut conn = shared.conn().await?;
            let token = random_hex(16);
            let ttl_ms = shared.lock_ttl.as_millis() as u64;
            let deadline = tokio::time::Instant::now() + shared.lock_timeout;
            let mut pause = Duration::from_millis(5);
            let (fence, lease) = loop {
                let (fence, now, held_by, pttl): (i64, String, String, i64) = shared
                    .acquire
                    .key(&self.keys.lock)
                    .key(&self.keys.fence)
                    .arg(&token)
                    .arg(ttl_ms)
                    .invoke_async(&mut conn)
                    .await
                    .map_err(|e| shared.err("could not take the lock", e))?;
                if fence > 0 {
                    break (fence, format!("{token}:{now}"));
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(lock_timeout(
                        &self.describe(),
                        &self.key,
                        shared.lock_timeout,
                        holder(&now, &held_by, pttl),
                    ));
                }
                let jitter = rand::rng().random_range(0..=pause.as_millis() as u64 / 2);
                tokio::time::sleep(pause + Duration::from_millis(jitter)).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            };
            let lost = Arc::new(AtomicBool::new(false));
            let watchdog = tokio::spawn(extend_while_held(
                shared.clone(),
                self.keys.clone(),
                lease.clone(),
                lost.clone(),
            ));
            Ok(Box::new(RedisGuard {
                shared: shared.clone(),
                keys: self.keys.clone(),
                key: self.key.clone(),
                lease,
                fence,
                lost,
                watchdog,
                conn,
                released: false,
            }) as Box<dyn StorageGuard>)
        })
    }

    fn describe(&self) -> String {
        self.shared.describe(&self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_escaped_into_one_hash_tag() {
        assert_eq!(escape_key("alice@example.com"), "alice@example.com");
        assert_eq!(escape_key("a{b}c d%"), "a%7Bb%7Dc%20d%25");
        assert_eq!(escape_key("ünï"), "ünï");
        let s = RedisKeyedStorage::builder("redis://127.0.0.1:1/")
            .prefix("app")
            .build()
            .unwrap();
        let (data, lock, fence) = s.redis_keys("u{1}");
        assert_eq!(data, "app:{u%7B1%7D}:data");
        assert_eq!(lock, "app:{u%7B1%7D}:lock");
        assert_eq!(fence, "app:{u%7B1%7D}:fence");
        for bad in ["", "a{", "a b"] {
            assert!(
                RedisKeyedStorage::builder("redis://127.0.0.1:1/")
                    .prefix(bad)
                    .build()
                    .is_err()
            );
        }
        assert!(RedisKeyedStorage::open("not a url").is_err());
    }
}
