//! The HTTP core against an in-process server on 127.0.0.1: URL building,
//! auth attachment, retries with Retry-After (on a recording clock, no real
//! sleeps), 401 → refresh → retry, error parsing, pagination, media.

mod http_support;

use http_support::{CREATE, RecordingClock, SVC, scripted_server};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gapi::auth::{AccessToken, Authorization, CredentialSource};
use gapi::clock::BoxFuture;
use gapi::{
    Call, Client, Credentials, HttpMethod, Media, MediaUploadInfo, MethodInfo, Page, PageItems,
    PaginationInfo, RetryPolicy, Service, StreamExt, TokenLocation,
};
use serde::Deserialize;

static GET: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items/{+name}:peek",
    ..MethodInfo::DEFAULT
};
static LIST: MethodInfo = MethodInfo {
    id: "things.list",
    http_method: HttpMethod::Get,
    path: "items",
    pagination: Some(PaginationInfo {
        token_param: "pageToken",
        location: TokenLocation::Query,
    }),
    ..MethodInfo::DEFAULT
};
static SEARCH: MethodInfo = MethodInfo {
    id: "things.search",
    http_method: HttpMethod::Post,
    path: "items:search",
    pagination: Some(PaginationInfo {
        token_param: "pageToken",
        location: TokenLocation::Body,
    }),
    ..MethodInfo::DEFAULT
};
static UPLOAD_INFO: MediaUploadInfo = MediaUploadInfo {
    accept: &["text/*"],
    max_size: Some(16),
    simple_path: Some("/upload/things/v1/items"),
    resumable_path: None,
};
static UPLOAD: MethodInfo = MethodInfo {
    id: "things.upload",
    http_method: HttpMethod::Post,
    path: "items",
    media_upload: Some(&UPLOAD_INFO),
    ..MethodInfo::DEFAULT
};
static DOWNLOAD: MethodInfo = MethodInfo {
    id: "things.download",
    http_method: HttpMethod::Get,
    path: "items/{name}",
    supports_media_download: true,
    ..MethodInfo::DEFAULT
};

#[derive(Deserialize, Debug, Default)]
#[serde(default)]
struct Thing {
    id: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(default, rename_all = "camelCase")]
struct ThingPage {
    items: Option<Vec<Thing>>,
    next_page_token: Option<String>,
}
impl Page for ThingPage {
    fn next_page_token(&self) -> Option<&str> {
        self.next_page_token.as_deref()
    }
}
impl PageItems for ThingPage {
    type Item = Thing;
    fn into_items(self) -> Vec<Thing> {
        self.items.unwrap_or_default()
    }
}

fn service(base: &str, creds: Credentials, clock: RecordingClock) -> Service {
    let client = Client::builder()
        .credentials(creds)
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    Service::new(client, &SVC).with_root_url(base)
}

