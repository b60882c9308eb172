//! What the HTTP-core and media integration tests share: a scripted server on
//! 127.0.0.1:0 that records every request and answers from a script, a clock
//! that records the sleeps asked of it, and the test API's `ServiceInfo`.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use gapi::clock::{BoxFuture, Clock};
use gapi::{HttpMethod, MethodInfo, ServiceInfo};

pub mod raw;

/// One request as the server saw it: method, URI, headers, body.
pub type SeenRequest = (String, String, HeaderMap, Bytes);
/// One scripted response: status, headers, body.
pub type Scripted = (u16, Vec<(&'static str, String)>, String);

/// What the server saw, and the script of responses it still has to give.
pub struct Seen {
    pub requests: Mutex<Vec<SeenRequest>>,
    pub script: Mutex<Vec<Scripted>>,
    /// The body of the `200` given once the script is used up.
    default_body: &'static str,
}

async fn handler(
    State(st): State<Arc<Seen>>,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    st.requests
        .lock()
        .unwrap()
        .push((method.to_string(), uri.to_string(), headers, body));
    let next = {
        let mut s = st.script.lock().unwrap();
        (!s.is_empty()).then(|| s.remove(0))
    };
    match next {
        Some((status, hdrs, body)) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), body).into_response();
            for (k, v) in hdrs {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        None => (StatusCode::OK, st.default_body).into_response(),
    }
}

/// Starts the scripted server; once its script is used up it answers `200`
/// with `default_body`. Returns its base URL (ending in `/`).
pub async fn scripted_server(default_body: &'static str) -> (String, Arc<Seen>) {
    let st = Arc::new(Seen {
        requests: Mutex::default(),
        script: Mutex::default(),
        default_body,
    });
    let app = Router::new()
        .fallback(any(handler))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/"), st)
}

/// A clock that records the sleeps it is asked for and returns at once.
#[derive(Default, Clone)]
pub struct RecordingClock(pub Arc<Mutex<Vec<Duration>>>);

impl Clock for RecordingClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.0.lock().unwrap().push(d);
        Box::pin(async {})
    }
}

/// `things.create`: `POST items`, the test API's non-idempotent method.
pub static CREATE: MethodInfo = MethodInfo {
    id: "things.create",
    http_method: HttpMethod::Post,
    path: "items",
    ..MethodInfo::DEFAULT
};

/// The test API: `https://things.googleapis.com/things/v1/`.
pub static SVC: ServiceInfo = ServiceInfo {
    name: "things",
    version: "v1",
    revision: "20240101",
    title: "Things",
    root_url: "https://things.googleapis.com/",
    service_path: "things/v1/",
    batch_path: Some("batch"),
};
