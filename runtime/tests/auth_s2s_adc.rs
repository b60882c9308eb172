//! Application Default Credentials with a temporary HOME and environment:
//! each source in order, each file type, malformed files, and the metadata
//! server as an in-process fake (token, project id, slow, absent).
//!
//! The cases change process-wide environment variables, so they run in
//! sequence in the one test function of this binary. `GCE_METADATA_HOST`
//! always points at 127.0.0.1 (a fake or a closed port): no case lets
//! detection reach a real metadata server address.

mod auth_s2s_support;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use auth_s2s_support::{Fake, SA_EMAIL, SA_PROJECT, TEST_KEY, closed_port, sa_json};
use gapi::auth::{
    AdcKind, AdcSource, ApplicationDefaultCredentials, ClientSecret, Credentials, RefreshToken,
    UserCredentials,
};

const VARS: &[&str] = &[
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GCE_METADATA_TIMEOUT",
    "GCE_METADATA_DETECT_RETRIES",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "GOOGLE_CLOUD_QUOTA_PROJECT",
    "NO_GCE_CHECK",
    "APPDATA",
];

fn set(k: &str, v: impl AsRef<std::ffi::OsStr>) {
    // SAFETY: this binary has one test; nothing else reads the environment
    // while it changes it.
    unsafe { std::env::set_var(k, v) }
}

fn unset(k: &str) {
    // SAFETY: as above.
    unsafe { std::env::remove_var(k) }
}

/// A clean environment: a new HOME, no ADC variables, and the metadata
/// server on a closed local port with short probes.
fn reset(home: &Path, closed: u16) {
    for v in VARS {
        unset(v);
    }
    set("HOME", home);
    set("GCE_METADATA_HOST", format!("127.0.0.1:{closed}"));
    set("GCE_METADATA_TIMEOUT", "0.2");
    set("GCE_METADATA_DETECT_RETRIES", "2");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn user_json(fake: &Fake, quota: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "type": "authorized_user",
        "client_id": "adc-client.apps.googleusercontent.com",
        "client_secret": "adc-client-secret",
        "refresh_token": "1//adc-refresh",
        "token_uri": fake.token_uri(),
    });
    if let Some(q) = quota {
        v["quota_project_id"] = q.into();
    }
    v.to_string()
}

async fn err(b: gapi::auth::ApplicationDefaultBuilder) -> String {
    b.build().await.unwrap_err().to_string()
}

