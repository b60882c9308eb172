//! Sign-in with OpenID Connect through gapi-axum against a real provider
//! (oidc-provider, peers/oidc-provider/id-token-server.mjs): the callback
//! verifies the ID token (nonce included) and the extractors give the
//! verified identity; a token the verifier refuses (here: issued for
//! another audience than the verifier accepts) ends the sign-in with nothing
//! stored. Needs `GAPI_OIDC_PROVIDER_DIR` (skipped without it, except in CI).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use axum::Router;
use axum::http::request::Parts;
use axum::response::Html;
use axum::routing::get;
use gapi::auth::{ClientSecret, IdTokenVerifier, JwksCache, OAuthClient};
use gapi_axum::{OAuth2, OAuthAware, OAuthRequired, User, cookie, escape};
use support::{Browser, last, query};

gapi_axum::scope_set!(SignIn = ["openid", "email"]);

struct Peer {
    child: Child,
    base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_peer() -> Option<Peer> {
    let Ok(dir) = std::env::var("GAPI_OIDC_PROVIDER_DIR") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "GAPI_OIDC_PROVIDER_DIR is not set in CI: .ci/peers.sh must install oidc-provider"
            );
        }
        println!("skipped: GAPI_OIDC_PROVIDER_DIR is not set (see .ci/peers.sh)");
        return None;
    };
    let mut child = Command::new("node")
        .arg("id-token-server.mjs")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node id-token-server.mjs");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    Some(Peer { child, base })
}

fn identity(parts: &Parts) -> Option<User> {
    cookie(parts, "user").map(User::new)
}

async fn me(google: OAuthRequired<SignIn>) -> Html<String> {
    let id = google
        .identity()
        .expect("an openid grant has a verified identity");
    Html(format!(
        "app user {}; account {} at {}; email {} (verified: {}); hd {}",
        escape(google.user().id()),
        escape(id.subject()),
        escape(id.issuer()),
        escape(id.email().unwrap_or("-")),
        id.email_verified(),
        escape(id.hosted_domain().unwrap_or("-")),
    ))
}

async fn aware(google: OAuthAware<SignIn>) -> Html<String> {
    Html(match google.identity() {
        Some(id) => format!("known: {}", escape(id.verified_email().unwrap_or("?"))),
        None => "unknown".to_owned(),
    })
}

/// An app whose ID tokens are checked by `verifier`.
async fn app(base: &str, verifier: IdTokenVerifier) -> (String, OAuth2) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = OAuthClient::new(
        "gapi-test",
        Some(ClientSecret::new("gapi-test-secret-0123456789")),
    )
    .with_auth_uri(format!("{base}/auth"))
    .with_token_uri(format!("{base}/token"))
    .with_revoke_uri(format!("{base}/token/revocation"));
    let oauth = OAuth2::builder(client, format!("{url}/oauth2callback"))
        .identity(identity)
        .id_token_verifier(verifier)
        .build()
        .unwrap();
    let router = Router::new()
        .route("/me", get(me))
        .route("/aware", get(aware))
        .merge(oauth.routes())
        .layer(oauth.layer());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, oauth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_verifies_the_id_token_and_handlers_get_the_identity() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(peer) = start_peer() else { return };
    let base = peer.base.clone();
    let jwks = JwksCache::new(format!("{base}/jwks"));
    let (url, oauth) = app(
        &base,
        IdTokenVerifier::new(&base, jwks.clone(), ["gapi-test"]),
    )
    .await;

    let alice = Browser::new();
    alice.set_cookie_for_all("user", "alice");
    let before = alice.get(&format!("{url}/aware")).await;
    assert_eq!(before.body, "unknown");
    let hops = alice.visit(&format!("{url}/me")).await;
    let consent = hops
        .iter()
        .find(|h| h.url.starts_with(&format!("{base}/auth")))
        .unwrap_or_else(|| panic!("{hops:#?}"));
    assert!(
        query(&consent.url, "nonce").is_some_and(|n| n.len() >= 43),
        "a nonce is sent"
    );
    assert_eq!(
        query(&consent.url, "scope").as_deref(),
        Some("openid email")
    );
    let page = last(&hops);
    assert_eq!(page.status, 200, "{hops:#?}");
    assert_eq!(
        page.body,
        format!(
            "app user alice; account test-user at {base}; email test-user@example.com \
             (verified: true); hd example.com"
        )
    );
    assert_eq!(
        alice.get(&format!("{url}/aware")).await.body,
        "known: test-user@example.com"
    );
    let stored = oauth.verified_identity("alice").await.unwrap().unwrap();
    assert_eq!(stored.subject(), "test-user");
    assert_eq!(jwks.fetch_count(), 1);

    // A verifier that does not accept this client's tokens: the sign-in is
    // refused after the code exchange, nothing is stored.
    let strict = IdTokenVerifier::new(&base, jwks.clone(), ["some-other-client"]);
    let (url2, oauth2) = app(&base, strict).await;
    let bob = Browser::new();
    bob.set_cookie_for_all("user", "bob");
    let hops = bob.visit(&format!("{url2}/me")).await;
    let refused = last(&hops);
    assert_eq!(refused.status, 502, "{hops:#?}");
    assert!(refused.body.contains("was refused"), "{}", refused.body);
    assert!(oauth2.token_source("bob").await.unwrap().is_none());
    drop(peer);
}
