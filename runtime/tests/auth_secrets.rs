//! No secret ever shows up in `Debug` output, `Display` of errors, or tracing
//! logs: every credential type, flow and error is formatted (and everything
//! is logged at TRACE level) while secrets are in play, and the output is
//! searched for them.

mod auth_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use auth_support::{CLIENT_SECRET, FakeOAuth, REFRESH_TOKEN, Reply};
use gapi::auth::{
    AccessToken, ApiKey, AuthorizationCode, AuthorizeOptions, CallbackParams, ClientSecret,
    ClientSecrets, Credentials, CsrfState, DeviceCode, DeviceFlow, FileStorage, IdToken,
    InstalledAppFlow, MemoryStorage, OAuthClient, PkceCodeVerifier, RefreshToken, Storage,
    UserCredentials, UserTokenSource, WebServerFlow,
};

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

const SECRETS: &[&str] = &[
    CLIENT_SECRET,
    REFRESH_TOKEN,
    "at-old-access-secret",
    "ya29.rotated-access",
    "1//rotated-refresh",
    "eyJ.id-token.secret",
    "4/auth-code-secret",
    "dev-code-secret",
    "AIza-api-key-secret",
    "csrf-state-secret",
    "pkce-verifier-secret-0123456789-0123456789-abcdef",
];

