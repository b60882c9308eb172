//! Workload identity federation end to end with a subject token a real
//! issuer minted: panva's oidc-provider (`peers/oidc-provider/id-token-server.mjs`)
//! issues an ID token through gapi's own web-server flow (`openid`), and
//! `external_account` credentials exchange it at a local Security Token
//! Service that follows Google's documented request and response (RFC 8693
//! at `/v1/token`) and verifies the subject token as Google's STS does for an
//! OIDC provider: signature against the issuer's JWKS (found through its
//! discovery document), `iss` the provider's issuer, `aud` the allowed
//! client id — refusing anything else with `invalid_grant`. The federated
//! token then calls an API, and impersonates a service account at a local
//! IAM Credentials endpoint.
//!
//! Needs `GAPI_OIDC_PROVIDER_DIR` (set by `.ci/peers.sh`); without it the
//! tests say they are skipped (under CI they fail).

mod oidc_support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use gapi::auth::{Credentials, ExternalAccountCredentials, IdTokenRejection, IdTokenVerifier};
use gapi::{Call, Client, HttpMethod, MethodInfo, Service, ServiceInfo};
use oidc_support::{Peer, http, sign_in};
use serde_json::{Value, json};

/// The workload identity pool provider: its resource name is the exchange's
/// `audience`; it trusts the issuer for ID tokens issued to `CLIENT_ID`.
const POOL_PROVIDER: &str = "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci-pool/providers/oidc-provider";
const CLIENT_ID: &str = "gapi-test";
const CLIENT_SECRET: &str = "gapi-test-secret-0123456789";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const SA: &str = "deployer@proj.iam.gserviceaccount.com";
const READ_ONLY: &str = "https://www.googleapis.com/auth/devstorage.read_only";

fn start_peer() -> Option<Peer> {
    oidc_support::start_peer("id-token-server.mjs")
}

type Form = HashMap<String, String>;

/// The STS, the IAM Credentials endpoint, an API and a subject-token URL.
struct Sts {
    verifier: IdTokenVerifier,
    exchanges: AtomicUsize,
    impersonations: AtomicUsize,
    /// Every exchange's form and `Content-Type`.
    forms: Mutex<Vec<(Form, Option<String>)>>,
    /// `(sub, iss, aud)` of every subject token that verified.
    verified: Mutex<Vec<(String, String, Vec<String>)>>,
    /// The rejection code of every subject token refused.
    refused: Mutex<Vec<String>>,
    /// Tokens this STS or the IAM endpoint issued (the API accepts them).
    issued: Mutex<HashSet<String>>,
    /// The `Authorization` of each IAM and API request.
    iam_auth: Mutex<Vec<Option<String>>>,
    api_auth: Mutex<Vec<Option<String>>>,
    /// What `/subject` serves as `{"id_token": …}`.
    subject: Mutex<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: String) -> Response {
    let body = json!({ "error": error, "error_description": description });
    (status, body.to_string()).into_response()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
}

/// `POST /v1/token`: RFC 8693 as Google documents it for sts.googleapis.com.
async fn token(State(st): State<Arc<Sts>>, headers: HeaderMap, body: String) -> Response {
    let form: Form = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let content_type = header(&headers, "content-type");
    st.forms
        .lock()
        .unwrap()
        .push((form.clone(), content_type.clone()));
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if !content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request must be application/x-www-form-urlencoded".into(),
        );
    }
    let checks = [
        ("grant_type", field("grant_type") == EXCHANGE_GRANT),
        (
            "requested_token_type",
            field("requested_token_type") == ACCESS_TOKEN_TYPE,
        ),
        ("audience", field("audience") == POOL_PROVIDER),
        ("scope", !field("scope").is_empty()),
        (
            "subject_token_type",
            [ID_TOKEN_TYPE, JWT_TYPE].contains(&field("subject_token_type")),
        ),
        ("subject_token", !field("subject_token").is_empty()),
    ];
    if let Some((name, _)) = checks.iter().find(|(_, ok)| !ok) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Invalid value for \"{name}\"."),
        );
    }
    let subject_token = field("subject_token");
    let claims = match st.verifier.verify(subject_token, None).await {
        Ok(c) => c,
        Err(e) => {
            let code = IdTokenRejection::of(&e).map_or("invalid", |r| r.code());
            st.refused.lock().unwrap().push(code.to_owned());
            // The token is echoed on purpose, as a careless server or proxy
            // might: the caller's error must not carry it.
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!("The ID Token could not be verified ({code}): {subject_token}"),
            );
        }
    };
    st.verified.lock().unwrap().push((
        claims.subject().to_owned(),
        claims.issuer().to_owned(),
        claims.audiences().to_vec(),
    ));
    let n = st.exchanges.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("ya29.sts-{n}");
    st.issued.lock().unwrap().insert(access.clone());
    let body = json!({
        "access_token": access,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": 3600,
    });
    (StatusCode::OK, body.to_string()).into_response()
}

