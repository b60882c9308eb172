//! [`SqliteKeyedStorage`]: one row per key in an SQLite database file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gapi::auth::{KeyedStorage, Storage, StorageGuard, UserCredentials};
use gapi::clock::BoxFuture;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension as _};

use crate::codec::Codec;
use crate::error::lock_timeout;
use crate::util::{DEFAULT_TABLE, blocking, quoted_table, unix_millis};
use crate::{DEFAULT_LOCK_TIMEOUT, StorageError};

const BACKEND: &str = "sqlite";
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;
/// The busy timeout for everything but taking the lock.
const SETUP_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// How long [`Storage::lock`] waits for another holder (the busy timeout
    /// of `BEGIN IMMEDIATE`); default [`DEFAULT_LOCK_TIMEOUT`].
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
    pub fn build(self) -> gapi::Result<SqliteKeyedStorage> {
        let quoted = quoted_table(&self.table, false).map_err(|e| e.into_gapi("sqlite storage"))?;
        Ok(SqliteKeyedStorage {
            shared: Arc::new(Shared {
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
/// - The lock of an entry is an SQLite write transaction (`BEGIN IMMEDIATE`,
///   waiting up to the lock timeout) on a connection the guard keeps: it
///   excludes every other connection to the file, in this process or another
///   (it locks the whole database, not one key: fine for credentials, which
///   are written rarely). A process that dies while holding it loses it at
///   once (the OS releases SQLite's file locks).
/// - `put` and `delete` commit before they return, then take the lock again
///   at once when nobody else is waiting for it (otherwise the guard's next
///   operation waits for it again), so a write is never lost once it returned,
///   even if the process is killed right after.
/// - The file is created with mode 0600 and uses the WAL journal with
///   `synchronous=FULL`.
///
/// Clones share one set of connections.
#[derive(Clone)]
pub struct SqliteKeyedStorage {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
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
        conn.busy_timeout(SETUP_BUSY_TIMEOUT)
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

    /// Takes the write lock on `conn`: `BEGIN IMMEDIATE`, waiting up to
    /// `wait`. `Ok(false)` when it was busy for that long.
    fn begin(&self, conn: &Connection, wait: Duration) -> gapi::Result<bool> {
        conn.busy_timeout(wait)
            .map_err(|e| self.err("could not set the busy timeout", e))?;
        let r = conn.execute_batch("BEGIN IMMEDIATE");
        let _ = conn.busy_timeout(SETUP_BUSY_TIMEOUT);
        match r {
            Ok(()) => Ok(true),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.err("could not begin a transaction", e)),
        }
    }

    /// A connection holding the write lock, with the table in place.
    fn acquire(&self, key: &str) -> gapi::Result<Connection> {
        let conn = self.connection()?;
        if !self.begin(&conn, self.lock_timeout)? {
            return Err(lock_timeout(&self.describe(key), self.lock_timeout));
        }
        if !self.schema_ready.load(Ordering::Acquire) {
            // DDL inside the transaction: no second wait for the lock.
            conn.execute_batch(&self.create_table_sql())
                .map_err(|e| self.err("could not create the table", e))?;
            self.schema_ready.store(true, Ordering::Release);
        }
        Ok(conn)
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
            let shared = self.shared.clone();
            let key = self.key.clone();
            let conn = blocking(move || shared.acquire(&key)).await?;
            Ok(Box::new(SqliteGuard {
                conn: Some(conn),
                locked: true,
                shared: self.shared.clone(),
                key: self.key.clone(),
            }) as Box<dyn StorageGuard>)
        })
    }

    fn describe(&self) -> String {
        self.shared.describe(&self.key)
    }
}

/// A held lock: a connection inside `BEGIN IMMEDIATE`.
struct SqliteGuard {
    /// `None` only while an operation runs on the blocking pool (or after it
    /// was cancelled, which closed the connection and so released the lock).
    conn: Option<Connection>,
    /// Whether `conn` holds the write lock now (false after a write whose
    /// re-lock found the database busy: the next operation waits for it).
    locked: bool,
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
        let Some(conn) = self.conn.take() else {
            return Err(StorageError::LockLost.into_gapi(&self.shared.describe(&self.key)));
        };
        let shared = self.shared.clone();
        let key = self.key.clone();
        let locked = self.locked;
        let (conn, locked, result) = tokio::task::spawn_blocking(move || {
            let (locked, result) = run_op(&shared, &conn, &key, locked, op);
            (conn, locked, result)
        })
        .await
        .map_err(|e| {
            gapi::Error::new(gapi::ErrorKind::Storage, "a storage task failed").with_source(e)
        })?;
        self.conn = Some(conn);
        self.locked = locked;
        result
    }
}

/// One operation on the blocking pool. Returns whether the connection holds
/// the lock afterwards.
fn run_op(
    shared: &Shared,
    conn: &Connection,
    key: &str,
    locked: bool,
    op: Op,
) -> (bool, gapi::Result<Done>) {
    if !locked {
        match shared.begin(conn, shared.lock_timeout) {
            Ok(true) => {}
            Ok(false) => {
                return (
                    false,
                    Err(lock_timeout(&shared.describe(key), shared.lock_timeout)),
                );
            }
            Err(e) => return (false, Err(e)),
        }
    }
    let t = &shared.quoted;
    let result = match op {
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
    };
    let wrote = matches!(result, Ok(Done::Wrote));
    if !wrote {
        return (!conn.is_autocommit(), result);
    }
    // Durable before returning; then the lock again, without waiting.
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return (false, Err(shared.err("could not commit", e)));
    }
    let relocked = matches!(shared.begin(conn, Duration::ZERO), Ok(true));
    (relocked, result)
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
}

impl Drop for SqliteGuard {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Writes are committed already, so this commits nothing (no I/O)
            // but, on a first use, the table's creation.
            if !conn.is_autocommit() && conn.execute_batch("COMMIT").is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.shared.give_back(conn);
        }
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
    }
}
