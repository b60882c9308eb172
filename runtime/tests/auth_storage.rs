//! Storage with token sources: the re-read under the lock, FileStorage shared
//! by several sources and by 8 OS processes, lock timeouts, invalid marking,
//! keyed storage.

mod auth_support;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use auth_support::{FakeOAuth, Reply};
use gapi::auth::{
    FileKeyedStorage, FileStorage, KeyedStorage, MemoryKeyedStorage, Storage, UserCredentials,
    UserTokenSource,
};

const CHILD_FILE_VAR: &str = "GAPI_AUTH_TEST_CHILD_FILE";
const CHILD_DIR_VAR: &str = "GAPI_AUTH_TEST_CHILD_DIR";
const CHILD_ID_VAR: &str = "GAPI_AUTH_TEST_CHILD_ID";
const PROCESSES: usize = 8;

fn expired(fake: &FakeOAuth) -> UserCredentials {
    fake.credentials("at-old", SystemTime::now() - Duration::from_secs(60))
}

fn token_in(path: &Path) -> String {
    let c = UserCredentials::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    c.access_token().unwrap().secret().to_owned()
}

/// Not a test on its own: the body of each child process of
/// `eight_processes_sharing_a_file_refresh_once`, which runs this test binary
/// again with the environment variables set.
#[test]
fn child_process_entry() {
    let Ok(path) = std::env::var(CHILD_FILE_VAR) else {
        return;
    };
    let dir = std::env::var(CHILD_DIR_VAR).unwrap();
    let id = std::env::var(CHILD_ID_VAR).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let source = UserTokenSource::from_storage(FileStorage::new(&path))
            .await
            .unwrap()
            .expect("the parent stored credentials")
            .build();
        assert!(source.current().is_expired(SystemTime::now()));
        std::fs::write(Path::new(&dir).join(format!("ready-{id}")), "").unwrap();
        let go = Path::new(&dir).join("go");
        while !go.exists() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let a = source.credentials().authorization().await.unwrap();
        println!("CHILD-TOKEN={}", a.access_token().unwrap().secret());
        println!(
            "CHILD-REFRESH={}",
            source.current().refresh_token().unwrap().secret()
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_sharing_a_file_refresh_once() {
    let fake = FakeOAuth::start().await;
    fake.set_delay(Duration::from_millis(300));
    fake.state.rotate.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    FileStorage::new(&path).put(&expired(&fake)).await.unwrap();

    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for id in 0..PROCESSES {
        let child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "child_process_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_FILE_VAR, &path)
            .env(CHILD_DIR_VAR, dir.path())
            .env(CHILD_ID_VAR, id.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
    }
    // Wait until every child has loaded the expired token, then start them
    // all at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while (0..PROCESSES).any(|id| !dir.path().join(format!("ready-{id}")).exists()) {
        assert!(
            std::time::Instant::now() < deadline,
            "children did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    std::fs::write(dir.path().join("go"), "").unwrap();

    let mut outputs = Vec::new();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(stdout);
    }
    assert_eq!(fake.token_count(), 1, "exactly one refresh for 8 processes");
    for out in &outputs {
        assert!(out.contains("CHILD-TOKEN=at-1\n"), "{out}");
        // The rotated refresh token reached every process: none was lost.
        assert!(out.contains("CHILD-REFRESH=rt-1\n"), "{out}");
    }
    let stored = UserCredentials::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(stored.access_token().unwrap().secret(), "at-1");
    assert_eq!(stored.refresh_token().unwrap().secret(), "rt-1");
    assert!(!stored.is_invalid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_with_separate_handles_on_one_file_refresh_once() {
    let fake = FakeOAuth::start().await;
    fake.set_delay(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    FileStorage::new(&path).put(&expired(&fake)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let source = UserTokenSource::builder(expired(&fake))
            .with_storage(FileStorage::new(&path))
            .build();
        tasks.push(tokio::spawn(async move {
            source.credentials().authorization().await.unwrap()
        }));
    }
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.access_token().unwrap().secret(), "at-1");
    }
    assert_eq!(fake.token_count(), 1);
    assert_eq!(token_in(&path), "at-1");
}

#[tokio::test]
async fn lock_timeout_refreshes_without_the_storage() {
    let fake = FakeOAuth::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let holder = FileStorage::new(&path);
    holder.put(&expired(&fake)).await.unwrap();
    let guard = holder.lock().await.unwrap();
    let source = UserTokenSource::builder(expired(&fake))
        .with_storage(FileStorage::new(&path).with_lock_timeout(Duration::from_millis(200)))
        .build();
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(a.access_token().unwrap().secret(), "at-1");
    drop(guard);
    // Read-only: the file was not written without the lock.
    assert_eq!(token_in(&path), "at-old");
}

#[tokio::test]
async fn invalid_mark_is_written_to_the_file_and_honoured_by_later_loads() {
    let fake = FakeOAuth::start().await;
    fake.script_token([Reply::error(400, "invalid_grant")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let storage = FileStorage::new(&path);
    storage.put(&expired(&fake)).await.unwrap();
    let source = UserTokenSource::from_storage(storage.clone())
        .await
        .unwrap()
        .unwrap()
        .build();
    assert!(
        source
            .credentials()
            .authorization()
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    let stored = storage.get().await.unwrap().unwrap();
    assert!(stored.is_invalid());
    let later = UserTokenSource::from_storage(storage)
        .await
        .unwrap()
        .unwrap()
        .build();
    assert!(
        later
            .credentials()
            .authorization()
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    assert_eq!(fake.token_count(), 1);
}

#[tokio::test]
async fn a_new_grant_in_storage_replaces_an_invalid_one() {
    // Process A holds a dead grant; the user signed in again elsewhere and the
    // storage now has a new grant: A's next refresh uses the stored one.
    let fake = FakeOAuth::start().await;
    let dir = tempfile::tempdir().unwrap();
    let storage = FileStorage::new(dir.path().join("c.json"));
    let new_grant = UserCredentials::new(
        "client-123.apps.googleusercontent.com",
        None,
        Some(gapi::auth::RefreshToken::new("1//new-grant")),
    )
    .with_token_uri(fake.token_uri());
    storage.put(&new_grant).await.unwrap();
    let source = UserTokenSource::builder(expired(&fake))
        .with_storage(storage.clone())
        .build();
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(a.access_token().unwrap().secret(), "at-1");
    assert_eq!(fake.token_forms()[0]["refresh_token"], "1//new-grant");
}

#[tokio::test]
async fn the_lock_api_excludes_other_handles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let a = FileStorage::new(&path);
    let b = FileStorage::new(&path);
    let creds = UserCredentials::new("cid", None, None);
    let mut guard = a.lock().await.unwrap();
    guard.put(&creds).await.unwrap();
    let pending = tokio::spawn(async move {
        b.put(&UserCredentials::new("other", None, None))
            .await
            .unwrap();
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "a put ran while the lock was held");
    assert_eq!(guard.get().await.unwrap().unwrap().client_id(), "cid");
    drop(guard);
    pending.await.unwrap();
    assert_eq!(a.get().await.unwrap().unwrap().client_id(), "other");
}

#[tokio::test]
async fn keyed_storages_keep_one_grant_per_user() {
    let fake = FakeOAuth::start().await;
    let dir = tempfile::tempdir().unwrap();
    let files = FileKeyedStorage::new(dir.path().join("users"));
    let memory = MemoryKeyedStorage::new();
    check_keyed(&fake, files.clone()).await;
    check_keyed(&fake, memory).await;
    assert_eq!(
        files.keys().unwrap(),
        vec!["Bob@Example.com".to_owned(), "alice@example.com".to_owned()]
    );
}

async fn check_keyed<K: KeyedStorage>(fake: &FakeOAuth, keyed: K) {
    let start = fake.token_count();
    for user in ["alice@example.com", "Bob@Example.com"] {
        keyed.for_key(user).put(&expired(fake)).await.unwrap();
    }
    let alice = UserTokenSource::from_storage(keyed.for_key("alice@example.com"))
        .await
        .unwrap()
        .unwrap()
        .build();
    alice.credentials().authorization().await.unwrap();
    let stored = |k: &str| {
        let keyed = &keyed;
        let k = k.to_owned();
        async move { keyed.for_key(&k).get().await.unwrap().unwrap() }
    };
    assert_eq!(
        stored("alice@example.com")
            .await
            .access_token()
            .unwrap()
            .secret(),
        format!("at-{}", start + 1)
    );
    assert_eq!(
        stored("Bob@Example.com")
            .await
            .access_token()
            .unwrap()
            .secret(),
        "at-old"
    );
    assert!(keyed.for_key("carol").get().await.unwrap().is_none());
}

#[tokio::test]
async fn short_lived_tokens_are_not_refreshed_at_once_and_are_adopted_across_sources() {
    // A server that hands out 5 s tokens: with the 5 minute margin alone,
    // every token would be stale the moment it arrives.
    let fake = FakeOAuth::start().await;
    let five_s = |n: u32| {
        Reply::json(
            200,
            format!(r#"{{"access_token":"at-short-{n}","expires_in":5}}"#),
        )
    };
    fake.script_token((1..=4).map(five_s));
    let storage = gapi::auth::MemoryStorage::with_credentials(expired(&fake));
    let a = UserTokenSource::builder(expired(&fake))
        .with_storage(storage.clone())
        .build();
    let b = UserTokenSource::builder(expired(&fake))
        .with_storage(storage.clone())
        .build();
    let first = a.credentials().authorization().await.unwrap();
    assert_eq!(first.access_token().unwrap().secret(), "at-short-1");
    assert_eq!(fake.token_count(), 1);
    // The same source: the new token is used, not refreshed again.
    for _ in 0..3 {
        let again = a.credentials().authorization().await.unwrap();
        assert_eq!(again.access_token().unwrap().secret(), "at-short-1");
    }
    // Another source (another process, in effect) with an expired copy
    // adopts the stored 5 s token instead of refreshing in turn.
    let adopted = b.credentials().authorization().await.unwrap();
    assert_eq!(adopted.access_token().unwrap().secret(), "at-short-1");
    assert_eq!(fake.token_count(), 1);
    // The stored copy records when the token was obtained.
    let stored = storage.get().await.unwrap().unwrap();
    let (issued, expiry) = (stored.issued().unwrap(), stored.expiry().unwrap());
    assert_eq!(
        expiry.duration_since(issued).unwrap(),
        Duration::from_secs(5)
    );
}
