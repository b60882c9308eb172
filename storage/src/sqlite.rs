//! [`SqliteKeyedStorage`]: one row per key in an SQLite database file,
//! locked per key with OS file locks beside it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gapi::auth::{KeyedStorage, Storage, StorageGuard, UserCredentials};
use gapi::clock::BoxFuture;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use crate::codec::Codec;
use crate::error::lock_timeout;
use crate::key_lock::{self, AcquireError, KeyLock};
use crate::util::{DEFAULT_TABLE, blocking, quoted_table, unix_millis};
use crate::{DEFAULT_LOCK_TIMEOUT, StorageError};

#[path = "sqlite_single_use.rs"]
mod single_use;
pub use single_use::SqliteSingleUse;

const BACKEND: &str = "sqlite";
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;
/// The least busy timeout of a statement: how long it waits for another
/// connection's write (a few milliseconds, unless an older version of this
/// crate holds a long write transaction).
const MIN_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`SqliteKeyedStorage`]; made by [`SqliteKeyedStorage::builder`].
#[derive(Debug)]
pub struct SqliteKeyedStorageBuilder {
    path: PathBuf,
    table: String,
    lock_timeout: Duration,
    codec: Codec,
}

impl SqliteKeyedStorageBuilder {
    /// The table (default [`DEFAULT_TABLE`]): ASCII letters, digits and `_`.
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// How long [`Storage::lock`] waits for another holder of the same key's
    /// lock; default [`DEFAULT_LOCK_TIMEOUT`].
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

