//! Batches against an in-process axum server that speaks Google's batch
//! format: it parses the `multipart/mixed` request, answers each
//! `application/http` part through a handler, and returns the parts in
//! reverse order (results must still come back in the order added).

mod http_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use gapi::auth::{AccessToken, Authorization, CredentialSource};
use gapi::clock::BoxFuture;
use gapi::{
    Batch, Call, CallBuilder, Client, Credentials, ErrorKind, HttpMethod, MethodInfo, Service,
    ServiceInfo,
};
use serde::Deserialize;

/// One part of a batch request, as the server parsed it.
#[derive(Debug, Clone)]
struct SubRequest {
    content_id: String,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// One outer request.
#[derive(Debug, Clone)]
struct Outer {
    path: String,
    content_type: String,
    authorization: Option<String>,
    parts: Vec<SubRequest>,
}

type PartHandler = dyn Fn(&SubRequest, Option<&str>) -> (u16, String) + Send + Sync;

struct App {
    outers: Mutex<Vec<Outer>>,
    handler: Box<PartHandler>,
    /// Answer with this instead of a multipart body.
    raw: Option<(&'static str, &'static str)>,
}

fn parse_batch(content_type: &str, body: &str) -> Vec<SubRequest> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a boundary")
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let mut segments: Vec<&str> = body.split(delim.as_str()).collect();
    assert_eq!(segments.remove(0), "", "no preamble");
    assert_eq!(segments.pop(), Some("--\r\n"), "closing delimiter");
    segments
        .into_iter()
        .map(|seg| {
            let seg = seg.strip_prefix("\r\n").expect("CRLF after the delimiter");
            let seg = seg.strip_suffix("\r\n").expect("CRLF before the delimiter");
            let (part_head, http) = seg.split_once("\r\n\r\n").unwrap();
            assert!(part_head.contains("Content-Type: application/http"));
            assert!(part_head.contains("Content-Transfer-Encoding: binary"));
            let content_id = part_head
                .lines()
                .find_map(|l| l.strip_prefix("Content-ID: "))
                .unwrap()
                .to_owned();
            let (head, body) = http.split_once("\r\n\r\n").unwrap_or((http, ""));
            let mut lines = head.split("\r\n");
            let mut request_line = lines.next().unwrap().split(' ');
            let method = request_line.next().unwrap().to_owned();
            let target = request_line.next().unwrap().to_owned();
            assert_eq!(request_line.next(), Some("HTTP/1.1"));
            let headers = lines
                .map(|l| {
                    let (k, v) = l.split_once(": ").unwrap();
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            SubRequest {
                content_id,
                method,
                target,
                headers,
                body: body.to_owned(),
            }
        })
        .collect()
}

async fn handle(
    State(app): State<Arc<App>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers["content-type"].to_str().unwrap().to_owned();
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    let parts = parse_batch(&content_type, std::str::from_utf8(&body).unwrap());
    app.outers.lock().unwrap().push(Outer {
        path: uri.to_string(),
        content_type,
        authorization: authorization.clone(),
        parts: parts.clone(),
    });
    if let Some((ct, body)) = app.raw {
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut().insert("content-type", ct.parse().unwrap());
        return r;
    }
    let mut out = String::new();
    for p in parts.iter().rev() {
        let (status, body) = (app.handler)(p, authorization.as_deref());
        let id = p.content_id.trim_matches(['<', '>']);
        let retry_after = if status == 429 {
            "Retry-After: 2\r\n"
        } else {
            ""
        };
        out.push_str(&format!(
            "--batch_resp\r\nContent-Type: application/http\r\nContent-ID: <response-{id}>\r\n\r\n\
             HTTP/1.1 {status} Whatever\r\nContent-Type: application/json; charset=UTF-8\r\n\
             {retry_after}Content-Length: {}\r\n\r\n{body}\r\n",
            body.len()
        ));
    }
    out.push_str("--batch_resp--\r\n");
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        "content-type",
        "multipart/mixed; boundary=batch_resp".parse().unwrap(),
    );
    r
}

async fn server(
    handler: impl Fn(&SubRequest, Option<&str>) -> (u16, String) + Send + Sync + 'static,
    raw: Option<(&'static str, &'static str)>,
) -> (String, Arc<App>) {
    let app = Arc::new(App {
        outers: Mutex::default(),
        handler: Box::new(handler),
        raw,
    });
    let router = Router::new().fallback(any(handle)).with_state(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/"), app)
}

/// The last path segment of a target, without the query.
fn name_of(target: &str) -> &str {
    target
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
}

/// GET → `{"id": name}` (404 for `missing`), DELETE → 204, POST → the body
/// with an id.
fn api(req: &SubRequest, _auth: Option<&str>) -> (u16, String) {
    match req.method.as_str() {
        "GET" if name_of(&req.target) == "missing" => (
            404,
            r#"{"error":{"code":404,"message":"Item not found","status":"NOT_FOUND","errors":[{"reason":"notFound","domain":"global","message":"Item not found"}]}}"#.into(),
        ),
        "GET" => (200, format!(r#"{{"id":"{}"}}"#, name_of(&req.target))),
        "DELETE" => (204, String::new()),
        "POST" => (200, r#"{"id":"new"}"#.into()),
        _ => (400, "{}".into()),
    }
}

static SVC: ServiceInfo = ServiceInfo {
    batch_path: Some("batch/things/v1"),
    ..http_support::SVC
};
static NO_BATCH: ServiceInfo = ServiceInfo {
    batch_path: None,
    ..SVC
};
static GET: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items/{name}",
    ..MethodInfo::DEFAULT
};
static DELETE: MethodInfo = MethodInfo {
    id: "things.delete",
    http_method: HttpMethod::Delete,
    path: "items/{name}",
    ..MethodInfo::DEFAULT
};
static INSERT: MethodInfo = MethodInfo {
    id: "things.insert",
    http_method: HttpMethod::Post,
    path: "items",
    ..MethodInfo::DEFAULT
};

#[derive(Deserialize, Debug, PartialEq)]
struct Thing {
    id: String,
}

/// What generated builders look like.
struct GetCall {
    call: Call,
}
impl CallBuilder for GetCall {
    type Response = Thing;
    fn call_mut(&mut self) -> &mut Call {
        &mut self.call
    }
    fn into_call(self) -> Call {
        self.call
    }
}
struct DeleteCall {
    call: Call,
}
impl CallBuilder for DeleteCall {
    type Response = ();
    fn call_mut(&mut self) -> &mut Call {
        &mut self.call
    }
    fn into_call(self) -> Call {
        self.call
    }
}

fn get(svc: &Service, name: &str) -> GetCall {
    let mut call = Call::new(svc, &GET);
    call.path_param("name", name.to_owned());
    GetCall { call }
}

fn delete(svc: &Service, name: &str) -> DeleteCall {
    let mut call = Call::new(svc, &DELETE);
    call.path_param("name", name.to_owned());
    DeleteCall { call }
}

fn service(base: &str, creds: Credentials) -> Service {
    Service::new(Client::new(creds).unwrap(), &SVC).with_root_url(base)
}

#[tokio::test]
async fn results_come_back_typed_and_in_order() {
    let (base, app) = server(api, None).await;
    let svc = service(&base, Credentials::access_token("tok-0"));
    let mut batch = Batch::new(&svc);
    let mut first = get(&svc, "a");
    first.call_mut().query("fields", "id");
    let a = batch.add(first);
    let b = batch.add(delete(&svc, "b"));
    let mut insert = Call::new(&svc, &INSERT);
    insert.body(&serde_json::json!({"name": "x"}));
    insert.header("x-extra", "1");
    let c = batch.add_call::<Thing>(insert);
    assert_eq!(batch.len(), 3);
    let mut res = batch.send().await.unwrap();
    assert_eq!(res.len(), 3);
    assert_eq!(res.take(a).unwrap(), Thing { id: "a".into() });
    res.take(b).unwrap();
    assert_eq!(res.take(c).unwrap().id, "new");
    assert!(res.take(a).is_err(), "taken once");

    let outers = app.outers.lock().unwrap();
    assert_eq!(outers.len(), 1);
    let o = &outers[0];
    assert_eq!(o.path, "/batch/things/v1");
    assert!(o.content_type.starts_with("multipart/mixed; boundary="));
    assert_eq!(o.authorization.as_deref(), Some("Bearer tok-0"));
    let ids: Vec<&str> = o.parts.iter().map(|p| p.content_id.as_str()).collect();
    assert_eq!(ids, ["<item-1>", "<item-2>", "<item-3>"]);
    let lines: Vec<String> = o
        .parts
        .iter()
        .map(|p| format!("{} {}", p.method, p.target))
        .collect();
    assert_eq!(
        lines,
        [
            "GET /things/v1/items/a?fields=id",
            "DELETE /things/v1/items/b",
            "POST /things/v1/items",
        ]
    );
    let post = &o.parts[2];
    assert_eq!(post.body, r#"{"name":"x"}"#);
    assert!(
        post.headers
            .contains(&("Content-Type".into(), "application/json".into()))
    );
    assert!(post.headers.contains(&("x-extra".into(), "1".into())));
    assert!(
        o.parts.iter().all(|p| !p
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))),
        "auth travels on the outer request only"
    );
}

#[tokio::test]
async fn a_404_part_is_an_api_error_next_to_successes() {
    let (base, _app) = server(api, None).await;
    let svc = service(&base, Credentials::anonymous());
    let mut batch = Batch::new(&svc);
    for name in ["a", "missing", "c"] {
        batch.add(get(&svc, name));
    }
    let results = batch.send().await.unwrap().into_results::<Thing>();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().id, "a");
    let err = results[1].as_ref().unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.reason(), Some("notFound"));
    let api = err.api_error().unwrap();
    assert_eq!(api.message, "Item not found");
    assert_eq!(api.status.as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        api.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(results[2].as_ref().unwrap().id, "c");
}

#[tokio::test]
async fn more_calls_than_the_limit_go_in_several_requests_in_order() {
    let (base, app) = server(api, None).await;
    let svc = service(&base, Credentials::anonymous());
    let mut batch = Batch::new(&svc).limit(3);
    let names: Vec<String> = (1..=7).map(|i| format!("n{i}")).collect();
    let handles: Vec<_> = names.iter().map(|n| batch.add(get(&svc, n))).collect();
    let mut res = batch.send().await.unwrap();
    for (h, n) in handles.into_iter().zip(&names) {
        assert_eq!(&res.take(h).unwrap().id, n);
    }
    let outers = app.outers.lock().unwrap();
    let groups: Vec<Vec<&str>> = outers
        .iter()
        .map(|o| o.parts.iter().map(|p| p.content_id.as_str()).collect())
        .collect();
    assert_eq!(
        groups,
        [
            vec!["<item-1>", "<item-2>", "<item-3>"],
            vec!["<item-4>", "<item-5>", "<item-6>"],
            vec!["<item-7>"],
        ]
    );
}

/// Credentials whose token changes on every refresh; counts refreshes.
#[derive(Default)]
struct Rotating {
    n: AtomicUsize,
    refreshes: AtomicUsize,
}
struct Shared(Arc<Rotating>);
impl CredentialSource for Shared {
    fn authorization(&self) -> BoxFuture<'_, gapi::Result<Authorization>> {
        let n = self.0.n.load(Ordering::SeqCst);
        Box::pin(async move { Ok(Authorization::bearer(AccessToken::new(format!("tok-{n}")))) })
    }
    fn refresh_after_unauthorized<'a>(
        &'a self,
        _used: &'a Authorization,
    ) -> BoxFuture<'a, gapi::Result<bool>> {
        self.0.n.fetch_add(1, Ordering::SeqCst);
        self.0.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(true) })
    }
    fn describe(&self) -> String {
        "rotating test credentials".into()
    }
}

