//! Impersonation against an in-process fake of the IAM Credentials
//! `generateAccessToken` endpoint: request shape, delegates, lifetime,
//! source refresh on 401, errors, retries, single flight.

mod auth_s2s_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_s2s_support::{Fake, Reply, TEST_KEY, sa_json};
use gapi::auth::{
    Credentials, ImpersonatedCredentials, ServiceAccountCredentials, ServiceAccountKey,
};
use gapi::clock::{ManualClock, SharedClock};

const TARGET: &str = "target@gapi-test.iam.gserviceaccount.com";

fn sa_source(fake: &Fake) -> ServiceAccountCredentials {
    let key = ServiceAccountKey::from_json(&sa_json(&fake.token_uri(), TEST_KEY), "k").unwrap();
    ServiceAccountCredentials::builder(key).build()
}

#[tokio::test]
async fn posts_scope_delegates_lifetime_with_the_source_token() {
    let fake = Fake::start().await;
    let source = sa_source(&fake);
    let creds = ImpersonatedCredentials::builder(source.credentials(), TARGET)
        .with_endpoint(fake.url(""))
        .with_scopes(["https://www.googleapis.com/auth/devstorage.read_only"])
        .with_delegates([
            "d1@p.iam.gserviceaccount.com",
            "projects/-/serviceAccounts/d2@p.iam.gserviceaccount.com",
        ])
        .with_lifetime(Duration::from_secs(600))
        .with_quota_project("billed")
        .build();
    assert_eq!(creds.target_principal(), TARGET);
    let a = creds.credentials().authorization().await.unwrap();
    assert_eq!(a.access_token().unwrap().secret(), "iam-token-1");
    assert_eq!(a.quota_project(), Some("billed"));
    let call = &fake.iam_calls()[0];
    assert_eq!(call.target, TARGET);
    assert_eq!(call.authorization.as_deref(), Some("Bearer sa-token-1"));
    assert_eq!(call.quota_project, None, "the source has no quota project");
    assert_eq!(
        call.body,
        serde_json::json!({
            "scope": ["https://www.googleapis.com/auth/devstorage.read_only"],
            "delegates": [
                "projects/-/serviceAccounts/d1@p.iam.gserviceaccount.com",
                "projects/-/serviceAccounts/d2@p.iam.gserviceaccount.com"
            ],
            "lifetime": "600s"
        })
    );
    // Cached (expires 2099).
    creds.access_token().await.unwrap();
    assert_eq!(fake.iam_count(), 1);
    assert_eq!(fake.token_count(), 1);
}

#[tokio::test]
async fn expire_time_drives_the_refresh() {
    let fake = Fake::start().await;
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000));
    let shared: SharedClock = Arc::new(clock.clone());
    // 2025-06-15T15:06:40Z is 1_750_000_000; the token expires 20 min later.
    fake.set_iam_expire_time("2025-06-15T15:26:40Z");
    let creds = ImpersonatedCredentials::builder(Credentials::access_token("src"), TARGET)
        .with_endpoint(fake.url("/"))
        .with_clock(shared)
        .build();
    assert_eq!(creds.access_token().await.unwrap().secret(), "iam-token-1");
    clock.advance(Duration::from_secs(14 * 60));
    assert_eq!(creds.access_token().await.unwrap().secret(), "iam-token-1");
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(creds.access_token().await.unwrap().secret(), "iam-token-2");
    // Default scope and lifetime.
    let body = &fake.iam_calls()[0].body;
    assert_eq!(
        body["scope"][0],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(body["lifetime"], "3600s");
    assert_eq!(body["delegates"], serde_json::json!([]));
}

#[tokio::test]
async fn a_401_makes_the_source_refresh_once() {
    let fake = Fake::start().await;
    let source = sa_source(&fake);
    fake.script_iam([Reply::json(
        401,
        r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#,
    )]);
    let creds = ImpersonatedCredentials::builder(source.credentials(), TARGET)
        .with_endpoint(fake.url(""))
        .build();
    assert_eq!(creds.access_token().await.unwrap().secret(), "iam-token-2");
    let calls = fake.iam_calls();
    assert_eq!(calls[0].authorization.as_deref(), Some("Bearer sa-token-1"));
    assert_eq!(calls[1].authorization.as_deref(), Some("Bearer sa-token-2"));

    // A source that cannot refresh: the 401 is an auth error.
    fake.script_iam([Reply::json(
        401,
        r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#,
    )]);
    let creds = ImpersonatedCredentials::builder(Credentials::access_token("fixed"), TARGET)
        .with_endpoint(fake.url(""))
        .build();
    let e = creds.access_token().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test(start_paused = true)]
async fn errors_are_typed_and_transient_ones_retried() {
    let fake = Fake::start().await;
    fake.script_iam([Reply::json(
        403,
        r#"{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","details":[]}}"#,
    )]);
    let creds = ImpersonatedCredentials::builder(Credentials::access_token("src-token"), TARGET)
        .with_endpoint(fake.url(""))
        .build();
    let e = creds.access_token().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("PERMISSION_DENIED")
    );
    let text = e.to_string();
    assert!(
        text.contains("iam.serviceAccounts.getAccessToken"),
        "{text}"
    );
    assert!(text.contains("serviceAccountTokenCreator"), "{text}");
    assert!(text.contains(TARGET), "{text}");
    assert_eq!(fake.iam_count(), 1, "403 is not retried");

    fake.script_iam([
        Reply::json(
            503,
            r#"{"error":{"code":503,"message":"unavailable","status":"UNAVAILABLE"}}"#,
        ),
        Reply::json(
            429,
            r#"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}"#,
        ),
    ]);
    assert_eq!(creds.access_token().await.unwrap().secret(), "iam-token-4");

    fake.script_iam([Reply::json(200, r#"{"accessToken":"x"}"#)]);
    let e = creds.force_refresh().await.unwrap_err();
    assert!(e.is_decode() && e.to_string().contains("expireTime"), "{e}");

    fake.script_iam([Reply::json(
        404,
        r#"{"error":{"code":404,"message":"Not found; Gaia id not found for email nobody@x","status":"NOT_FOUND"}}"#,
    )]);
    let e = creds.force_refresh().await.unwrap_err();
    assert_eq!(e.auth_error().unwrap().code.as_deref(), Some("NOT_FOUND"));

    // A source that fails is reported as is, not retried here.
    let dead = Fake::start().await;
    dead.script_token([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
    )]);
    let creds = ImpersonatedCredentials::builder(sa_source(&dead).credentials(), TARGET)
        .with_endpoint(dead.url(""))
        .build();
    let e = creds.access_token().await.unwrap_err();
    assert!(e.to_string().contains("Invalid JWT Signature"), "{e}");
    assert_eq!(dead.iam_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_make_one_request_each_level() {
    let fake = Fake::start().await;
    fake.set_delay(Duration::from_millis(100));
    let credentials = ImpersonatedCredentials::builder(sa_source(&fake).credentials(), TARGET)
        .with_url(fake.url(&format!(
            "/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
        )))
        .build()
        .credentials();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let c = credentials.clone();
            tokio::spawn(async move { c.authorization().await })
        })
        .collect();
    for t in tasks {
        let a = t.await.unwrap().unwrap();
        assert_eq!(a.access_token().unwrap().secret(), "iam-token-1");
    }
    assert_eq!(fake.iam_count(), 1);
    assert_eq!(fake.token_count(), 1);
}