#[tokio::test]
async fn application_default_credentials() {
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let closed = closed_port().await;
    let fake = Fake::start().await;
    let gcloud_file = home
        .path()
        .join(".config/gcloud/application_default_credentials.json");

    // 1. Nothing anywhere: a clear error, quickly, naming every place.
    reset(home.path(), closed);
    let t = Instant::now();
    let e = ApplicationDefaultCredentials::builder()
        .build()
        .await
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(e.is_auth(), "{e}");
    let text = e.to_string();
    for needle in [
        "GOOGLE_APPLICATION_CREDENTIALS",
        gcloud_file.to_str().unwrap(),
        "no metadata server answered",
        &format!("127.0.0.1:{closed}"),
        "gcloud auth application-default login",
        "Credentials::api_key",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    assert!(Credentials::application_default(["x"]).await.is_err());

    // 2. NO_GCE_CHECK skips the metadata server.
    set("NO_GCE_CHECK", "true");
    set("GCE_METADATA_HOST", fake.host());
    let text = err(ApplicationDefaultCredentials::builder()).await;
    assert!(text.contains("NO_GCE_CHECK"), "{text}");
    assert_eq!(fake.state.mds_pings.load(Ordering::SeqCst), 0);
    unset("NO_GCE_CHECK");

    // 3. The metadata server: token, project id, quota project from env.
    set("GOOGLE_CLOUD_QUOTA_PROJECT", "env-quota");
    let adc = ApplicationDefaultCredentials::builder()
        .with_scopes(["s1", "s2"])
        .build()
        .await
        .unwrap();
    assert_eq!(adc.kind(), AdcKind::MetadataServer);
    assert_eq!(
        adc.source(),
        &AdcSource::MetadataServer(format!("http://{}", fake.host()))
    );
    assert_eq!(adc.project_id(), Some("mds-project-42"));
    let a = adc.credentials().authorization().await.unwrap();
    assert_eq!(a.access_token().unwrap().secret(), "mds-token-1");
    assert_eq!(a.quota_project(), Some("env-quota"));
    assert!(
        fake.state
            .mds_requests
            .lock()
            .unwrap()
            .iter()
            .any(|(p, _)| p.ends_with("/token?scopes=s1%2Cs2"))
    );
    // GOOGLE_CLOUD_PROJECT wins over the metadata server; the builder's
    // quota project over the environment's.
    set("GOOGLE_CLOUD_PROJECT", "env-project");
    let adc = ApplicationDefaultCredentials::builder()
        .with_quota_project("builder-quota")
        .build()
        .await
        .unwrap();
    assert_eq!(adc.project_id(), Some("env-project"));
    assert_eq!(adc.quota_project(), Some("builder-quota"));
    unset("GOOGLE_CLOUD_PROJECT");
    unset("GOOGLE_CLOUD_QUOTA_PROJECT");
    let via_builder_host = ApplicationDefaultCredentials::builder()
        .with_metadata_host(fake.host())
        .build()
        .await
        .unwrap();
    assert_eq!(via_builder_host.kind(), AdcKind::MetadataServer);

    // 4. A slow metadata server: a timeout error, bounded in time.
    fake.set_ping_delay(Duration::from_secs(30));
    let t = Instant::now();
    let text = err(ApplicationDefaultCredentials::builder()).await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(text.contains("no answer within 200ms"), "{text}");
    fake.set_ping_delay(Duration::ZERO);
    set("GCE_METADATA_HOST", format!("127.0.0.1:{closed}"));

    // 5. gcloud's file (~/.config/gcloud): authorized_user.
    write(&gcloud_file, &user_json(&fake, Some("file-quota")));
    let pings = fake.state.mds_pings.load(Ordering::SeqCst);
    let adc = ApplicationDefaultCredentials::builder()
        .build()
        .await
        .unwrap();
    assert_eq!(adc.kind(), AdcKind::AuthorizedUser);
    assert_eq!(adc.source(), &AdcSource::GcloudFile(gcloud_file.clone()));
    assert_eq!(adc.project_id(), None);
    assert_eq!(adc.quota_project(), Some("file-quota"));
    let before = fake.token_count();
    let a = adc.credentials().authorization().await.unwrap();
    assert_eq!(a.quota_project(), Some("file-quota"));
    assert_eq!(fake.token_count(), before + 1);
    let form = fake.token_forms().pop().unwrap();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "1//adc-refresh");
    assert_eq!(fake.state.mds_pings.load(Ordering::SeqCst), pings);
    // The environment's quota project wins over the file's.
    set("GOOGLE_CLOUD_QUOTA_PROJECT", "env-quota");
    let adc = ApplicationDefaultCredentials::builder()
        .build()
        .await
        .unwrap();
    assert_eq!(
        adc.credentials()
            .authorization()
            .await
            .unwrap()
            .quota_project(),
        Some("env-quota")
    );
    unset("GOOGLE_CLOUD_QUOTA_PROJECT");

    // 6. CLOUDSDK_CONFIG moves gcloud's directory.
    let sdk = files.path().join("sdk-config");
    set("CLOUDSDK_CONFIG", &sdk);
    let text = err(ApplicationDefaultCredentials::builder()).await;
    assert!(
        text.contains(
            sdk.join("application_default_credentials.json")
                .to_str()
                .unwrap()
        ),
        "{text}"
    );
    // Our own stored-credentials format is an authorized_user file.
    let stored = UserCredentials::new(
        "stored-client",
        Some(ClientSecret::new("stored-secret")),
        Some(RefreshToken::new("1//stored-refresh")),
    )
    .with_token_uri(fake.token_uri());
    write(
        &sdk.join("application_default_credentials.json"),
        &stored.to_json(),
    );
    let adc = ApplicationDefaultCredentials::builder()
        .build()
        .await
        .unwrap();
    assert_eq!(adc.kind(), AdcKind::AuthorizedUser);
    adc.credentials().authorization().await.unwrap();
    assert_eq!(
        fake.token_forms().pop().unwrap()["refresh_token"],
        "1//stored-refresh"
    );
    unset("CLOUDSDK_CONFIG");

    // 7. GOOGLE_APPLICATION_CREDENTIALS comes first: a service account.
    let sa_file = files.path().join("sa.json");
    write(&sa_file, &sa_json(&fake.token_uri(), TEST_KEY));
    set("GOOGLE_APPLICATION_CREDENTIALS", &sa_file);
    let adc = ApplicationDefaultCredentials::builder()
        .with_scopes(["https://www.googleapis.com/auth/devstorage.read_only"])
        .build()
        .await
        .unwrap();
    assert_eq!(adc.kind(), AdcKind::ServiceAccount);
    assert_eq!(adc.source(), &AdcSource::EnvironmentFile(sa_file.clone()));
    assert_eq!(adc.project_id(), Some(SA_PROJECT));
    let a = adc.credentials().authorization().await.unwrap();
    assert!(a.access_token().unwrap().secret().starts_with("sa-token-"));
    let form = fake.token_forms().pop().unwrap();
    assert_eq!(form["grant_type"], gapi::auth::JWT_BEARER_GRANT_TYPE);
    let (_, claims) = auth_s2s_support::verify_jwt(&form["assertion"], TEST_KEY);
    assert_eq!(claims["iss"], SA_EMAIL);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/devstorage.read_only"
    );
    // Self-signed JWTs on request.
    let before = fake.token_count();
    let adc = ApplicationDefaultCredentials::builder()
        .with_self_signed_jwt(true)
        .build()
        .await
        .unwrap();
    let jwt = adc.credentials().authorization().await.unwrap();
    let (_, claims) = auth_s2s_support::verify_jwt(jwt.access_token().unwrap().secret(), TEST_KEY);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(fake.token_count(), before);
    // The convenience constructor.
    let c = Credentials::application_default(["x"]).await.unwrap();
    assert!(format!("{c:?}").contains(SA_EMAIL), "{c:?}");

    // 8. An impersonated_service_account file over an authorized_user.
    let imp_file = files.path().join("impersonated.json");
    let target = "target@gapi-test.iam.gserviceaccount.com";
    let imp = serde_json::json!({
        "type": "impersonated_service_account",
        "service_account_impersonation_url": fake.url(&format!("/v1/projects/-/serviceAccounts/{target}:generateAccessToken")),
        "delegates": ["d1@p.iam.gserviceaccount.com"],
        "quota_project_id": "imp-quota",
        "source_credentials": serde_json::from_str::<serde_json::Value>(&user_json(&fake, Some("source-quota"))).unwrap(),
    });
    write(&imp_file, &imp.to_string());
    set("GOOGLE_APPLICATION_CREDENTIALS", &imp_file);
    let adc = ApplicationDefaultCredentials::builder()
        .with_scopes(["scope-x"])
        .build()
        .await
        .unwrap();
    assert_eq!(adc.kind(), AdcKind::ImpersonatedServiceAccount);
    let a = adc.credentials().authorization().await.unwrap();
    assert!(a.access_token().unwrap().secret().starts_with("iam-token-"));
    assert_eq!(a.quota_project(), Some("imp-quota"));
    let call = fake.iam_calls().pop().unwrap();
    assert_eq!(call.target, target);
    assert!(
        call.authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer sa-token-")
    );
    assert_eq!(
        call.quota_project.as_deref(),
        Some("source-quota"),
        "the source keeps its own"
    );
    assert_eq!(call.body["scope"], serde_json::json!(["scope-x"]));
    assert_eq!(
        call.body["delegates"],
        serde_json::json!(["projects/-/serviceAccounts/d1@p.iam.gserviceaccount.com"])
    );
    // With a service account as the source.
    let imp_sa = serde_json::json!({
        "type": "impersonated_service_account",
        "service_account_impersonation_url": fake.url(&format!("/v1/projects/-/serviceAccounts/{target}:generateAccessToken")),
        "source_credentials": serde_json::from_str::<serde_json::Value>(&sa_json(&fake.token_uri(), TEST_KEY)).unwrap(),
    });
    write(&imp_file, &imp_sa.to_string());
    let adc = ApplicationDefaultCredentials::builder()
        .build()
        .await
        .unwrap();
    adc.credentials().authorization().await.unwrap();
    let form = fake.token_forms().pop().unwrap();
    let (_, claims) = auth_s2s_support::verify_jwt(&form["assertion"], TEST_KEY);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );

    // 9. A GOOGLE_APPLICATION_CREDENTIALS file that is missing is an error,
    // not a fallback to gcloud's file.
    let missing = files.path().join("nope.json");
    set("GOOGLE_APPLICATION_CREDENTIALS", &missing);
    let text = err(ApplicationDefaultCredentials::builder()).await;
    assert!(text.contains(missing.to_str().unwrap()), "{text}");
    assert!(text.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{text}");

    // 10. Malformed files: the error names the file and the field.
    let bad = files.path().join("bad.json");
    set("GOOGLE_APPLICATION_CREDENTIALS", &bad);
    let cases: Vec<(String, &[&str])> = vec![
        ("{not json".into(), &["not valid JSON"]),
        ("[1, 2]".into(), &["invalid type"]),
        (r#"{"client_id": "x"}"#.into(), &["no `type` field"]),
        (r#"{"type": "banana"}"#.into(), &["unknown `type` `banana`"]),
        (r#"{"type": 7}"#.into(), &["field `type`"]),
        (
            // workload identity federation is read; an incomplete file names
            // what it lacks
            r#"{"type": "external_account", "audience": "x"}"#.into(),
            &["subject_token_type"],
        ),
        (
            r#"{"type": "service_account", "client_email": "a@b"}"#.into(),
            &["private_key"],
        ),
        (
            r#"{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}"#.into(),
            &["field `private_key`", "RSA"],
        ),
        (
            r#"{"type": "authorized_user", "refresh_token": "1//x"}"#.into(),
            &["client_id"],
        ),
        (
            r#"{"type": "authorized_user", "client_id": "x", "refresh_token": ["1//x"]}"#.into(),
            &["field `refresh_token`"],
        ),
        (
            r#"{"type": "impersonated_service_account", "service_account_impersonation_url": "https://x/y", "source_credentials": {"type": "authorized_user", "client_id": "c", "refresh_token": "r"}}"#.into(),
            &["field `service_account_impersonation_url`"],
        ),
        (
            r#"{"type": "impersonated_service_account", "service_account_impersonation_url": "https://x/v1/projects/-/serviceAccounts/a@b:generateAccessToken"}"#.into(),
            &["source_credentials"],
        ),
        (
            r#"{"type": "impersonated_service_account", "service_account_impersonation_url": "https://x/v1/projects/-/serviceAccounts/a@b:generateAccessToken", "source_credentials": {"type": "service_account", "client_email": "a@b"}}"#.into(),
            &["field `source_credentials`", "private_key"],
        ),
    ];
    for (json, needles) in cases {
        write(&bad, &json);
        let e = ApplicationDefaultCredentials::builder()
            .build()
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains(bad.to_str().unwrap()), "{json}: {text}");
        for n in needles {
            assert!(text.contains(n), "{json}: {n:?} not in {text}");
        }
    }

    // 11. An explicit file skips the search.
    unset("GOOGLE_APPLICATION_CREDENTIALS");
    let adc = ApplicationDefaultCredentials::builder()
        .with_credentials_file(&sa_file)
        .build()
        .await
        .unwrap();
    assert_eq!(adc.source(), &AdcSource::ExplicitFile(sa_file.clone()));

    for v in VARS {
        unset(v);
    }
}
