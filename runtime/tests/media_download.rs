//! Media download against an in-process axum server: a body cut mid-way is
//! resumed with `Range`, the resumed answer is checked against the first
//! (Content-Range, ETag), and an empty object's 416 is an empty download.

mod http_support;

use http_support::{RecordingClock, SVC};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use gapi::{Call, Client, Credentials, HttpMethod, MethodInfo, Service};

type Handler = dyn Fn(usize, &HeaderMap) -> Response + Send + Sync;

struct App {
    requests: Mutex<Vec<HeaderMap>>,
    handler: Box<Handler>,
}

async fn handle(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let n = {
        let mut r = app.requests.lock().unwrap();
        r.push(headers.clone());
        r.len()
    };
    (app.handler)(n, &headers)
}

async fn server(
    handler: impl Fn(usize, &HeaderMap) -> Response + Send + Sync + 'static,
) -> (String, Arc<App>) {
    let app = Arc::new(App {
        requests: Mutex::default(),
        handler: Box::new(handler),
    });
    let router = Router::new().fallback(any(handle)).with_state(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/"), app)
}

static GET_MEDIA: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items/{name}",
    supports_media_download: true,
    ..MethodInfo::DEFAULT
};

fn call(base: &str, clock: &RecordingClock) -> Call {
    let client = Client::builder()
        .credentials(Credentials::anonymous())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let svc = Service::new(client, &SVC).with_root_url(base);
    let mut c = Call::new(&svc, &GET_MEDIA);
    c.path_param("name", "obj");
    c
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 % 256) as u8).collect()
}

const TOTAL: usize = 100_000;
const CUT: usize = 40_000;

/// A 200 with the whole length announced whose body stops after `CUT`
/// bytes: the connection is dropped.
fn cut_response(data: &[u8], etag: &str) -> Response {
    let first = bytes::Bytes::copy_from_slice(&data[..CUT]);
    let stream = futures_util::stream::unfold(0, move |step| {
        let first = first.clone();
        async move {
            match step {
                0 => Some((Ok::<_, std::io::Error>(first), 1)),
                1 => {
                    // Let the first bytes reach the client before the cut.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Err(std::io::Error::other("cut")), 2))
                }
                _ => None,
            }
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert("content-length", TOTAL.into());
    h.insert("content-type", "application/octet-stream".parse().unwrap());
    h.insert("etag", etag.parse().unwrap());
    r
}

/// The range asked for: `bytes=N-` → N.
fn range_start(h: &HeaderMap) -> Option<usize> {
    let v = h.get("range")?.to_str().ok()?;
    v.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()
}

#[tokio::test]
async fn a_cut_body_is_resumed_with_range() {
    let data = payload(TOTAL);
    let d = data.clone();
    let (base, app) = server(move |n, h| {
        if n == 1 {
            return cut_response(&d, "\"v1\"");
        }
        let from = range_start(h).expect("the resumed request asks for a range");
        let mut r = (StatusCode::PARTIAL_CONTENT, d[from..].to_vec()).into_response();
        let hm = r.headers_mut();
        hm.insert(
            "content-range",
            format!("bytes {from}-{}/{TOTAL}", TOTAL - 1)
                .parse()
                .unwrap(),
        );
        hm.insert("etag", "\"v1\"".parse().unwrap());
        r
    })
    .await;
    let clock = RecordingClock::default();
    let dl = call(&base, &clock).download().await.unwrap();
    assert_eq!(dl.content_length(), Some(TOTAL as u64));
    assert_eq!(dl.total_size(), Some(TOTAL as u64));
    assert_eq!(dl.etag(), Some("\"v1\""));
    let mut out = Vec::new();
    let n = dl.write_to(&mut out).await.unwrap();
    assert_eq!(n, TOTAL as u64);
    assert!(
        out == data,
        "the resumed download is the media, byte for byte"
    );
    let reqs = app.requests.lock().unwrap();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].get("range").is_none());
    assert_eq!(reqs[1]["range"], format!("bytes={CUT}-"));
    assert_eq!(
        clock.0.lock().unwrap().len(),
        1,
        "one backoff before resuming"
    );
}

#[tokio::test]
async fn a_server_ignoring_range_is_skipped_ahead() {
    let data = payload(TOTAL);
    let d = data.clone();
    let (base, app) = server(move |n, _| {
        if n == 1 {
            return cut_response(&d, "\"v1\"");
        }
        let mut r = (StatusCode::OK, d.clone()).into_response();
        r.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
        r
    })
    .await;
    let clock = RecordingClock::default();
    let got = call(&base, &clock)
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got == data);
    assert_eq!(app.requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_media_changed_between_attempts_is_an_error() {
    let data = payload(TOTAL);
    let d = data.clone();
    let (base, _app) = server(move |n, h| {
        if n == 1 {
            return cut_response(&d, "\"v1\"");
        }
        let from = range_start(h).unwrap();
        let mut r = (StatusCode::PARTIAL_CONTENT, d[from..].to_vec()).into_response();
        let hm = r.headers_mut();
        hm.insert(
            "content-range",
            format!("bytes {from}-{}/{TOTAL}", TOTAL - 1)
                .parse()
                .unwrap(),
        );
        hm.insert("etag", "\"v2\"".parse().unwrap());
        r
    })
    .await;
    let clock = RecordingClock::default();
    let err = call(&base, &clock)
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("changed during the download"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_content_range_is_an_error() {
    let data = payload(TOTAL);
    let d = data.clone();
    let (base, _app) = server(move |n, _| {
        if n == 1 {
            return cut_response(&d, "\"v1\"");
        }
        let mut r = (StatusCode::PARTIAL_CONTENT, d[10..].to_vec()).into_response();
        r.headers_mut().insert(
            "content-range",
            format!("bytes 10-{}/{TOTAL}", TOTAL - 1).parse().unwrap(),
        );
        r
    })
    .await;
    let clock = RecordingClock::default();
    let err = call(&base, &clock)
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not start at byte 40000"),
        "{err}"
    );
}

#[tokio::test]
async fn an_empty_object_answered_416_is_an_empty_download() {
    let (base, _app) = server(|_, _| {
        let mut r = (StatusCode::RANGE_NOT_SATISFIABLE, "").into_response();
        r.headers_mut()
            .insert("content-range", "bytes */0".parse().unwrap());
        r
    })
    .await;
    let clock = RecordingClock::default();
    let mut dl = call(&base, &clock).download().await.unwrap();
    assert_eq!(dl.total_size(), Some(0));
    assert!(dl.chunk().await.unwrap().is_none());
    let mut out = Vec::new();
    assert_eq!(dl.write_to(&mut out).await.unwrap(), 0);
    assert!(out.is_empty());

    // A 416 for a non-empty object (a range past its end) stays an error.
    let (base, _app) = server(|_, _| {
        let mut r = (StatusCode::RANGE_NOT_SATISFIABLE, "").into_response();
        r.headers_mut()
            .insert("content-range", "bytes */10".parse().unwrap());
        r
    })
    .await;
    let err = call(&base, &clock).download().await.unwrap_err();
    assert_eq!(err.status(), Some(416));
}

#[tokio::test]
async fn a_caller_range_is_kept_and_not_resumed() {
    let data = payload(TOTAL);
    let d = data.clone();
    let (base, app) = server(move |_, _| cut_response(&d, "\"v1\"")).await;
    let clock = RecordingClock::default();
    let mut c = call(&base, &clock);
    c.header("Range", "bytes=0-");
    let err = c.download().await.unwrap().bytes().await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(app.requests.lock().unwrap().len(), 1);
}
