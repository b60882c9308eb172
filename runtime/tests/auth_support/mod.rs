//! An in-process fake of Google's OAuth 2.0 endpoints on 127.0.0.1:0, shared by
//! the `auth_*` integration tests: it counts and records requests, and answers
//! from a script or with fresh tokens.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use gapi::auth::{AccessToken, ClientSecret, RefreshToken, UserCredentials};

/// A scripted answer: status, content type, body.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply {
            status,
            content_type: "application/json",
            body: body.into(),
        }
    }

    pub fn error(status: u16, code: &str) -> Self {
        Reply::json(
            status,
            format!(r#"{{"error":"{code}","error_description":"scripted {code}"}}"#),
        )
    }
}

#[derive(Default)]
pub struct FakeState {
    pub token_requests: AtomicUsize,
    pub revoke_requests: AtomicUsize,
    pub device_requests: AtomicUsize,
    /// Every form POSTed to /token, in order.
    pub token_forms: Mutex<Vec<HashMap<String, String>>>,
    pub revoke_forms: Mutex<Vec<HashMap<String, String>>>,
    pub device_forms: Mutex<Vec<HashMap<String, String>>>,
    /// Answers for /token, used before the default.
    pub token_script: Mutex<VecDeque<Reply>>,
    pub revoke_script: Mutex<VecDeque<Reply>>,
    pub device_script: Mutex<VecDeque<Reply>>,
    /// Default /token answers include a new refresh token `rt-N`.
    pub rotate: AtomicBool,
    /// How long /token takes to answer.
    pub delay_ms: AtomicUsize,
}

pub struct FakeOAuth {
    pub addr: SocketAddr,
    pub state: Arc<FakeState>,
}

impl FakeOAuth {
    pub async fn start() -> FakeOAuth {
        let state = Arc::new(FakeState::default());
        let app = Router::new()
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/device/code", post(device))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeOAuth { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn token_uri(&self) -> String {
        self.url("/token")
    }

    pub fn token_count(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    pub fn script_token(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.token_script.lock().unwrap().extend(replies);
    }

    pub fn script_device(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.device_script.lock().unwrap().extend(replies);
    }

    pub fn script_revoke(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.revoke_script.lock().unwrap().extend(replies);
    }

    pub fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.state.token_forms.lock().unwrap().clone()
    }

    pub fn set_delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as usize, Ordering::SeqCst);
    }

    /// User credentials of this fake's client with `access_token` expiring at
    /// `expiry`.
    pub fn credentials(&self, access_token: &str, expiry: SystemTime) -> UserCredentials {
        UserCredentials::new(
            "client-123.apps.googleusercontent.com",
            Some(ClientSecret::new(CLIENT_SECRET)),
            Some(RefreshToken::new(REFRESH_TOKEN)),
        )
        .with_access_token(AccessToken::new(access_token), Some(expiry))
        .with_scopes(["https://www.googleapis.com/auth/tasks"])
        .with_token_uri(self.token_uri())
        .with_revoke_uri(self.url("/revoke"))
    }
}

pub const CLIENT_SECRET: &str = "GOCSPX-client-secret-xyz";
pub const REFRESH_TOKEN: &str = "1//refresh-token-original";

fn parse_form(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn reply(r: Reply) -> Response {
    (
        StatusCode::from_u16(r.status).unwrap(),
        [("content-type", r.content_type)],
        r.body,
    )
        .into_response()
}

async fn token(State(st): State<Arc<FakeState>>, body: String) -> Response {
    let n = st.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    st.token_forms.lock().unwrap().push(parse_form(&body));
    let delay = st.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    if let Some(r) = st.token_script.lock().unwrap().pop_front() {
        return reply(r);
    }
    let rotated = if st.rotate.load(Ordering::SeqCst) {
        format!(r#","refresh_token":"rt-{n}""#)
    } else {
        String::new()
    };
    reply(Reply::json(
        200,
        format!(r#"{{"access_token":"at-{n}","expires_in":3600,"token_type":"Bearer"{rotated}}}"#),
    ))
}

async fn revoke(State(st): State<Arc<FakeState>>, body: String) -> Response {
    st.revoke_requests.fetch_add(1, Ordering::SeqCst);
    st.revoke_forms.lock().unwrap().push(parse_form(&body));
    match st.revoke_script.lock().unwrap().pop_front() {
        Some(r) => reply(r),
        None => reply(Reply::json(200, "{}")),
    }
}

async fn device(State(st): State<Arc<FakeState>>, body: String) -> Response {
    st.device_requests.fetch_add(1, Ordering::SeqCst);
    st.device_forms.lock().unwrap().push(parse_form(&body));
    match st.device_script.lock().unwrap().pop_front() {
        Some(r) => reply(r),
        None => reply(Reply::json(
            200,
            r#"{"device_code":"dev-code-secret","user_code":"ABCD-EFGH","verification_url":"https://www.google.com/device","expires_in":1800,"interval":5}"#,
        )),
    }
}
