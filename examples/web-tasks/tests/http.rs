//! The example app over plain HTTP (no browser needed): sign in, follow the
//! consent redirects, see the tasks; credentials stored encrypted.

use std::collections::BTreeMap;

use web_tasks::{Config, Google, StorageChoice};

/// GET or POST one URL with the app's cookies; returns status, location and
/// body, and keeps cookies the app sets.
async fn fetch(
    http: &reqwest::Client,
    jar: &mut BTreeMap<String, String>,
    app: &str,
    url: &str,
    form: Option<&[(&str, &str)]>,
) -> (u16, Option<String>, String) {
    let mut req = match form {
        Some(f) => http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(f)
                    .finish(),
            ),
        None => http.get(url),
    };
    if url.starts_with(app) && !jar.is_empty() {
        let c: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header("cookie", c.join("; "));
    }
    let resp = req.send().await.unwrap();
    if url.starts_with(app) {
        for sc in resp.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap();
            let pair = sc.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            jar.insert(k.to_owned(), v.to_owned());
        }
    }
    let status = resp.status().as_u16();
    let loc = resp.headers().get("location").map(|l| {
        url::Url::parse(url)
            .unwrap()
            .join(l.to_str().unwrap())
            .unwrap()
            .to_string()
    });
    (status, loc, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_see_the_tasks_over_http() {
    // reqwest is built without a crypto provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("credentials.sqlite");
    let app = web_tasks::start(Config {
        encryption_key: Some(gapi_storage::EncryptionKey::generate()),
        ..Config::new(
            "127.0.0.1:0".parse().unwrap(),
            Google::StandIn,
            StorageChoice::Sqlite(db.clone()),
        )
    })
    .await
    .unwrap();
    let base = app.url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = BTreeMap::new();

    let (status, _, body) = fetch(&http, &mut jar, &base, &app.url, None).await;
    assert_eq!(status, 200);
    assert!(body.contains("Sign in"));
    // Protected page while signed out: to the login page, with the way back.
    let (status, loc, _) = fetch(&http, &mut jar, &base, &format!("{base}/tasks"), None).await;
    assert_eq!(status, 303);
    assert_eq!(loc.unwrap(), format!("{base}/login?return_to=%2Ftasks"));
    // An open redirect through the login form is refused (back to `/`).
    let (_, loc, _) = fetch(
        &http,
        &mut jar,
        &base,
        &format!("{base}/login"),
        Some(&[("user", "alice"), ("return_to", "//evil.example/")]),
    )
    .await;
    assert_eq!(loc.unwrap(), format!("{base}/"));

    // Signed in: /tasks → consent → callback → /tasks.
    let mut url = format!("{base}/tasks");
    let mut hops = Vec::new();
    let body = loop {
        let (status, loc, body) = fetch(&http, &mut jar, &base, &url, None).await;
        hops.push((url.clone(), status));
        match loc {
            Some(l) => url = l,
            None => break body,
        }
        assert!(hops.len() < 8, "{hops:?}");
    };
    assert_eq!(hops.len(), 4, "{hops:?}");
    assert!(
        hops[1]
            .0
            .starts_with(app.standin.as_ref().unwrap().base_url()),
        "{hops:?}"
    );
    assert!(body.contains("Coffee beans"), "{body}");

    // Stored encrypted: the refresh token is not in the database file.
    let stored = app
        .oauth
        .token_source("alice")
        .await
        .unwrap()
        .unwrap()
        .current();
    let rt = stored.refresh_token().unwrap().secret().to_owned();
    let raw = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.path().join("credentials.sqlite-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(
            !bytes.windows(rt.len()).any(|w| w == rt.as_bytes()),
            "the refresh token is stored in the clear"
        );
    }
    app.stop().await;
}