const UNAUTHORIZED: &str = r#"{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}],"status":"UNAUTHENTICATED"}}"#;

#[tokio::test]
async fn a_401_part_refreshes_once_and_only_that_part_is_sent_again() {
    // `b` wants a fresh token; the others are fine with the old one.
    let (base, app) = server(
        |req, auth| {
            if name_of(&req.target) == "b" && auth == Some("Bearer tok-0") {
                (401, UNAUTHORIZED.into())
            } else {
                api(req, auth)
            }
        },
        None,
    )
    .await;
    let rot = Arc::new(Rotating::default());
    let svc = service(&base, Credentials::from_source(Shared(rot.clone())));
    let mut batch = Batch::new(&svc);
    let handles: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| batch.add(get(&svc, n)))
        .collect();
    let mut res = batch.send().await.unwrap();
    for (h, n) in handles.into_iter().zip(["a", "b", "c"]) {
        assert_eq!(res.take(h).unwrap().id, n);
    }
    assert_eq!(rot.refreshes.load(Ordering::SeqCst), 1);
    let outers = app.outers.lock().unwrap();
    assert_eq!(outers.len(), 2);
    assert_eq!(outers[0].parts.len(), 3);
    assert_eq!(outers[1].authorization.as_deref(), Some("Bearer tok-1"));
    let resent: Vec<(&str, &str)> = outers[1]
        .parts
        .iter()
        .map(|p| (p.content_id.as_str(), p.target.as_str()))
        .collect();
    assert_eq!(resent, [("<item-2>", "/things/v1/items/b")]);
}

