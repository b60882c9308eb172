//! [`PostgresSingleUse`]: the single-use store of a [`PostgresKeyedStorage`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gapi::clock::{BoxFuture, SharedClock, default_clock};

use super::{PostgresKeyedStorage, Shared};
use crate::single_use::{HasSingleUse, SingleUseStore, entry_name, millis, table_name};
use crate::util::{lock_id, quoted_table};

/// Single-use values in the table `<table>_single_use` beside a
/// [`PostgresKeyedStorage`]'s, `(key TEXT PRIMARY KEY, value TEXT,
/// expires_at BIGINT)` (Unix ms), created on first use. `take` is one
/// `DELETE … RETURNING` statement: of concurrent takers of a key, on any
/// machine, the row goes to one. Expired rows are deleted by every `put`.
/// See [`SingleUseStore`].
#[derive(Clone)]
pub struct PostgresSingleUse {
    shared: Arc<Shared>,
    table: String,
    quoted: String,
    clock: SharedClock,
    ready: Arc<tokio::sync::OnceCell<()>>,
}

impl PostgresSingleUse {
    /// The clock of expiry times (default: this machine's).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Drops the table (for tests and uninstalling).
    pub async fn drop_table(&self) -> gapi::Result<()> {
        let client = self.shared.checkout().await?;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {}", self.quoted))
            .await
            .map_err(|e| self.shared.err("could not drop the single-use table", e))?;
        self.shared.give_back(client);
        Ok(())
    }

    async fn client(&self) -> gapi::Result<tokio_postgres::Client> {
        let client = self.shared.checkout().await?;
        self.ready
            .get_or_try_init(|| async {
                let id = lock_id("gapi-storage schema", &self.table);
                let sql = format!(
                    "BEGIN; \
                     SELECT pg_advisory_xact_lock({id}); \
                     CREATE TABLE IF NOT EXISTS {} (\
                       key TEXT PRIMARY KEY, \
                       value TEXT NOT NULL, \
                       expires_at BIGINT NOT NULL); \
                     COMMIT;",
                    self.quoted
                );
                if let Err(e) = client.batch_execute(&sql).await {
                    let _ = client.batch_execute("ROLLBACK").await;
                    return Err(self.shared.err("could not create the single-use table", e));
                }
                Ok(())
            })
            .await?;
        Ok(client)
    }
}

impl fmt::Debug for PostgresSingleUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSingleUse")
            .field("dbname", &self.shared.config.get_dbname())
            .field("table", &self.table)
            .finish()
    }
}

impl HasSingleUse for PostgresKeyedStorage {
    type SingleUse = PostgresSingleUse;

    fn single_use(&self) -> gapi::Result<PostgresSingleUse> {
        let table = table_name(&self.shared.table);
        let quoted = quoted_table(&table, true).map_err(|e| e.into_gapi("postgres single-use"))?;
        Ok(PostgresSingleUse {
            shared: self.shared.clone(),
            table,
            quoted,
            clock: default_clock(),
            ready: Arc::new(tokio::sync::OnceCell::new()),
        })
    }
}

impl SingleUseStore for PostgresSingleUse {
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
                .map_err(|e| e.into_gapi("postgres single-use"))?;
            let client = self.client().await?;
            let t = &self.quoted;
            let expires = millis(now + ttl);
            client
                .execute(
                    &format!(
                        "INSERT INTO {t} (key, value, expires_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, \
                         expires_at = EXCLUDED.expires_at"
                    ),
                    &[&key, &stored, &expires],
                )
                .await
                .map_err(|e| self.shared.err("could not write a single-use value", e))?;
            client
                .execute(
                    &format!("DELETE FROM {t} WHERE expires_at <= $1"),
                    &[&millis(now)],
                )
                .await
                .map_err(|e| self.shared.err("could not delete expired values", e))?;
            self.shared.give_back(client);
            Ok(())
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, gapi::Result<Option<String>>> {
        Box::pin(async move {
            let now = millis(self.clock.now());
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!(
                        "DELETE FROM {} WHERE key = $1 RETURNING value, expires_at",
                        self.quoted
                    ),
                    &[&key],
                )
                .await
                .map_err(|e| self.shared.err("could not take a single-use value", e))?;
            self.shared.give_back(client);
            match row {
                Some(r) if r.get::<_, i64>(1) > now => self
                    .shared
                    .codec
                    .decode_text(&entry_name(key), &r.get::<_, String>(0))
                    .map(Some)
                    .map_err(|e| e.into_gapi("postgres single-use")),
                _ => Ok(None),
            }
        })
    }
}
