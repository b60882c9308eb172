//! Metadata server credentials against an in-process fake on 127.0.0.1 (the
//! host is always injected: no test ever lets detection reach a real
//! metadata server address).

mod auth_s2s_support;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use auth_s2s_support::{Fake, Reply, closed_port};
use gapi::auth::MetadataServerCredentials;
use gapi::clock::{ManualClock, SharedClock};

fn clock() -> (ManualClock, SharedClock) {
    let c = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000));
    (c.clone(), Arc::new(c))
}

#[tokio::test]
async fn token_with_scopes_and_flavor_header_then_project_id() {
    let fake = Fake::start().await;
    let (manual, clock) = clock();
    let creds = MetadataServerCredentials::builder()
        .with_host(fake.host())
        .with_scopes(["https://www.googleapis.com/auth/cloud-platform", "b"])
        .with_quota_project("qp")
        .with_clock(clock)
        .build();
    creds.detect().await.unwrap();
    let a = creds.credentials().authorization().await.unwrap();
    assert_eq!(a.access_token().unwrap().secret(), "mds-token-1");
    assert_eq!(a.quota_project(), Some("qp"));
    assert_eq!(creds.project_id().await.unwrap(), "mds-project-42");
    let reqs = fake.state.mds_requests.lock().unwrap().clone();
    assert!(reqs.iter().all(|(_, flavored)| *flavored), "{reqs:?}");
    assert!(
        reqs.iter().any(|(p, _)| p
            == "/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform%2Cb"),
        "{reqs:?}"
    );
    // expires_in 3599: refreshed within the last 5 minutes.
    manual.advance(Duration::from_secs(3000));
    assert_eq!(creds.access_token().await.unwrap().secret(), "mds-token-1");
    manual.advance(Duration::from_secs(300));
    assert_eq!(creds.access_token().await.unwrap().secret(), "mds-token-2");
    assert!(format!("{creds:?}").contains(&fake.host()), "{creds:?}");
}

#[tokio::test]
async fn other_account_without_scopes() {
    let fake = Fake::start().await;
    let creds = MetadataServerCredentials::builder()
        .with_host(fake.host())
        .with_account("other@p.iam.gserviceaccount.com")
        .build();
    creds.access_token().await.unwrap();
    let reqs = fake.state.mds_requests.lock().unwrap().clone();
    assert_eq!(
        reqs[0].0,
        "/computeMetadata/v1/instance/service-accounts/other@p.iam.gserviceaccount.com/token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_make_one_token_request() {
    let fake = Fake::start().await;
    fake.set_delay(Duration::from_millis(100));
    let credentials = MetadataServerCredentials::builder()
        .with_host(fake.host())
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
        assert_eq!(a.access_token().unwrap().secret(), "mds-token-1");
    }
    assert_eq!(fake.mds_token_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn errors_transient_retried_missing_account_is_auth() {
    let fake = Fake::start().await;
    fake.script_mds([Reply::json(503, "busy"), Reply::json(500, "oops")]);
    let creds = MetadataServerCredentials::builder()
        .with_host(fake.host())
        .build();
    assert_eq!(creds.access_token().await.unwrap().secret(), "mds-token-3");

    fake.script_mds([Reply::json(404, "service account not found")]);
    let e = creds.force_refresh().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    assert!(e.to_string().contains("service account"), "{e}");

    fake.script_mds([Reply::json(200, "not json")]);
    let e = creds.force_refresh().await.unwrap_err();
    assert!(e.is_decode(), "{e}");
}

#[tokio::test]
async fn absent_server_fails_fast_with_a_clear_error() {
    let port = closed_port().await;
    let creds = MetadataServerCredentials::builder()
        .with_host(format!("127.0.0.1:{port}"))
        .with_detect_timeout(Duration::from_millis(200))
        .with_detect_attempts(2)
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(10))
        .build();
    let t = Instant::now();
    let e = creds.detect().await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let text = e.to_string();
    assert!(text.contains("no metadata server answered"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("could not connect"), "{text}");
    let e = creds.access_token().await.unwrap_err();
    assert!(e.is_transport(), "{e}");
}

#[tokio::test]
async fn slow_server_times_out_without_hanging() {
    let fake = Fake::start().await;
    fake.set_ping_delay(Duration::from_secs(30));
    let creds = MetadataServerCredentials::builder()
        .with_host(fake.host())
        .with_detect_timeout(Duration::from_millis(150))
        .with_detect_attempts(3)
        .build();
    let t = Instant::now();
    let e = creds.detect().await.unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(e.to_string().contains("no answer within"), "{e}");
    assert_eq!(
        fake.state
            .mds_pings
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );

    // A token request that takes too long is a timeout, retried, then an error.
    fake.set_delay(Duration::from_secs(30));
    let creds = MetadataServerCredentials::builder()
        .with_host(fake.host())
        .with_request_timeout(Duration::from_millis(100))
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(10))
        .build();
    let t = Instant::now();
    let e = creds.access_token().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(fake.mds_token_count(), 2);
}

#[tokio::test]
async fn a_server_without_the_flavor_header_is_not_a_metadata_server() {
    // Something else listens there (here: the fake's token endpoint path
    // answers 405 on GET /token, and `/` is probed): use a plain listener
    // that answers 200 without the header.
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let creds = MetadataServerCredentials::builder()
        .with_host(addr.to_string())
        .with_detect_attempts(1)
        .build();
    let e = creds.detect().await.unwrap_err();
    assert!(e.to_string().contains("Metadata-Flavor"), "{e}");
}
