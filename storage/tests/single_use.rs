//! The single-use stores of every backend (PostgreSQL and Redis when their
//! URLs are in the environment): taken once, also by concurrent takers on
//! separate connection pools; expired values are never returned (the
//! injected clock for SQLite and PostgreSQL, Redis's own TTL); values are
//! encrypted like credentials when the storage is.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gapi::clock::{ManualClock, SharedClock};
use gapi_storage::{Encryption, EncryptionKey, HasSingleUse, SingleUseStore};
use support::{AnyKeyed, Kind, Opts, Target};

/// The single-use store of `storage`, on `clock`.
fn store(storage: &AnyKeyed, clock: &ManualClock) -> Arc<dyn SingleUseStore> {
    let clock: SharedClock = Arc::new(clock.clone());
    match storage {
        AnyKeyed::Sqlite(s) => Arc::new(s.single_use().unwrap().with_clock(clock)),
        AnyKeyed::Postgres(s) => Arc::new(s.single_use().unwrap().with_clock(clock)),
        AnyKeyed::Redis(s) => Arc::new(s.single_use().unwrap()),
    }
}

/// The raw stored text of `key` (bypassing the store).
async fn raw(target: &Target, storage: &AnyKeyed, key: &str) -> Option<String> {
    let table = match storage {
        AnyKeyed::Sqlite(s) => s.single_use().unwrap().table().to_owned(),
        AnyKeyed::Postgres(s) => s.single_use().unwrap().table().to_owned(),
        AnyKeyed::Redis(_) => String::new(),
    };
    match storage {
        AnyKeyed::Sqlite(_) => {
            let conn = rusqlite::Connection::open(&target.location).unwrap();
            conn.query_row(
                &format!("SELECT value FROM \"{table}\" WHERE key = ?1"),
                [key],
                |r| r.get(0),
            )
            .ok()
        }
        AnyKeyed::Postgres(_) => {
            let (client, conn) = tokio_postgres::connect(&target.location, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .query_opt(
                    &format!("SELECT value FROM \"{table}\" WHERE key = $1"),
                    &[&key],
                )
                .await
                .unwrap()
                .map(|r| r.get(0))
        }
        AnyKeyed::Redis(s) => {
            let client = redis::Client::open(target.location.as_str()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            redis::cmd("GET")
                .arg(s.single_use().unwrap().redis_key(key))
                .query_async(&mut conn)
                .await
                .unwrap()
        }
    }
}

async fn cleanup(storage: &AnyKeyed) {
    if let AnyKeyed::Postgres(s) = storage {
        let _ = s.single_use().unwrap().drop_table().await;
    }
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_are_taken_once_even_by_concurrent_takers() {
    let dir = support::scratch();
    for target in support::targets(dir.path(), "single_use_once") {
        let clock = ManualClock::new(SystemTime::now());
        let storage = support::open(&target, Opts::default());
        let s = store(&storage, &clock);
        s.put("a", "value of a", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            raw(&target, &storage, "a").await.as_deref(),
            Some("value of a")
        );
        assert_eq!(s.take("a").await.unwrap().as_deref(), Some("value of a"));
        assert_eq!(
            s.take("a").await.unwrap(),
            None,
            "{:?}: taken twice",
            target.kind
        );
        assert_eq!(raw(&target, &storage, "a").await, None, "deleted");
        assert_eq!(s.take("never-put").await.unwrap(), None);
        // A second put replaces the first.
        s.put("b", "one", Duration::from_secs(60)).await.unwrap();
        s.put("b", "two", Duration::from_secs(60)).await.unwrap();
        assert_eq!(s.take("b").await.unwrap().as_deref(), Some("two"));

        // 16 takers on two separately opened storages (their own pools).
        let other = support::open(&target, Opts::default());
        let stores = [s.clone(), store(&other, &clock)];
        for round in 0..5 {
            let key = format!("contended-{round}");
            s.put(&key, "prize", Duration::from_secs(60)).await.unwrap();
            let takers: Vec<_> = (0..16)
                .map(|i| {
                    let (st, key) = (stores[i % 2].clone(), key.clone());
                    tokio::spawn(async move { st.take(&key).await.unwrap() })
                })
                .collect();
            let mut won = 0;
            for t in takers {
                if t.await.unwrap().is_some() {
                    won += 1;
                }
            }
            assert_eq!(
                won, 1,
                "{:?} round {round}: {won} takers got it",
                target.kind
            );
        }
        cleanup(&storage).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_values_are_never_returned() {
    let dir = support::scratch();
    for target in support::targets(dir.path(), "single_use_expiry") {
        let clock = ManualClock::new(SystemTime::now());
        let storage = support::open(&target, Opts::default());
        let s = store(&storage, &clock);
        s.put("k", "v", Duration::from_secs(600)).await.unwrap();
        if target.kind == Kind::Redis {
            // Redis forgets it itself: the key carries the TTL.
            let client = redis::Client::open(target.location.as_str()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let AnyKeyed::Redis(r) = &storage else {
                unreachable!()
            };
            let pttl: i64 = redis::cmd("PTTL")
                .arg(r.single_use().unwrap().redis_key("k"))
                .query_async(&mut conn)
                .await
                .unwrap();
            assert!(pttl > 590_000 && pttl <= 600_000, "PTTL {pttl}");
        } else {
            clock.advance(Duration::from_secs(599));
            s.put("other", "x", Duration::from_secs(1200))
                .await
                .unwrap();
            assert!(
                raw(&target, &storage, "k").await.is_some(),
                "not expired yet"
            );
            clock.advance(Duration::from_secs(1));
            assert_eq!(
                s.take("k").await.unwrap(),
                None,
                "{:?}: expired",
                target.kind
            );
            // A put deletes what has expired.
            s.put("k2", "v", Duration::from_secs(10)).await.unwrap();
            clock.advance(Duration::from_secs(11));
            s.put("k3", "v", Duration::from_secs(10)).await.unwrap();
            assert_eq!(raw(&target, &storage, "k2").await, None, "swept");
            assert!(raw(&target, &storage, "other").await.is_some());
        }
        cleanup(&storage).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_are_encrypted_like_credentials() {
    let dir = support::scratch();
    for target in support::targets(dir.path(), "single_use_enc") {
        let clock = ManualClock::new(SystemTime::now());
        let key = EncryptionKey::generate();
        let opts = Opts {
            encryption: Some(Encryption::new(key.clone())),
            ..Default::default()
        };
        let storage = support::open(&target, opts);
        let s = store(&storage, &clock);
        s.put("k", "the PKCE verifier", Duration::from_secs(60))
            .await
            .unwrap();
        let stored = raw(&target, &storage, "k").await.unwrap();
        assert!(
            stored.starts_with("gapi-enc:") && !stored.contains("PKCE"),
            "{stored}"
        );
        assert_eq!(
            s.take("k").await.unwrap().as_deref(),
            Some("the PKCE verifier")
        );
        // Without the key, or under another entry's name: an error, never
        // the value.
        s.put("k", "secret", Duration::from_secs(60)).await.unwrap();
        let plain = support::open(&target, Opts::default());
        let e = store(&plain, &clock).take("k").await.unwrap_err();
        assert!(gapi_storage::storage_error(&e).is_some(), "{e}");
        cleanup(&storage).await;
    }
}
