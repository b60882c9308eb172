//! In-process fakes for the server-to-server auth tests, on 127.0.0.1:0: a
//! JWT-bearer token endpoint, a metadata server and the IAM Credentials
//! `generateAccessToken` endpoint, in one axum app that counts and records
//! requests and answers from a script or with fresh tokens. Plus the test
//! keys and a JWT verifier.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;

/// Test-only RSA keys (`openssl genpkey`), and a self-signed certificate of
/// `TEST_KEY` for google-auth's verifier. They sign nothing else.
pub const TEST_KEY: &str = include_str!("test-key.pem");
pub const OTHER_KEY: &str = include_str!("other-key.pem");
pub const TEST_CERT: &str = include_str!("test-cert.pem");

pub const SA_EMAIL: &str = "sa-test@gapi-test.iam.gserviceaccount.com";
pub const SA_KEY_ID: &str = "kid-test-0123456789";
pub const SA_PROJECT: &str = "gapi-test-project";

/// A service-account key file's JSON.
pub fn sa_json(token_uri: &str, key_pem: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": SA_PROJECT,
        "private_key_id": SA_KEY_ID,
        "private_key": key_pem,
        "client_email": SA_EMAIL,
        "client_id": "111111111111111111111",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/sa-test",
        "universe_domain": "googleapis.com"
    })
    .to_string()
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}

/// Verifies an RS256 JWT against the public half of `key_pem` and returns
/// its header and claims. Panics when the signature does not verify.
pub fn verify_jwt(jwt: &str, key_pem: &str) -> (serde_json::Value, serde_json::Value) {
    use ring::signature::KeyPair as _;
    let body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref(),
    )
    .verify(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &b64d(parts[2]),
    )
    .expect("the JWT signature verifies");
    (
        serde_json::from_slice(&b64d(parts[0])).unwrap(),
        serde_json::from_slice(&b64d(parts[1])).unwrap(),
    )
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply {
            status,
            body: body.into(),
        }
    }
}

/// One call to the IAM Credentials fake.
#[derive(Clone, Debug)]
pub struct IamCall {
    pub target: String,
    pub authorization: Option<String>,
    pub quota_project: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Default)]
pub struct FakeState {
    pub token_requests: AtomicUsize,
    pub token_forms: Mutex<Vec<HashMap<String, String>>>,
    pub token_script: Mutex<VecDeque<Reply>>,

    pub mds_pings: AtomicUsize,
    pub mds_token_requests: AtomicUsize,
    /// Path and query of every metadata request, and whether it carried
    /// `Metadata-Flavor: Google`.
    pub mds_requests: Mutex<Vec<(String, bool)>>,
    pub mds_script: Mutex<VecDeque<Reply>>,
    pub mds_project: Mutex<Option<String>>,
    /// Delay of `/` (detection probes).
    pub ping_delay_ms: AtomicUsize,

    pub iam_requests: AtomicUsize,
    pub iam_calls: Mutex<Vec<IamCall>>,
    pub iam_script: Mutex<VecDeque<Reply>>,
    pub iam_expire_time: Mutex<Option<String>>,

    /// How long every token answer takes.
    pub delay_ms: AtomicUsize,
}

pub struct Fake {
    pub addr: SocketAddr,
    pub state: Arc<FakeState>,
}

impl Fake {
    pub async fn start() -> Fake {
        let state = Arc::new(FakeState::default());
        *state.mds_project.lock().unwrap() = Some("mds-project-42".into());
        let app = Router::new()
            .route("/token", post(token))
            .route("/", get(ping))
            .route(
                "/computeMetadata/v1/instance/service-accounts/{account}/token",
                get(mds_token),
            )
            .route("/computeMetadata/v1/project/project-id", get(mds_project))
            .route("/v1/projects/-/serviceAccounts/{name}", post(iam))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn token_uri(&self) -> String {
        self.url("/token")
    }

    /// `host:port`, as `GCE_METADATA_HOST` takes it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn token_count(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    pub fn mds_token_count(&self) -> usize {
        self.state.mds_token_requests.load(Ordering::SeqCst)
    }

    pub fn iam_count(&self) -> usize {
        self.state.iam_requests.load(Ordering::SeqCst)
    }

    pub fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.state.token_forms.lock().unwrap().clone()
    }

    pub fn iam_calls(&self) -> Vec<IamCall> {
        self.state.iam_calls.lock().unwrap().clone()
    }

    pub fn script_token(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.token_script.lock().unwrap().extend(replies);
    }

    pub fn script_mds(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.mds_script.lock().unwrap().extend(replies);
    }

    pub fn script_iam(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.iam_script.lock().unwrap().extend(replies);
    }

    pub fn set_delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as usize, Ordering::SeqCst);
    }

    pub fn set_ping_delay(&self, d: Duration) {
        self.state
            .ping_delay_ms
            .store(d.as_millis() as usize, Ordering::SeqCst);
    }

    pub fn set_iam_expire_time(&self, t: &str) {
        *self.state.iam_expire_time.lock().unwrap() = Some(t.to_owned());
    }
}

