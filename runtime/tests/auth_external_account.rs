//! Workload identity federation against a local Security Token Service that
//! follows Google's documented request and response (RFC 8693 token
//! exchange at `/v1/token`) and a local IAM Credentials endpoint: every
//! subject-token source (file as text and JSON, URL with headers,
//! executable with its output file), client authentication, workforce
//! options, service-account impersonation, Application Default Credentials,
//! single flight, and errors that say what failed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gapi::auth::adc::{AdcKind, ApplicationDefaultCredentials};
use gapi::auth::{Credentials, ExternalAccountCredentials};

const AUDIENCE: &str =
    "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/oidc";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const SUBJECT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0.c2lnbmF0dXJlLXNlY3JldC0wMTIzNDU2Nzg5";
const SA: &str = "deployer@proj.iam.gserviceaccount.com";

#[derive(Default)]
struct Sts {
    exchanges: AtomicUsize,
    impersonations: AtomicUsize,
    forms: Mutex<Vec<HashMap<String, String>>>,
    basic: Mutex<Vec<Option<String>>>,
    iam: Mutex<Vec<(Option<String>, serde_json::Value)>>,
    subject_header: Mutex<Option<String>>,
}

async fn token(State(st): State<Arc<Sts>>, headers: HeaderMap, body: String) -> Response {
    let n = st.exchanges.fetch_add(1, Ordering::SeqCst) + 1;
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    st.forms.lock().unwrap().push(form.clone());
    st.basic.lock().unwrap().push(
        headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned()),
    );
    let ok = form.get("grant_type").map(String::as_str)
        == Some("urn:ietf:params:oauth:grant-type:token-exchange")
        && form.get("requested_token_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:token-type:access_token")
        && form.get("audience").map(String::as_str) == Some(AUDIENCE)
        && form.get("subject_token_type").map(String::as_str) == Some(JWT_TYPE);
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_request","error_description":"bad exchange"}"#,
        )
            .into_response();
    }
    if form.get("subject_token").map(String::as_str) != Some(SUBJECT) {
        // Google's answer to a token it cannot verify, echoing it (as a
        // careless proxy might): it must not reach the caller's error.
        let echoed = form.get("subject_token").cloned().unwrap_or_default();
        let body = serde_json::json!({
            "error": "invalid_grant",
            "error_description": format!("Unable to parse the ID Token: {echoed}"),
        });
        return (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    }
    let body = serde_json::json!({
        "access_token": format!("fed-{n}"),
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "token_type": "Bearer",
        "expires_in": 3600,
    });
    (StatusCode::OK, body.to_string()).into_response()
}

async fn generate(
    State(st): State<Arc<Sts>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let n = st.impersonations.fetch_add(1, Ordering::SeqCst) + 1;
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    st.iam
        .lock()
        .unwrap()
        .push((auth.clone(), serde_json::from_str(&body).unwrap()));
    if name != format!("{SA}:generateAccessToken")
        || !auth.is_some_and(|a| a.starts_with("Bearer fed-"))
    {
        return (
            StatusCode::FORBIDDEN,
            r#"{"error":{"code":403,"message":"denied"}}"#,
        )
            .into_response();
    }
    let expire = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let body = serde_json::json!({
        "accessToken": format!("imp-{n}"),
        "expireTime": expire.format(&time::format_description::well_known::Rfc3339).unwrap(),
    });
    (StatusCode::OK, body.to_string()).into_response()
}

async fn subject(State(st): State<Arc<Sts>>, headers: HeaderMap) -> Response {
    *st.subject_header.lock().unwrap() = headers
        .get("metadata-flavor")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::json!({ "value": SUBJECT });
    (StatusCode::OK, body.to_string()).into_response()
}

async fn start() -> (String, Arc<Sts>) {
    let st = Arc::new(Sts::default());
    let app = Router::new()
        .route("/v1/token", post(token))
        .route("/v1/projects/-/serviceAccounts/{name}", post(generate))
        .route("/subject", get(subject))
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), st)
}

