//! Authorizations in progress, kept on the server until their callback.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use gapi::auth::PendingAuthorization;
use gapi::clock::BoxFuture;
use serde::{Deserialize, Serialize};

/// An authorization sent to the user's browser and not yet called back: the
/// flow's state and PKCE verifier, who started it (user, session, browser),
/// where to return, and until when it is valid.
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
/// `state`, which itself is never stored). `take` must be single-use: it
/// returns a record at most once, so a replayed callback finds nothing.
///
/// The default, [`MemoryPendingStore`], works for one server process; behind
/// a load balancer without sticky sessions, implement this on a shared
/// database (with an atomic get-and-delete).
pub trait PendingStore: Send + Sync + 'static {
    /// Keeps `record` under `id` (until it expires).
    fn insert(&self, id: String, record: PendingRecord) -> BoxFuture<'_, gapi::Result<()>>;
    /// Removes and returns the record of `id`, if there is one.
    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, gapi::Result<Option<PendingRecord>>>;
}

/// [`PendingRecord`]s in memory, bounded: expired ones are dropped, a user
/// has at most 16 at a time (the oldest goes first) and the store at most
/// 100,000.
#[derive(Default)]
pub struct MemoryPendingStore {
    records: Mutex<HashMap<String, PendingRecord>>,
}

const MAX_PER_USER: usize = 16;
const MAX_TOTAL: usize = 100_000;

impl MemoryPendingStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryPendingStore::default()
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
    fn insert(&self, id: String, record: PendingRecord) -> BoxFuture<'_, gapi::Result<()>> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let now = SystemTime::now();
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
        let r = self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        Box::pin(async move { Ok(r) })
    }
}
