//! [`MemoryStorage`] and [`MemoryKeyedStorage`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use super::{KeyedStorage, Storage, StorageGuard};
use crate::auth::UserCredentials;
use crate::clock::BoxFuture;

/// Credentials kept in memory, shared by clones. The lock is an async mutex.
#[derive(Clone, Default)]
pub struct MemoryStorage {
    slot: Arc<tokio::sync::Mutex<Option<UserCredentials>>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// A store holding `credentials`.
    pub fn with_credentials(credentials: UserCredentials) -> Self {
        MemoryStorage {
            slot: Arc::new(tokio::sync::Mutex::new(Some(credentials))),
        }
    }
}

impl fmt::Debug for MemoryStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryStorage")
    }
}

struct MemoryGuard(OwnedMutexGuard<Option<UserCredentials>>);

impl Storage for MemoryStorage {
    fn lock(&self) -> BoxFuture<'_, crate::Result<Box<dyn StorageGuard + '_>>> {
        Box::pin(async move {
            let g = self.slot.clone().lock_owned().await;
            Ok(Box::new(MemoryGuard(g)) as Box<dyn StorageGuard>)
        })
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

impl StorageGuard for MemoryGuard {
    fn get(&mut self) -> BoxFuture<'_, crate::Result<Option<UserCredentials>>> {
        let v = self.0.clone();
        Box::pin(async move { Ok(v) })
    }

    fn put<'a>(&'a mut self, credentials: &'a UserCredentials) -> BoxFuture<'a, crate::Result<()>> {
        *self.0 = Some(credentials.clone());
        Box::pin(async { Ok(()) })
    }

    fn delete(&mut self) -> BoxFuture<'_, crate::Result<()>> {
        *self.0 = None;
        Box::pin(async { Ok(()) })
    }
}

/// One [`MemoryStorage`] per key, shared by clones.
#[derive(Clone, Default)]
pub struct MemoryKeyedStorage {
    entries: Arc<Mutex<HashMap<String, MemoryStorage>>>,
}

impl MemoryKeyedStorage {
    /// An empty keyed store.
    pub fn new() -> Self {
        MemoryKeyedStorage::default()
    }
}

impl fmt::Debug for MemoryKeyedStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryKeyedStorage")
    }
}

impl KeyedStorage for MemoryKeyedStorage {
    type Entry = MemoryStorage;

    fn for_key(&self, key: &str) -> MemoryStorage {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_owned()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn memory_round_trip_and_lock() {
        let s = MemoryStorage::new();
        assert!(s.get().await.unwrap().is_none());
        let c = UserCredentials::new("cid", None, None);
        s.put(&c).await.unwrap();
        assert_eq!(s.clone().get().await.unwrap(), Some(c));
        let g = s.lock().await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), s.get()).await;
        assert!(waiting.is_err(), "get ran while the lock was held");
        drop(g);
        s.delete().await.unwrap();
        assert!(s.get().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn keyed_entries_are_separate_and_shared() {
        let ks = MemoryKeyedStorage::new();
        ks.for_key("a")
            .put(&UserCredentials::new("a", None, None))
            .await
            .unwrap();
        assert!(ks.for_key("b").get().await.unwrap().is_none());
        let again = ks.clone().for_key("a").get().await.unwrap().unwrap();
        assert_eq!(again.client_id(), "a");
    }
}
