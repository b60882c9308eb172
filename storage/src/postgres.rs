//! [`PostgresKeyedStorage`]: one row per key in a PostgreSQL table, locked
//! with session advisory locks.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gapi::auth::{KeyedStorage, Storage, StorageGuard, UserCredentials};
use gapi::clock::BoxFuture;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use crate::codec::Codec;
use crate::error::{Holder, lock_timeout};
use crate::util::{DEFAULT_TABLE, lock_id, quoted_table};
use crate::{DEFAULT_LOCK_TIMEOUT, StorageError};

#[path = "postgres_single_use.rs"]
mod single_use;
pub use single_use::PostgresSingleUse;

const BACKEND: &str = "postgres";
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;
/// Extra time allowed beyond the lock timeout before the client gives up on
/// an unresponsive server.
const GRACE: Duration = Duration::from_secs(10);
/// How long a waiter that timed out asks the server about the holder, and
/// `release` waits for the unlock.
const SHORT: Duration = Duration::from_secs(2);
/// A holder's `application_name` while it holds a lock: this, then the
/// server's clock (Unix ms) when it took it.
const HOLDER_MARK: &str = "gapi-storage lock since ";

/// Builds a [`PostgresKeyedStorage`]; made by [`PostgresKeyedStorage::builder`].
#[derive(Debug)]
pub struct PostgresKeyedStorageBuilder {
    url: String,
    table: String,
    lock_timeout: Duration,
    codec: Codec,
}

impl PostgresKeyedStorageBuilder {
    /// The table (default [`DEFAULT_TABLE`]), optionally schema-qualified
    /// (`schema.table`): ASCII letters, digits and `_`.
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// How long [`Storage::lock`] waits for another holder (the session's
    /// `lock_timeout` while waiting for the advisory lock); default
    /// [`DEFAULT_LOCK_TIMEOUT`].
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Encrypts the stored credentials (feature `encryption`).
    #[cfg(feature = "encryption")]
    pub fn encryption(mut self, encryption: crate::Encryption) -> Self {
        self.codec = Codec::encrypted(encryption);
        self
    }

