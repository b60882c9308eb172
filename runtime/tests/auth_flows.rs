//! The web server, installed-app (loopback) and device flows against fake
//! endpoints on 127.0.0.1.

mod auth_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_support::{CLIENT_SECRET, FakeOAuth, Reply};
use base64::Engine as _;
use gapi::auth::{
    AuthorizeOptions, CallbackParams, ClientSecret, ClientSecrets, DeviceFlow, InstalledAppFlow,
    OAuthClient, PendingAuthorization, WebServerFlow,
};
use gapi::clock::{Clock as _, ManualClock};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SCOPE: &str = "https://www.googleapis.com/auth/tasks";

fn client(fake: &FakeOAuth) -> OAuthClient {
    OAuthClient::new(
        "client-123.apps.googleusercontent.com",
        Some(ClientSecret::new(CLIENT_SECRET)),
    )
    .with_scopes([SCOPE])
    .with_auth_uri("https://accounts.example/o/oauth2/auth")
    .with_token_uri(fake.token_uri())
    .with_device_uri(fake.url("/device/code"))
    .with_revoke_uri(fake.url("/revoke"))
}

fn code_grant_reply() -> Reply {
    Reply::json(
        200,
        format!(
            r#"{{"access_token":"at-code","expires_in":3599,"refresh_token":"1//from-code","scope":"{SCOPE}","token_type":"Bearer","id_token":"eyJhbGciOi.payload.sig"}}"#
        ),
    )
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------- web server

#[tokio::test]
async fn authorize_url_carries_state_pkce_and_options() {
    let fake = FakeOAuth::start().await;
    let flow = WebServerFlow::new(client(&fake), "https://app.example/oauth2callback");
    let pending = flow
        .authorize_url(
            &AuthorizeOptions::new()
                .include_granted_scopes(true)
                .login_hint("alice@example.com")
                .prompt("consent")
                .param("hd", "example.com"),
        )
        .unwrap();
    assert!(
        pending
            .url()
            .starts_with("https://accounts.example/o/oauth2/auth?")
    );
    let q = query(pending.url());
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(q["redirect_uri"], "https://app.example/oauth2callback");
    assert_eq!(q["scope"], SCOPE);
    assert_eq!(q["state"], pending.state().secret());
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"], s256(pending.pkce_verifier().secret()));
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["include_granted_scopes"], "true");
    assert_eq!(q["login_hint"], "alice@example.com");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["hd"], "example.com");
    assert!(!q.contains_key("client_secret"));
    // Each request gets its own state and verifier.
    let other = flow.authorize_url(&AuthorizeOptions::new()).unwrap();
    assert_ne!(other.state(), pending.state());
    assert_ne!(other.pkce_verifier(), pending.pkce_verifier());
}

#[tokio::test]
async fn exchange_verifies_state_before_anything_else() {
    let fake = FakeOAuth::start().await;
    let flow = WebServerFlow::new(client(&fake), "https://app.example/cb");
    let pending = flow.authorize_url(&AuthorizeOptions::new()).unwrap();
    let cases = [
        "code=c&state=wrong".to_owned(),
        "code=c".to_owned(),
        "error=access_denied&state=forged".to_owned(),
    ];
    for q in &cases {
        let e = flow
            .exchange(&pending, &CallbackParams::from_query(q))
            .await
            .unwrap_err();
        assert!(e.is_auth(), "{e}");
        assert!(e.to_string().contains("state"), "{q}: {e}");
        assert_eq!(e.auth_error().unwrap().code, None);
    }
    let denied = format!(
        "?error=access_denied&error_description=nope&state={}",
        pending.state().secret()
    );
    let e = flow
        .exchange(&pending, &CallbackParams::from_query(&denied))
        .await
        .unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("access_denied")
    );
    assert!(e.to_string().contains("denied"), "{e}");
    assert_eq!(fake.token_count(), 0, "nothing was exchanged");
}

