//! The `/__standin/` hooks over HTTP, `client_secret.json`, and the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{client, post_form, reply};
use gapi_standin::{ClientKind, RegisteredClient, StandIn, TASKS_SCOPE};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

#[tokio::test]
async fn hooks_over_http() {
    let standin = StandIn::builder()
        .device_poll_interval(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let http = client();
    let url = |p: &str| standin.url(p);

    // Mint a token, use it, and see the counters.
    let r = post_form(
        &http,
        &url("__standin/issue-token"),
        &[("scope", TASKS_SCOPE)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = r.json["access_token"].as_str().unwrap().to_string();
    let lists = format!("{}tasks/v1/users/@me/lists", standin.base_url());
    let ok = common::api(&http, reqwest::Method::GET, &lists, Some(&token), None).await;
    assert_eq!(ok.status, StatusCode::OK);
    let stats = reply(http.get(url("__standin/stats")).send().await.unwrap()).await;
    assert_eq!(stats.json["api_calls"], 1);
    assert_eq!(stats.json["api_calls_by_method"]["tasks.tasklists.list"], 1);
    let log = reply(http.get(url("__standin/requests")).send().await.unwrap()).await;
    assert_eq!(log.json[0]["status"], 200);

    // Expire, then revoke.
    assert_eq!(
        http.post(url("__standin/expire-all-tokens"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = common::api(&http, reqwest::Method::GET, &lists, Some(&token), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        http.post(url("__standin/revoke-all"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Injected errors as JSON.
    let r = http
        .post(url("__standin/inject-error"))
        .header(CONTENT_TYPE, "application/json")
        .body(json!({"status": 503, "path": "/tasks/v1/", "retry_after": 1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = common::api(&http, reqwest::Method::GET, &lists, Some(&token), None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let bad = http
        .post(url("__standin/inject-error"))
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        http.post(url("__standin/clear-errors"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Device approval.
    let start = post_form(
        &http,
        &standin.device_uri(),
        &[("client_id", "standin-client"), ("scope", TASKS_SCOPE)],
    )
    .await;
    let user_code = start.json["user_code"].as_str().unwrap();
    let pending = reply(
        http.get(url("__standin/device-codes"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(pending.json["user_codes"][0], user_code);
    let r = http
        .post(url("__standin/approve-device"))
        .header(CONTENT_TYPE, "application/json")
        .body(json!({"user_code": user_code}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again = post_form(
        &http,
        &url("__standin/approve-device"),
        &[("user_code", user_code)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.json["ok"], false);

    // Denying the next authorization.
    assert_eq!(
        http.post(url("__standin/deny-next-authorization"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let auth = format!(
        "{}?{}",
        standin.auth_uri(),
        common::form(&[
            ("client_id", "standin-client"),
            ("redirect_uri", "http://localhost:9999/"),
            ("response_type", "code"),
            ("scope", TASKS_SCOPE),
        ])
    );
    let r = http.get(auth).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(
        common::query_param(location, "error").as_deref(),
        Some("access_denied")
    );

    // The client secret file, and the index.
    let secret = reply(
        http.get(url("__standin/client-secret?kind=web"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(secret.json["web"]["client_id"], "standin-client");
    let index = reply(http.get(url("")).send().await.unwrap()).await;
    assert_eq!(index.json["token_uri"], standin.token_uri());

    assert_eq!(
        http.post(url("__standin/reset-stats"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(standin.stats(), gapi_standin::Stats::default());
    standin.shutdown().await;
}

#[tokio::test]
async fn device_page_approves_codes() {
    let standin = StandIn::builder().start().await.unwrap();
    let http = client();
    let page = http.get(standin.verification_url()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form"));
    let start = post_form(
        &http,
        &standin.device_uri(),
        &[("client_id", "standin-client"), ("scope", TASKS_SCOPE)],
    )
    .await;
    let user_code = start.json["user_code"].as_str().unwrap().to_lowercase();
    let r = post_form(
        &http,
        &standin.verification_url(),
        &[("user_code", &user_code)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Device connected"));
    let r = post_form(
        &http,
        &standin.verification_url(),
        &[("user_code", "zzzz-zzzz")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn client_secret_files_point_here() {
    let standin = StandIn::builder()
        .client(
            RegisteredClient::new("web-client", "web-secret")
                .redirect_uri("https://app.example/cb"),
        )
        .start()
        .await
        .unwrap();
    let installed: Value =
        serde_json::from_str(&standin.client_secret_json(ClientKind::Installed)).unwrap();
    let i = &installed["installed"];
    assert_eq!(i["client_id"], standin.client_id());
    assert_eq!(i["client_secret"], "standin-secret");
    assert_eq!(i["auth_uri"], standin.url("o/oauth2/auth"));
    assert_eq!(i["token_uri"], standin.token_uri());
    assert_eq!(i["redirect_uris"][0], "http://localhost");

    let web: Value = serde_json::from_str(
        &standin
            .client_secret_json_for("web-client", ClientKind::Web)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        web["web"]["redirect_uris"],
        json!(["https://app.example/cb"])
    );
    assert!(
        standin
            .client_secret_json_for("nobody", ClientKind::Web)
            .is_none()
    );

    // The second client works at the token endpoint too.
    let r = post_form(
        &client(),
        &standin.token_uri(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
            ("client_id", "web-client"),
            ("client_secret", "web-secret"),
        ],
    )
    .await;
    assert_eq!(r.json["error"], "invalid_grant");
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let standin = StandIn::builder().start().await.unwrap();
    let url = standin.url("__standin/stats");
    assert!(client().get(&url).send().await.is_ok());
    standin.shutdown().await;
    assert!(client().get(&url).send().await.is_err());
}

/// Kills the child process when dropped, so a failing test leaves nothing behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_url_and_serves() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_gapi-standin"))
            .args([
                "--addr",
                "127.0.0.1:0",
                "--token-lifetime",
                "120",
                "--rotate-refresh-tokens",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn gapi-standin"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("the binary printed nothing in time")
        .unwrap()
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with('/'),
        "{base}"
    );

    let http = client();
    let r = post_form(
        &http,
        &format!("{base}__standin/issue-token"),
        &[("scope", TASKS_SCOPE)],
    )
    .await;
    assert_eq!(r.json["expires_in"], 120);
    let refresh_token = r.json["refresh_token"].as_str().unwrap();
    let r = post_form(
        &http,
        &format!("{base}token"),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "standin-client"),
            ("client_secret", "standin-secret"),
        ],
    )
    .await;
    assert!(
        r.json["refresh_token"].is_string(),
        "rotation is on: {}",
        r.text
    );
    let stats = reply(
        http.get(format!("{base}__standin/stats"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats.json["refreshes"], 1);
}
