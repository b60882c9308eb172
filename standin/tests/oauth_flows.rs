//! The OAuth 2.0 endpoints driven over HTTP the way a client library would.

mod common;

use std::time::Duration;

use common::{api, client, post_form, query_param, reply, s256};
use gapi_standin::{StandIn, StandInHandle, TASKS_SCOPE};
use reqwest::header::{CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};

const REDIRECT: &str = "http://127.0.0.1:4567/callback";
const VERIFIER: &str = "a-verifier-that-is-long-enough-for-rfc-7636-rules.0123";

/// Runs the authorization request and gives the redirect's `Location`.
async fn authorize(standin: &StandInHandle, extra: &[(&str, &str)]) -> String {
    let challenge = s256(VERIFIER);
    let mut pairs = vec![
        ("client_id", "standin-client"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", TASKS_SCOPE),
        ("state", "st-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    let url = format!("{}?{}", standin.auth_uri(), common::form(&pairs));
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    r.headers()[LOCATION].to_str().unwrap().to_string()
}

async fn exchange(standin: &StandInHandle, code: &str, verifier: &str) -> common::Reply {
    post_form(
        &client(),
        &standin.token_uri(),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "standin-client"),
            ("client_secret", "standin-secret"),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(standin: &StandInHandle, refresh_token: &str) -> common::Reply {
    post_form(
        &client(),
        &standin.token_uri(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "standin-client"),
            ("client_secret", "standin-secret"),
        ],
    )
    .await
}

fn lists_url(standin: &StandInHandle) -> String {
    format!("{}tasks/v1/users/@me/lists", standin.base_url())
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let standin = StandIn::builder().start().await.unwrap();
    let location = authorize(&standin, &[("access_type", "offline")]).await;
    assert!(location.starts_with(REDIRECT));
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    let code = query_param(&location, "code").unwrap();
    assert!(code.len() >= 30);

    let wrong = exchange(&standin, &code, &"x".repeat(43)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json["error"], "invalid_grant");

    let tokens = exchange(&standin, &code, VERIFIER).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
    assert_eq!(tokens.json["token_type"], "Bearer");
    assert_eq!(tokens.json["expires_in"], 3600);
    assert_eq!(tokens.json["scope"], TASKS_SCOPE);
    assert!(tokens.json["refresh_token"].is_string());
    assert!(
        tokens.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let access = tokens.json["access_token"].as_str().unwrap().to_string();
    assert!(access.len() >= 30);
    let ok = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);

    // A second use of the code fails and revokes what the first one issued.
    let again = exchange(&standin, &code, VERIFIER).await;
    assert_eq!(again.json["error"], "invalid_grant");
    let revoked = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);

    let stats = standin.stats();
    assert_eq!(stats.authorizations, 1);
    assert_eq!(stats.token_requests_for("authorization_code"), 3);
    assert_eq!(stats.tokens_issued, 1);
    standin.shutdown().await;
}

#[tokio::test]
async fn online_access_has_no_refresh_token_and_redirect_must_match() {
    let standin = StandIn::builder().start().await.unwrap();
    let location = authorize(&standin, &[]).await;
    let code = query_param(&location, "code").unwrap();
    let mismatch = post_form(
        &client(),
        &standin.token_uri(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/other"),
            ("client_id", "standin-client"),
            ("client_secret", "standin-secret"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert_eq!(mismatch.json["error"], "redirect_uri_mismatch");
    let tokens = exchange(&standin, &code, VERIFIER).await;
    assert_eq!(tokens.status, StatusCode::OK);
    assert!(tokens.json.get("refresh_token").is_none());
}

#[tokio::test]
async fn client_authentication_by_basic_and_json_body() {
    let standin = StandIn::builder().start().await.unwrap();
    let issued = standin.issue_token(&[TASKS_SCOPE]);
    let body = serde_json::json!({
        "grant_type": "refresh_token",
        "refresh_token": issued.refresh_token.unwrap(),
    });
    let r = client()
        .post(standin.token_uri())
        .basic_auth("standin-client", Some("standin-secret"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json.get("refresh_token").is_none());

    let bad = client()
        .post(standin.token_uri())
        .basic_auth("standin-client", Some("wrong"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&refresh_token=x")
        .send()
        .await
        .unwrap();
    let bad = reply(bad).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json["error"], "invalid_client");

    let garbage = client()
        .post(standin.token_uri())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'&', b'=', b'%'])
        .send()
        .await
        .unwrap();
    let garbage = reply(garbage).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(garbage.json["error"].is_string());
    assert_eq!(standin.stats().refreshes, 1);
}

#[tokio::test]
async fn refresh_with_and_without_rotation() {
    let standin = StandIn::builder()
        .rotate_refresh_tokens(true)
        .start()
        .await
        .unwrap();
    let first = standin.issue_token(&[TASKS_SCOPE]).refresh_token.unwrap();
    let r = refresh(&standin, &first).await;
    assert_eq!(r.status, StatusCode::OK);
    let second = r.json["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let stale = refresh(&standin, &first).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        stale.json,
        serde_json::json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    assert_eq!(refresh(&standin, &second).await.status, StatusCode::OK);
    assert_eq!(standin.stats().refreshes, 2);
    assert_eq!(standin.stats().token_requests_for("refresh_token"), 3);
}

#[tokio::test]
async fn expired_tokens_are_refused_and_refresh_recovers() {
    let standin = StandIn::builder().start().await.unwrap();
    let issued = standin.issue_token(&[TASKS_SCOPE]);
    standin.expire_all_tokens();
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&issued.access_token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.headers[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=")
    );
    assert_eq!(r.json["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(r.json["error"]["errors"][0]["reason"], "authError");
    let fresh = refresh(&standin, issued.refresh_token.as_ref().unwrap()).await;
    let access = fresh.json["access_token"].as_str().unwrap();
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(access),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(standin.stats().unauthorized, 1);
}

#[tokio::test]
async fn short_token_lifetime() {
    let standin = StandIn::builder()
        .access_token_lifetime(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let issued = standin.issue_token(&[TASKS_SCOPE]);
    assert_eq!(issued.expires_in, 1);
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&issued.access_token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&issued.access_token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revocation() {
    let standin = StandIn::builder().start().await.unwrap();
    let issued = standin.issue_token(&[TASKS_SCOPE]);
    let rt = issued.refresh_token.unwrap();
    let r = post_form(&client(), &standin.revoke_uri(), &[("token", &rt)]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&issued.access_token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = post_form(&client(), &standin.revoke_uri(), &[("token", &rt)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["error"], "invalid_token");
    let r = post_form(&client(), &standin.revoke_uri(), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Revoking by access token, in the query string.
    let other = standin.issue_token(&[TASKS_SCOPE]);
    let url = format!("{}?token={}", standin.revoke_uri(), other.access_token);
    assert_eq!(
        client().post(url).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        refresh(&standin, other.refresh_token.as_ref().unwrap())
            .await
            .json["error"],
        "invalid_grant"
    );
    assert_eq!(standin.stats().revocations, 2);

    let third = standin.issue_token(&[TASKS_SCOPE]);
    standin.revoke_all();
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(&third.access_token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn device_flow() {
    let standin = StandIn::builder()
        .device_poll_interval(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let start = post_form(
        &client(),
        &standin.device_uri(),
        &[("client_id", "standin-client"), ("scope", TASKS_SCOPE)],
    )
    .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.text);
    let device_code = start.json["device_code"].as_str().unwrap().to_string();
    let user_code = start.json["user_code"].as_str().unwrap().to_string();
    assert_eq!(start.json["verification_url"], standin.verification_url());
    assert!(start.json["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(start.json["interval"], 0);
    assert_eq!(standin.pending_device_codes(), vec![user_code.clone()]);

    let poll = || async {
        post_form(
            &client(),
            &standin.token_uri(),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", &device_code),
                ("client_id", "standin-client"),
                ("client_secret", "standin-secret"),
            ],
        )
        .await
    };
    let pending = poll().await;
    assert_eq!(pending.json["error"], "authorization_pending");
    assert_eq!(pending.status.as_u16(), 428);
    assert!(standin.approve_device(&user_code));
    let tokens = poll().await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
    assert!(tokens.json["refresh_token"].is_string());
    let access = tokens.json["access_token"].as_str().unwrap();
    let r = api(
        &client(),
        Method::GET,
        &lists_url(&standin),
        Some(access),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(poll().await.json["error"], "invalid_grant");
    assert_eq!(standin.stats().device_codes, 1);

    // A denied device.
    let start = post_form(
        &client(),
        &standin.device_uri(),
        &[("client_id", "standin-client"), ("scope", TASKS_SCOPE)],
    )
    .await;
    let user_code = start.json["user_code"].as_str().unwrap();
    assert!(standin.deny_device(user_code));
    let denied = post_form(
        &client(),
        &standin.token_uri(),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", start.json["device_code"].as_str().unwrap()),
            ("client_id", "standin-client"),
            ("client_secret", "standin-secret"),
        ],
    )
    .await;
    assert_eq!(denied.json["error"], "access_denied");
    assert!(!standin.approve_device("NOPE-NOPE"));
}

#[tokio::test]
async fn device_flow_slow_down_and_expiry() {
    let standin = StandIn::builder()
        .device_poll_interval(Duration::from_secs(2))
        .device_code_lifetime(Duration::from_millis(500))
        .start()
        .await
        .unwrap();
    let start = post_form(
        &client(),
        &standin.device_uri(),
        &[("client_id", "standin-client"), ("scope", TASKS_SCOPE)],
    )
    .await;
    assert_eq!(start.json["interval"], 2);
    let device_code = start.json["device_code"].as_str().unwrap().to_string();
    let poll = || async {
        post_form(
            &client(),
            &standin.token_uri(),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", &device_code),
                ("client_id", "standin-client"),
                ("client_secret", "standin-secret"),
            ],
        )
        .await
    };
    assert_eq!(poll().await.json["error"], "authorization_pending");
    assert_eq!(poll().await.json["error"], "slow_down");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let expired = poll().await;
    assert_eq!(expired.json["error"], "expired_token");
    assert!(!standin.approve_device(start.json["user_code"].as_str().unwrap()));
}

#[tokio::test]
async fn bad_clients_and_redirects_get_a_page() {
    let standin = StandIn::builder().start().await.unwrap();
    for (client_id, redirect) in [
        ("nobody", REDIRECT),
        ("standin-client", "https://evil.example/cb"),
    ] {
        let url = format!(
            "{}?{}",
            standin.auth_uri(),
            common::form(&[
                ("client_id", client_id),
                ("redirect_uri", redirect),
                ("response_type", "code"),
                ("scope", TASKS_SCOPE),
            ])
        );
        let r = client().get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.headers().get(LOCATION).is_none());
        assert!(
            r.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn denied_authorization_and_registered_redirects() {
    let standin = StandIn::builder()
        .redirect_uri("https://app.example/oauth2callback")
        .start()
        .await
        .unwrap();
    standin.deny_next_authorization();
    let location = authorize(&standin, &[]).await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    assert!(query_param(&location, "code").is_none());
    assert_eq!(standin.stats().authorization_errors, 1);

    let url = format!(
        "{}?{}",
        standin.url("o/oauth2/auth"),
        common::form(&[
            ("client_id", "standin-client"),
            ("redirect_uri", "https://app.example/oauth2callback"),
            ("response_type", "code"),
            ("scope", TASKS_SCOPE),
            ("login_hint", "someone@example.com"),
        ])
    );
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with("https://app.example/oauth2callback?"));
    assert!(query_param(location, "code").is_some());
}

#[tokio::test]
async fn tokeninfo_describes_tokens() {
    let standin = StandIn::builder().start().await.unwrap();
    let issued = standin.issue_token_for("ann@example.com", &[TASKS_SCOPE]);
    let url = format!(
        "{}?access_token={}",
        standin.tokeninfo_uri(),
        issued.access_token
    );
    let r = reply(client().get(url).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["email"], "ann@example.com");
    assert_eq!(r.json["scope"], TASKS_SCOPE);
    assert_eq!(r.json["aud"], "standin-client");
    let r = reply(client().get(standin.tokeninfo_uri()).send().await.unwrap()).await;
    assert_eq!(r.json["error"], "invalid_token");
}