fn bearer_issued(st: &Sts, auth: Option<&str>) -> bool {
    auth.and_then(|a| a.strip_prefix("Bearer "))
        .is_some_and(|t| st.issued.lock().unwrap().contains(t))
}

/// `POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken`, with
/// a federated token.
async fn generate(
    State(st): State<Arc<Sts>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let auth = header(&headers, "authorization");
    st.iam_auth.lock().unwrap().push(auth.clone());
    let federated = auth
        .as_deref()
        .is_some_and(|a| a.starts_with("Bearer ya29.sts-"));
    if name != format!("{SA}:generateAccessToken")
        || !federated
        || !bearer_issued(&st, auth.as_deref())
    {
        let body =
            json!({"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}});
        return (StatusCode::FORBIDDEN, body.to_string()).into_response();
    }
    let n = st.impersonations.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("ya29.imp-{n}");
    st.issued.lock().unwrap().insert(access.clone());
    let expire = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let body = json!({
        "accessToken": access,
        "expireTime": expire.format(&time::format_description::well_known::Rfc3339).unwrap(),
    });
    (StatusCode::OK, body.to_string()).into_response()
}

/// `GET /storage/v1/b`: an API that takes only the tokens issued here.
async fn buckets(State(st): State<Arc<Sts>>, headers: HeaderMap) -> Response {
    let auth = header(&headers, "authorization");
    st.api_auth.lock().unwrap().push(auth.clone());
    if !bearer_issued(&st, auth.as_deref()) {
        let body = json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}});
        return (StatusCode::UNAUTHORIZED, body.to_string()).into_response();
    }
    let body = json!({"kind": "storage#buckets", "items": [{"name": "ci-bucket"}]});
    (StatusCode::OK, body.to_string()).into_response()
}

async fn subject(State(st): State<Arc<Sts>>) -> Response {
    let body = json!({ "id_token": *st.subject.lock().unwrap() });
    (StatusCode::OK, body.to_string()).into_response()
}

/// Starts the STS for the pool provider trusting `issuer`: its verifier
/// finds the keys through the issuer's discovery document.
async fn start_sts(issuer: &str) -> (String, Arc<Sts>) {
    let verifier = IdTokenVerifier::discover(issuer, [CLIENT_ID])
        .await
        .expect("the issuer's discovery document");
    assert_eq!(verifier.jwks().uri(), format!("{issuer}/jwks"));
    let st = Arc::new(Sts {
        verifier,
        exchanges: AtomicUsize::new(0),
        impersonations: AtomicUsize::new(0),
        forms: Mutex::default(),
        verified: Mutex::default(),
        refused: Mutex::default(),
        issued: Mutex::default(),
        iam_auth: Mutex::default(),
        api_auth: Mutex::default(),
        subject: Mutex::default(),
    });
    let app = Router::new()
        .route("/v1/token", post(token))
        .route("/v1/projects/-/serviceAccounts/{name}", post(generate))
        .route("/storage/v1/b", get(buckets))
        .route("/subject", get(subject))
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), st)
}

