//! Servers that echo everything they receive — the form of a token request,
//! the request headers, the query — back into their error bodies and
//! headers, in every encoding a real server or proxy might use: as is,
//! percent-encoded again, JSON-escaped (`\/`, `\u…`), HTML-escaped, base64.
//! No secret of the request (access token, refresh token, client secret,
//! JWT assertion, API key, authorization code, PKCE verifier, device code)
//! may appear, in any of those encodings, in the error's `Display`, `Debug`,
//! any of its accessors or causes, or the logs at TRACE level.

mod auth_s2s_support;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use gapi::auth::{
    AuthorizeOptions, CallbackParams, ClientSecret, Credentials, DeviceFlow, OAuthClient,
    RefreshToken, ServiceAccountCredentials, ServiceAccountKey, UserCredentials, UserTokenSource,
    WebServerFlow,
};
use gapi::{Call, Client, HttpMethod, MethodInfo, RetryPolicy, Service, ServiceInfo};

const CLIENT_SECRET: &str = "GOCSPX-client/secret+value_0123";
const REFRESH_TOKEN: &str = "1//0gRefresh-Token_secret+value/xyz~abc";
const ACCESS_TOKEN: &str = "ya29.a0Access/Token+value_xyz-0123456789";
const API_KEY: &str = "AIzaSy-api/key+value-0123456789";
const CODE: &str = "4/0AcodeSecret+value/abc-0123456789";
const DEVICE_CODE: &str = "AH-1Ng/device+code_value-0123456789";

/// What the echo server received, by request.
#[derive(Default)]
struct Echo {
    forms: Mutex<Vec<HashMap<String, String>>>,
}

/// `text` in every encoding a server could echo it in.
fn encodings(text: &str) -> Vec<String> {
    let form: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let json = serde_json::to_string(text).unwrap().replace('/', "\\/");
    let unicode: String = text
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let html: String = text.chars().map(|c| format!("&#{};", c as u32)).collect();
    let std64 = base64::engine::general_purpose::STANDARD.encode(text);
    let url64 = base64::engine::general_purpose::URL_SAFE.encode(text);
    let form_twice: String = form_urlencoded::byte_serialize(form.as_bytes()).collect();
    vec![
        text.to_owned(),
        form,
        json,
        unicode,
        html,
        std64,
        url64,
        form_twice,
    ]
}

async fn echo(
    State(st): State<Arc<Echo>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    st.forms.lock().unwrap().push(form);
    if uri.path().ends_with("/device") {
        // The device endpoint hands out a device code; the token poll that
        // follows is echoed.
        let ok = serde_json::json!({
            "device_code": DEVICE_CODE, "user_code": "ABCD-EFGH",
            "verification_url": "https://example.com/device", "expires_in": 60, "interval": 1,
        });
        return (StatusCode::OK, ok.to_string()).into_response();
    }
    let head: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("")))
        .collect();
    let everything = format!("{uri}\n{head}\n{body}");
    let all: Vec<String> = encodings(&everything);
    let joined = all.join(" | ");
    let oauth_style = uri.path().ends_with("/token") || uri.path().ends_with("/revoke");
    let json = if oauth_style {
        serde_json::json!({"error": "invalid_request", "error_description": joined})
    } else {
        serde_json::json!({"error": {
            "code": 400, "message": joined, "status": "INVALID_ARGUMENT",
            "errors": [{"reason": "badRequest", "message": joined, "domain": joined}],
            "details": [{"@type": "echo", "everything": all}],
        }})
    };
    let mut r = (StatusCode::BAD_REQUEST, json.to_string()).into_response();
    // Headers echoed back too (as a proxy might), each in base64 and raw.
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for (i, e) in encodings(auth)
        .into_iter()
        .chain(encodings(&body))
        .enumerate()
    {
        if let Ok(v) = e.parse() {
            r.headers_mut().insert(
                axum::http::HeaderName::from_bytes(format!("x-echo-{i}").as_bytes()).unwrap(),
                v,
            );
        }
    }
    r
}

async fn echo_server() -> (String, Arc<Echo>) {
    let st = Arc::new(Echo::default());
    let app = Router::new().fallback(any(echo)).with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/"), st)
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything an error shows: Display, Debug, causes, every accessor.
fn everything_of(e: &gapi::Error) -> String {
    let mut out = format!("{e}\n{e:?}\n");
    let mut cur = std::error::Error::source(e);
    while let Some(s) = cur {
        out.push_str(&format!("{s}\n{s:?}\n"));
        cur = s.source();
    }
    if let Some(api) = e.api_error() {
        out.push_str(&format!("{api}\n{api:?}\n{}\n{}\n", api.message, api.body));
        for (k, v) in &api.headers {
            out.push_str(&format!("{k}: {v}\n"));
        }
        for r in &api.errors {
            out.push_str(&format!("{} {} {}\n", r.reason, r.domain, r.message));
        }
        for d in &api.details {
            out.push_str(&format!("{d}\n"));
        }
        out.push_str(api.reason().unwrap_or(""));
    }
    if let Some(auth) = e.auth_error() {
        out.push_str(&format!(
            "{auth:?}\n{}\n{}\n",
            auth.code.as_deref().unwrap_or(""),
            auth.description
        ));
    }
    out.push_str(e.reason().unwrap_or(""));
    out
}

/// Fails if `text` holds `secret` in any encoding.
fn assert_no_leak(what: &str, text: &str, secret: &str) {
    assert!(secret.len() >= 12, "test secrets are long: {secret}");
    for form in encodings(secret) {
        // base64 of the secret inside a longer base64 string: check each of
        // its three alignments' stable middle part
        if form.len() > 8 {
            assert!(
                !text.contains(&form),
                "{what}: the secret {secret:?} leaks as {form:?} in:\n{text}"
            );
        }
    }
    for engine in [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for pad in 0..3usize {
            let mut input = vec![b'x'; pad];
            input.extend_from_slice(secret.as_bytes());
            let full = engine.encode(&input);
            let stem = &full[(pad * 8).div_ceil(6)..(input.len() / 3) * 4];
            assert!(
                !text.contains(stem),
                "{what}: the secret {secret:?} leaks as base64 {stem:?} in:\n{text}"
            );
        }
    }
}

fn oauth_client(base: &str) -> OAuthClient {
    OAuthClient::new(
        "client-123.apps.googleusercontent.com",
        Some(ClientSecret::new(CLIENT_SECRET)),
    )
    .with_token_uri(format!("{base}token"))
    .with_device_uri(format!("{base}device"))
    .with_revoke_uri(format!("{base}revoke"))
    .with_request_timeout(Duration::from_secs(5))
}

static SVC: ServiceInfo = ServiceInfo {
    name: "things",
    version: "v1",
    revision: "1",
    title: "Things",
    root_url: "https://things.googleapis.com/",
    service_path: "things/v1/",
    batch_path: None,
};
static GET: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items",
    ..MethodInfo::DEFAULT
};

