//! The lease of a [`RedisStorage`](super::RedisStorage) entry: the scripts,
//! the task that extends it, and the guard that releases it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gapi::auth::{StorageGuard, UserCredentials};
use gapi::clock::BoxFuture;
use redis::aio::ConnectionManager;

use super::{Keys, Shared};
use crate::StorageError;
use crate::error::Holder;

/// The longest [`StorageGuard::release`] waits for Redis to answer (at most
/// the lease, after which the release has no purpose).
const RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Takes the lease and hands out the next fencing number, atomically. The
/// lease's value is `<token>:<Redis TIME in ms when taken>`.
/// KEYS: lock, fence. ARGV: token, ttl ms.
/// Returns `{fence, now ms, '', 0}` when taken, `{0, now ms, the holder's
/// value, its PTTL}` when held by another.
pub(super) const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
if redis.call('SET', KEYS[1], ARGV[1] .. ':' .. now, 'NX', 'PX', ARGV[2]) then
  return {redis.call('INCR', KEYS[2]), now, '', 0}
end
return {0, now, redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}";

/// Extends the lease if still ours. KEYS: lock. ARGV: lease value, ttl ms.
pub(super) const EXTEND: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0";

/// Releases the lease if still ours. KEYS: lock. ARGV: lease value.
pub(super) const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Writes (or, with an empty value, deletes) the credentials if the lease is
/// still ours and no newer holder wrote: 1 done, 0 lease lost, -1 fenced off.
/// KEYS: lock, data. ARGV: lease value, fence, value ('' = delete).
pub(super) const WRITE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local cur = tonumber(redis.call('HGET', KEYS[2], 'fence') or '0')
if cur > tonumber(ARGV[2]) then
  return -1
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[2], 'credentials')
  redis.call('HSET', KEYS[2], 'fence', ARGV[2])
else
  redis.call('HSET', KEYS[2], 'credentials', ARGV[3], 'fence', ARGV[2])
end
return 1";

/// What the acquire script said about the lease's holder: its value
/// (`<token>:<ms>`, or an older version's bare token), the server's time
/// and the lease's remaining time.
pub(super) fn holder(now: &str, held_by: &str, pttl: i64) -> Holder {
    let since = held_by
        .rsplit_once(':')
        .and_then(|(_, ms)| ms.parse::<u64>().ok());
    let held_for = match (now.parse::<u64>(), since) {
        (Ok(now), Some(since)) => Some(Duration::from_millis(now.saturating_sub(since))),
        _ => None,
    };
    let who = u64::try_from(pttl).ok().map(|ms| {
        format!(
            "lease ending in {}",
            crate::error::millis(Duration::from_millis(ms))
        )
    });
    Holder { held_for, who }
}

