//! Service account credentials against an in-process token endpoint: the
//! assertion (verified with the public key), delegation, self-signed JWTs,
//! single flight, proactive refresh, typed errors, retries, key files.

mod auth_s2s_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_s2s_support::{
    Fake, OTHER_KEY, Reply, SA_EMAIL, SA_KEY_ID, SA_PROJECT, TEST_KEY, sa_json, verify_jwt,
};
use gapi::auth::{
    Authorization, CredentialSource, JWT_BEARER_GRANT_TYPE, ServiceAccountCredentials,
    ServiceAccountKey,
};
use gapi::clock::{ManualClock, SharedClock};

const START: u64 = 1_750_000_000;

fn start_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(START)
}

fn clock() -> (ManualClock, SharedClock) {
    let c = ManualClock::new(start_time());
    (c.clone(), Arc::new(c))
}

fn key(fake: &Fake) -> ServiceAccountKey {
    ServiceAccountKey::from_json(&sa_json(&fake.token_uri(), TEST_KEY), "test key").unwrap()
}

fn token_of(a: &Authorization) -> String {
    a.access_token().unwrap().secret().to_owned()
}

#[tokio::test]
async fn exchanges_a_signed_assertion_at_the_token_endpoint() {
    let fake = Fake::start().await;
    let (manual, clock) = clock();
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_scopes(["https://www.googleapis.com/auth/devstorage.read_only", "s2"])
        .with_clock(clock)
        .build();
    assert!(!creds.uses_self_signed_jwt());
    let a = creds.credentials().authorization().await.unwrap();
    assert_eq!(token_of(&a), "sa-token-1");
    assert_eq!(a.quota_project(), None);
    let form = &fake.token_forms()[0];
    assert_eq!(form["grant_type"], JWT_BEARER_GRANT_TYPE);
    assert_eq!(form.len(), 2, "{form:?}");
    let (header, claims) = verify_jwt(&form["assertion"], TEST_KEY);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], SA_KEY_ID);
    assert_eq!(claims["iss"], SA_EMAIL);
    assert_eq!(claims["aud"], fake.token_uri());
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/devstorage.read_only s2"
    );
    assert_eq!(claims["iat"], START);
    assert_eq!(claims["exp"], START + 3600);
    assert!(claims.get("sub").is_none());

    // Cached until the refresh margin (5 minutes before the hour).
    manual.advance(Duration::from_secs(3600 - 301));
    assert_eq!(
        token_of(&creds.credentials().authorization().await.unwrap()),
        "sa-token-1"
    );
    assert_eq!(fake.token_count(), 1);
    manual.advance(Duration::from_secs(2));
    assert_eq!(
        token_of(&creds.credentials().authorization().await.unwrap()),
        "sa-token-2"
    );
    let (_, claims) = verify_jwt(&fake.token_forms()[1]["assertion"], TEST_KEY);
    assert_eq!(claims["iat"], START + 3301);
}