#[tokio::test]
async fn builds_url_and_attaches_bearer_and_headers() {
    let (base, seen) = scripted_server("{}").await;
    seen.script
        .lock()
        .unwrap()
        .push((200, vec![], r#"{"id":"x","extra":1}"#.into()));
    let svc = service(
        &base,
        Credentials::access_token("tok-123"),
        Default::default(),
    );
    let mut call = Call::new(&svc, &GET);
    call.path_param("name", "projects/p 1/items/é");
    call.query_append("tag", "a");
    call.query_append("tag", "b&c");
    call.query("flag", true);
    let t: Thing = call.send().await.unwrap();
    assert_eq!(t.id.as_deref(), Some("x"));
    let reqs = seen.requests.lock().unwrap();
    let (m, uri, headers, _) = &reqs[0];
    assert_eq!(m, "GET");
    assert_eq!(
        uri,
        "/things/v1/items/projects/p%201/items/%C3%A9:peek?tag=a&tag=b%26c&flag=true"
    );
    assert_eq!(headers["authorization"], "Bearer tok-123");
    assert!(
        headers["x-goog-api-client"]
            .to_str()
            .unwrap()
            .contains("gdcl/")
    );
    assert!(headers["user-agent"].to_str().unwrap().starts_with("gapi/"));
    assert!(
        headers["accept-encoding"]
            .to_str()
            .unwrap()
            .contains("gzip")
    );
}

#[tokio::test]
async fn api_key_goes_in_query() {
    let (base, seen) = scripted_server("{}").await;
    let svc = service(&base, Credentials::api_key("k-1"), Default::default());
    let _: Thing = Call::new(&svc, &LIST).send().await.unwrap();
    let reqs = seen.requests.lock().unwrap();
    assert_eq!(reqs[0].1, "/things/v1/items?key=k-1");
    assert!(!reqs[0].2.contains_key("authorization"));
}

#[tokio::test]
async fn retries_transient_errors_honouring_retry_after() {
    let (base, seen) = scripted_server("{}").await;
    {
        let mut s = seen.script.lock().unwrap();
        s.push((503, vec![("retry-after", "7".into())], "{}".into()));
        s.push((403, vec![], r#"{"error":{"code":403,"message":"slow down","errors":[{"reason":"userRateLimitExceeded","domain":"usageLimits"}]}}"#.into()));
        s.push((500, vec![], "oops".into()));
        s.push((200, vec![], r#"{"id":"ok"}"#.into()));
    }
    let clock = RecordingClock::default();
    let svc = service(&base, Credentials::anonymous(), clock.clone());
    let t: Thing = Call::new(&svc, &LIST).send().await.unwrap();
    assert_eq!(t.id.as_deref(), Some("ok"));
    assert_eq!(seen.requests.lock().unwrap().len(), 4);
    let sleeps = clock.0.lock().unwrap().clone();
    assert_eq!(sleeps.len(), 3);
    assert!(
        sleeps[0] >= Duration::from_secs(7),
        "Retry-After honoured: {sleeps:?}"
    );
    assert!(sleeps[1] <= Duration::from_secs(1));
    assert!(sleeps[2] <= Duration::from_secs(2));
}

#[tokio::test]
async fn retries_are_bounded_and_post_is_not_retried_on_5xx() {
    let (base, seen) = scripted_server("{}").await;
    for _ in 0..10 {
        seen.script.lock().unwrap().push((503, vec![], "{}".into()));
    }
    let clock = RecordingClock::default();
    let svc = service(&base, Credentials::anonymous(), clock.clone());
    let err = Call::new(&svc, &LIST).send::<Thing>().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        seen.requests.lock().unwrap().len(),
        5,
        "default max_attempts"
    );

    seen.requests.lock().unwrap().clear();
    let err = Call::new(&svc, &CREATE).send::<Thing>().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        seen.requests.lock().unwrap().len(),
        1,
        "POST not retried after the server saw it"
    );

    // ...unless the caller declares it idempotent, with a custom policy.
    seen.requests.lock().unwrap().clear();
    let mut call = Call::new(&svc, &CREATE);
    call.set_idempotent(true);
    call.set_retry_policy(RetryPolicy {
        max_attempts: 2,
        ..Default::default()
    });
    assert!(call.send::<Thing>().await.is_err());
    assert_eq!(seen.requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn non_transient_errors_are_typed_and_not_retried() {
    let (base, seen) = scripted_server("{}").await;
    seen.script.lock().unwrap().push((
        404,
        vec![],
        r#"{"error":{"code":404,"message":"Item not found","status":"NOT_FOUND","errors":[{"message":"Item not found","domain":"global","reason":"notFound"}],"details":[{"@type":"x"}]}}"#.into(),
    ));
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let err = Call::new(&svc, &LIST).send::<Thing>().await.unwrap_err();
    assert!(err.is_not_found());
    assert!(!err.is_transient());
    let api = err.api_error().unwrap();
    assert_eq!(api.reason(), Some("notFound"));
    assert_eq!(api.errors[0].domain, "global");
    assert_eq!(api.status.as_deref(), Some("NOT_FOUND"));
    assert_eq!(api.details.len(), 1);
    assert!(api.body.contains("Item not found"));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_transport_error_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let clock = RecordingClock::default();
    let svc = service(&base, Credentials::anonymous(), clock.clone());
    let err = Call::new(&svc, &CREATE).send::<Thing>().await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(
        clock.0.lock().unwrap().len(),
        4,
        "connect failures retried even for POST"
    );
}

/// Credentials whose token changes on every refresh; counts refreshes.
struct Rotating {
    n: AtomicUsize,
    refreshes: AtomicUsize,
}
impl CredentialSource for Rotating {
    fn authorization(&self) -> BoxFuture<'_, gapi::Result<Authorization>> {
        let n = self.n.load(Ordering::SeqCst);
        Box::pin(async move { Ok(Authorization::bearer(AccessToken::new(format!("tok-{n}")))) })
    }
    fn refresh_after_unauthorized<'a>(
        &'a self,
        _used: &'a Authorization,
    ) -> BoxFuture<'a, gapi::Result<bool>> {
        self.n.fetch_add(1, Ordering::SeqCst);
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(true) })
    }
    fn describe(&self) -> String {
        "rotating test credentials".into()
    }
}

#[tokio::test]
async fn unauthorized_refreshes_once_and_retries_once() {
    let (base, seen) = scripted_server("{}").await;
    let rot = Arc::new(Rotating {
        n: AtomicUsize::new(0),
        refreshes: AtomicUsize::new(0),
    });
    struct Shared(Arc<Rotating>);
    impl CredentialSource for Shared {
        fn authorization(&self) -> BoxFuture<'_, gapi::Result<Authorization>> {
            self.0.authorization()
        }
        fn refresh_after_unauthorized<'a>(
            &'a self,
            used: &'a Authorization,
        ) -> BoxFuture<'a, gapi::Result<bool>> {
            self.0.refresh_after_unauthorized(used)
        }
        fn describe(&self) -> String {
            self.0.describe()
        }
    }
    let unauthorized = r#"{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}],"status":"UNAUTHENTICATED"}}"#;
    seen.script
        .lock()
        .unwrap()
        .push((401, vec![], unauthorized.into()));
    let svc = service(
        &base,
        Credentials::from_source(Shared(rot.clone())),
        Default::default(),
    );
    let t: Thing = Call::new(&svc, &GET).tap_name().send().await.unwrap();
    assert!(t.id.is_none());
    {
        let reqs = seen.requests.lock().unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].2["authorization"], "Bearer tok-0");
        assert_eq!(reqs[1].2["authorization"], "Bearer tok-1");
    }
    assert_eq!(rot.refreshes.load(Ordering::SeqCst), 1);

    // A second 401 after the refresh is returned, not looped on.
    seen.requests.lock().unwrap().clear();
    seen.script
        .lock()
        .unwrap()
        .push((401, vec![], unauthorized.into()));
    seen.script
        .lock()
        .unwrap()
        .push((401, vec![], unauthorized.into()));
    let err = Call::new(&svc, &GET)
        .tap_name()
        .send::<Thing>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(seen.requests.lock().unwrap().len(), 2);
    assert_eq!(rot.refreshes.load(Ordering::SeqCst), 2);
}