/// A port nothing listens on (bound, then closed).
pub async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

fn reply(r: Reply, content_type: &'static str) -> Response {
    (
        StatusCode::from_u16(r.status).unwrap(),
        [("content-type", content_type)],
        r.body,
    )
        .into_response()
}

async fn delay(st: &FakeState) {
    let d = st.delay_ms.load(Ordering::SeqCst);
    if d > 0 {
        tokio::time::sleep(Duration::from_millis(d as u64)).await;
    }
}

async fn token(State(st): State<Arc<FakeState>>, body: String) -> Response {
    let n = st.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    st.token_forms.lock().unwrap().push(form.clone());
    delay(&st).await;
    if let Some(mut r) = st.token_script.lock().unwrap().pop_front() {
        // Scripted errors may echo the request's secrets back.
        for (k, v) in &form {
            r.body = r.body.replace(&format!("{{{k}}}"), v);
        }
        return reply(r, "application/json");
    }
    reply(
        Reply::json(
            200,
            format!(r#"{{"access_token":"sa-token-{n}","expires_in":3600,"token_type":"Bearer"}}"#),
        ),
        "application/json",
    )
}

fn flavored(h: &HeaderMap) -> bool {
    h.get("metadata-flavor").and_then(|v| v.to_str().ok()) == Some("Google")
}

async fn ping(State(st): State<Arc<FakeState>>, h: HeaderMap) -> Response {
    st.mds_pings.fetch_add(1, Ordering::SeqCst);
    st.mds_requests
        .lock()
        .unwrap()
        .push(("/".into(), flavored(&h)));
    let d = st.ping_delay_ms.load(Ordering::SeqCst);
    if d > 0 {
        tokio::time::sleep(Duration::from_millis(d as u64)).await;
    }
    (StatusCode::OK, [("metadata-flavor", "Google")], "").into_response()
}

async fn mds_token(
    State(st): State<Arc<FakeState>>,
    Path(account): Path<String>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Response {
    let n = st.mds_token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    let path = match &q {
        Some(q) => format!("/computeMetadata/v1/instance/service-accounts/{account}/token?{q}"),
        None => format!("/computeMetadata/v1/instance/service-accounts/{account}/token"),
    };
    st.mds_requests.lock().unwrap().push((path, flavored(&h)));
    if !flavored(&h) {
        return reply(
            Reply::json(403, "Missing Metadata-Flavor:Google header."),
            "text/html",
        );
    }
    delay(&st).await;
    if let Some(r) = st.mds_script.lock().unwrap().pop_front() {
        return reply(r, "application/json");
    }
    reply(
        Reply::json(
            200,
            format!(
                r#"{{"access_token":"mds-token-{n}","expires_in":3599,"token_type":"Bearer"}}"#
            ),
        ),
        "application/json",
    )
}

async fn mds_project(State(st): State<Arc<FakeState>>, h: HeaderMap) -> Response {
    st.mds_requests.lock().unwrap().push((
        "/computeMetadata/v1/project/project-id".into(),
        flavored(&h),
    ));
    match st.mds_project.lock().unwrap().clone() {
        Some(p) => (
            StatusCode::OK,
            [
                ("metadata-flavor", "Google"),
                ("content-type", "application/text"),
            ],
            p,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn iam(
    State(st): State<Arc<FakeState>>,
    Path(name): Path<String>,
    h: HeaderMap,
    body: String,
) -> Response {
    let n = st.iam_requests.fetch_add(1, Ordering::SeqCst) + 1;
    let Some(target) = name.strip_suffix(":generateAccessToken") else {
        return reply(
            Reply::json(404, r#"{"error":{"code":404,"message":"no such method"}}"#),
            "application/json",
        );
    };
    let header = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
    st.iam_calls.lock().unwrap().push(IamCall {
        target: target.to_owned(),
        authorization: header("authorization"),
        quota_project: header("x-goog-user-project"),
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    });
    delay(&st).await;
    if let Some(mut r) = st.iam_script.lock().unwrap().pop_front() {
        if let Some(a) = header("authorization") {
            r.body = r.body.replace("{authorization}", &a);
        }
        return reply(r, "application/json");
    }
    let expire = st
        .iam_expire_time
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| "2099-01-01T00:00:00Z".into());
    reply(
        Reply::json(
            200,
            format!(r#"{{"accessToken":"iam-token-{n}","expireTime":"{expire}"}}"#),
        ),
        "application/json",
    )
}