/// Extends the lease every third of its TTL until aborted or the lease is
/// found lost.
pub(super) async fn extend_while_held(
    shared: Arc<Shared>,
    keys: Arc<Keys>,
    lease: String,
    lost: Arc<AtomicBool>,
) {
    let Ok(mut conn) = shared.conn().await else {
        return;
    };
    let ttl_ms = shared.lock_ttl.as_millis() as u64;
    loop {
        tokio::time::sleep(shared.lock_ttl / 3).await;
        let r: Result<i64, _> = shared
            .extend
            .key(&keys.lock)
            .arg(&lease)
            .arg(ttl_ms)
            .invoke_async(&mut conn)
            .await;
        match r {
            Ok(1) => {}
            Ok(_) => {
                tracing::warn!(
                    storage = %shared.describe(""),
                    "the redis lock lease was lost while held; writes under it will be refused"
                );
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // Transient: the write script checks the lease anyway.
            Err(e) => tracing::debug!(error = %e, "could not extend the redis lock lease"),
        }
    }
}

/// A held lease.
pub(super) struct RedisGuard {
    pub(super) shared: Arc<Shared>,
    pub(super) keys: Arc<Keys>,
    pub(super) key: String,
    /// The lease's value: `<token>:<ms>`.
    pub(super) lease: String,
    pub(super) fence: i64,
    pub(super) lost: Arc<AtomicBool>,
    pub(super) watchdog: tokio::task::JoinHandle<()>,
    pub(super) conn: ConnectionManager,
    /// Set by `release`: nothing left for `Drop` to do.
    pub(super) released: bool,
}

impl RedisGuard {
    async fn write(&mut self, value: &str) -> gapi::Result<()> {
        let describe = || self.shared.describe(&self.key);
        if self.lost.load(Ordering::SeqCst) {
            return Err(StorageError::LockLost.into_gapi(&describe()));
        }
        let r: i64 = self
            .shared
            .write
            .key(&self.keys.lock)
            .key(&self.keys.data)
            .arg(&self.lease)
            .arg(self.fence)
            .arg(value)
            .invoke_async(&mut self.conn)
            .await
            .map_err(|e| self.shared.err("could not write", e))?;
        if r == 1 {
            Ok(())
        } else {
            self.lost.store(true, Ordering::SeqCst);
            Err(StorageError::LockLost.into_gapi(&describe()))
        }
    }
}

impl StorageGuard for RedisGuard {
    fn get(&mut self) -> BoxFuture<'_, gapi::Result<Option<UserCredentials>>> {
        Box::pin(async move {
            let v: Option<String> = redis::cmd("HGET")
                .arg(&self.keys.data)
                .arg("credentials")
                .query_async(&mut self.conn)
                .await
                .map_err(|e| self.shared.err("could not read", e))?;
            match v {
                None => Ok(None),
                Some(s) => self
                    .shared
                    .codec
                    .decode(&self.key, &s)
                    .map(Some)
                    .map_err(|e| e.into_gapi(&self.shared.describe(&self.key))),
            }
        })
    }

    fn put<'a>(&'a mut self, credentials: &'a UserCredentials) -> BoxFuture<'a, gapi::Result<()>> {
        Box::pin(async move {
            let value = self
                .shared
                .codec
                .encode(&self.key, credentials)
                .map_err(|e| e.into_gapi(&self.shared.describe(&self.key)))?;
            self.write(&value).await
        })
    }

    fn delete(&mut self) -> BoxFuture<'_, gapi::Result<()>> {
        Box::pin(async move { self.write("").await })
    }

    /// Stops extending the lease and deletes it (if still ours), waiting for
    /// Redis's answer (up to 2 s). A failure to reach Redis is logged, not
    /// returned: the work under the lock is done and durable, and the lock
    /// then ends with its lease.
    fn release<'a>(mut self: Box<Self>) -> BoxFuture<'a, gapi::Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move {
            self.released = true;
            self.watchdog.abort();
            let wait = RELEASE_WAIT.min(self.shared.lock_ttl);
            let lease = std::mem::take(&mut self.lease);
            let mut conn = self.conn.clone();
            let mut call = self.shared.release.key(&self.keys.lock);
            call.arg(&lease);
            match tokio::time::timeout(wait, call.invoke_async::<i64>(&mut conn)).await {
                Ok(Ok(1)) => {}
                Ok(Ok(_)) => tracing::warn!(
                    storage = %self.shared.describe(&self.key),
                    "the redis lock lease had already ended at release"
                ),
                Ok(Err(e)) => tracing::warn!(
                    storage = %self.shared.describe(&self.key),
                    error = %e,
                    "could not release the redis lock; it ends with its lease"
                ),
                Err(_) => tracing::warn!(
                    storage = %self.shared.describe(&self.key),
                    "redis did not answer the lock's release in {wait:?}; it ends with its lease"
                ),
            }
            Ok(())
        })
    }
}

impl Drop for RedisGuard {
    /// The fallback for a guard not released: stop extending the lease and
    /// delete it in a spawned task (which a runtime shutting down may never
    /// run; then the lease expires).
    fn drop(&mut self) {
        self.watchdog.abort();
        if self.released {
            return;
        }
        let shared = self.shared.clone();
        let keys = self.keys.clone();
        let lease = std::mem::take(&mut self.lease);
        let mut conn = self.conn.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let r: Result<i64, _> = shared
                    .release
                    .key(&keys.lock)
                    .arg(&lease)
                    .invoke_async(&mut conn)
                    .await;
                if let Err(e) = r {
                    tracing::debug!(error = %e, "could not release the redis lock; it expires with its lease");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_from_the_lease_value() {
        let h = holder("1700000001500", "0123abcd:1700000000000", 3500);
        assert_eq!(h.held_for, Some(Duration::from_millis(1500)));
        assert_eq!(h.who.as_deref(), Some("lease ending in 3.5s"));
        // An older version's bare token, a key without expiry.
        let h = holder("1700000001500", "0123abcd", -1);
        assert!(h.held_for.is_none() && h.who.is_none());
    }
}