#[tokio::test]
async fn a_second_401_stays_an_error_without_another_refresh() {
    let (base, app) = server(
        |req, auth| {
            if name_of(&req.target) == "b" {
                (401, UNAUTHORIZED.into())
            } else {
                api(req, auth)
            }
        },
        None,
    )
    .await;
    let rot = Arc::new(Rotating::default());
    let svc = service(&base, Credentials::from_source(Shared(rot.clone())));
    let mut batch = Batch::new(&svc);
    let a = batch.add(get(&svc, "a"));
    let b = batch.add(get(&svc, "b"));
    let mut res = batch.send().await.unwrap();
    assert_eq!(res.take(a).unwrap().id, "a");
    let err = res.take(b).unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.reason(), Some("authError"));
    assert_eq!(rot.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(app.outers.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_bad_outer_response_fails_every_call_and_no_batch_path_fails_the_send() {
    let (base, _app) = server(api, Some(("application/json", "{}"))).await;
    let svc = service(&base, Credentials::anonymous());
    let mut batch = Batch::new(&svc);
    let a = batch.add(get(&svc, "a"));
    let b = batch.add(delete(&svc, "b"));
    let mut res = batch.send().await.unwrap();
    for err in [
        res.take(a).map(|_| ()).unwrap_err(),
        res.take(b).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.to_string().contains("not multipart/mixed"), "{err}");
    }

    let svc = Service::new(Client::new(Credentials::anonymous()).unwrap(), &NO_BATCH)
        .with_root_url(&base);
    let mut batch = Batch::new(&svc);
    batch.add(get(&svc, "a"));
    let err = batch.send().await.unwrap_err();
    assert!(err.to_string().contains("no batch path"), "{err}");
    // ...unless the caller names one.
    let mut batch = Batch::new(&svc).batch_path("batch");
    batch.add(get(&svc, "a"));
    assert!(batch.send().await.is_ok());
}

/// Answers the first sight of each `METHOD name` in `first` with that
/// status (always, for a POST), then as [`api`] does. (The server adds
/// `Retry-After: 2` to 429 parts.)
fn flaky(
    first: &'static [(&'static str, &'static str, u16)],
) -> impl Fn(&SubRequest, Option<&str>) -> (u16, String) + Send + Sync + 'static {
    let seen: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
    move |req: &SubRequest, _: Option<&str>| {
        let name = name_of(&req.target).to_owned();
        let new = seen
            .lock()
            .unwrap()
            .insert(format!("{} {name}", req.method));
        let scripted = first
            .iter()
            .find(|(m, n, _)| *m == req.method && *n == name)
            .map(|(_, _, status)| *status);
        match scripted {
            Some(status) if new || req.method == "POST" => (
                status,
                format!(r#"{{"error":{{"code":{status},"message":"scripted"}}}}"#),
            ),
            _ => api(req, None),
        }
    }
}

fn recording_service(base: &str) -> (Service, http_support::RecordingClock) {
    let clock = http_support::RecordingClock::default();
    let client = Client::builder()
        .credentials(Credentials::access_token("tok"))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (Service::new(client, &SVC).with_root_url(base), clock)
}

#[tokio::test]
async fn three_parts_answered_503_then_200_give_ten_successes_in_order() {
    let script = &[("GET", "i2", 503), ("GET", "i5", 503), ("GET", "i8", 503)];
    let (base, app) = server(flaky(script), None).await;
    let (svc, clock) = recording_service(&base);
    let mut batch = Batch::new(&svc);
    let handles: Vec<_> = (0..10)
        .map(|i| batch.add(get(&svc, &format!("i{i}"))))
        .collect();
    let mut responses = batch.send().await.unwrap();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(responses.take(h).unwrap().id, format!("i{i}"));
    }
    // One batch of all 10, then one of the 3 that failed: 2 HTTP requests.
    let outers = app.outers.lock().unwrap();
    assert_eq!(outers.len(), 2, "HTTP requests");
    assert_eq!(outers[0].parts.len(), 10);
    let again: Vec<&str> = outers[1].parts.iter().map(|p| name_of(&p.target)).collect();
    assert_eq!(again, ["i2", "i5", "i8"]);
    assert_eq!(
        clock.0.lock().unwrap().len(),
        1,
        "one backoff between the rounds"
    );
}

