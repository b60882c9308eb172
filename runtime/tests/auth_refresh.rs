//! UserTokenSource against a fake token endpoint: single flight, proactive
//! refresh, rotation, 401 handling, invalid_grant, transient retries,
//! write-back, adoption from storage, revocation.

mod auth_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use auth_support::{FakeOAuth, REFRESH_TOKEN, Reply};
use gapi::auth::{
    AccessToken, Authorization, MemoryStorage, Storage, UserCredentials, UserTokenSource,
};
use gapi::clock::{ManualClock, SharedClock};

fn start_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn clock() -> (ManualClock, SharedClock) {
    let c = ManualClock::new(start_time());
    (c.clone(), Arc::new(c))
}

fn token_of(a: &Authorization) -> String {
    a.access_token().unwrap().secret().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_make_one_refresh() {
    let fake = FakeOAuth::start().await;
    fake.set_delay(Duration::from_millis(100));
    let (_, clock) = clock();
    let expired = fake.credentials("at-old", start_time() - Duration::from_secs(10));
    let source = UserTokenSource::builder(expired).with_clock(clock).build();
    let credentials = source.credentials();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let c = credentials.clone();
        tasks.push(tokio::spawn(async move { c.authorization().await }));
    }
    for t in tasks {
        let a = t.await.unwrap().unwrap();
        assert_eq!(token_of(&a), "at-1");
    }
    assert_eq!(fake.token_count(), 1);
    let form = &fake.token_forms()[0];
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], REFRESH_TOKEN);
    assert_eq!(form["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(form["client_secret"], auth_support::CLIENT_SECRET);
    // The new expiry is an hour after the refresh started.
    assert_eq!(
        source.current().expiry(),
        Some(start_time() + Duration::from_secs(3600))
    );
}

#[tokio::test]
async fn refreshes_proactively_within_the_margin() {
    let fake = FakeOAuth::start().await;
    let (manual, clock) = clock();
    // Expires in 10 minutes: used as is.
    let creds = fake.credentials("at-0", start_time() + Duration::from_secs(600));
    let source = UserTokenSource::builder(creds)
        .with_clock(clock.clone())
        .build();
    assert_eq!(
        token_of(&source.credentials().authorization().await.unwrap()),
        "at-0"
    );
    assert_eq!(fake.token_count(), 0);
    // 6 minutes later it is within the default 5-minute margin: refreshed
    // although still valid.
    manual.advance(Duration::from_secs(360));
    assert_eq!(
        token_of(&source.credentials().authorization().await.unwrap()),
        "at-1"
    );
    assert_eq!(fake.token_count(), 1);

    // A 1-minute margin leaves a token with 4 minutes left alone.
    let creds = fake.credentials("at-x", manual_now(&clock) + Duration::from_secs(240));
    let source = UserTokenSource::builder(creds)
        .with_clock(clock.clone())
        .with_refresh_margin(Duration::from_secs(60))
        .build();
    assert_eq!(
        token_of(&source.credentials().authorization().await.unwrap()),
        "at-x"
    );
    assert_eq!(fake.token_count(), 1);
    manual.advance(Duration::from_secs(181));
    assert_eq!(
        token_of(&source.credentials().authorization().await.unwrap()),
        "at-2"
    );
}

fn manual_now(c: &SharedClock) -> SystemTime {
    c.now()
}

#[tokio::test]
async fn keeps_refresh_token_unless_rotated() {
    let fake = FakeOAuth::start().await;
    let (_, clock) = clock();
    let source = UserTokenSource::builder(fake.credentials("x", start_time()))
        .with_clock(clock)
        .build();
    let c = source.force_refresh().await.unwrap();
    assert_eq!(c.refresh_token().unwrap().secret(), REFRESH_TOKEN);
    fake.state.rotate.store(true, Ordering::SeqCst);
    let c = source.force_refresh().await.unwrap();
    assert_eq!(c.access_token().unwrap().secret(), "at-2");
    assert_eq!(c.refresh_token().unwrap().secret(), "rt-2");
    source.force_refresh().await.unwrap();
    // The rotated token is the one used next.
    assert_eq!(fake.token_forms()[2]["refresh_token"], "rt-2");
}

#[tokio::test]
async fn accepts_urlencoded_token_responses_and_new_scopes() {
    let fake = FakeOAuth::start().await;
    fake.script_token([Reply {
        status: 200,
        content_type: "application/x-www-form-urlencoded",
        body: "access_token=at-form&expires=120&scope=a%20b".into(),
    }]);
    let (_, clock) = clock();
    let source = UserTokenSource::builder(fake.credentials("x", start_time()))
        .with_clock(clock)
        .build();
    let c = source.force_refresh().await.unwrap();
    assert_eq!(c.access_token().unwrap().secret(), "at-form");
    assert_eq!(c.expiry(), Some(start_time() + Duration::from_secs(120)));
    assert_eq!(c.scopes(), ["a", "b"]);
}

#[tokio::test]
async fn unauthorized_refreshes_only_the_current_token() {
    let fake = FakeOAuth::start().await;
    let (_, clock) = clock();
    let creds = fake.credentials("at-0", start_time() + Duration::from_secs(3600));
    let credentials = UserTokenSource::builder(creds)
        .with_clock(clock)
        .build()
        .credentials();
    let used = credentials.authorization().await.unwrap();
    assert_eq!(token_of(&used), "at-0");
    // Two requests got 401 with the same token: one refresh between them.
    let (a, b) = tokio::join!(
        credentials.refresh_after_unauthorized(&used),
        credentials.refresh_after_unauthorized(&used)
    );
    assert!(a.unwrap() && b.unwrap());
    assert_eq!(fake.token_count(), 1);
    // A late 401 for the old token does not refresh again.
    assert!(credentials.refresh_after_unauthorized(&used).await.unwrap());
    assert_eq!(fake.token_count(), 1);
    assert_eq!(
        token_of(&credentials.authorization().await.unwrap()),
        "at-1"
    );
    // A bearer-less authorization cannot be refreshed.
    assert!(
        !credentials
            .refresh_after_unauthorized(&Authorization::none())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn access_token_only_credentials_cannot_refresh() {
    let creds = UserCredentials::new("cid", None, None)
        .with_access_token(AccessToken::new("at-fixed"), None);
    let credentials = UserTokenSource::new(creds).credentials();
    let used = credentials.authorization().await.unwrap();
    assert!(!credentials.refresh_after_unauthorized(&used).await.unwrap());
    let expired = UserCredentials::new("cid", None, None).with_access_token(
        AccessToken::new("at-old"),
        Some(SystemTime::now() - Duration::from_secs(1)),
    );
    let e = UserTokenSource::new(expired)
        .credentials()
        .authorization()
        .await
        .unwrap_err();
    // "authorize again" in the message, and the predicate agrees
    assert!(e.is_auth() && e.needs_reauthorization(), "{e}");
    assert!(e.to_string().contains("authorize again"), "{e}");
}

#[tokio::test]
async fn invalid_grant_marks_credentials_invalid_in_memory_and_storage() {
    let fake = FakeOAuth::start().await;
    fake.script_token([Reply::error(400, "invalid_grant")]);
    let (_, clock) = clock();
    let creds = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let storage = MemoryStorage::with_credentials(creds.clone());
    let source = UserTokenSource::builder(creds)
        .with_clock(clock)
        .with_storage(storage.clone())
        .build();
    let credentials = source.credentials();
    let e = credentials.authorization().await.unwrap_err();
    assert!(e.needs_reauthorization(), "{e}");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_grant")
    );
    assert!(e.to_string().contains("scripted invalid_grant"), "{e}");
    assert!(source.current().is_invalid());
    let stored = storage.get().await.unwrap().unwrap();
    assert!(stored.is_invalid());
    assert_eq!(stored.refresh_token().unwrap().secret(), REFRESH_TOKEN);
    // No more requests: the answer is known.
    let e = credentials.authorization().await.unwrap_err();
    assert!(e.needs_reauthorization());
    assert_eq!(fake.token_count(), 1);

    // A second source on the same storage (another process, later) sees the
    // mark without asking the server.
    let fresh_start = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let other = UserTokenSource::builder(fresh_start)
        .with_storage(storage)
        .with_clock(Arc::new(ManualClock::new(start_time())))
        .build();
    assert!(
        other
            .credentials()
            .authorization()
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    assert_eq!(fake.token_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_backoff() {
    let fake = FakeOAuth::start().await;
    fake.script_token([
        Reply::json(503, "<html>unavailable</html>"),
        Reply::error(500, "server_error"),
    ]);
    let (manual, clock) = clock();
    let creds = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let storage = MemoryStorage::with_credentials(creds.clone());
    let source = UserTokenSource::builder(creds)
        .with_clock(clock)
        .with_storage(storage.clone())
        .build();
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-3");
    assert_eq!(fake.token_count(), 3);
    // Backoff of 1 s then 2 s (plus up to 25 % jitter) on the injected clock.
    let waited = manual_now_of(&manual).duration_since(start_time()).unwrap();
    assert!(
        waited >= Duration::from_secs(3) && waited <= Duration::from_millis(3750),
        "{waited:?}"
    );
    assert_eq!(
        storage
            .get()
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .unwrap()
            .secret(),
        "at-3"
    );
}

fn manual_now_of(c: &ManualClock) -> SystemTime {
    use gapi::clock::Clock as _;
    c.now()
}

#[tokio::test(start_paused = true)]
async fn persistent_transient_failure_is_transient_and_never_invalidates() {
    let fake = FakeOAuth::start().await;
    fake.script_token([
        Reply::json(503, "down"),
        Reply::json(503, "down"),
        Reply::json(503, "down"),
    ]);
    let (_, clock) = clock();
    let creds = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let storage = MemoryStorage::with_credentials(creds.clone());
    let source = UserTokenSource::builder(creds)
        .with_clock(clock)
        .with_storage(storage.clone())
        .build();
    let e = source.credentials().authorization().await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(!e.needs_reauthorization());
    assert_eq!(e.status(), Some(503));
    assert_eq!(fake.token_count(), 3);
    assert!(!source.current().is_invalid());
    assert!(!storage.get().await.unwrap().unwrap().is_invalid());
    // The next call tries again and succeeds.
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-4");
}

#[tokio::test(start_paused = true)]
async fn network_errors_are_transient() {
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/token", l.local_addr().unwrap());
    drop(l);
    let (_, clock) = clock();
    let creds = UserCredentials::new("cid", None, Some(gapi::auth::RefreshToken::new("1//r")))
        .with_token_uri(dead);
    let source = UserTokenSource::builder(creds)
        .with_clock(clock)
        .with_max_attempts(2)
        .build();
    let e = source.credentials().authorization().await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(!source.current().is_invalid());
}

#[tokio::test(start_paused = true)]
async fn stale_but_valid_token_is_used_when_early_refresh_fails() {
    let fake = FakeOAuth::start().await;
    fake.script_token([
        Reply::json(503, "down"),
        Reply::json(503, "down"),
        Reply::json(503, "down"),
    ]);
    let (manual, clock) = clock();
    // Two minutes left: inside the margin, not expired.
    let creds = fake.credentials("at-0", start_time() + Duration::from_secs(120));
    let source = UserTokenSource::builder(creds).with_clock(clock).build();
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-0");
    assert_eq!(fake.token_count(), 3);
    // Right after a failure the old token is used without another attempt.
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-0");
    assert_eq!(fake.token_count(), 3);
    // Later, it tries again.
    manual.advance(Duration::from_secs(31));
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_share_a_failed_refresh() {
    let fake = FakeOAuth::start().await;
    fake.set_delay(Duration::from_millis(100));
    fake.script_token([Reply::error(401, "invalid_client")]);
    let (_, clock) = clock();
    let creds = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let credentials = UserTokenSource::builder(creds)
        .with_clock(clock)
        .build()
        .credentials();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let c = credentials.clone();
        tasks.push(tokio::spawn(async move { c.authorization().await }));
    }
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(
            e.auth_error().unwrap().code.as_deref(),
            Some("invalid_client")
        );
        assert!(!e.needs_reauthorization());
    }
    assert_eq!(fake.token_count(), 1);
}

#[tokio::test]
async fn writes_every_refresh_back_and_adopts_stored_tokens() {
    let fake = FakeOAuth::start().await;
    let (manual, clock) = clock();
    let creds = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let storage = MemoryStorage::new();
    let source = UserTokenSource::builder(creds)
        .with_clock(clock.clone())
        .with_storage(storage.clone())
        .build();
    source.credentials().authorization().await.unwrap();
    let stored = storage.get().await.unwrap().unwrap();
    assert_eq!(stored.access_token().unwrap().secret(), "at-1");
    assert_eq!(stored, source.current());

    // Another process refreshed and stored a newer token: adopted, no request.
    manual.advance(Duration::from_secs(3500));
    let newer = fake.credentials("at-elsewhere", clock.now() + Duration::from_secs(3600));
    storage.put(&newer).await.unwrap();
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-elsewhere");
    assert_eq!(fake.token_count(), 1);

    // 401 with a token while the storage holds a different valid one: adopt it
    // (oauth2client's store_expires_soon case); then a 401 for that one
    // refreshes over the network.
    let used = a;
    let other = fake.credentials("at-other", clock.now() + Duration::from_secs(3600));
    storage.put(&other).await.unwrap();
    assert!(
        source
            .credentials()
            .refresh_after_unauthorized(&used)
            .await
            .unwrap()
    );
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-other");
    assert_eq!(fake.token_count(), 1);
    assert!(
        source
            .credentials()
            .refresh_after_unauthorized(&a)
            .await
            .unwrap()
    );
    assert_eq!(fake.token_count(), 2);
    assert_eq!(
        storage
            .get()
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .unwrap()
            .secret(),
        "at-2"
    );
}

#[tokio::test]
async fn from_storage_loads_and_quota_project_is_attached() {
    let fake = FakeOAuth::start().await;
    let storage = MemoryStorage::new();
    assert!(
        UserTokenSource::from_storage(storage.clone())
            .await
            .unwrap()
            .is_none()
    );
    let creds = fake
        .credentials("at-0", SystemTime::now() + Duration::from_secs(3600))
        .with_quota_project("billing-project");
    storage.put(&creds).await.unwrap();
    let source = UserTokenSource::from_storage(storage)
        .await
        .unwrap()
        .unwrap()
        .build();
    let a = source.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "at-0");
    assert_eq!(a.quota_project(), Some("billing-project"));
}

#[tokio::test]
async fn revoke_posts_the_refresh_token_and_deletes_the_stored_grant() {
    let fake = FakeOAuth::start().await;
    let (_, clock) = clock();
    let creds = fake.credentials("at-0", start_time() + Duration::from_secs(3600));
    let storage = MemoryStorage::with_credentials(creds.clone());
    let source = UserTokenSource::builder(creds)
        .with_clock(clock)
        .with_storage(storage.clone())
        .build();
    source.revoke().await.unwrap();
    assert_eq!(fake.state.revoke_requests.load(Ordering::SeqCst), 1);
    assert_eq!(
        fake.state.revoke_forms.lock().unwrap()[0]["token"],
        REFRESH_TOKEN
    );
    assert!(storage.get().await.unwrap().is_none());
    assert!(source.current().is_invalid());
    let e = source.credentials().authorization().await.unwrap_err();
    assert!(e.needs_reauthorization());
    assert_eq!(fake.token_count(), 0);
}

#[tokio::test]
async fn revoke_failures_are_reported_and_already_invalid_is_fine() {
    let fake = FakeOAuth::start().await;
    let (_, clock) = clock();
    let creds = fake.credentials("at-0", start_time() + Duration::from_secs(3600));
    fake.script_revoke([Reply::error(400, "invalid_request")]);
    let source = UserTokenSource::builder(creds.clone())
        .with_clock(clock.clone())
        .build();
    let e = source.revoke().await.unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_request")
    );
    assert!(!source.current().is_invalid());
    // Google answers invalid_token for a token that is already revoked.
    fake.script_revoke([Reply::error(400, "invalid_token")]);
    source.revoke().await.unwrap();
    assert!(source.current().is_invalid());
}

#[tokio::test]
async fn short_lived_tokens_are_not_refreshed_on_every_call() {
    let fake = FakeOAuth::start().await;
    fake.script_token([
        Reply::json(200, r#"{"access_token":"short-1","expires_in":60}"#),
        Reply::json(200, r#"{"access_token":"short-2","expires_in":60}"#),
    ]);
    let (manual, clock) = clock();
    let creds = fake.credentials("at-0", start_time() - Duration::from_secs(1));
    let credentials = UserTokenSource::builder(creds)
        .with_clock(clock)
        .build()
        .credentials();
    // The 5-minute margin is longer than the token's life: half the life is
    // used instead.
    assert_eq!(
        token_of(&credentials.authorization().await.unwrap()),
        "short-1"
    );
    manual.advance(Duration::from_secs(29));
    assert_eq!(
        token_of(&credentials.authorization().await.unwrap()),
        "short-1"
    );
    assert_eq!(fake.token_count(), 1);
    manual.advance(Duration::from_secs(2));
    assert_eq!(
        token_of(&credentials.authorization().await.unwrap()),
        "short-2"
    );
    assert_eq!(fake.token_count(), 2);
}