    /// Checks the settings. Nothing is opened until the first use.
    ///
    /// An in-memory database (`:memory:`, or the empty path) is refused: it
    /// is private to one connection, so it can neither be shared nor hold
    /// the lock file beside it (use the runtime's `MemoryKeyedStorage`).
    pub fn build(self) -> gapi::Result<SqliteKeyedStorage> {
        let ctx = "sqlite storage";
        let quoted = quoted_table(&self.table, false).map_err(|e| e.into_gapi(ctx))?;
        let in_memory = matches!(self.path.to_str(), Some("" | ":memory:"));
        let lock_dir = key_lock::lock_dir(&self.path).filter(|_| !in_memory);
        let Some(lock_dir) = lock_dir else {
            return Err(StorageError::Config(format!(
                "`{}` is not a database file (in-memory databases are private to one \
                 connection; use gapi::auth::MemoryKeyedStorage)",
                self.path.display()
            ))
            .into_gapi(ctx));
        };
        Ok(SqliteKeyedStorage {
            shared: Arc::new(Shared {
                lock_dir,
                path: self.path,
                table: self.table,
                quoted,
                lock_timeout: self.lock_timeout,
                codec: self.codec,
                schema_ready: AtomicBool::new(false),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }
}

/// Credentials of many users in one SQLite database file, one row per key in
/// a table `(key TEXT PRIMARY KEY, credentials TEXT, updated_at INTEGER)`
/// created on first use.
///
/// - The lock of an entry is an OS file lock (`flock`; `LockFileEx` on
///   Windows) on a file of its own, `<database>.locks/<hash of table and
///   key>.lock` (directory 0700, files 0600), taken with backoff up to the
///   lock timeout and held for the guard's life. It excludes every other
///   holder of the same key on this machine, in this process or another;
///   different keys do not wait for each other. SQLite's own lock is the
///   whole database, which would serialise unrelated keys for as long as
///   each holder works (a token refresh): with a `BEGIN IMMEDIATE` lock, 3
///   processes refreshing 3 keys at once against a token endpoint taking
///   400 ms finished after 513, 998 and 1,535 ms; with these locks, all
///   three within 475 ms (`tests/release.rs`). The OS drops a file lock the
///   moment its holder exits or dies.
/// - `get`, `put` and `delete` are each one statement in its own short
///   transaction (autocommit, waiting for another connection's write up to
///   the lock timeout, at least 5 s), so a write is durable when it returns, even if
///   the process is killed right after. A write whose lock file was removed
///   or replaced meanwhile is refused ([`StorageError::LockLost`]).
/// - [`release`](gapi::auth::StorageGuard::release) (or dropping the guard)
///   unlocks at once.
/// - The file is created with mode 0600 and uses the WAL journal with
///   `synchronous=FULL`. Like SQLite itself, the locks need a local file
///   system (not NFS). The database must be a file: `:memory:` is refused
///   (see [`SqliteKeyedStorageBuilder::build`]).
/// - Earlier builds of this crate locked the whole database with a
///   `BEGIN IMMEDIATE` transaction instead, which these per-key locks do not
///   see (nor they them): upgrade all processes sharing a database together.
///
/// Clones share one set of connections.
#[derive(Clone)]
pub struct SqliteKeyedStorage {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    /// `<path>.locks`: the per-key lock files.
    lock_dir: PathBuf,
    table: String,
    quoted: String,
    lock_timeout: Duration,
    codec: Codec,
    schema_ready: AtomicBool,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteKeyedStorage {
    /// A builder for a database at `path` (created on first use, with its
    /// directory).
    pub fn builder(path: impl Into<PathBuf>) -> SqliteKeyedStorageBuilder {
        SqliteKeyedStorageBuilder {
            path: path.into(),
            table: DEFAULT_TABLE.to_owned(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            codec: Codec::default(),
        }
    }

    /// A storage at `path` with the defaults.
    pub fn open(path: impl Into<PathBuf>) -> gapi::Result<Self> {
        Self::builder(path).build()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.shared.table
    }

    /// Creates the file and the table if needed (otherwise done on first use).
    pub async fn ensure_schema(&self) -> gapi::Result<()> {
        let shared = self.shared.clone();
        blocking(move || {
            let conn = shared.connection()?;
            shared.ensure_schema(&conn)?;
            shared.give_back(conn);
            Ok(())
        })
        .await
    }

    /// The keys that have stored credentials, sorted.
    pub async fn keys(&self) -> gapi::Result<Vec<String>> {
        let shared = self.shared.clone();
        blocking(move || {
            let conn = shared.connection()?;
            shared.ensure_schema(&conn)?;
            let sql = format!("SELECT key FROM {} ORDER BY key", shared.quoted);
            let keys = conn
                .prepare(&sql)
                .and_then(|mut st| {
                    st.query_map([], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|e| shared.err("could not list the keys", e))?;
            shared.give_back(conn);
            Ok(keys)
        })
        .await
    }
}

impl fmt::Debug for SqliteKeyedStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteKeyedStorage")
            .field("path", &self.shared.path)
            .field("table", &self.shared.table)
            .field("lock_timeout", &self.shared.lock_timeout)
            .field("encrypted", &self.shared.codec.is_encrypted())
            .finish()
    }
}

impl KeyedStorage for SqliteKeyedStorage {
    type Entry = SqliteStorage;

    fn for_key(&self, key: &str) -> SqliteStorage {
        SqliteStorage {
            shared: self.shared.clone(),
            key: key.to_owned(),
        }
    }
}

impl Shared {
    fn describe(&self, key: &str) -> String {
        format!(
            "sqlite {} table {} key {key:?}",
            self.path.display(),
            self.table
        )
    }

    fn err(&self, what: &str, e: rusqlite::Error) -> gapi::Error {
        StorageError::backend(BACKEND, what, e)
            .into_gapi(&format!("sqlite {}", self.path.display()))
    }

    /// An idle connection, or a new one.
    fn connection(&self) -> gapi::Result<Connection> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        prepare_file(&self.path).map_err(|e| {
            StorageError::backend(BACKEND, "could not create the database file", e)
                .into_gapi(&format!("sqlite {}", self.path.display()))
        })?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| self.err("could not open the database", e))?;
        conn.busy_timeout(self.lock_timeout.max(MIN_BUSY_TIMEOUT))
            .map_err(|e| self.err("could not set the busy timeout", e))?;
        // Persistent once set; another process may be setting it right now.
        if let Err(e) = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
            tracing::debug!(error = %e, "could not switch the database to WAL (yet)");
        }
        conn.execute_batch("PRAGMA synchronous=FULL")
            .map_err(|e| self.err("could not set synchronous", e))?;
        Ok(conn)
    }

    /// Keeps a connection (outside any transaction) for reuse.
    fn give_back(&self, conn: Connection) {
        if !conn.is_autocommit() {
            return; // still in a transaction: close it (rolls back)
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn create_table_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\
               key TEXT PRIMARY KEY NOT NULL, \
               credentials TEXT NOT NULL, \
               updated_at INTEGER NOT NULL)",
            self.quoted
        )
    }

    fn ensure_schema(&self, conn: &Connection) -> gapi::Result<()> {
        if self.schema_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        conn.execute_batch(&self.create_table_sql())
            .map_err(|e| self.err("could not create the table", e))?;
        self.schema_ready.store(true, Ordering::Release);
        Ok(())
    }
}

/// Creates the database file with mode 0600 (and its directory with 0700)
/// when it does not exist, so that SQLite (which keeps a file's mode for its
/// journal files) never writes the credentials world-readable.
fn prepare_file(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        b.create(dir)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path).map(drop)
}

/// The credentials of one key in a [`SqliteKeyedStorage`].
#[derive(Clone)]
pub struct SqliteStorage {
    shared: Arc<Shared>,
    key: String,
}

impl SqliteStorage {
    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shared.describe(&self.key))
    }
}