    /// Checks the settings. No connection is made until the first use.
    pub fn build(self) -> gapi::Result<PostgresKeyedStorage> {
        let ctx = "postgres storage";
        let quoted = quoted_table(&self.table, true).map_err(|e| e.into_gapi(ctx))?;
        let config: tokio_postgres::Config = self.url.parse().map_err(|e| {
            StorageError::Config(format!(
                "not a valid PostgreSQL URL or connection string: {e}"
            ))
            .into_gapi(ctx)
        })?;
        Ok(PostgresKeyedStorage {
            shared: Arc::new(Shared {
                config,
                table: self.table,
                quoted,
                lock_timeout: self.lock_timeout,
                codec: self.codec,
                schema: tokio::sync::OnceCell::new(),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }
}

/// Credentials of many users in a PostgreSQL table
/// `(key TEXT PRIMARY KEY, credentials TEXT, updated_at TIMESTAMPTZ)` created
/// on first use.
///
/// - The lock of an entry is a session advisory lock
///   (`pg_advisory_lock(id)`, where `id` is a 64-bit hash of table and key)
///   taken on a connection the guard keeps, waiting up to the lock timeout
///   (the session's `lock_timeout`). It excludes every process on every
///   machine using the same database and table; different keys do not wait
///   for each other. When its holder dies, the server ends the session and
///   the lock with it.
/// - While it holds a lock, the session's `application_name` is
///   `gapi-storage lock since <server time in ms>` (the connection's own
///   name again once released), so that a waiter that times out can say,
///   from `pg_locks` and `pg_stat_activity`, which backend holds the lock
///   and for how long.
/// - [`release`](gapi::auth::StorageGuard::release) (which the runtime calls
///   when the work under the lock ends) runs `pg_advisory_unlock` and waits
///   for it; the connection then goes back to the pool. A guard dropped
///   unreleased unlocks in a spawned task, or closes its connection, which
///   ends the lock as well.
/// - `get`, `put` and `delete` run on that same connection, so a write can
///   only happen while the lock is held: if the connection broke, the lock is
///   gone and so is the write's connection. Writes are durable when they
///   return (autocommit).
/// - No TLS: meant for a database on the same host or a private network
///   (the connection string is tokio-postgres's: a URL
///   `postgres://user@host:port/db` or `host=... user=...`).
///
/// Clones share a small pool of connections.
#[derive(Clone)]
pub struct PostgresKeyedStorage {
    shared: Arc<Shared>,
}

struct Shared {
    config: tokio_postgres::Config,
    table: String,
    quoted: String,
    lock_timeout: Duration,
    codec: Codec,
    schema: tokio::sync::OnceCell<()>,
    idle: Mutex<Vec<Client>>,
}

impl PostgresKeyedStorage {
    /// A builder for the database at `url`.
    pub fn builder(url: impl Into<String>) -> PostgresKeyedStorageBuilder {
        PostgresKeyedStorageBuilder {
            url: url.into(),
            table: DEFAULT_TABLE.to_owned(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            codec: Codec::default(),
        }
    }

    /// A storage for the database at `url` with the defaults.
    pub fn open(url: impl Into<String>) -> gapi::Result<Self> {
        Self::builder(url).build()
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.shared.table
    }

    /// Connects and creates the table if needed (otherwise done on first use).
    pub async fn ensure_schema(&self) -> gapi::Result<()> {
        let client = self.shared.checkout().await?;
        self.shared.give_back(client);
        Ok(())
    }

    /// The keys that have stored credentials, sorted.
    pub async fn keys(&self) -> gapi::Result<Vec<String>> {
        let client = self.shared.checkout().await?;
        let rows = client
            .query(
                &format!("SELECT key FROM {} ORDER BY key", self.shared.quoted),
                &[],
            )
            .await
            .map_err(|e| self.shared.err("could not list the keys", e))?;
        self.shared.give_back(client);
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Drops the table (for tests and uninstalling).
    pub async fn drop_table(&self) -> gapi::Result<()> {
        let client = self.shared.checkout().await?;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {}", self.shared.quoted))
            .await
            .map_err(|e| self.shared.err("could not drop the table", e))?;
        Ok(())
    }
}

impl fmt::Debug for PostgresKeyedStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresKeyedStorage")
            .field("hosts", &self.shared.config.get_hosts())
            .field("dbname", &self.shared.config.get_dbname())
            .field("table", &self.shared.table)
            .field("lock_timeout", &self.shared.lock_timeout)
            .field("encrypted", &self.shared.codec.is_encrypted())
            .finish()
    }
}

impl KeyedStorage for PostgresKeyedStorage {
    type Entry = PostgresStorage;

    fn for_key(&self, key: &str) -> PostgresStorage {
        PostgresStorage {
            shared: self.shared.clone(),
            key: key.to_owned(),
            lock_id: lock_id(&self.shared.table, key),
        }
    }
}

impl Shared {
    fn describe(&self, key: &str) -> String {
        format!(
            "postgres {} table {} key {key:?}",
            self.config.get_dbname().unwrap_or("?"),
            self.table
        )
    }

    fn err(&self, what: &str, e: tokio_postgres::Error) -> gapi::Error {
        StorageError::backend(BACKEND, what, e).into_gapi(&format!(
            "postgres {} table {}",
            self.config.get_dbname().unwrap_or("?"),
            self.table
        ))
    }

    async fn connect(&self) -> gapi::Result<Client> {
        let connect = self.config.connect(NoTls);
        let (client, connection) = tokio::time::timeout(GRACE, connect)
            .await
            .map_err(|_| {
                gapi::Error::new(
                    gapi::ErrorKind::Timeout,
                    format!("timed out connecting to postgres for {}", self.table),
                )
            })?
            .map_err(|e| self.err("could not connect", e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a postgres connection ended");
            }
        });
        let ms = self.lock_timeout.as_millis().clamp(1, i32::MAX as u128);
        client
            .batch_execute(&format!("SET lock_timeout = '{ms}ms'"))
            .await
            .map_err(|e| self.err("could not set lock_timeout", e))?;
        Ok(client)
    }

    /// An idle connection or a new one, with the table in place.
    async fn checkout(&self) -> gapi::Result<Client> {
        let pooled = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(|c| !c.is_closed());
            idle.pop()
        };
        let client = match pooled {
            Some(c) => c,
            None => self.connect().await?,
        };
        self.schema
            .get_or_try_init(|| self.create_table(&client))
            .await?;
        Ok(client)
    }

    /// Creates the table; concurrent creators are serialized by a
    /// transaction-level advisory lock (`CREATE TABLE IF NOT EXISTS` alone
    /// can fail when two sessions run it at once).
    async fn create_table(&self, client: &Client) -> gapi::Result<()> {
        let id = lock_id("gapi-storage schema", &self.table);
        let sql = format!(
            "BEGIN; \
             SELECT pg_advisory_xact_lock({id}); \
             CREATE TABLE IF NOT EXISTS {} (\
               key TEXT PRIMARY KEY, \
               credentials TEXT NOT NULL, \
               updated_at TIMESTAMPTZ NOT NULL DEFAULT now()); \
             COMMIT;",
            self.quoted
        );
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(self.err("could not create the table", e));
        }
        Ok(())
    }

    fn give_back(&self, client: Client) {
        if client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(client);
        }
    }
}

