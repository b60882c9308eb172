//! No server-to-server secret (private key, assertion, self-signed JWT,
//! access tokens) in any `Debug`, `Display`, error or log: every credential
//! type is formatted, used and made to fail (with servers that echo secrets
//! back) while everything is logged at TRACE level, and the output is
//! searched for them. The style of auth_secrets.rs.

mod auth_s2s_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_s2s_support::{Fake, Reply, TEST_KEY, closed_port, sa_json};
use gapi::auth::{
    ApplicationDefaultCredentials, CredentialSource, Credentials, ImpersonatedCredentials,
    MetadataServerCredentials, ServiceAccountCredentials, ServiceAccountKey,
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

/// Pieces of the private key: every line of its base64 body.
fn key_fragments() -> Vec<String> {
    TEST_KEY
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_debug_display_errors_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let fake = Fake::start().await;
    let mut out = String::new();
    let mut secrets: Vec<String> = key_fragments();
    let mut show = |what: &str, text: String| {
        out.push_str(what);
        out.push_str(": ");
        out.push_str(&text);
        out.push('\n');
    };

    // Service account: key, builder, credentials, tokens.
    let json = sa_json(&fake.token_uri(), TEST_KEY);
    let key = ServiceAccountKey::from_json(&json, "key.json").unwrap();
    show("key", format!("{key:?}"));
    let builder = ServiceAccountCredentials::builder(key.clone()).with_subject("u@example.com");
    show("builder", format!("{builder:?}"));
    let sa = builder.build();
    show("sa", format!("{sa:?}"));
    show("sa credentials", format!("{:?}", sa.credentials()));
    let auth = sa.credentials().authorization().await.unwrap();
    show("sa authorization", format!("{auth:?}"));
    secrets.push(auth.access_token().unwrap().secret().to_owned());
    let assertion = fake.token_forms()[0]["assertion"].clone();
    secrets.push(assertion.clone());
    // An error that echoes the assertion.
    fake.script_token([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"assertion {assertion} is not valid"}"#,
    )]);
    let e = sa.force_refresh().await.unwrap_err();
    show("sa error", format!("{e} / {e:?}"));
    let echoed = fake.token_forms().last().unwrap()["assertion"].clone();
    secrets.push(echoed);
    fake.script_token([Reply::json(502, "<html>bad gateway for {assertion}</html>")]);
    let e = ServiceAccountCredentials::builder(key.clone())
        .with_max_attempts(1)
        .build()
        .access_token()
        .await
        .unwrap_err();
    show("sa 5xx", format!("{e} / {e:?} / {:?}", e.api_error()));
    secrets.push(fake.token_forms().last().unwrap()["assertion"].clone());

    // Self-signed JWT.
    let ss = ServiceAccountCredentials::builder(key.clone())
        .with_audience("https://storage.googleapis.com/")
        .build();
    let jwt = ss.access_token().await.unwrap();
    secrets.push(jwt.secret().to_owned());
    show("self-signed", format!("{ss:?} / {jwt:?}"));
    show(
        "self-signed auth",
        format!("{:?}", ss.credentials().authorization().await.unwrap()),
    );

    // Key file errors.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["client_email"] = serde_json::Value::Null;
    let e = ServiceAccountKey::from_json(&v.to_string(), "k.json").unwrap_err();
    show("key error", format!("{e} / {e:?}"));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let broken = TEST_KEY.replace("-----END PRIVATE KEY-----", "");
    v["private_key"] = broken.into();
    let e = ServiceAccountKey::from_json(&v.to_string(), "k.json").unwrap_err();
    show("pem error", format!("{e} / {e:?}"));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["private_key"] = TEST_KEY.replace("MII", "M!!").into();
    let e = ServiceAccountKey::from_json(&v.to_string(), "k.json").unwrap_err();
    show("base64 error", format!("{e} / {e:?}"));

    // Metadata server.
    let mds = MetadataServerCredentials::builder()
        .with_host(fake.host())
        .build();
    show("mds", format!("{mds:?}"));
    let t = mds.access_token().await.unwrap();
    secrets.push(t.secret().to_owned());
    show("mds token", format!("{t:?} / {}", mds.describe()));
    let absent = MetadataServerCredentials::builder()
        .with_host(format!("127.0.0.1:{}", closed_port().await))
        .with_detect_attempts(1)
        .with_max_attempts(1)
        .build();
    let e = absent.detect().await.unwrap_err();
    show("mds absent", format!("{e} / {e:?}"));

    // Impersonation, with an error that echoes the source's token.
    let imp = ImpersonatedCredentials::builder(sa.credentials(), "t@p.iam.gserviceaccount.com")
        .with_endpoint(fake.url(""))
        .build();
    show("impersonated", format!("{imp:?}"));
    let t = imp.access_token().await.unwrap();
    secrets.push(t.secret().to_owned());
    let source_token = sa.access_token().await.unwrap();
    secrets.push(source_token.secret().to_owned());
    fake.script_iam([Reply::json(
        403,
        r#"{"error":{"code":403,"message":"caller {authorization} may not","status":"PERMISSION_DENIED"}}"#,
    )]);
    let e = imp.force_refresh().await.unwrap_err();
    show("impersonation error", format!("{e} / {e:?}"));
    let static_source = ImpersonatedCredentials::builder(
        Credentials::access_token("ya29.static-source-secret"),
        "t@p.iam.gserviceaccount.com",
    )
    .with_endpoint(fake.url(""))
    .build();
    secrets.push("ya29.static-source-secret".into());
    show("static source", format!("{static_source:?}"));
    fake.script_iam([Reply::json(
        400,
        r#"{"error":{"code":400,"message":"bad {authorization}","status":"INVALID_ARGUMENT"}}"#,
    )]);
    let e = static_source.access_token().await.unwrap_err();
    show("static source error", format!("{e} / {e:?}"));

    // ADC from an explicit file.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sa.json");
    std::fs::write(&p, &json).unwrap();
    let adc = ApplicationDefaultCredentials::builder()
        .with_credentials_file(&p)
        .build()
        .await
        .unwrap();
    show("adc", format!("{adc:?}"));
    let a = adc.credentials().authorization().await.unwrap();
    secrets.push(a.access_token().unwrap().secret().to_owned());
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    bad["type"] = "mystery".into();
    std::fs::write(&p, bad.to_string()).unwrap();
    let e = ApplicationDefaultCredentials::builder()
        .with_credentials_file(&p)
        .build()
        .await
        .unwrap_err();
    show("adc error", format!("{e} / {e:?}"));

    drop(_default);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("got a service account access token"),
        "logging was captured:\n{logs}"
    );
    // Server text that echoed secrets was kept, scrubbed.
    assert!(out.contains("assertion [redacted] is not valid"), "{out}");
    assert!(out.contains("caller Bearer [redacted] may not"), "{out}");
    assert!(secrets.len() > 30, "{}", secrets.len());
    for s in &secrets {
        assert!(
            !out.contains(s.as_str()),
            "secret {s:?} in formatted output:\n{out}"
        );
        assert!(!logs.contains(s.as_str()), "secret {s:?} in logs:\n{logs}");
    }
}
