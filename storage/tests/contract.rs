//! The `Storage` contract, checked the same way on every backend available
//! here: SQLite always, PostgreSQL and Redis when `GAPI_TEST_POSTGRES_URL` /
//! `GAPI_TEST_REDIS_URL` are set (otherwise those parts say they are skipped).

mod support;

use std::time::Duration;

use gapi::auth::{AccessToken, RefreshToken, Storage, UserCredentials, UserTokenSource};
use gapi_standin::StandIn;
use gapi_storage::{Encryption, EncryptionKey, StorageError, storage_error};
use support::{AnyKeyed, Kind, Opts, Target, open, scratch, targets};

fn creds(token: &str) -> UserCredentials {
    UserCredentials::new("cid", None, Some(RefreshToken::new("1//refresh")))
        .with_access_token(AccessToken::new(token), None)
        .with_scopes(["s1", "s2"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_put_delete_and_odd_keys() {
    let dir = scratch();
    for t in targets(dir.path(), "rt") {
        let keyed = open(&t, Opts::default());
        let a = keyed.entry("alice@example.com");
        assert!(a.get().await.unwrap().is_none(), "{t:?}");
        a.put(&creds("a1")).await.unwrap();
        assert_eq!(a.get().await.unwrap(), Some(creds("a1")), "{t:?}");
        a.put(&creds("a2")).await.unwrap();
        assert_eq!(a.get().await.unwrap(), Some(creds("a2")));
        for (i, key) in ["Bob/../x", "a{b}c d%", "ünï", "", "'; DROP TABLE x; --"]
            .iter()
            .enumerate()
        {
            let e = keyed.entry(key);
            assert!(e.get().await.unwrap().is_none(), "{key:?} on {t:?}");
            e.put(&creds(&format!("k{i}"))).await.unwrap();
            assert_eq!(e.get().await.unwrap(), Some(creds(&format!("k{i}"))));
        }
        // Another handle (own connections) sees the same data.
        let again = open(&t, Opts::default());
        assert_eq!(
            again.entry("alice@example.com").get().await.unwrap(),
            Some(creds("a2"))
        );
        a.delete().await.unwrap();
        assert!(a.get().await.unwrap().is_none());
        a.delete().await.unwrap();
        assert_eq!(
            keyed.entry("ünï").get().await.unwrap(),
            Some(creds("k2")),
            "other keys untouched"
        );
        check_keys(&keyed, &t).await;
        keyed.cleanup().await;
    }
}

async fn check_keys(keyed: &AnyKeyed, t: &Target) {
    let keys = match keyed {
        AnyKeyed::Sqlite(s) => s.keys().await.unwrap(),
        AnyKeyed::Postgres(s) => s.keys().await.unwrap(),
        AnyKeyed::Redis(_) => return,
    };
    assert_eq!(keys.len(), 5, "{t:?}: {keys:?}");
    assert!(keys.contains(&"Bob/../x".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_excludes_other_handles_and_times_out() {
    let dir = scratch();
    for t in targets(dir.path(), "lock") {
        let keyed = open(&t, Opts::default());
        let other = open(&t, Opts::default());
        let impatient = open(
            &t,
            Opts {
                lock_timeout: Some(Duration::from_millis(300)),
                ..Default::default()
            },
        );
        let a = keyed.entry("user");
        a.put(&creds("first")).await.unwrap();
        let mut guard = a.lock().await.unwrap();
        let locked_at = std::time::Instant::now();
        let b = other.entry("user");
        let pending = tokio::spawn(async move { b.put(&creds("second")).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !pending.is_finished(),
            "{t:?}: a put ran while the lock was held"
        );
        let e = match impatient.entry("user").lock().await {
            Ok(_) => panic!("{t:?}: a second lock was taken while the first is held"),
            Err(e) => e,
        };
        assert!(e.is_timeout(), "{t:?}: {e}");
        // It says which key, and for how long the holder has held it (at
        // least the 300 ms sleep and the 300 ms wait).
        let Some(StorageError::LockTimeout { key, held_for, .. }) = storage_error(&e) else {
            panic!("{t:?}: not a LockTimeout: {e:?}");
        };
        assert_eq!(key, "user");
        let held_for = held_for.unwrap_or_else(|| panic!("{t:?}: no holder age in {e}"));
        assert!(
            held_for >= Duration::from_millis(550)
                && held_for <= locked_at.elapsed() + Duration::from_millis(50),
            "{t:?}: held for {held_for:?}, locked {:?} ago",
            locked_at.elapsed()
        );
        assert!(e.to_string().contains("\"user\"; its holder"), "{e}");
        // The holder reads and writes under its lock.
        assert_eq!(guard.get().await.unwrap(), Some(creds("first")));
        guard.put(&creds("by-holder")).await.unwrap();
        assert_eq!(guard.get().await.unwrap(), Some(creds("by-holder")));
        // Another key is not blocked (each key has its own lock).
        tokio::time::timeout(
            Duration::from_secs(5),
            other.entry("someone-else").put(&creds("x")),
        )
        .await
        .unwrap_or_else(|_| panic!("{t:?}: another key was blocked"))
        .unwrap();
        guard.release().await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), pending)
            .await
            .expect("the waiting put ran after the release")
            .unwrap()
            .unwrap();
        assert_eq!(a.get().await.unwrap(), Some(creds("second")));
        // Released: the impatient handle gets it now.
        drop(impatient.entry("user").lock().await.unwrap());
        keyed.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_source_refreshes_writes_back_and_marks_invalid() {
    let standin = StandIn::builder().start().await.unwrap();
    let dir = scratch();
    for t in targets(dir.path(), "src") {
        let keyed = open(&t, Opts::default());
        let entry = keyed.entry("alice");
        let expired = support::expired_credentials(&standin);
        entry.put(&expired).await.unwrap();
        let before = standin.stats().refreshes;
        let source = UserTokenSource::from_storage(entry.clone())
            .await
            .unwrap()
            .unwrap()
            .build();
        let token = source.access_token().await.unwrap();
        assert_eq!(standin.stats().refreshes, before + 1, "{t:?}");
        let stored = entry.get().await.unwrap().unwrap();
        assert_eq!(stored.access_token(), Some(&token), "{t:?}: written back");
        assert!(support::credentials_work(&standin, &stored).await);

        // Another source adopts the stored token instead of refreshing.
        let second = UserTokenSource::builder(expired.clone())
            .with_storage(keyed.entry("alice"))
            .build();
        assert_eq!(second.access_token().await.unwrap(), token, "{t:?}");
        assert_eq!(standin.stats().refreshes, before + 1, "{t:?}: adopted");

        // The grant is revoked: the refresh fails and the storage says so.
        standin.revoke_all();
        let third = UserTokenSource::builder(expired.clone())
            .with_storage(keyed.entry("alice"))
            .build();
        let stale = stored.clone().with_access_token(
            stored.access_token().unwrap().clone(),
            Some(std::time::SystemTime::now() - Duration::from_secs(5)),
        );
        entry.put(&stale).await.unwrap();
        let e = third.access_token().await.unwrap_err();
        assert!(e.needs_reauthorization(), "{t:?}: {e}");
        let marked = entry.get().await.unwrap().unwrap();
        assert!(marked.is_invalid(), "{t:?}: marked invalid in the storage");
        let later = UserTokenSource::from_storage(keyed.entry("alice"))
            .await
            .unwrap()
            .unwrap()
            .build();
        assert!(
            later
                .access_token()
                .await
                .unwrap_err()
                .needs_reauthorization()
        );
        keyed.cleanup().await;
    }
    standin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_at_rest_and_typed_decrypt_errors() {
    let dir = scratch();
    for t in targets(dir.path(), "enc") {
        let key = EncryptionKey::generate();
        let enc = |e: Encryption| Opts {
            encryption: Some(e),
            ..Default::default()
        };
        let sealed = open(&t, enc(Encryption::new(key.clone())));
        sealed
            .entry("alice")
            .put(&creds("secret-at"))
            .await
            .unwrap();
        assert_eq!(
            sealed.entry("alice").get().await.unwrap(),
            Some(creds("secret-at")),
            "{t:?}"
        );
        let raw = raw_value(&t, "alice").await.expect("stored");
        assert!(raw.starts_with("gapi-enc:v1:"), "{t:?}: {raw}");
        assert!(!raw.contains("secret-at") && !raw.contains("1//refresh"));

        // No key: a typed error, not a panic or garbage.
        let plain = open(&t, Opts::default());
        let e = plain.entry("alice").get().await.unwrap_err();
        assert_eq!(e.kind(), gapi::ErrorKind::Storage);
        assert!(
            matches!(storage_error(&e), Some(StorageError::EncryptedWithoutKey)),
            "{t:?}: {e}"
        );
        // The wrong key.
        let wrong = open(&t, enc(Encryption::new(EncryptionKey::generate())));
        let e = wrong.entry("alice").get().await.unwrap_err();
        assert!(
            matches!(storage_error(&e), Some(StorageError::UnknownKey { .. })),
            "{t:?}: {e}"
        );
        assert!(e.to_string().contains("unknown key"), "{e}");
        // Rotation: the old key still reads, the next write uses the new one.
        let new_key = EncryptionKey::generate();
        let rotated = open(
            &t,
            enc(Encryption::new(new_key.clone()).with_previous_key(key.clone())),
        );
        assert_eq!(
            rotated.entry("alice").get().await.unwrap(),
            Some(creds("secret-at"))
        );
        rotated.entry("alice").put(&creds("again")).await.unwrap();
        assert!(
            raw_value(&t, "alice")
                .await
                .unwrap()
                .contains(&new_key.key_id())
        );
        // A value copied into another user's entry does not decrypt there.
        let copied = raw_value(&t, "alice").await.unwrap();
        write_raw(&t, "mallory", &copied).await;
        let e = rotated.entry("mallory").get().await.unwrap_err();
        assert!(
            matches!(storage_error(&e), Some(StorageError::Decrypt)),
            "{t:?}: {e}"
        );
        // Altered ciphertext.
        let mut altered = copied.clone().into_bytes();
        let i = altered.len() - 5;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        write_raw(&t, "alice", std::str::from_utf8(&altered).unwrap()).await;
        let e = rotated.entry("alice").get().await.unwrap_err();
        assert!(
            matches!(storage_error(&e), Some(StorageError::Decrypt)),
            "{e}"
        );
        // Plaintext under an encrypting storage: refused unless allowed.
        plain.entry("bob").put(&creds("old-plain")).await.unwrap();
        let e = rotated.entry("bob").get().await.unwrap_err();
        assert!(
            matches!(storage_error(&e), Some(StorageError::Plaintext)),
            "{e}"
        );
        let migrating = open(&t, enc(Encryption::new(new_key).allow_plaintext(true)));
        assert_eq!(
            migrating.entry("bob").get().await.unwrap(),
            Some(creds("old-plain"))
        );
        sealed.cleanup().await;
    }
}

/// The stored text of `key`, read straight from the database.
async fn raw_value(t: &Target, key: &str) -> Option<String> {
    match t.kind {
        Kind::Sqlite => {
            let conn = rusqlite::Connection::open(&t.location).unwrap();
            conn.query_row(
                &format!("SELECT credentials FROM \"{}\" WHERE key = ?1", t.namespace),
                [key],
                |r| r.get(0),
            )
            .ok()
        }
        Kind::Postgres => {
            let client = pg(t).await;
            client
                .query_opt(
                    &format!("SELECT credentials FROM \"{}\" WHERE key = $1", t.namespace),
                    &[&key],
                )
                .await
                .unwrap()
                .map(|r| r.get(0))
        }
        Kind::Redis => {
            let mut conn = redis_conn(t).await;
            redis::cmd("HGET")
                .arg(format!("{}:{{{key}}}:data", t.namespace))
                .arg("credentials")
                .query_async(&mut conn)
                .await
                .unwrap()
        }
    }
}

/// Writes a stored text straight into the database (an attacker with write
/// access, or corruption).
async fn write_raw(t: &Target, key: &str, value: &str) {
    match t.kind {
        Kind::Sqlite => {
            let conn = rusqlite::Connection::open(&t.location).unwrap();
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO \"{}\" (key, credentials, updated_at) VALUES (?1, ?2, 0)",
                    t.namespace
                ),
                [key, value],
            )
            .unwrap();
        }
        Kind::Postgres => {
            pg(t)
                .await
                .execute(
                    &format!(
                        "INSERT INTO \"{}\" (key, credentials) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET credentials = EXCLUDED.credentials",
                        t.namespace
                    ),
                    &[&key, &value],
                )
                .await
                .unwrap();
        }
        Kind::Redis => {
            let mut conn = redis_conn(t).await;
            redis::cmd("HSET")
                .arg(format!("{}:{{{key}}}:data", t.namespace))
                .arg("credentials")
                .arg(value)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
    }
}

async fn pg(t: &Target) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&t.location, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

async fn redis_conn(t: &Target) -> redis::aio::MultiplexedConnection {
    redis::Client::open(t.location.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_creation_is_idempotent_and_concurrent() {
    let dir = scratch();
    for t in targets(dir.path(), "schema") {
        let mut tasks = Vec::new();
        for i in 0..6 {
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let keyed = open(&t, Opts::default());
                keyed
                    .entry(&format!("u{i}"))
                    .put(&creds(&format!("t{i}")))
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let keyed = open(&t, Opts::default());
        for i in 0..6 {
            assert_eq!(
                keyed.entry(&format!("u{i}")).get().await.unwrap(),
                Some(creds(&format!("t{i}"))),
                "{t:?}"
            );
        }
        keyed.cleanup().await;
    }
}

/// Redis: a holder whose lease was lost (expired while it stalled, here
/// deleted to the same effect) cannot overwrite what the next holder wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_fencing_refuses_a_stale_holder() {
    let dir = scratch();
    let Some(t) = support::target(Kind::Redis, dir.path(), "fence") else {
        return;
    };
    let keyed = open(&t, Opts::default());
    let AnyKeyed::Redis(redis_keyed) = &keyed else {
        unreachable!()
    };
    let a = keyed.entry("user");
    a.put(&creds("original")).await.unwrap();
    let mut stale = a.lock().await.unwrap();
    let (_, lock_key, _) = redis_keyed.redis_keys("user");
    let mut conn = redis_conn(&t).await;
    redis::cmd("DEL")
        .arg(&lock_key)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    // The next holder takes the lock and writes.
    let b = open(&t, Opts::default()).entry("user");
    {
        let mut g = b.lock().await.unwrap();
        g.put(&creds("newer")).await.unwrap();
    }
    let e = stale.put(&creds("stale")).await.unwrap_err();
    assert!(
        matches!(storage_error(&e), Some(StorageError::LockLost)),
        "{e}"
    );
    assert!(stale.delete().await.is_err());
    drop(stale);
    assert_eq!(a.get().await.unwrap(), Some(creds("newer")));
    keyed.cleanup().await;
}

/// PostgreSQL: when the session holding the lock is terminated, the lock is
/// released at once and the old guard cannot write any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_session_releases_the_lock_and_refuses_writes() {
    let dir = scratch();
    let Some(t) = support::target(Kind::Postgres, dir.path(), "pgsess") else {
        return;
    };
    let keyed = open(&t, Opts::default());
    let AnyKeyed::Postgres(pg_keyed) = &keyed else {
        unreachable!()
    };
    let a = keyed.entry("user");
    a.put(&creds("original")).await.unwrap();
    let mut guard = a.lock().await.unwrap();
    let id = gapi::auth::KeyedStorage::for_key(pg_keyed, "user").lock_id();
    let admin = pg(&t).await;
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted \
             AND classid = $1 AND objid = $2 AND objsubid = 1",
            &[&(((id as u64) >> 32) as u32), &((id as u64) as u32)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1, "exactly the holder's session");
    let other = open(
        &t,
        Opts {
            lock_timeout: Some(Duration::from_secs(5)),
            ..Default::default()
        },
    );
    {
        let entry = other.entry("user");
        let mut g = entry.lock().await.unwrap();
        g.put(&creds("newer")).await.unwrap();
    }
    let e = guard.put(&creds("stale")).await.unwrap_err();
    assert!(
        matches!(storage_error(&e), Some(StorageError::LockLost)),
        "{e}"
    );
    drop(guard);
    assert_eq!(
        other.entry("user").get().await.unwrap(),
        Some(creds("newer"))
    );
    keyed.cleanup().await;
}