trait TapName {
    fn tap_name(self) -> Self;
}
impl TapName for Call {
    fn tap_name(mut self) -> Self {
        self.path_param("name", "n");
        self
    }
}

#[tokio::test]
async fn pages_follow_tokens_and_keep_page_size() {
    let (base, seen) = scripted_server("{}").await;
    {
        let mut s = seen.script.lock().unwrap();
        s.push((
            200,
            vec![],
            r#"{"items":[{"id":"1"},{"id":"2"}],"nextPageToken":"t1"}"#.into(),
        ));
        s.push((
            200,
            vec![],
            r#"{"items":[{"id":"3"}],"nextPageToken":"t2"}"#.into(),
        ));
        s.push((
            200,
            vec![],
            r#"{"items":[{"id":"4"}],"nextPageToken":""}"#.into(),
        ));
    }
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let mut call = Call::new(&svc, &LIST);
    call.query("maxResults", 2);
    let ids: Vec<String> = call
        .items::<ThingPage>()
        .map(|t| t.unwrap().id.unwrap())
        .collect()
        .await;
    assert_eq!(ids, ["1", "2", "3", "4"]);
    let uris: Vec<String> = seen
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.1.clone())
        .collect();
    assert_eq!(
        uris,
        [
            "/things/v1/items?maxResults=2",
            "/things/v1/items?maxResults=2&pageToken=t1",
            "/things/v1/items?maxResults=2&pageToken=t2"
        ]
    );
}

#[tokio::test]
async fn repeated_page_token_is_an_error_not_a_loop() {
    let (base, seen) = scripted_server("{}").await;
    for _ in 0..3 {
        seen.script.lock().unwrap().push((
            200,
            vec![],
            r#"{"items":[],"nextPageToken":"same"}"#.into(),
        ));
    }
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let pages: Vec<gapi::Result<ThingPage>> = Call::new(&svc, &LIST).pages().collect().await;
    assert_eq!(pages.len(), 3);
    assert!(pages[0].is_ok() && pages[1].is_ok());
    assert!(
        pages[2]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("repeated a page token")
    );
}