async fn api_error(base: &str, credentials: Credentials) -> gapi::Error {
    let client = Client::builder()
        .credentials(credentials)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let svc = Service::new(client, &SVC).with_root_url(base.to_owned());
    Call::new(&svc, &GET)
        .send::<serde_json::Value>()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn echoed_secrets_never_reach_errors_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let (base, echo) = echo_server().await;
    let mut outputs: Vec<(&str, String)> = Vec::new();
    let mut secrets: Vec<String> = [
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
        API_KEY,
        CODE,
        DEVICE_CODE,
    ]
    .map(str::to_owned)
    .to_vec();

    // 1. Refreshing: the refresh token, the client secret, the old token.
    let creds = UserCredentials::new(
        "client-123.apps.googleusercontent.com",
        Some(ClientSecret::new(CLIENT_SECRET)),
        Some(RefreshToken::new(REFRESH_TOKEN)),
    )
    .with_access_token(
        gapi::auth::AccessToken::new(ACCESS_TOKEN),
        Some(SystemTime::now() - Duration::from_secs(5)),
    )
    .with_token_uri(format!("{base}token"));
    let source = UserTokenSource::builder(creds).with_max_attempts(1).build();
    let e = source.credentials().authorization().await.unwrap_err();
    outputs.push(("refresh", everything_of(&e)));

    // 2. Exchanging a code: the code, the PKCE verifier, the client secret.
    let flow = WebServerFlow::new(oauth_client(&base), "https://app.example/cb");
    let pending = flow.authorize_url(&AuthorizeOptions::new()).unwrap();
    let q = format!(
        "state={}&code={}",
        pending.state().secret(),
        form_urlencoded::byte_serialize(CODE.as_bytes()).collect::<String>()
    );
    let e = flow
        .exchange(&pending, &CallbackParams::from_query(&q))
        .await
        .unwrap_err();
    outputs.push(("code exchange", everything_of(&e)));
    let verifier = echo.forms.lock().unwrap().last().unwrap()["code_verifier"].clone();
    assert!(verifier.len() >= 43);
    secrets.push(verifier);

    // 3. The device flow's token poll: the device code, the client secret.
    let device = DeviceFlow::new(oauth_client(&base));
    let auth = device.request_code().await.unwrap();
    let e = device.poll(&auth).await.unwrap_err();
    outputs.push(("device", everything_of(&e)));

    // 4. A service account: the signed JWT assertion.
    let key = ServiceAccountKey::from_json(
        &auth_s2s_support::sa_json(&format!("{base}token"), auth_s2s_support::TEST_KEY),
        "test key",
    )
    .unwrap();
    let sa = ServiceAccountCredentials::builder(key)
        .with_scopes(["https://www.googleapis.com/auth/cloud-platform"])
        .with_max_attempts(1)
        .build();
    let e = Credentials::from_source(sa)
        .authorization()
        .await
        .unwrap_err();
    outputs.push(("service account", everything_of(&e)));
    let assertion = echo.forms.lock().unwrap().last().unwrap()["assertion"].clone();
    assert!(assertion.matches('.').count() == 2);
    secrets.push(assertion.rsplit('.').next().unwrap().to_owned());
    secrets.push(assertion);

    // 5. An API that echoes the Authorization header and the query.
    let e = api_error(&base, Credentials::access_token(ACCESS_TOKEN)).await;
    assert_eq!(e.status(), Some(400));
    outputs.push(("api bearer", everything_of(&e)));
    let e = api_error(&base, Credentials::api_key(API_KEY)).await;
    outputs.push(("api key", everything_of(&e)));

    // 6. Revocation echoes the token.
    let revoke = UserTokenSource::new(
        UserCredentials::new("c", Some(ClientSecret::new(CLIENT_SECRET)), None)
            .with_access_token(gapi::auth::AccessToken::new(ACCESS_TOKEN), None)
            .with_revoke_uri(format!("{base}revoke")),
    );
    if let Err(e) = revoke.revoke().await {
        outputs.push(("revoke", everything_of(&e)));
    }

    drop(_default);
    let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    outputs.push(("logs", log));
    // The echo really happened (the servers saw the secrets, and answered
    // with them): the test would catch a leak.
    assert!(echo.forms.lock().unwrap().len() >= 6);
    for (what, text) in &outputs {
        assert!(
            text.contains("[redacted]"),
            "{what}: nothing was redacted:\n{text}"
        );
        for s in &secrets {
            assert_no_leak(what, text, s);
        }
    }
}