/// An `external_account` credentials file with this `credential_source`.
fn file_json(base: &str, source: serde_json::Value, extra: serde_json::Value) -> String {
    let mut v = serde_json::json!({
        "type": "external_account",
        "audience": AUDIENCE,
        "subject_token_type": JWT_TYPE,
        "token_url": format!("{base}/v1/token"),
        "credential_source": source,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

async fn bearer(c: &Credentials) -> gapi::Result<String> {
    let a = c.authorization().await?;
    Ok(a.access_token().unwrap().secret().to_owned())
}

fn build(json: &str) -> Credentials {
    ExternalAccountCredentials::from_json(json, "creds.json")
        .unwrap()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_file_sourced_token_is_exchanged_once_for_many_callers() {
    let (base, st) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    // A Kubernetes projected token: the whole file, trailing newline and all.
    std::fs::write(&path, format!("{SUBJECT}\n")).unwrap();
    let c = build(&file_json(
        &base,
        serde_json::json!({ "file": path }),
        serde_json::json!({}),
    ));
    let all = futures_util::future::join_all((0..50).map(|_| bearer(&c))).await;
    assert!(all.iter().all(|t| t.as_deref().unwrap() == "fed-1"));
    assert_eq!(st.exchanges.load(Ordering::SeqCst), 1, "single flight");
    let form = st.forms.lock().unwrap()[0].clone();
    assert_eq!(
        form["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert!(!form.contains_key("options"));
    assert_eq!(st.basic.lock().unwrap()[0], None);
}

#[tokio::test]
async fn a_json_file_with_client_authentication_and_workforce_options() {
    let (base, st) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    std::fs::write(
        &path,
        serde_json::json!({ "id_token": SUBJECT }).to_string(),
    )
    .unwrap();
    let source = serde_json::json!({
        "file": path,
        "format": { "type": "json", "subject_token_field_name": "id_token" },
    });
    let with_client = file_json(
        &base,
        source.clone(),
        serde_json::json!({ "client_id": "cid", "client_secret": "csecret" }),
    );
    assert_eq!(bearer(&build(&with_client)).await.unwrap(), "fed-1");
    assert_eq!(
        st.basic.lock().unwrap()[0].as_deref(),
        Some("Basic Y2lkOmNzZWNyZXQ=")
    );
    let workforce = file_json(
        &base,
        source,
        serde_json::json!({ "workforce_pool_user_project": "billing-proj" }),
    );
    let c = ExternalAccountCredentials::from_json(&workforce, "w.json")
        .unwrap()
        .with_scopes(["https://www.googleapis.com/auth/devstorage.read_only"])
        .build()
        .unwrap();
    assert_eq!(bearer(&c).await.unwrap(), "fed-2");
    let form = st.forms.lock().unwrap()[1].clone();
    assert_eq!(form["options"], r#"{"userProject":"billing-proj"}"#);
    assert_eq!(
        form["scope"],
        "https://www.googleapis.com/auth/devstorage.read_only"
    );
}

#[tokio::test]
async fn a_url_sourced_token_with_headers() {
    let (base, st) = start().await;
    let source = serde_json::json!({
        "url": format!("{base}/subject"),
        "headers": { "Metadata-Flavor": "Google" },
        "format": { "type": "json", "subject_token_field_name": "value" },
    });
    let c = build(&file_json(&base, source, serde_json::json!({})));
    assert_eq!(bearer(&c).await.unwrap(), "fed-1");
    assert_eq!(st.subject_header.lock().unwrap().as_deref(), Some("Google"));
}

/// Executable-sourced credentials need the opt-in environment variable.
fn allow_executables() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: set once, before any executable test reads it; nothing in this
    // test binary reads or writes other environment variables concurrently.
    ONCE.call_once(|| unsafe {
        std::env::set_var(gapi::auth::external_account::ALLOW_EXECUTABLES_ENV, "1")
    });
}

fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    path
}

#[tokio::test]
async fn an_executable_sourced_token_its_output_file_and_its_failures() {
    allow_executables();
    let (base, st) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("env");
    let later = 4_000_000_000u64;
    let ok = script(
        dir.path(),
        "ok.sh",
        &format!(
            r#"echo "$GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE $GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE $GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE" > {}
echo '{{"version":1,"success":true,"token_type":"{JWT_TYPE}","id_token":"{SUBJECT}","expiration_time":{later}}}'"#,
            seen.display()
        ),
    );
    let source =
        serde_json::json!({ "executable": { "command": format!("{} --flag", ok.display()) } });
    let c = build(&file_json(&base, source, serde_json::json!({})));
    assert_eq!(bearer(&c).await.unwrap(), "fed-1");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap().trim(),
        format!("{AUDIENCE} {JWT_TYPE} 0")
    );

    // An unexpired response in the output file is used without running it.
    let cache = dir.path().join("cache.json");
    std::fs::write(
        &cache,
        format!(r#"{{"version":1,"success":true,"token_type":"{JWT_TYPE}","id_token":"{SUBJECT}","expiration_time":{later}}}"#),
    )
    .unwrap();
    let never = script(dir.path(), "never.sh", "exit 7");
    let source = serde_json::json!({ "executable": { "command": never, "output_file": cache } });
    let c = build(&file_json(&base, source, serde_json::json!({})));
    assert_eq!(bearer(&c).await.unwrap(), "fed-2");

    // Failures say what failed.
    let cases = [
        (
            "exits.sh",
            "echo 'kubectl: no context' >&2; exit 3",
            "exited with exit status: 3: kubectl: no context",
        ),
        (
            "refuses.sh",
            r#"echo '{"version":1,"success":false,"code":"401","message":"session expired"}'"#,
            "the executable failed: session expired (401)",
        ),
        ("garbage.sh", "echo not-json", "not an executable-response"),
    ];
    for (name, body, expected) in cases {
        let path = script(dir.path(), name, body);
        let source = serde_json::json!({ "executable": { "command": path } });
        let e = bearer(&build(&file_json(&base, source, serde_json::json!({}))))
            .await
            .unwrap_err();
        assert!(e.is_auth(), "{name}: {e}");
        assert!(e.to_string().contains(expected), "{name}: {e}");
        assert!(e.to_string().contains(name), "names the command: {e}");
    }
    assert_eq!(
        st.exchanges.load(Ordering::SeqCst),
        2,
        "nothing was exchanged for them"
    );
}

#[tokio::test]
async fn an_executable_still_open_for_writing_is_run_once_it_is_closed() {
    allow_executables();
    let (base, _) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let ok = script(
        dir.path(),
        "busy.sh",
        &format!(
            r#"echo '{{"version":1,"success":true,"token_type":"{JWT_TYPE}","id_token":"{SUBJECT}","expiration_time":4000000000}}'"#
        ),
    );
    // A writer holds the file open, as while a helper is being updated: Linux
    // refuses to run it (ETXTBSY) until the writer closes it.
    let writer = std::fs::OpenOptions::new().append(true).open(&ok).unwrap();
    let source = serde_json::json!({ "executable": { "command": ok } });
    let c = build(&file_json(&base, source, serde_json::json!({})));
    let closer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        drop(writer);
    });
    assert_eq!(bearer(&c).await.unwrap(), "fed-1");
    closer.await.unwrap();
}

#[tokio::test]
async fn an_executable_that_hangs_is_stopped_at_its_timeout() {
    allow_executables();
    let (base, _) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let hang = script(dir.path(), "hang.sh", "sleep 60");
    let source = serde_json::json!({ "executable": { "command": hang, "timeout_millis": 5000 } });
    let started = std::time::Instant::now();
    let e = bearer(&build(&file_json(&base, source, serde_json::json!({}))))
        .await
        .unwrap_err();
    assert!(
        e.is_timeout() && e.to_string().contains("did not finish within 5s"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn the_federated_token_impersonates_a_service_account() {
    let (base, st) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, SUBJECT).unwrap();
    let json = file_json(
        &base,
        serde_json::json!({ "file": path }),
        serde_json::json!({
            "service_account_impersonation_url":
                format!("{base}/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"),
            "service_account_impersonation": { "token_lifetime_seconds": 1800 },
            "quota_project_id": "quota-proj",
        }),
    );
    let file = dir.path().join("adc.json");
    std::fs::write(&file, &json).unwrap();
    let adc = ApplicationDefaultCredentials::builder()
        .with_credentials_file(&file)
        .with_scopes(["https://www.googleapis.com/auth/devstorage.full_control"])
        .build()
        .await
        .unwrap();
    assert_eq!(adc.kind(), AdcKind::ExternalAccount);
    assert_eq!(adc.quota_project(), Some("quota-proj"));
    let a = adc.credentials().authorization().await.unwrap();
    assert_eq!(a.access_token().unwrap().secret(), "imp-1");
    assert_eq!(a.quota_project(), Some("quota-proj"));
    // The STS gave a cloud-platform token; the impersonated one has the
    // scopes asked for, and the lifetime of the file.
    assert_eq!(
        st.forms.lock().unwrap()[0]["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    let (auth, body) = st.iam.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some("Bearer fed-1"));
    assert_eq!(
        body["scope"][0],
        "https://www.googleapis.com/auth/devstorage.full_control"
    );
    assert_eq!(body["lifetime"], "1800s");
}

#[tokio::test]
async fn a_refused_subject_token_is_a_clear_error_that_does_not_echo_it() {
    let (base, _) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let wrong = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.wrong-signature-secret-value";
    std::fs::write(&path, wrong).unwrap();
    let e = bearer(&build(&file_json(
        &base,
        serde_json::json!({ "file": path }),
        serde_json::json!({}),
    )))
    .await
    .unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_grant")
    );
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("Unable to parse the ID Token"), "{shown}");
    assert!(!shown.contains("wrong-signature-secret"), "{shown}");
    // a missing file names it
    let missing = dir.path().join("nope");
    let e = bearer(&build(&file_json(
        &base,
        serde_json::json!({ "file": missing }),
        serde_json::json!({}),
    )))
    .await
    .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}