/// The credentials of one key in a [`PostgresKeyedStorage`].
#[derive(Clone)]
pub struct PostgresStorage {
    shared: Arc<Shared>,
    key: String,
    lock_id: i64,
}

impl PostgresStorage {
    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The advisory lock id of this entry (`pg_advisory_lock(id)`).
    pub fn lock_id(&self) -> i64 {
        self.lock_id
    }
}

impl fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shared.describe(&self.key))
    }
}

impl Storage for PostgresStorage {
    fn lock(&self) -> BoxFuture<'_, gapi::Result<Box<dyn StorageGuard + '_>>> {
        Box::pin(async move {
            let shared = &self.shared;
            let client = shared.checkout().await?;
            let wait = shared.lock_timeout + GRACE;
            // One round trip: the lock, then (once it is granted) the mark.
            let sql = format!(
                "SELECT pg_advisory_lock({id}); \
                 SELECT set_config('application_name', '{HOLDER_MARK}' || \
                   floor(extract(epoch from clock_timestamp()) * 1000)::bigint, false)",
                id = self.lock_id
            );
            let locked = tokio::time::timeout(wait, client.batch_execute(&sql)).await;
            match locked {
                Ok(Ok(_)) => Ok(Box::new(PgGuard {
                    client: Some(client),
                    shared: shared.clone(),
                    key: self.key.clone(),
                    lock_id: self.lock_id,
                }) as Box<dyn StorageGuard>),
                Ok(Err(e)) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                    // Not held: the connection is clean and can be reused.
                    let holder = self.holder(&client).await;
                    shared.give_back(client);
                    Err(lock_timeout(
                        &self.describe(),
                        &self.key,
                        shared.lock_timeout,
                        holder,
                    ))
                }
                Ok(Err(e)) => Err(shared.err("could not take the advisory lock", e)),
                // The server did not answer: drop the connection (the server
                // releases whatever it was granting when it notices).
                Err(_) => Err(lock_timeout(
                    &self.describe(),
                    &self.key,
                    wait,
                    Holder::default(),
                )),
            }
        })
    }

    fn describe(&self) -> String {
        self.shared.describe(&self.key)
    }
}

impl PostgresStorage {
    /// Who holds this entry's advisory lock, from `pg_locks` and
    /// `pg_stat_activity` (best effort: nothing when it cannot be read).
    async fn holder(&self, client: &Client) -> Holder {
        let id = self.lock_id as u64;
        let (classid, objid) = ((id >> 32) as u32, id as u32);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&classid, &objid];
        let query = client.query_opt(
            "SELECT a.pid, a.application_name, \
               floor(extract(epoch from clock_timestamp()) * 1000)::bigint \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.classid = $1 AND l.objid = $2 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             LIMIT 1",
            &params,
        );
        match tokio::time::timeout(SHORT, query).await {
            Ok(Ok(Some(row))) => {
                let pid: i32 = row.get(0);
                let name: Option<String> = row.get(1);
                let now: i64 = row.get(2);
                let since = name
                    .as_deref()
                    .and_then(|n| n.strip_prefix(HOLDER_MARK))
                    .and_then(|ms| ms.parse::<i64>().ok());
                Holder {
                    held_for: since
                        .map(|s| Duration::from_millis(now.saturating_sub(s).max(0) as u64)),
                    who: Some(format!("backend pid {pid}")),
                }
            }
            Ok(Ok(None)) => Holder::default(),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "could not look up the advisory lock's holder");
                Holder::default()
            }
            Err(_) => Holder::default(),
        }
    }
}