/// An `external_account` credentials file for the pool provider.
fn creds_json(sts: &str, token_type: &str, source: Value, extra: Value) -> String {
    let mut v = json!({
        "type": "external_account",
        "audience": POOL_PROVIDER,
        "subject_token_type": token_type,
        "token_url": format!("{sts}/v1/token"),
        "credential_source": source,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn build(json: &str) -> Credentials {
    ExternalAccountCredentials::from_json(json, "wif.json")
        .unwrap()
        .with_scopes([READ_ONLY])
        .build()
        .unwrap()
}

async fn bearer(c: &Credentials) -> gapi::Result<String> {
    let a = c.authorization().await?;
    Ok(a.access_token().unwrap().secret().to_owned())
}

static STORAGE: ServiceInfo = ServiceInfo {
    name: "storage",
    version: "v1",
    revision: "20240101",
    title: "Cloud Storage JSON API",
    root_url: "https://storage.googleapis.com/",
    service_path: "storage/v1/",
    batch_path: None,
};
static BUCKETS_LIST: MethodInfo = MethodInfo {
    id: "storage.buckets.list",
    http_method: HttpMethod::Get,
    path: "b",
    ..MethodInfo::DEFAULT
};

/// `buckets.list` through a client with these credentials.
async fn list_buckets(sts: &str, c: Credentials) -> gapi::Result<Value> {
    let client = Client::builder().credentials(c).build()?;
    let svc = Service::new(client, &STORAGE).with_root_url(sts);
    let mut call = Call::new(&svc, &BUCKETS_LIST);
    call.query("project", "proj");
    call.send().await
}

async fn jwks_gets(base: &str) -> u64 {
    let stats: Value = http()
        .get(format!("{base}/test/stats"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    stats["jwks_gets"].as_u64().unwrap()
}

#[tokio::test]
async fn an_oidc_provider_id_token_is_exchanged_at_a_verifying_sts_from_a_file_and_a_url() {
    let Some(peer) = start_peer() else { return };
    let issuer = peer.base.clone();
    let (sts, st) = start_sts(&issuer).await;
    let id_token = sign_in(&issuer, CLIENT_ID, CLIENT_SECRET, "wif-file").await;
    let dir = tempfile::tempdir().unwrap();

    // --- file-sourced, as a Kubernetes projected token: text, a newline.
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{id_token}\n")).unwrap();
    let c = build(&creds_json(
        &sts,
        ID_TOKEN_TYPE,
        json!({ "file": path }),
        json!({}),
    ));
    let listed = list_buckets(&sts, c).await.expect("buckets.list");
    assert_eq!(listed["items"][0]["name"], "ci-bucket");
    assert_eq!(
        st.api_auth.lock().unwrap().as_slice(),
        [Some("Bearer ya29.sts-1".to_owned())]
    );
    let (form, content_type) = st.forms.lock().unwrap()[0].clone();
    assert_eq!(
        content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(form["grant_type"], EXCHANGE_GRANT);
    assert_eq!(form["audience"], POOL_PROVIDER);
    assert_eq!(form["scope"], READ_ONLY);
    assert_eq!(form["requested_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(form["subject_token"], id_token, "the file's token, trimmed");
    assert_eq!(form["subject_token_type"], ID_TOKEN_TYPE);
    assert_eq!(
        st.verified.lock().unwrap().as_slice(),
        [("test-user".into(), issuer.clone(), vec![CLIENT_ID.into()])],
        "the STS verified the issuer's token"
    );
    assert_eq!(
        jwks_gets(&issuer).await,
        1,
        "the STS fetched the issuer's keys"
    );

    // --- URL-sourced: a local endpoint serves {"id_token": …} (type jwt).
    *st.subject.lock().unwrap() = id_token.clone();
    let c = build(&creds_json(
        &sts,
        JWT_TYPE,
        json!({
            "url": format!("{sts}/subject"),
            "format": { "type": "json", "subject_token_field_name": "id_token" },
        }),
        json!({}),
    ));
    assert_eq!(bearer(&c).await.unwrap(), "ya29.sts-2");
    let (form, _) = st.forms.lock().unwrap()[1].clone();
    assert_eq!(form["subject_token"], id_token);
    assert_eq!(form["subject_token_type"], JWT_TYPE);

    // --- the federated token impersonates a service account.
    let c = build(&creds_json(
        &sts,
        ID_TOKEN_TYPE,
        json!({ "file": path }),
        json!({
            "service_account_impersonation_url":
                format!("{sts}/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"),
        }),
    ));
    let listed = list_buckets(&sts, c)
        .await
        .expect("buckets.list, impersonated");
    assert_eq!(listed["items"][0]["name"], "ci-bucket");
    assert_eq!(
        st.iam_auth.lock().unwrap().as_slice(),
        [Some("Bearer ya29.sts-3".to_owned())]
    );
    assert_eq!(
        st.api_auth.lock().unwrap().last().unwrap().as_deref(),
        Some("Bearer ya29.imp-1")
    );
    assert_eq!(
        st.forms.lock().unwrap()[2].0["scope"],
        "https://www.googleapis.com/auth/cloud-platform",
        "the STS token of an impersonation is cloud-platform"
    );
    assert_eq!(st.verified.lock().unwrap().len(), 3);
    assert!(st.refused.lock().unwrap().is_empty());
    assert_eq!(jwks_gets(&issuer).await, 1, "the keys stayed cached");
    drop(peer);
}

/// `token` with one byte of its signature changed.
fn tamper(token: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut sig = b64.decode(signature).unwrap();
    let mid = sig.len() / 2;
    sig[mid] ^= 0x01;
    format!("{signed}.{}", b64.encode(sig))
}

#[tokio::test]
async fn subject_tokens_the_sts_cannot_verify_are_refused_without_echoing_them() {
    let Some(peer) = start_peer() else { return };
    let issuer = peer.base.clone();
    let (sts, st) = start_sts(&issuer).await;
    let id_token = sign_in(&issuer, CLIENT_ID, CLIENT_SECRET, "wif-tamper").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let c = build(&creds_json(
        &sts,
        ID_TOKEN_TYPE,
        json!({ "file": path }),
        json!({}),
    ));

    // --- one byte of the signature changed
    let tampered = tamper(&id_token);
    assert_ne!(tampered, id_token);
    std::fs::write(&path, &tampered).unwrap();
    let e = bearer(&c).await.expect_err("a tampered token is refused");
    assert!(e.is_auth(), "{e}");
    let auth = e.auth_error().unwrap();
    assert_eq!(auth.code.as_deref(), Some("invalid_grant"), "{e}");
    assert!(
        auth.description
            .contains("could not be verified (id_token_signature)"),
        "{e}"
    );
    let shown = format!("{e} | {e:?}");
    println!("refused: {e}");
    assert!(
        shown.contains("[redacted]"),
        "the echo was redacted: {shown}"
    );
    let (_, tampered_sig) = tampered.rsplit_once('.').unwrap();
    let (_, real_sig) = id_token.rsplit_once('.').unwrap();
    for secret in [tampered.as_str(), tampered_sig, id_token.as_str(), real_sig] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert_eq!(
        st.refused.lock().unwrap().as_slice(),
        ["id_token_signature"]
    );
    assert_eq!(st.exchanges.load(Ordering::SeqCst), 0);

    // The same credentials work once the file holds the real token again.
    std::fs::write(&path, &id_token).unwrap();
    assert_eq!(bearer(&c).await.unwrap(), "ya29.sts-1");

    // --- a real token of the same issuer, for another client: wrong `aud`.
    let other = sign_in(
        &issuer,
        "gapi-test-es256",
        "gapi-test-es256-secret-0123456789",
        "wif-es",
    )
    .await;
    let other_path = dir.path().join("other");
    std::fs::write(&other_path, &other).unwrap();
    let e = bearer(&build(&creds_json(
        &sts,
        ID_TOKEN_TYPE,
        json!({ "file": other_path }),
        json!({}),
    )))
    .await
    .expect_err("another client's token is refused");
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("invalid_grant")
    );
    assert!(e.to_string().contains("id_token_audience"), "{e}");
    assert!(!format!("{e} {e:?}").contains(&other), "{e:?}");

    // --- signed with the issuer's key, but naming another issuer.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iss": "https://elsewhere.example", "sub": "test-user",
                        "aud": CLIENT_ID, "iat": now, "exp": now + 600});
    let q: String = form_urlencoded::byte_serialize(claims.to_string().as_bytes()).collect();
    let minted: Value = http()
        .get(format!("{issuer}/test/mint?claims={q}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let forged = minted["token"].as_str().unwrap();
    let forged_path = dir.path().join("forged");
    std::fs::write(&forged_path, forged).unwrap();
    let e = bearer(&build(&creds_json(
        &sts,
        JWT_TYPE,
        json!({ "file": forged_path }),
        json!({}),
    )))
    .await
    .expect_err("another issuer's token is refused");
    assert!(e.to_string().contains("id_token_issuer"), "{e}");
    assert!(!format!("{e} {e:?}").contains(forged), "{e:?}");

    assert_eq!(
        st.refused.lock().unwrap().as_slice(),
        ["id_token_signature", "id_token_audience", "id_token_issuer"]
    );
    assert_eq!(st.exchanges.load(Ordering::SeqCst), 1);
    drop(peer);
}