#[tokio::test]
async fn exchange_sends_code_verifier_and_returns_credentials() {
    let fake = FakeOAuth::start().await;
    fake.script_token([code_grant_reply()]);
    let flow = WebServerFlow::new(client(&fake), "https://app.example/cb");
    let pending = flow.authorize_url(&AuthorizeOptions::new()).unwrap();
    // A web server keeps the pending request in its session store.
    let saved = serde_json::to_string(&pending).unwrap();
    let restored: PendingAuthorization = serde_json::from_str(&saved).unwrap();
    let callback = CallbackParams::from_url(&format!(
        "https://app.example/cb?state={}&code=4%2F0Ab-code&scope={SCOPE}",
        pending.state().secret()
    ))
    .unwrap();
    let creds = flow.exchange(&restored, &callback).await.unwrap();
    assert_eq!(creds.access_token().unwrap().secret(), "at-code");
    assert_eq!(creds.refresh_token().unwrap().secret(), "1//from-code");
    assert_eq!(creds.scopes(), [SCOPE]);
    assert_eq!(creds.token_uri(), fake.token_uri());
    assert_eq!(creds.revoke_uri(), fake.url("/revoke"));
    assert!(creds.id_token().is_some());
    assert!(!creds.is_expired(SystemTime::now()));
    let form = &fake.token_forms()[0];
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "4/0Ab-code");
    assert_eq!(form["redirect_uri"], "https://app.example/cb");
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(
        s256(&form["code_verifier"]),
        query(pending.url())["code_challenge"]
    );

    // exchange_code with a bad code: the server's invalid_grant.
    fake.script_token([Reply::error(400, "invalid_grant")]);
    let e = flow
        .exchange_code(
            &pending,
            gapi::auth::AuthorizationCode::new("used"),
            pending.state().secret(),
        )
        .await
        .unwrap_err();
    assert!(e.needs_reauthorization(), "{e}");
}

#[tokio::test]
async fn client_secrets_file_configures_the_flow() {
    let fake = FakeOAuth::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client_secret.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"web":{{"client_id":"web-1.apps.googleusercontent.com","project_id":"p","auth_uri":"{}","token_uri":"{}","client_secret":"GOCSPX-web","redirect_uris":["https://app.example/cb"]}}}}"#,
            fake.url("/auth"),
            fake.token_uri()
        ),
    )
    .unwrap();
    let secrets = ClientSecrets::from_file(&path).unwrap();
    let client = OAuthClient::from_client_secrets(&secrets).with_scopes([SCOPE]);
    let flow = WebServerFlow::new(client, secrets.redirect_uris()[0].clone());
    let pending = flow.authorize_url(&AuthorizeOptions::new()).unwrap();
    assert!(pending.url().starts_with(&fake.url("/auth?")));
    fake.script_token([code_grant_reply()]);
    let creds = flow
        .exchange_code(
            &pending,
            gapi::auth::AuthorizationCode::new("c"),
            pending.state().secret(),
        )
        .await
        .unwrap();
    assert_eq!(creds.client_id(), "web-1.apps.googleusercontent.com");
    assert_eq!(fake.token_forms()[0]["client_secret"], "GOCSPX-web");
}

// -------------------------------------------------------------- installed app

/// A minimal browser: GET `url`, return status and body.
async fn browser_get(url: &str) -> (u16, String) {
    let u = url::Url::parse(url).unwrap();
    let addr = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let target = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    };
    s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn installed(
    fake: &FakeOAuth,
) -> (
    InstalledAppFlow,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let flow = InstalledAppFlow::new(client(fake))
        .open_browser(false)
        .with_timeout(Duration::from_secs(30))
        .on_url(move |url| {
            tx.send(url.to_owned()).unwrap();
        });
    (flow, rx)
}

#[tokio::test]
async fn loopback_flow_serves_one_verified_callback() {
    let fake = FakeOAuth::start().await;
    fake.script_token([code_grant_reply()]);
    let (flow, mut urls) = installed(&fake);
    let browser = async {
        let url = urls.recv().await.unwrap();
        let q = query(&url);
        let redirect = q["redirect_uri"].clone();
        assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with('/'));
        assert_eq!(q["code_challenge_method"], "S256");
        // Stray requests are answered and ignored.
        assert_eq!(browser_get(&format!("{redirect}favicon.ico")).await.0, 404);
        assert_eq!(
            browser_get(&format!("{redirect}?code=evil&state=forged"))
                .await
                .0,
            400
        );
        let (status, page) = browser_get(&format!(
            "{redirect}?code=the-code&state={}&scope={SCOPE}",
            q["state"]
        ))
        .await;
        (q, status, page)
    };
    let (creds, (q, status, page)) = tokio::join!(flow.run(), browser);
    let creds = creds.unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("You may close this window"), "{page}");
    assert_eq!(creds.refresh_token().unwrap().secret(), "1//from-code");
    assert_eq!(
        fake.token_count(),
        1,
        "only the verified callback was exchanged"
    );
    let form = &fake.token_forms()[0];
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], q["redirect_uri"]);
    assert_eq!(s256(&form["code_verifier"]), q["code_challenge"]);
}