/// A held advisory lock and the connection (session) that holds it.
struct PgGuard {
    client: Option<Client>,
    shared: Arc<Shared>,
    key: String,
    lock_id: i64,
}

impl PgGuard {
    fn client(&self) -> gapi::Result<&Client> {
        match &self.client {
            Some(c) if !c.is_closed() => Ok(c),
            _ => Err(StorageError::LockLost.into_gapi(&self.shared.describe(&self.key))),
        }
    }

    /// A failed statement: when the connection is gone, so is the lock.
    fn failed(&self, what: &str, e: tokio_postgres::Error) -> gapi::Error {
        if e.is_closed() || self.client.as_ref().is_none_or(|c| c.is_closed()) {
            return StorageError::LockLost.into_gapi(&self.shared.describe(&self.key));
        }
        self.shared.err(what, e)
    }
}

impl StorageGuard for PgGuard {
    fn get(&mut self) -> BoxFuture<'_, gapi::Result<Option<UserCredentials>>> {
        Box::pin(async move {
            let sql = format!(
                "SELECT credentials FROM {} WHERE key = $1",
                self.shared.quoted
            );
            let row = self
                .client()?
                .query_opt(&sql, &[&self.key])
                .await
                .map_err(|e| self.failed("could not read", e))?;
            match row {
                None => Ok(None),
                Some(r) => {
                    let s: String = r.get(0);
                    self.shared
                        .codec
                        .decode(&self.key, &s)
                        .map(Some)
                        .map_err(|e| e.into_gapi(&self.shared.describe(&self.key)))
                }
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
            let sql = format!(
                "INSERT INTO {} (key, credentials, updated_at) VALUES ($1, $2, now()) \
                 ON CONFLICT (key) DO UPDATE SET credentials = EXCLUDED.credentials, \
                 updated_at = EXCLUDED.updated_at",
                self.shared.quoted
            );
            self.client()?
                .execute(&sql, &[&self.key, &value])
                .await
                .map_err(|e| self.failed("could not write", e))?;
            Ok(())
        })
    }

    /// Unlocks (`pg_advisory_unlock`), waiting for the server's answer (up
    /// to 2 s), and returns the connection to the pool. A failure is logged,
    /// not returned: the connection is closed then, which ends the lock.
    fn release<'a>(mut self: Box<Self>) -> BoxFuture<'a, gapi::Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move {
            if let Some(client) = self.client.take() {
                let describe = self.shared.describe(&self.key);
                unlock(self.shared.clone(), client, self.lock_id, describe).await;
            }
            Ok(())
        })
    }

    fn delete(&mut self) -> BoxFuture<'_, gapi::Result<()>> {
        Box::pin(async move {
            let sql = format!("DELETE FROM {} WHERE key = $1", self.shared.quoted);
            self.client()?
                .execute(&sql, &[&self.key])
                .await
                .map_err(|e| self.failed("could not delete", e))?;
            Ok(())
        })
    }
}

/// Unlocks `id` on `client` and gives the connection back to the pool, or
/// closes it (which ends the lock too) when that fails.
async fn unlock(shared: Arc<Shared>, client: Client, id: i64, describe: String) {
    let name = shared.config.get_application_name().unwrap_or("");
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&id, &name];
    let call = client.query_one(
        "SELECT pg_advisory_unlock($1), set_config('application_name', $2, false)",
        &params,
    );
    match tokio::time::timeout(SHORT, call).await {
        // Reuse only a connection known to hold no lock: advisory locks are
        // re-entrant within a session.
        Ok(Ok(row)) if row.get::<_, bool>(0) => shared.give_back(client),
        Ok(Ok(_)) => {
            tracing::warn!(storage = %describe, "the advisory lock was not held at release")
        }
        Ok(Err(e)) => tracing::debug!(
            storage = %describe,
            error = %e,
            "could not release the advisory lock; closing the connection"
        ),
        Err(_) => tracing::warn!(
            storage = %describe,
            "postgres did not answer the unlock in {SHORT:?}; closing the connection"
        ),
    }
}

impl Drop for PgGuard {
    /// The fallback for a guard not released: unlock in a spawned task, or
    /// (without a runtime) close the connection, which ends the lock.
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let describe = self.shared.describe(&self.key);
            rt.spawn(unlock(self.shared.clone(), client, self.lock_id, describe));
        }
    }
}
