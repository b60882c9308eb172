//! [`SqliteSingleUse`]: the single-use store of a [`SqliteKeyedStorage`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gapi::clock::{BoxFuture, SharedClock, default_clock};
use rusqlite::OptionalExtension as _;

use super::{Shared, SqliteKeyedStorage};
use crate::single_use::{HasSingleUse, SingleUseStore, entry_name, millis, table_name};
use crate::util::{blocking, quoted_table};

/// Single-use values in the table `<table>_single_use` of a
/// [`SqliteKeyedStorage`]'s file, `(key TEXT PRIMARY KEY, value TEXT,
/// expires_at INTEGER)` (Unix ms), created on first use. `take` is one
/// `DELETE … RETURNING` statement: SQLite runs writers one at a time, so of
/// any number of processes taking a key, one gets it. Expired rows are
/// deleted by every `put`. See [`SingleUseStore`].
#[derive(Clone)]
pub struct SqliteSingleUse {
    shared: Arc<Shared>,
    table: String,
    quoted: String,
    clock: SharedClock,
    ready: Arc<AtomicBool>,
}

impl SqliteSingleUse {
    /// The clock of expiry times (default: the system's).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }
}

impl fmt::Debug for SqliteSingleUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteSingleUse")
            .field("path", &self.shared.path)
            .field("table", &self.table)
            .finish()
    }
}

impl HasSingleUse for SqliteKeyedStorage {
    type SingleUse = SqliteSingleUse;

    fn single_use(&self) -> gapi::Result<SqliteSingleUse> {
        let table = table_name(&self.shared.table);
        let quoted = quoted_table(&table, false).map_err(|e| e.into_gapi("sqlite single-use"))?;
        Ok(SqliteSingleUse {
            shared: self.shared.clone(),
            table,
            quoted,
            clock: default_clock(),
            ready: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl SqliteSingleUse {
    fn ensure_table(&self, conn: &rusqlite::Connection) -> gapi::Result<()> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\
               key TEXT PRIMARY KEY NOT NULL, \
               value TEXT NOT NULL, \
               expires_at INTEGER NOT NULL)",
            self.quoted
        ))
        .map_err(|e| self.shared.err("could not create the single-use table", e))?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteSingleUse, &rusqlite::Connection) -> gapi::Result<T> + Send + 'static,
    ) -> gapi::Result<T> {
        let this = self.clone();
        blocking(move || {
            let conn = this.shared.connection()?;
            this.ensure_table(&conn)?;
            let out = f(&this, &conn);
            this.shared.give_back(conn);
            out
        })
        .await
    }
}

impl SingleUseStore for SqliteSingleUse {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, gapi::Result<()>> {
        Box::pin(async move {
            let now = self.clock.now();
            let stored = self
                .shared
                .codec
                .encode_text(&entry_name(key), value)
                .map_err(|e| e.into_gapi("sqlite single-use"))?;
            let (key, expires, now) = (key.to_owned(), millis(now + ttl), millis(now));
            self.run(move |this, conn| {
                let t = &this.quoted;
                conn.execute(
                    &format!(
                        "INSERT INTO {t} (key, value, expires_at) VALUES (?1, ?2, ?3) \
                         ON CONFLICT(key) DO UPDATE SET value = excluded.value, \
                         expires_at = excluded.expires_at"
                    ),
                    rusqlite::params![key, stored, expires],
                )
                .map_err(|e| this.shared.err("could not write a single-use value", e))?;
                conn.execute(&format!("DELETE FROM {t} WHERE expires_at <= ?1"), [now])
                    .map_err(|e| this.shared.err("could not delete expired values", e))?;
                Ok(())
            })
            .await
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, gapi::Result<Option<String>>> {
        Box::pin(async move {
            let now = millis(self.clock.now());
            let owned = key.to_owned();
            let row = self
                .run(move |this, conn| {
                    conn.query_row(
                        &format!(
                            "DELETE FROM {} WHERE key = ?1 RETURNING value, expires_at",
                            this.quoted
                        ),
                        [owned],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                    )
                    .optional()
                    .map_err(|e| this.shared.err("could not take a single-use value", e))
                })
                .await?;
            match row {
                Some((stored, expires)) if expires > now => self
                    .shared
                    .codec
                    .decode_text(&entry_name(key), &stored)
                    .map(Some)
                    .map_err(|e| e.into_gapi("sqlite single-use")),
                _ => Ok(None),
            }
        })
    }
}