#[tokio::test]
async fn loopback_flow_reports_access_denied() {
    let fake = FakeOAuth::start().await;
    let (flow, mut urls) = installed(&fake);
    let browser = async {
        let url = urls.recv().await.unwrap();
        let q = query(&url);
        browser_get(&format!(
            "{}?error=access_denied&state={}",
            q["redirect_uri"], q["state"]
        ))
        .await
    };
    let (result, (status, page)) = tokio::join!(flow.run(), browser);
    let e = result.unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("access_denied")
    );
    assert_eq!(status, 400);
    assert!(page.contains("Sign-in failed"), "{page}");
    assert_eq!(fake.token_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn loopback_flow_times_out() {
    let fake = FakeOAuth::start().await;
    let (flow, _urls) = installed(&fake);
    let e = flow
        .with_timeout(Duration::from_secs(120))
        .run()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
}

// --------------------------------------------------------------------- device

fn device_client(fake: &FakeOAuth, clock: &ManualClock) -> OAuthClient {
    client(fake).with_clock(Arc::new(clock.clone()))
}

#[tokio::test(start_paused = true)]
async fn device_flow_polls_with_interval_and_slow_down() {
    let fake = FakeOAuth::start().await;
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let clock = ManualClock::new(start);
    fake.script_token([
        Reply::error(428, "authorization_pending"),
        Reply::error(403, "slow_down"),
        Reply::error(428, "authorization_pending"),
        code_grant_reply(),
    ]);
    let flow = DeviceFlow::new(device_client(&fake, &clock));
    let mut shown = None;
    let creds = flow
        .run(|auth| {
            shown = Some((
                auth.user_code().to_owned(),
                auth.verification_url().to_owned(),
                auth.interval(),
            ))
        })
        .await
        .unwrap();
    let (code, url, interval) = shown.unwrap();
    assert_eq!(code, "ABCD-EFGH");
    assert_eq!(url, "https://www.google.com/device");
    assert_eq!(interval, Duration::from_secs(5));
    assert_eq!(creds.access_token().unwrap().secret(), "at-code");
    // 5 s, 5 s, then 10 s twice after slow_down.
    assert_eq!(
        clock.now().duration_since(start).unwrap(),
        Duration::from_secs(30)
    );
    let device_form = &fake.state.device_forms.lock().unwrap()[0];
    assert_eq!(
        device_form["client_id"],
        "client-123.apps.googleusercontent.com"
    );
    assert_eq!(device_form["scope"], SCOPE);
    let forms = fake.token_forms();
    assert_eq!(forms.len(), 4);
    for f in &forms {
        assert_eq!(
            f["grant_type"],
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(f["device_code"], "dev-code-secret");
        assert_eq!(f["client_secret"], CLIENT_SECRET);
    }
}

#[tokio::test(start_paused = true)]
async fn device_flow_accepts_rfc_names_and_default_interval_and_denial() {
    let fake = FakeOAuth::start().await;
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let clock = ManualClock::new(start);
    fake.script_device([Reply::json(
        200,
        r#"{"device_code":"d","user_code":"U","verification_uri":"https://example.com/device","verification_uri_complete":"https://example.com/device?c=U","expires_in":600}"#,
    )]);
    fake.script_token([
        Reply::error(400, "authorization_pending"),
        Reply::error(400, "access_denied"),
    ]);
    let flow = DeviceFlow::new(device_client(&fake, &clock));
    let auth = flow.request_code().await.unwrap();
    assert_eq!(auth.verification_url(), "https://example.com/device");
    assert_eq!(
        auth.verification_url_complete(),
        Some("https://example.com/device?c=U")
    );
    assert_eq!(auth.interval(), Duration::from_secs(5));
    let e = flow.poll(&auth).await.unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        clock.now().duration_since(start).unwrap(),
        Duration::from_secs(10)
    );
}

#[tokio::test(start_paused = true)]
async fn device_flow_expires() {
    let fake = FakeOAuth::start().await;
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000));
    // The server says so.
    fake.script_token([Reply::error(400, "expired_token")]);
    let flow = DeviceFlow::new(device_client(&fake, &clock));
    let e = flow.run(|_| {}).await.unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("expired_token")
    );
    // Or the codes run out while the user is still pending.
    fake.script_device([Reply::json(
        200,
        r#"{"device_code":"d","user_code":"U","verification_url":"https://x/device","expires_in":12,"interval":5}"#,
    )]);
    fake.script_token((0..10).map(|_| Reply::error(428, "authorization_pending")));
    let before = fake.token_count();
    let e = flow.run(|_| {}).await.unwrap_err();
    assert_eq!(
        e.auth_error().unwrap().code.as_deref(),
        Some("expired_token")
    );
    assert_eq!(
        fake.token_count() - before,
        2,
        "polled at 5 s and 10 s only"
    );
}