impl Storage for SqliteStorage {
    fn lock(&self) -> BoxFuture<'_, gapi::Result<Box<dyn StorageGuard + '_>>> {
        Box::pin(async move {
            let shared = &self.shared;
            let path = key_lock::lock_path(&shared.lock_dir, &shared.table, &self.key);
            let lock = match key_lock::acquire(path, shared.lock_timeout).await {
                Ok(lock) => lock,
                Err(AcquireError::Timeout(holder)) => {
                    return Err(lock_timeout(
                        &self.describe(),
                        &self.key,
                        shared.lock_timeout,
                        holder,
                    ));
                }
                Err(AcquireError::Io(what, e)) => {
                    return Err(StorageError::backend(BACKEND, what, e).into_gapi(&self.describe()));
                }
            };
            Ok(Box::new(SqliteGuard {
                lock: Some(Arc::new(lock)),
                shared: shared.clone(),
                key: self.key.clone(),
            }) as Box<dyn StorageGuard>)
        })
    }

    fn describe(&self) -> String {
        self.shared.describe(&self.key)
    }
}

/// A held lock: the locked lock file of the key. Each operation takes a
/// connection for its one statement.
struct SqliteGuard {
    /// `None` once released. Shared with a running operation, which checks
    /// before a write that the lock file is still the locked one.
    lock: Option<Arc<KeyLock>>,
    shared: Arc<Shared>,
    key: String,
}

enum Op {
    Get,
    Put(String),
    Delete,
}

enum Done {
    Got(Option<String>),
    Wrote,
}

impl SqliteGuard {
    async fn run(&mut self, op: Op) -> gapi::Result<Done> {
        let Some(lock) = self.lock.clone() else {
            return Err(StorageError::LockLost.into_gapi(&self.shared.describe(&self.key)));
        };
        let shared = self.shared.clone();
        let key = self.key.clone();
        blocking(move || {
            let conn = shared.connection()?;
            shared.ensure_schema(&conn)?;
            let result = run_op(&shared, &conn, &key, &lock, op);
            shared.give_back(conn);
            result
        })
        .await
    }
}

/// One statement on the blocking pool.
fn run_op(
    shared: &Shared,
    conn: &Connection,
    key: &str,
    lock: &KeyLock,
    op: Op,
) -> gapi::Result<Done> {
    if !matches!(op, Op::Get) && !lock.still_held() {
        return Err(StorageError::LockLost.into_gapi(&shared.describe(key)));
    }
    let t = &shared.quoted;
    match op {
        Op::Get => conn
            .query_row(
                &format!("SELECT credentials FROM {t} WHERE key = ?1"),
                [key],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(Done::Got)
            .map_err(|e| shared.err("could not read", e)),
        Op::Put(value) => conn
            .execute(
                &format!(
                    "INSERT INTO {t} (key, credentials, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(key) DO UPDATE SET credentials = excluded.credentials, \
                     updated_at = excluded.updated_at"
                ),
                rusqlite::params![key, value, unix_millis()],
            )
            .map(|_| Done::Wrote)
            .map_err(|e| shared.err("could not write", e)),
        Op::Delete => conn
            .execute(&format!("DELETE FROM {t} WHERE key = ?1"), [key])
            .map(|_| Done::Wrote)
            .map_err(|e| shared.err("could not delete", e)),
    }
}

impl SqliteGuard {
    /// Unlocks now (the lock file is emptied and unlocked).
    fn unlock(&mut self) {
        if let Some(lock) = self.lock.take() {
            // Otherwise a cancelled operation still runs on the blocking
            // pool; the lock goes when it ends and drops its handle.
            if let Ok(lock) = Arc::try_unwrap(lock) {
                lock.release();
            }
        }
    }
}

impl StorageGuard for SqliteGuard {
    fn get(&mut self) -> BoxFuture<'_, gapi::Result<Option<UserCredentials>>> {
        Box::pin(async move {
            let Done::Got(v) = self.run(Op::Get).await? else {
                unreachable!("a read returns Got")
            };
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
            self.run(Op::Put(value)).await.map(drop)
        })
    }

    fn delete(&mut self) -> BoxFuture<'_, gapi::Result<()>> {
        Box::pin(async move { self.run(Op::Delete).await.map(drop) })
    }

    /// Unlocks the key's lock file (writes are committed already).
    fn release<'a>(mut self: Box<Self>) -> BoxFuture<'a, gapi::Result<()>>
    where
        Self: 'a,
    {
        self.unlock();
        Box::pin(async { Ok(()) })
    }
}

impl Drop for SqliteGuard {
    /// The same as `release`: an OS file lock goes at once.
    fn drop(&mut self) {
        self.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_mode_and_table_name_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/creds.sqlite");
        let s = SqliteKeyedStorage::open(&path).unwrap();
        s.ensure_schema().await.unwrap();
        s.ensure_schema().await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let e = SqliteKeyedStorage::builder(&path)
            .table("x; DROP TABLE y")
            .build()
            .unwrap_err();
        assert!(matches!(
            crate::storage_error(&e),
            Some(StorageError::Config(_))
        ));
        for memory in [":memory:", ""] {
            let e = SqliteKeyedStorage::open(memory).unwrap_err();
            assert!(
                matches!(crate::storage_error(&e), Some(StorageError::Config(_))),
                "{e}"
            );
        }
    }
}