#[tokio::test]
async fn body_token_pagination() {
    let (base, seen) = scripted_server("{}").await;
    {
        let mut s = seen.script.lock().unwrap();
        s.push((
            200,
            vec![],
            r#"{"items":[{"id":"1"}],"nextPageToken":"b1"}"#.into(),
        ));
        s.push((200, vec![], r#"{"items":[{"id":"2"}]}"#.into()));
    }
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let mut call = Call::new(&svc, &SEARCH);
    call.body(&serde_json::json!({"query": "q", "pageSize": 1}));
    let n = call.items::<ThingPage>().count().await;
    assert_eq!(n, 2);
    let reqs = seen.requests.lock().unwrap();
    let second: serde_json::Value = serde_json::from_slice(&reqs[1].3).unwrap();
    assert_eq!(
        second,
        serde_json::json!({"query": "q", "pageSize": 1, "pageToken": "b1"})
    );
}

#[tokio::test]
async fn simple_and_multipart_upload_and_checks() {
    let (base, seen) = scripted_server("{}").await;
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let _: Thing = Call::new(&svc, &UPLOAD)
        .upload(Media::from_bytes(&b"hello"[..], "text/plain"))
        .await
        .unwrap();
    let mut call = Call::new(&svc, &UPLOAD);
    call.body(&serde_json::json!({"name": "n"}));
    let _: Thing = call
        .upload(Media::from_bytes(&b"hi"[..], "text/csv"))
        .await
        .unwrap();
    {
        let reqs = seen.requests.lock().unwrap();
        assert_eq!(reqs[0].1, "/upload/things/v1/items?uploadType=media");
        assert_eq!(reqs[0].2["content-type"], "text/plain");
        assert_eq!(&reqs[0].3[..], b"hello");
        assert_eq!(reqs[1].1, "/upload/things/v1/items?uploadType=multipart");
        let ct = reqs[1].2["content-type"].to_str().unwrap();
        assert!(ct.starts_with("multipart/related; boundary="));
        let body = String::from_utf8(reqs[1].3.to_vec()).unwrap();
        assert!(body.contains("{\"name\":\"n\"}") && body.contains("\r\n\r\nhi\r\n"));
    }
    let e = Call::new(&svc, &UPLOAD)
        .upload::<Thing>(Media::from_bytes(&b"x"[..], "image/png"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not accepted"));
    let e = Call::new(&svc, &UPLOAD)
        .upload::<Thing>(Media::from_bytes(vec![b'x'; 17], "text/plain"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("exceeds the maximum"));
    assert_eq!(
        seen.requests.lock().unwrap().len(),
        2,
        "rejected uploads send nothing"
    );
}

#[tokio::test]
async fn download_streams_media() {
    let (base, seen) = scripted_server("{}").await;
    let payload = "z".repeat(100_000);
    seen.script.lock().unwrap().push((
        200,
        vec![("content-type", "application/octet-stream".into())],
        payload.clone(),
    ));
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let mut call = Call::new(&svc, &DOWNLOAD);
    call.path_param("name", "a/b");
    let dl = call.download().await.unwrap();
    assert_eq!(dl.content_type(), Some("application/octet-stream"));
    let mut out = Vec::new();
    let n = dl.write_to(&mut out).await.unwrap();
    assert_eq!(n, 100_000);
    assert_eq!(out, payload.as_bytes());
    assert_eq!(
        seen.requests.lock().unwrap()[0].1,
        "/things/v1/items/a%2Fb?alt=media"
    );
}

#[tokio::test]
async fn standard_parameters_and_headers_of_a_call() {
    let (base, seen) = scripted_server("{}").await;
    let svc = service(&base, Credentials::anonymous(), Default::default());
    let mut call = Call::new(&svc, &LIST);
    call.query("fields", "items(id),nextPageToken");
    call.query("quotaUser", "u1");
    call.query("prettyPrint", false);
    call.query("$.xgafv", "2");
    call.header("x-test", "1");
    let _: ThingPage = call.send().await.unwrap();
    let reqs = seen.requests.lock().unwrap();
    assert_eq!(
        reqs[0].1,
        "/things/v1/items?fields=items%28id%29%2CnextPageToken&quotaUser=u1&prettyPrint=false&%24.xgafv=2"
    );
    assert_eq!(reqs[0].2["x-test"], "1");
}