#[tokio::test]
async fn a_429_part_waits_its_retry_after_and_a_post_answered_503_is_not_sent_again() {
    let script = &[("GET", "i1", 429), ("POST", "items", 503)];
    let (base, app) = server(flaky(script), None).await;
    let (svc, clock) = recording_service(&base);
    let mut batch = Batch::new(&svc);
    let a = batch.add(get(&svc, "i0"));
    let b = batch.add(get(&svc, "i1"));
    let mut insert = Call::new(&svc, &INSERT);
    insert.body(&serde_json::json!({"name": "x"}));
    let post = batch.add_call::<Thing>(insert);
    let mut responses = batch.send().await.unwrap();
    assert_eq!(responses.take(a).unwrap().id, "i0");
    assert_eq!(responses.take(b).unwrap().id, "i1");
    let e = responses.take(post).unwrap_err();
    assert_eq!(e.status(), Some(503), "the POST may have been applied: {e}");
    let outers = app.outers.lock().unwrap();
    assert_eq!(outers.len(), 2);
    let again: Vec<&str> = outers[1].parts.iter().map(|p| name_of(&p.target)).collect();
    assert_eq!(again, ["i1"], "the 429 GET only");
    let sleeps = clock.0.lock().unwrap().clone();
    assert_eq!(sleeps.len(), 1);
    assert!(
        sleeps[0] >= std::time::Duration::from_secs(2),
        "Retry-After: {sleeps:?}"
    );
}
