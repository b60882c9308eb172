//! What the tests against panva's oidc-provider (`peers/oidc-provider`,
//! installed by `.ci/peers.sh`) share: starting one of its scripts on
//! 127.0.0.1, following its scripted consent, and signing in through gapi's
//! web-server flow for a real ID token.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use gapi::auth::{AuthorizeOptions, CallbackParams, ClientSecret, OAuthClient, WebServerFlow};

/// The redirect URI of the test clients (a loopback URI: any port matches).
pub const REDIRECT: &str = "http://127.0.0.1:5555/callback";

/// A running oidc-provider, stopped when dropped.
pub struct Peer {
    child: Child,
    /// Its issuer, `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `node <script>` in `GAPI_OIDC_PROVIDER_DIR`; `None` (the test says
/// it is skipped) without that variable, a panic under CI.
pub fn start_peer(script: &str) -> Option<Peer> {
    let Ok(dir) = std::env::var("GAPI_OIDC_PROVIDER_DIR") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "GAPI_OIDC_PROVIDER_DIR is not set in CI: .ci/peers.sh must install oidc-provider"
            );
        }
        eprintln!("skipped: GAPI_OIDC_PROVIDER_DIR is not set (see .ci/peers.sh)");
        return None;
    };
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start node {script}: {e}"));
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .expect("read the listening line");
    // Keep draining its output so a later log line never hits a closed pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from {script}: {line:?}"))
        .to_owned();
    Some(Peer { child, base })
}

/// A client that does not follow redirects.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows redirects with a cookie jar until one goes to `stop` (the
/// scripted consent only redirects).
pub async fn consent(url: &str, stop: &str) -> String {
    let http = http();
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let base: String = url.split('/').take(3).collect::<Vec<_>>().join("/");
    let mut url = url.to_owned();
    for _ in 0..15 {
        let mut req = http.get(&url);
        if !jar.is_empty() {
            let c: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", c.join("; "));
        }
        let resp = req.send().await.unwrap();
        for v in resp.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                jar.insert(k.trim().into(), v.trim().into());
            }
        }
        let Some(loc) = resp.headers().get("location") else {
            let status = resp.status();
            panic!("no redirect ({status}): {}", resp.text().await.unwrap());
        };
        let loc = loc.to_str().unwrap();
        url = if loc.starts_with('/') {
            format!("{base}{loc}")
        } else {
            loc.to_owned()
        };
        if url.starts_with(stop) {
            return url;
        }
    }
    panic!("too many redirects");
}

/// A real ID token from the web-server flow of `client_id` (scopes `openid
/// email profile`), with `nonce`.
pub async fn sign_in(base: &str, client_id: &str, secret: &str, nonce: &str) -> String {
    let client = OAuthClient::new(client_id, Some(ClientSecret::new(secret)))
        .with_auth_uri(format!("{base}/auth"))
        .with_token_uri(format!("{base}/token"))
        .with_scopes(["openid", "email", "profile"]);
    let flow = WebServerFlow::new(client, REDIRECT);
    let pending = flow
        .authorize_url(
            &AuthorizeOptions::new()
                .prompt("consent")
                .param("nonce", nonce),
        )
        .unwrap();
    let callback = consent(pending.url(), REDIRECT).await;
    let params = CallbackParams::from_url(&callback).unwrap();
    let creds = flow
        .exchange(&pending, &params)
        .await
        .expect("code exchange");
    creds.id_token().expect("an ID token").secret().to_owned()
}
