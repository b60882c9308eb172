//! Authorizations in progress, kept on the server until their callback:
//! in memory ([`MemoryPendingStore`], one process) or in a database every
//! server process shares ([`StoragePendingStore`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use gapi::auth::PendingAuthorization;
use gapi::clock::{BoxFuture, SharedClock, default_clock};
use gapi_storage::SingleUseStore;
use serde::{Deserialize, Serialize};

/// An authorization sent to the user's browser and not yet called back: the
/// flow's state and PKCE verifier, the OpenID Connect nonce, who started it
/// (user, session, browser), where to return, and until when it is valid.
///
/// It holds secrets (the PKCE verifier): keep it server-side. It is
/// `Serialize` for [`PendingStore`]s that keep it in a database.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingRecord {
    pub(crate) pending: PendingAuthorization,
    pub(crate) user_id: String,
    pub(crate) session: Option<String>,
    /// SHA-256 (hex) of the browser-binding cookie's value.
    pub(crate) binding: String,
    pub(crate) return_to: String,
    pub(crate) scopes: Vec<String>,
    /// The `nonce` sent with an `openid` request, which the ID token must
    /// carry back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    /// Seconds since the Unix epoch.
    pub(crate) expires_at: u64,
}

impl PendingRecord {
    /// The user who started the authorization.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The path the user returns to afterwards.
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// When it stops being accepted.
    pub fn expires_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }

    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at()
    }
}

impl fmt::Debug for PendingRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingRecord")
            .field("user_id", &self.user_id)
            .field("return_to", &self.return_to)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where [`PendingRecord`]s wait for their callback, by id (a hash of the
/// `state`, which itself is never stored).
///
/// `take` must be single-use and atomic: it returns a record at most once,
/// to one caller, so a replayed callback finds nothing — also when the
/// replay reaches another server process at the same moment. A record past
/// its time-to-live should not be returned (the callback checks
/// [`PendingRecord::is_expired`] anyway).
///
/// [`MemoryPendingStore`] serves one server process. Behind a load balancer,
/// use a [`StoragePendingStore`] on the database the credentials are in
/// ([`OAuth2Builder::shared_storage`](crate::OAuth2Builder::shared_storage)
/// does both).
pub trait PendingStore: Send + Sync + 'static {
    /// Keeps `record` under `id` for `ttl`.
    fn insert(
        &self,
        id: String,
        record: PendingRecord,
        ttl: Duration,
    ) -> BoxFuture<'_, gapi::Result<()>>;
    /// Removes and returns the record of `id`, if there is one.
    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, gapi::Result<Option<PendingRecord>>>;
}

/// [`PendingRecord`]s in memory, bounded: expired ones are dropped, a user
/// has at most 16 at a time (the oldest goes first) and the store at most
/// 100,000. For one server process only.
pub struct MemoryPendingStore {
    records: Mutex<HashMap<String, PendingRecord>>,
    clock: SharedClock,
}

impl Default for MemoryPendingStore {
    fn default() -> Self {
        MemoryPendingStore {
            records: Mutex::new(HashMap::new()),
            clock: default_clock(),
        }
    }
}

const MAX_PER_USER: usize = 16;
const MAX_TOTAL: usize = 100_000;

impl MemoryPendingStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryPendingStore::default()
    }

    /// The clock that expires records (default: the system's).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryPendingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemoryPendingStore({} records)", self.len())
    }
}

fn evict_oldest(records: &mut HashMap<String, PendingRecord>, of_user: Option<&str>) {
    let oldest = records
        .iter()
        .filter(|(_, r)| of_user.is_none_or(|u| r.user_id == u))
        .min_by_key(|(_, r)| r.expires_at)
        .map(|(k, _)| k.clone());
    if let Some(k) = oldest {
        records.remove(&k);
    }
}

impl PendingStore for MemoryPendingStore {
    fn insert(
        &self,
        id: String,
        record: PendingRecord,
        _ttl: Duration,
    ) -> BoxFuture<'_, gapi::Result<()>> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        records.retain(|_, r| !r.is_expired(now));
        while records
            .values()
            .filter(|r| r.user_id == record.user_id)
            .count()
            >= MAX_PER_USER
        {
            evict_oldest(&mut records, Some(&record.user_id));
        }
        while records.len() >= MAX_TOTAL {
            evict_oldest(&mut records, None);
        }
        records.insert(id, record);
        Box::pin(async { Ok(()) })
    }

    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, gapi::Result<Option<PendingRecord>>> {
        let now = self.clock.now();
        let r = self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
            .filter(|r| !r.is_expired(now));
        Box::pin(async move { Ok(r) })
    }
}

/// [`PendingRecord`]s in a database shared by every server process: any
/// [`SingleUseStore`] of gapi-storage (SQLite file, PostgreSQL, Redis — from
/// [`HasSingleUse::single_use`](gapi_storage::HasSingleUse::single_use) of
/// the credentials' storage). A record is JSON (encrypted when the storage
/// is), kept for the authorization's time-to-live and taken atomically
/// (`DELETE … RETURNING`, `GETDEL`): a sign-in begun on one process
/// completes on any other, and a replayed `state` finds nothing on all of
/// them.
pub struct StoragePendingStore<S> {
    store: S,
}

impl<S: SingleUseStore> StoragePendingStore<S> {
    /// Keeps records in `store`.
    pub fn new(store: S) -> Self {
        StoragePendingStore { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: fmt::Debug> fmt::Debug for StoragePendingStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoragePendingStore")
            .field(&self.store)
            .finish()
    }
}

/// The single-use key of a record: its id under a name of its own.
fn key(id: &str) -> String {
    format!("gapi-axum:pending:{id}")
}

impl<S: SingleUseStore> PendingStore for StoragePendingStore<S> {
    fn insert(
        &self,
        id: String,
        record: PendingRecord,
        ttl: Duration,
    ) -> BoxFuture<'_, gapi::Result<()>> {
        Box::pin(async move {
            let json = serde_json::to_string(&record).map_err(|e| {
                gapi::Error::new(
                    gapi::ErrorKind::Storage,
                    "could not serialize a pending authorization",
                )
                .with_source(e)
            })?;
            self.store.put(&key(&id), &json, ttl).await
        })
    }

    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, gapi::Result<Option<PendingRecord>>> {
        Box::pin(async move {
            let Some(json) = self.store.take(&key(id)).await? else {
                return Ok(None);
            };
            serde_json::from_str(&json).map(Some).map_err(|e| {
                gapi::Error::new(
                    gapi::ErrorKind::Storage,
                    "a stored pending authorization is not readable",
                )
                .with_source(e)
            })
        })
    }
}
