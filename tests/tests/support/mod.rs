//! A local recording server for the builder-surface tests: every request is
//! kept (method, URI as sent, headers, body) and answered by a function of
//! it; and a fake of the Cloud Storage JSON API's media and IAM endpoints.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as sent.
    pub uri: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// `http://127.0.0.1:PORT` of the server.
    pub base: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The value of a query parameter (undecoded).
    pub fn query(&self, name: &str) -> Option<&str> {
        let q = self.uri.split_once('?')?.1;
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// The answer to a request: an optional delay, status, headers, body.
pub type Answer = (Option<Duration>, u16, Vec<(String, String)>, String);

/// The requests seen so far.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    pub fn request(&self, i: usize) -> Seen {
        let seen = self.0.lock().unwrap();
        seen.get(i)
            .cloned()
            .unwrap_or_else(|| panic!("request {i} not made; seen: {seen:#?}"))
    }

    pub fn uri(&self, i: usize) -> String {
        self.request(i).uri
    }

    pub fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

/// Starts a server on 127.0.0.1 answering every request with `answer`.
pub async fn recording_server(
    answer: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
) -> (String, Recorder) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let rec = Recorder::default();
    let answer = Arc::new(answer);
    let app = {
        let (rec, base) = (rec.clone(), base.clone());
        axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (rec, base, answer) = (rec.clone(), base.clone(), answer.clone());
                async move {
                    let seen = Seen {
                        method: method.to_string(),
                        uri: uri
                            .path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect(),
                        body: body.to_vec(),
                        base,
                    };
                    rec.0.lock().unwrap().push(seen.clone());
                    let (delay, status, headers, body) = answer(&seen);
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                    }
                    let mut resp: Response = (
                        StatusCode::from_u16(status).unwrap(),
                        [("content-type", "application/json")],
                        body,
                    )
                        .into_response();
                    for (k, v) in headers {
                        resp.headers_mut().insert(
                            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                            v.parse().unwrap(),
                        );
                    }
                    resp
                }
            },
        )
    };
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, rec)
}

/// A client without credentials that does not retry for long.
pub fn anonymous() -> gapi::Client {
    gapi::Client::builder()
        .credentials(gapi::Credentials::anonymous())
        .retry_policy(gapi::RetryPolicy::none())
        .build()
        .unwrap()
}

fn ok(body: serde_json::Value) -> Answer {
    (None, 200, vec![], body.to_string())
}

/// The object an upload stores: its name (from the metadata, else the
/// `name` parameter), bucket and size.
fn object(bucket: &str, name: &str, size: usize) -> serde_json::Value {
    serde_json::json!({
        "kind": "storage#object",
        "bucket": bucket,
        "name": name,
        "size": size.to_string(),
    })
}

/// What Cloud Storage answers for simple, multipart and resumable uploads
/// (one chunk), `testIamPermissions` (every permission granted) and
/// `compose`. Resumable sessions are `/upload/session/<index of the
/// request that opened it>`.
pub fn storage_fake(req: &Seen) -> Answer {
    let path = req.uri.split('?').next().unwrap_or("");
    let bucket = path
        .split("/b/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let query_name = req.query("name").unwrap_or("").to_owned();
    let meta_name = |body: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["name"].as_str().map(str::to_owned))
    };
    if path.starts_with("/upload/storage/v1/b/") {
        return match req.query("uploadType") {
            Some("media") => ok(object(bucket, &query_name, req.body.len())),
            Some("resumable") => {
                let name = meta_name(&req.body).unwrap_or(query_name);
                let session = format!(
                    "{}/upload/session/{}?bucket={bucket}&name={name}",
                    req.base,
                    req.body.len()
                );
                (None, 200, vec![("location".into(), session)], String::new())
            }
            _ => (None, 400, vec![], r#"{"error":{"code":400}}"#.into()),
        };
    }
    if path.starts_with("/upload/session/") {
        let name = req.query("name").unwrap_or("");
        let bucket = req.query("bucket").unwrap_or("");
        return ok(object(bucket, name, req.body.len()));
    }
    if path.ends_with("/iam/testPermissions") {
        let granted: Vec<&str> = req
            .uri
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter_map(|kv| kv.strip_prefix("permissions="))
                    .collect()
            })
            .unwrap_or_default();
        return ok(serde_json::json!({
            "kind": "storage#testIamPermissionsResponse",
            "permissions": granted,
        }));
    }
    if path.ends_with("/compose") {
        let name = path
            .trim_end_matches("/compose")
            .rsplit('/')
            .next()
            .unwrap_or("");
        return ok(object(bucket, name, 0));
    }
    (None, 404, vec![], r#"{"error":{"code":404}}"#.into())
}