#[tokio::test]
async fn default_scope_subject_quota_project_and_token_uri_override() {
    let fake = Fake::start().await;
    let other = Fake::start().await;
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_subject("user@example.com")
        .with_quota_project("billed-project")
        .with_token_uri(other.token_uri())
        .build();
    let a = creds.credentials().authorization().await.unwrap();
    assert_eq!(a.quota_project(), Some("billed-project"));
    assert_eq!(fake.token_count(), 0);
    let (_, claims) = verify_jwt(&other.token_forms()[0]["assertion"], TEST_KEY);
    assert_eq!(claims["sub"], "user@example.com");
    assert_eq!(claims["aud"], other.token_uri());
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert!(format!("{:?}", creds.credentials()).contains("acting as user@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_make_one_token_request() {
    let fake = Fake::start().await;
    fake.set_delay(Duration::from_millis(100));
    let credentials = ServiceAccountCredentials::builder(key(&fake))
        .build()
        .credentials();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let c = credentials.clone();
            tokio::spawn(async move { c.authorization().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(token_of(&t.await.unwrap().unwrap()), "sa-token-1");
    }
    assert_eq!(fake.token_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_share_one_failure() {
    let fake = Fake::start().await;
    fake.set_delay(Duration::from_millis(100));
    fake.script_token([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
    )]);
    let credentials = ServiceAccountCredentials::builder(key(&fake))
        .build()
        .credentials();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let c = credentials.clone();
            tokio::spawn(async move { c.authorization().await })
        })
        .collect();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert!(e.is_auth(), "{e}");
    }
    assert_eq!(fake.token_count(), 1);
}

#[tokio::test]
async fn self_signed_jwts_need_no_request() {
    let fake = Fake::start().await;
    let (manual, clock) = clock();
    // With an audience.
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_audience("https://storage.googleapis.com/")
        .with_clock(clock.clone())
        .build();
    assert!(creds.uses_self_signed_jwt());
    let jwt = creds.access_token().await.unwrap();
    let (header, claims) = verify_jwt(jwt.secret(), TEST_KEY);
    assert_eq!(header["kid"], SA_KEY_ID);
    assert_eq!(claims["iss"], SA_EMAIL);
    assert_eq!(claims["sub"], SA_EMAIL);
    assert_eq!(claims["aud"], "https://storage.googleapis.com/");
    assert!(claims.get("scope").is_none());
    assert_eq!(claims["exp"], START + 3600);
    // Cached, then re-signed within the margin.
    assert_eq!(creds.access_token().await.unwrap(), jwt);
    manual.advance(Duration::from_secs(3400));
    let again = creds.access_token().await.unwrap();
    assert_ne!(again, jwt);
    let (_, claims) = verify_jwt(again.secret(), TEST_KEY);
    assert_eq!(claims["iat"], START + 3400);

    // With scopes instead of an audience.
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_self_signed_jwt(true)
        .with_scopes(["a", "b"])
        .with_clock(clock.clone())
        .build();
    let (_, claims) = verify_jwt(creds.access_token().await.unwrap().secret(), TEST_KEY);
    assert_eq!(claims["scope"], "a b");
    assert!(claims.get("aud").is_none());

    // Delegation needs the token endpoint: self-signed is not used.
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_self_signed_jwt(true)
        .with_subject("user@example.com")
        .build();
    assert!(!creds.uses_self_signed_jwt());

    // Outside googleapis.com only self-signed JWTs work.
    let mut v: serde_json::Value =
        serde_json::from_str(&sa_json(&fake.token_uri(), TEST_KEY)).unwrap();
    v["universe_domain"] = "example-universe.test".into();
    let k = ServiceAccountKey::from_json(&v.to_string(), "k").unwrap();
    assert_eq!(k.universe_domain(), "example-universe.test");
    assert!(
        ServiceAccountCredentials::builder(k)
            .build()
            .uses_self_signed_jwt()
    );
    assert_eq!(fake.token_count(), 0);

    // Single flight for self-signed tokens too: one signature for all.
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_self_signed_jwt(true)
        .build();
    let all = futures_util::future::join_all((0..1000).map(|_| creds.access_token())).await;
    let first = all[0].as_ref().unwrap();
    assert!(all.iter().all(|t| t.as_ref().unwrap() == first));
}

#[tokio::test]
async fn refused_assertions_are_typed_auth_errors_that_say_why() {
    let fake = Fake::start().await;
    fake.script_token([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
    )]);
    let creds = ServiceAccountCredentials::builder(key(&fake)).build();
    let e = creds.access_token().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_grant")
    );
    let text = e.to_string();
    assert!(text.contains("Invalid JWT Signature."), "{text}");
    assert!(text.contains("deleted or disabled"), "{text}");
    assert!(
        text.contains(SA_EMAIL) && text.contains(SA_KEY_ID),
        "{text}"
    );
    // Not cached forever: a re-enabled key works on the next call.
    assert_eq!(creds.access_token().await.unwrap().secret(), "sa-token-2");

    fake.script_token([Reply::json(
        401,
        r#"{"error":"invalid_client","error_description":"The OAuth client was disabled."}"#,
    )]);
    let e = creds.force_refresh().await.unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_client")
    );
    assert!(e.to_string().contains("disabled"), "{e}");

    fake.script_token([Reply::json(
        401,
        r#"{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method."}"#,
    )]);
    let dwd = ServiceAccountCredentials::builder(key(&fake))
        .with_subject("user@example.com")
        .build();
    let e = dwd.access_token().await.unwrap_err();
    assert!(e.to_string().contains("domain-wide delegation"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_and_early_refresh_failures_tolerated() {
    let fake = Fake::start().await;
    fake.script_token([
        Reply::json(503, "<html>unavailable</html>"),
        Reply::json(500, r#"{"error":"internal_failure"}"#),
    ]);
    let (manual, clock) = clock();
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_clock(clock)
        .build();
    assert_eq!(creds.access_token().await.unwrap().secret(), "sa-token-3");
    assert_eq!(fake.token_count(), 3);

    // Within the margin the endpoint is down: the still-valid token is used.
    manual.advance(Duration::from_secs(3600 - 200));
    fake.script_token([
        Reply::json(503, "down"),
        Reply::json(503, "down"),
        Reply::json(503, "down"),
    ]);
    assert_eq!(creds.access_token().await.unwrap().secret(), "sa-token-3");
    assert_eq!(fake.token_count(), 6);
    // And not asked again for a while.
    assert_eq!(creds.access_token().await.unwrap().secret(), "sa-token-3");
    assert_eq!(fake.token_count(), 6);
    // Once expired, a failure is an error of the transport/API kind.
    manual.advance(Duration::from_secs(300));
    fake.script_token([
        Reply::json(503, "down"),
        Reply::json(503, "down"),
        Reply::json(503, "down"),
    ]);
    let e = creds.access_token().await.unwrap_err();
    assert!(e.is_transient() && !e.is_auth(), "{e}");
}

#[tokio::test]
async fn unauthorized_gets_a_new_token_once() {
    let fake = Fake::start().await;
    let credentials = ServiceAccountCredentials::builder(key(&fake))
        .build()
        .credentials();
    let used = credentials.authorization().await.unwrap();
    let (a, b) = tokio::join!(
        credentials.refresh_after_unauthorized(&used),
        credentials.refresh_after_unauthorized(&used)
    );
    assert!(a.unwrap() && b.unwrap());
    assert_eq!(fake.token_count(), 2);
    assert_eq!(
        token_of(&credentials.authorization().await.unwrap()),
        "sa-token-2"
    );
}

#[tokio::test]
async fn key_files_are_checked_and_errors_name_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("sa.json");
    std::fs::write(
        &good,
        sa_json("https://oauth2.googleapis.com/token", TEST_KEY),
    )
    .unwrap();
    let k = ServiceAccountKey::from_file(&good).unwrap();
    assert_eq!(k.client_email(), SA_EMAIL);
    assert_eq!(k.project_id(), Some(SA_PROJECT));
    assert_eq!(k.private_key_id(), Some(SA_KEY_ID));
    let debug = format!("{k:?}");
    assert!(
        debug.contains(SA_EMAIL) && !debug.contains("MII"),
        "{debug}"
    );
    let c = ServiceAccountCredentials::from_file(&good, ["x"]).unwrap();
    assert_eq!(c.client_email(), SA_EMAIL);
    // PKCS#1 (`BEGIN RSA PRIVATE KEY`) keys work too, and sign the same.
    let pkcs1 = include_str!("auth_s2s_support/test-key-pkcs1.pem");
    let k = ServiceAccountKey::from_json(&sa_json("https://x/token", pkcs1), "pkcs1").unwrap();
    let jwt = ServiceAccountCredentials::builder(k)
        .with_self_signed_jwt(true)
        .build()
        .access_token()
        .await
        .unwrap();
    verify_jwt(jwt.secret(), TEST_KEY);

    let bad = |json: String| {
        let p = dir.path().join("bad.json");
        std::fs::write(&p, json).unwrap();
        let e = ServiceAccountKey::from_file(&p).unwrap_err();
        assert!(e.to_string().contains("bad.json"), "{e}");
        assert!(!e.to_string().contains("MII"), "{e}");
        e.to_string()
    };
    let mut v: serde_json::Value =
        serde_json::from_str(&sa_json("https://x/token", TEST_KEY)).unwrap();
    v.as_object_mut().unwrap().remove("private_key");
    assert!(bad(v.to_string()).contains("private_key"));
    let mut v: serde_json::Value =
        serde_json::from_str(&sa_json("https://x/token", TEST_KEY)).unwrap();
    v["private_key"] =
        "-----BEGIN PRIVATE KEY-----\nMIIBnotakey\n-----END PRIVATE KEY-----\n".into();
    let e = bad(v.to_string());
    assert!(e.contains("`private_key`"), "{e}");
    let mut v: serde_json::Value =
        serde_json::from_str(&sa_json("https://x/token", TEST_KEY)).unwrap();
    v["client_email"] = 5.into();
    assert!(bad(v.to_string()).contains("client_email"));
    let mut v: serde_json::Value =
        serde_json::from_str(&sa_json("https://x/token", TEST_KEY)).unwrap();
    v["type"] = "authorized_user".into();
    assert!(bad(v.to_string()).contains("authorized_user"));
    assert!(bad("{not json".into()).contains("not valid JSON"));
    // The other test key is a different key: its signatures do not verify
    // against TEST_KEY's public half.
    let other = ServiceAccountKey::from_json(&sa_json("https://x/token", OTHER_KEY), "o").unwrap();
    let jwt = ServiceAccountCredentials::builder(other)
        .with_self_signed_jwt(true)
        .build()
        .access_token()
        .await
        .unwrap();
    assert!(std::panic::catch_unwind(|| verify_jwt(jwt.secret(), TEST_KEY)).is_err());
    verify_jwt(jwt.secret(), OTHER_KEY);
}

#[tokio::test]
async fn drives_a_client_request() {
    // The credentials are what a Client sends: Bearer plus quota project.
    let fake = Fake::start().await;
    let creds = ServiceAccountCredentials::builder(key(&fake))
        .with_quota_project("qp")
        .build();
    let a = CredentialSource::authorization(&creds).await.unwrap();
    assert_eq!(token_of(&a), "sa-token-1");
    assert_eq!(a.quota_project(), Some("qp"));
    assert_eq!(
        CredentialSource::describe(&creds),
        format!("service account {SA_EMAIL}")
    );
}