#[tokio::test(start_paused = true)]
async fn no_secret_in_debug_display_errors_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let fake = FakeOAuth::start().await;
    let mut out = String::new();
    let mut show = |what: &str, text: String| {
        out.push_str(what);
        out.push_str(": ");
        out.push_str(&text);
        out.push('\n');
    };

    // Secret newtypes.
    show(
        "access",
        format!("{:?}", AccessToken::new("at-old-access-secret")),
    );
    show("refresh", format!("{:?}", RefreshToken::new(REFRESH_TOKEN)));
    show(
        "client secret",
        format!("{:?}", ClientSecret::new(CLIENT_SECRET)),
    );
    show(
        "code",
        format!("{:?}", AuthorizationCode::new("4/auth-code-secret")),
    );
    show(
        "verifier",
        format!("{:?}", PkceCodeVerifier::new(SECRETS[10])),
    );
    show(
        "state",
        format!("{:?}", CsrfState::new("csrf-state-secret")),
    );
    show(
        "device",
        format!("{:?}", DeviceCode::new("dev-code-secret")),
    );
    show("id", format!("{:?}", IdToken::new("eyJ.id-token.secret")));
    show(
        "api key",
        format!("{:?}", ApiKey::new("AIza-api-key-secret")),
    );
    show(
        "api key creds",
        format!("{:?}", Credentials::api_key("AIza-api-key-secret")),
    );
    show(
        "static creds",
        format!("{:?}", Credentials::access_token("at-old-access-secret")),
    );

    // Credentials and sources.
    let creds = fake
        .credentials(
            "at-old-access-secret",
            SystemTime::now() - Duration::from_secs(5),
        )
        .with_id_token(Some(IdToken::new("eyJ.id-token.secret")));
    show("user creds", format!("{creds:?}"));
    let storage = MemoryStorage::with_credentials(creds.clone());
    let source = UserTokenSource::builder(creds.clone())
        .with_storage(storage.clone())
        .build();
    show("source", format!("{source:?}"));
    show("credentials", format!("{:?}", source.credentials()));
    let auth = source.credentials().authorization().await.unwrap();
    show("authorization", format!("{auth:?}"));

    // Rotation, then errors whose server text echoes secrets back.
    fake.script_token([Reply::json(
        200,
        r#"{"access_token":"ya29.rotated-access","expires_in":3600,"refresh_token":"1//rotated-refresh"}"#,
    )]);
    source.force_refresh().await.unwrap();
    show("rotated source", format!("{source:?}"));
    fake.script_token([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"token 1//rotated-refresh of client GOCSPX-client-secret-xyz is revoked"}"#,
    )]);
    let e = source.force_refresh().await.unwrap_err();
    show("invalid_grant display", e.to_string());
    show("invalid_grant debug", format!("{e:?}"));
    let e = source.credentials().authorization().await.unwrap_err();
    show("invalid marked", format!("{e} / {e:?}"));
    show("stored", format!("{:?}", storage.get().await.unwrap()));

    let other = UserTokenSource::builder(fake.credentials("x", SystemTime::now()))
        .with_max_attempts(1)
        .build();
    fake.script_token([Reply::json(
        503,
        r#"<html>upstream said: refresh_token=1//refresh-token-original</html>"#,
    )]);
    let e = other.force_refresh().await.unwrap_err();
    show("5xx display", e.to_string());
    show("5xx debug", format!("{e:?}"));
    show("5xx api", format!("{:?}", e.api_error()));

    // Flows.
    let client = OAuthClient::new("cid", Some(ClientSecret::new(CLIENT_SECRET)))
        .with_token_uri(fake.token_uri())
        .with_device_uri(fake.url("/device/code"));
    show("client", format!("{client:?}"));
    let web = WebServerFlow::new(client.clone(), "https://app.example/cb");
    show("web flow", format!("{web:?}"));
    let pending = web.authorize_url(&AuthorizeOptions::new()).unwrap();
    let pending_debug = format!("{pending:?}");
    assert!(!pending_debug.contains(pending.state().secret()));
    assert!(!pending_debug.contains(pending.pkce_verifier().secret()));
    show("pending", pending_debug);
    let cb = CallbackParams::from_query(&format!(
        "code=4/auth-code-secret&state={}",
        pending.state().secret()
    ));
    let cb_debug = format!("{cb:?}");
    assert!(!cb_debug.contains(pending.state().secret()));
    show("callback", cb_debug);
    fake.script_token([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"code 4/auth-code-secret already used"}"#,
    )]);
    let e = web.exchange(&pending, &cb).await.unwrap_err();
    show("exchange error", format!("{e} / {e:?}"));
    let e = web
        .exchange(
            &pending,
            &CallbackParams::from_query("code=4/auth-code-secret&state=csrf-state-secret"),
        )
        .await
        .unwrap_err();
    show("state error", format!("{e} / {e:?}"));

    show(
        "installed",
        format!("{:?}", InstalledAppFlow::new(client.clone()).on_url(|_| {})),
    );
    let device = DeviceFlow::new(client.clone());
    show("device flow", format!("{device:?}"));
    let da = device.request_code().await.unwrap();
    show("device auth", format!("{da:?}"));
    fake.script_token([Reply::json(
        400,
        r#"{"error":"access_denied","error_description":"dev-code-secret denied"}"#,
    )]);
    let e = device.poll(&da).await.unwrap_err();
    show("device error", format!("{e} / {e:?}"));

    let secrets = ClientSecrets::from_json(
        r#"{"installed":{"client_id":"x","client_secret":"GOCSPX-client-secret-xyz"}}"#,
        "cs.json",
    )
    .unwrap();
    show("client secrets", format!("{secrets:?}"));
    let e = ClientSecrets::from_json(
        r#"{"installed":{"client_secret":"GOCSPX-client-secret-xyz"}}"#,
        "cs.json",
    )
    .unwrap_err();
    show("client secrets error", format!("{e} / {e:?}"));

    // Storage errors.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    std::fs::write(&p, r#"{"version":1,"client_id":"x","refresh_token":5,"client_secret":"GOCSPX-client-secret-xyz"}"#).unwrap();
    show("file storage", format!("{:?}", FileStorage::new(&p)));
    show(
        "keyed",
        format!("{:?}", gapi::auth::FileKeyedStorage::new(dir.path())),
    );
    show("memory storage", format!("{storage:?}"));
    let e = FileStorage::new(&p).get().await.unwrap_err();
    show("storage error", format!("{e} / {e:?}"));
    let e = UserCredentials::from_json(
        r#"{"client_id":"x","refresh_token":"1//rotated-refresh","expiry":"not a time"}"#,
    )
    .unwrap_err();
    show("decode error", format!("{e} / {e:?}"));

    drop(_default);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("refreshed the access token"),
        "logging was captured:\n{logs}"
    );
    // Server text that echoed secrets was kept, scrubbed.
    assert!(
        out.contains("token [redacted] of client [redacted] is revoked"),
        "{out}"
    );
    for s in SECRETS {
        assert!(!out.contains(s), "secret {s:?} in formatted output:\n{out}");
        assert!(!logs.contains(s), "secret {s:?} in logs:\n{logs}");
    }
    // The state of a real pending request is also absent everywhere.
    assert!(!out.contains(pending.state().secret()));
    assert!(!logs.contains(pending.state().secret()));
}
